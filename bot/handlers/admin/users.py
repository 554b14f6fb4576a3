"""Admin commands about users: /admin, /users, /user, /suspend, /activate."""

from __future__ import annotations

import logging
import re

from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.callbacks import UsersPage, UserStatusAction
from bot.commands import Audience, CommandSpec, register
from bot.filters import IsAdmin
from bot.formatting import esc, moment
from bot.handlers.user.help import help_text
from bot.keyboards import button, clamp_page, pager
from bot.middlewares.access import ADMIN
from bot.notifier import Notifier
from bot.routing import RouterBlueprint
from bot.services import Services
from bot.texts import risk_profile_name, user_status_name
from engine.errors import NotFoundError
from engine.users.models import User, UserStatus

logger = logging.getLogger(__name__)
router = RouterBlueprint(__name__, filters=(IsAdmin(),))

PAGE_SIZE = 10
_QUERY = re.compile(r"^@?[A-Za-z0-9_]{1,24}$")

register(CommandSpec("admin", __("Admin commands"), Audience.ADMIN, order=200))
register(
    CommandSpec(
        "users", __("List or search users"), Audience.ADMIN, usage=__("/users [id or username]"), order=201
    )
)
register(
    CommandSpec(
        "user", __("Show one user"), Audience.ADMIN, usage=__("/user ID or /user @username"), order=202
    )
)
register(
    CommandSpec("suspend", __("Suspend a user"), Audience.ADMIN, usage=__("/suspend ID [reason]"), order=203)
)
register(
    CommandSpec("activate", __("Reactivate a user"), Audience.ADMIN, usage=__("/activate ID"), order=204)
)


@router.message(Command("admin"), flags={"access": ADMIN})
async def admin_help(message: Message) -> None:
    await message.answer(_("<b>Admin commands</b>") + "\n" + help_text(Audience.ADMIN))


@router.message(Command("users"), flags={"access": ADMIN})
async def list_users(message: Message, command: CommandObject, services: Services) -> None:
    query = (command.args or "").strip()
    if query and not _QUERY.fullmatch(query):
        await message.answer(
            _("Search by a Telegram id or a username fragment (Latin letters, digits, _; up to 24).")
        )
        return
    query = query.removeprefix("@")
    await services.admin.record(message.chat.id, "admin.users.search", query=query)
    text, markup = await _users_page(services, query, 0, message.chat.id)
    await message.answer(text, reply_markup=markup)


@router.callback_query(UsersPage.filter(), flags={"access": ADMIN})
async def users_page(query: CallbackQuery, callback_data: UsersPage, services: Services) -> None:
    await query.answer()
    search = callback_data.query if _QUERY.fullmatch(callback_data.query or "x") else ""
    text, markup = await _users_page(services, search, clamp_page(callback_data.page), query.from_user.id)
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)


