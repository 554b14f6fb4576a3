"""/scenarios: the stress scenarios /risk applies besides the built-in ones (admins only, audited)."""

from __future__ import annotations

from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.commands import Audience, CommandSpec, register
from bot.filters import IsAdmin
from bot.formatting import esc, number
from bot.middlewares.access import ADMIN
from bot.routing import RouterBlueprint
from bot.services import Services
from bot.views import analytics_errors  # noqa: F401 - registers the error explanations
from engine.analytics.scenario_models import StoredScenario

router = RouterBlueprint(__name__, filters=(IsAdmin(),))

register(
    CommandSpec(
        "scenarios",
        __("Stress scenarios for /risk"),
        Audience.ADMIN,
        usage=__("/scenarios · /scenarios add NAME BTC=-30 ETH=-40 *=-25 · /scenarios delete NAME"),
        order=220,
    )
)


@router.message(Command("scenarios"), flags={"access": ADMIN})
async def scenarios(message: Message, command: CommandObject, services: Services) -> None:
    terms = (command.args or "").split()
    actor = message.chat.id
    if not terms:
        await message.answer(scenario_list_text(await services.analytics.scenarios.list()))
        return
    action = terms[0].lower()
    if action == "add" and len(terms) >= 2:
        scenario = await services.analytics.scenarios.add(actor, terms[1], terms[2:])
        await message.answer(_("Scenario added: {scenario}").format(scenario=scenario_line(scenario)))
        return
    if action == "delete" and len(terms) == 2:
        await services.analytics.scenarios.remove(actor, terms[1])
        await message.answer(_("Scenario {name} deleted.").format(name=esc(terms[1])))
        return
    await message.answer(
        _("Usage: {usage}").format(
            usage="<code>/scenarios add NAME BTC=-30 *=-25</code>, <code>/scenarios delete NAME</code>"
        )
    )


def scenario_line(scenario: StoredScenario) -> str:
    locale = get_i18n().current_locale
    shocks = [
        f"{esc(asset)} {number(shock * 100, locale)} %" for asset, shock in sorted(scenario.shocks.items())
    ]
    if scenario.others is not None:
        shocks.append(_("others {shock} %").format(shock=number(scenario.others * 100, locale)))
    return f"<b>{esc(scenario.name)}</b>: " + ", ".join(shocks)


def scenario_list_text(stored: list[StoredScenario]) -> str:
    lines = [
        _("<b>Stress scenarios</b>"),
        _("Always applied: each held asset's worst day, BTC -20 % (others by beta), whole market -40 %."),
    ]
    if not stored:
        lines.append(_("No scenarios added yet."))
    lines.extend(scenario_line(scenario) for scenario in stored)
    return "\n".join(lines)
