"""/limits: the risk limits of every profile, and changing them (audited)."""

from __future__ import annotations

from decimal import Decimal

from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.commands import Audience, CommandSpec, register
from bot.filters import IsAdmin
from bot.formatting import esc
from bot.middlewares.access import ADMIN
from bot.pin_guard import PinCheck, PinPurpose
from bot.routing import RouterBlueprint
from bot.services import Services
from bot.texts import risk_profile_name
from bot.views.limits import limit_value
from engine.risk.limits import LimitName, RiskLimits, parse_limit_name, parse_limit_value
from engine.users.models import RiskProfile, User

router = RouterBlueprint(__name__, filters=(IsAdmin(),))

register(
    CommandSpec(
        "limits",
        __("Show or change the risk limits of a profile"),
        Audience.ADMIN,
        usage=__("/limits [PROFILE] [LIMIT=VALUE …], e.g. /limits MEDIUM max_position=0.25 max_leverage=5"),
        order=205,
    )
)


@router.message(Command("limits"), flags={"access": ADMIN})
async def limits(
    message: Message, command: CommandObject, services: Services, user: User | None, pin: PinCheck
) -> None:
    parts = (command.args or "").split()
    locale = user.language if user else services.i18n.current_locale
    if not parts:
        await services.admin.record(message.chat.id, "admin.limits.view")
        await message.answer(limits_table(await services.risk.profile_limits(), locale))
        return

    profile = _profile(parts[0])
    if profile is None:
        await message.answer(
            _("“{value}” is not a risk profile. Use one of: {profiles}.").format(
                value=esc(parts[0][:40]), profiles=", ".join(p.value for p in RiskProfile)
            )
        )
        return
    if len(parts) == 1:
        table = await services.risk.profile_limits()
        await message.answer(limits_table({profile: table[profile]}, locale))
        return

    changes = _parse_changes(parts[1:])
    if changes is None:
        await message.answer(
            _("Write each change as LIMIT=VALUE, e.g. {example}.").format(
                example="<code>/limits MEDIUM max_position=0.25</code>"
            )
        )
        return
    if not await pin.confirmed(PinPurpose.ADMIN):
        return  # asked for the admin's own PIN; the command runs again once it is right
    before, after = await services.risk.change_profile_limits(message.chat.id, profile, changes)
    lines = [_("<b>{profile}</b> limits changed:").format(profile=risk_profile_name(profile))]
    for name in changes:
        old, new = limit_value(name, before.get(name), locale), limit_value(name, after.get(name), locale)
        lines.append(f"{esc(name.value)}: {old} → {new}")
    await message.answer("\n".join(lines))


def _profile(text: str) -> RiskProfile | None:
    try:
        return RiskProfile(text.strip().upper())
    except ValueError:
        return None


def _parse_changes(parts: list[str]) -> dict[LimitName, Decimal] | None:
    """Parse ``name=value`` pairs; raise the validation error of the first bad name or value."""
    changes: dict[LimitName, Decimal] = {}
    for part in parts:
        name_text, separator, value_text = part.partition("=")
        if not separator or not name_text or not value_text:
            return None
        name = parse_limit_name(name_text)
        changes[name] = parse_limit_value(name, value_text)
    return changes


def limits_table(limits: dict[RiskProfile, RiskLimits], locale: str) -> str:
    """A fixed-width table: one row per limit, one column per profile."""
    profiles = list(limits)
    header = ["limit", *(profile.value for profile in profiles)]
    rows = [header]
    for name in LimitName:
        rows.append(
            [name.value, *(limit_value(name, limits[profile].get(name), locale) for profile in profiles)]
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    text = "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )
    title = _("<b>Risk limits</b> (fractions of equity; leverage as a multiple)")
    hint = _("Change with {example}").format(example="<code>/limits MEDIUM max_position=0.25</code>")
    return f"{title}\n<pre>{esc(text)}</pre>\n{hint}"