async def _users_page(
    services: Services, query: str, page: int, viewer_id: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    users, total = await services.admin.search_users(query or None, page=page, page_size=PAGE_SIZE)
    if total == 0:
        return _("No users match “{query}”.").format(query=esc(query)) if query else _("No users yet."), None

    pages = (total + PAGE_SIZE - 1) // PAGE_SIZE
    header = _("<b>Users</b> {first}–{last} of {total}").format(
        first=page * PAGE_SIZE + 1, last=page * PAGE_SIZE + len(users), total=total
    )
    rows = [
        f"<code>{user.telegram_id}</code> @{esc(user.username)} — {user_status_name(user.status)}"
        for user in users
    ]
    navigation = pager(page, pages, lambda p: UsersPage(page=p, query=query))
    markup = InlineKeyboardMarkup(inline_keyboard=[navigation]) if navigation else None
    return header + "\n" + "\n".join(rows), markup


@router.message(Command("user"), flags={"access": ADMIN})
async def show_user(message: Message, command: CommandObject, services: Services, user: User | None) -> None:
    reference = (command.args or "").strip()
    if not reference:
        await message.answer(
            _("Usage: {usage}").format(usage="<code>/user ID</code>, <code>/user @username</code>")
        )
        return
    target = await services.admin.find_user(reference)
    if target is None:
        raise NotFoundError("user")
    await services.admin.record(message.chat.id, "admin.user.view", target.telegram_id)
    viewer_zone = user.timezone if user else "UTC"
    await message.answer(user_card(target, viewer_zone), reply_markup=_status_buttons(target))


def user_card(target: User, timezone: str) -> str:
    locale = get_i18n().current_locale
    lines = [
        f"<b>@{esc(target.username)}</b> (<code>{target.telegram_id}</code>)",
        _("Name: {value}").format(value=esc(target.first_name or "-")),
        _("Status: {value}").format(value=user_status_name(target.status)),
    ]
    if target.status_reason:
        lines.append(_("Reason: {reason}").format(reason=esc(target.status_reason)))
    lines += [
        _("Language: {value}").format(value=esc(target.language)),
        _("Risk profile: {value}").format(value=risk_profile_name(target.risk_profile)),
        _("Email: {value}").format(value=esc(target.email or "-")),
        _("Registered: {value}").format(value=moment(target.created_at, timezone, locale)),
    ]
    if target.last_seen_at:
        lines.append(_("Last seen: {value}").format(value=moment(target.last_seen_at, timezone, locale)))
    return "\n".join(lines)


def _status_buttons(target: User) -> InlineKeyboardMarkup:
    if target.status is UserStatus.ACTIVE:
        action = button(_("Suspend"), UserStatusAction(action="suspend", telegram_id=target.telegram_id))
    else:
        action = button(_("Activate"), UserStatusAction(action="activate", telegram_id=target.telegram_id))
    return InlineKeyboardMarkup(inline_keyboard=[[action]])


@router.message(Command("suspend"), flags={"access": ADMIN})
async def suspend(message: Message, command: CommandObject, services: Services, notifier: Notifier) -> None:
    parts = (command.args or "").split(maxsplit=1)
    if not parts:
        await message.answer(_("Usage: {usage}").format(usage="<code>/suspend ID [reason]</code>"))
        return
    reason = parts[1].strip()[:500] if len(parts) > 1 else None
    await _change_status(message, services, notifier, parts[0], UserStatus.SUSPENDED, reason)


@router.message(Command("activate"), flags={"access": ADMIN})
async def activate(message: Message, command: CommandObject, services: Services, notifier: Notifier) -> None:
    reference = (command.args or "").strip()
    if not reference:
        await message.answer(_("Usage: {usage}").format(usage="<code>/activate ID</code>"))
        return
    await _change_status(message, services, notifier, reference, UserStatus.ACTIVE, None)


@router.callback_query(UserStatusAction.filter(), flags={"access": ADMIN})
async def status_button(
    query: CallbackQuery, callback_data: UserStatusAction, services: Services, notifier: Notifier
) -> None:
    actions = {"suspend": UserStatus.SUSPENDED, "activate": UserStatus.ACTIVE}
    status = actions.get(callback_data.action)
    if status is None:
        await query.answer(_("This button is no longer active."))
        return  # forged or outdated payload
    await query.answer()
    if isinstance(query.message, Message):
        await _change_status(
            query.message,
            services,
            notifier,
            str(callback_data.telegram_id),
            status,
            None,
            actor=query.from_user.id,
        )


async def _change_status(
    message: Message,
    services: Services,
    notifier: Notifier,
    reference: str,
    status: UserStatus,
    reason: str | None,
    actor: int | None = None,
) -> None:
    actor_id = actor or message.chat.id
    target = await services.admin.find_user(reference)
    if target is None:
        raise NotFoundError("user")
    if status is UserStatus.SUSPENDED and target.telegram_id in services.admin_ids:
        await message.answer(_("Admins cannot be suspended. Remove the id from ADMIN_IDS first."))
        return
    if target.status is status:
        await message.answer(
            _("@{username} is already {status}.").format(
                username=esc(target.username), status=user_status_name(status)
            )
        )
        return

    updated = await services.admin.set_status(actor_id, target.telegram_id, status, reason)
    await message.answer(
        _("@{username} is now {status}.").format(
            username=esc(updated.username), status=user_status_name(status)
        )
    )
    await notifier.notify_status_change(updated)
