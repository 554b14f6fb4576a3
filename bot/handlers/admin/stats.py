"""Admin commands about the service: /stats and /audit."""

from __future__ import annotations

from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.callbacks import AuditPage
from bot.commands import Audience, CommandSpec, register
from bot.filters import IsAdmin
from bot.formatting import esc, moment
from bot.keyboards import clamp_page, pager
from bot.middlewares.access import ADMIN
from bot.routing import RouterBlueprint
from bot.services import Services
from bot.views.outbox import outbox_lines
from engine.admin.audit import AuditEntry

router = RouterBlueprint(__name__, filters=(IsAdmin(),))

AUDIT_PAGE_SIZE = 15

register(CommandSpec("stats", __("Service statistics"), Audience.ADMIN, order=210))
register(CommandSpec("audit", __("Recent admin actions"), Audience.ADMIN, order=211))


@router.message(Command("stats"), flags={"access": ADMIN})
async def show_stats(message: Message, services: Services) -> None:
    counts = await services.admin.stats()
    await services.admin.record(message.chat.id, "admin.stats.view")
    lines = [
        _("<b>Statistics</b>"),
        _(
            "Users: {total} (active {active}, suspended {suspended}, closed {closed}, pending {pending})"
        ).format(
            total=counts["users_total"],
            active=counts["users_active"],
            suspended=counts["users_suspended"],
            closed=counts["users_closed"],
            pending=counts["users_pending_verification"],
        ),
        _("Orders in the last 24 h: {count}").format(count=counts["orders_24h"]),
        *outbox_lines(await services.outbox.stats()),
    ]
    await message.answer("\n".join(lines))


@router.message(Command("audit"), flags={"access": ADMIN})
async def show_audit(message: Message, services: Services) -> None:
    await services.admin.record(message.chat.id, "admin.audit.view")
    text, markup = await _audit_page(services, 0)
    await message.answer(text, reply_markup=markup)


@router.callback_query(AuditPage.filter(), flags={"access": ADMIN})
async def audit_page(query: CallbackQuery, callback_data: AuditPage, services: Services) -> None:
    await query.answer()
    text, markup = await _audit_page(services, clamp_page(callback_data.page))
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)


async def _audit_page(services: Services, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    entries, total = await services.admin.recent_audit(page=page, page_size=AUDIT_PAGE_SIZE)
    if total == 0:
        return _("No admin actions recorded yet."), None
    pages = (total + AUDIT_PAGE_SIZE - 1) // AUDIT_PAGE_SIZE
    lines = [_("<b>Admin actions</b> (page {page} of {pages})").format(page=page + 1, pages=pages)]
    lines += [_audit_line(entry) for entry in entries]
    navigation = pager(page, pages, lambda p: AuditPage(page=p))
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=[navigation]) if navigation else None


# Longer detail values (a suspension reason can be 500 characters) are cut so a
# full page stays under Telegram's 4096-character limit.
MAX_DETAIL_LENGTH = 60


def _audit_line(entry: AuditEntry) -> str:
    when = moment(entry.created_at, "UTC", get_i18n().current_locale)
    target = f" → <code>{entry.target_telegram_id}</code>" if entry.target_telegram_id else ""
    details = ", ".join(
        f"{esc(key)}={esc(_shorten(str(value)))}" for key, value in sorted(entry.details.items()) if value
    )
    suffix = f" ({details})" if details else ""
    action = esc(audit_action_name(entry.action))
    return f"{when}: <code>{entry.actor_telegram_id}</code> {action}{target}{suffix}"


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_DETAIL_LENGTH else text[: MAX_DETAIL_LENGTH - 1] + "…"


def audit_action_name(action: str) -> str:
    """Return the readable name of an audited action, or its code when it has none."""
    names = {
        "user.status.suspended": _("suspended a user"),
        "user.status.active": _("reactivated a user"),
        "user.status.closed": _("closed a user's account"),
        "admin.users.search": _("listed users"),
        "admin.user.view": _("viewed a user"),
        "admin.stats.view": _("viewed statistics"),
        "admin.audit.view": _("viewed the audit log"),
        "analytics.scenario.add": _("added a stress scenario"),
        "analytics.scenario.delete": _("deleted a stress scenario"),
        "user.pin.reset": _("reset a user's trading PIN"),
    }
    return names.get(action, action)
