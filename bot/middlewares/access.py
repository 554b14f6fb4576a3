"""Access gate: registration, account status and permissions, checked before each handler.

Handlers declare what they need with aiogram flags:
``flags={"access": "public"}`` runs for anyone who is not blocked (used by
/start and the registration steps), ``flags={"access": "admin"}`` runs for
admins whether or not they registered, the default needs a registered active
user, and ``flags={"permission": Permission.TRADE}`` also needs that
permission. A user who is not ACTIVE gets one refusal for any update.
"""

from __future__ import annotations

import html
import logging
import re
from typing import Any

from aiogram.dispatcher.flags import get_flag
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.i18n import gettext as _

from bot.formatting import esc
from engine.users.models import Permission, User, UserStatus

logger = logging.getLogger(__name__)

PUBLIC = "public"
ADMIN = "admin"


async def admit(event: TelegramObject, data: dict[str, Any]) -> bool:
    """Return True when the chosen handler may run for this user; otherwise refuse and return False."""
    user: User | None = data.get("user")
    is_admin: bool = data.get("is_admin", False)

    if user is not None and user.status is not UserStatus.ACTIVE and not is_admin:
        logger.info("Refused update from %s user %s", user.status, user.telegram_id)
        await _refuse(event, status_refusal(user))
        return False  # denied: the account is not active

    access = get_flag(data, "access")
    if access == PUBLIC or (access == ADMIN and is_admin):
        return True

    if user is None:
        await _refuse(event, _("You are not registered yet. Send /start to register."))
        return False  # denied: not registered

    permission: Permission | None = get_flag(data, "permission")
    if permission is not None and permission not in user.permissions:
        logger.info(
            "Refused %s to user %s: no %s permission", type(event).__name__, user.telegram_id, permission
        )
        await _refuse(event, _("Your account does not have the permission for this."))
        return False  # denied: missing permission

    return True


def status_refusal(user: User) -> str:
    """Return the one message a blocked user gets, in their language."""
    if user.status is UserStatus.SUSPENDED:
        text = _("⛔ Your account is suspended. Trading and every command are unavailable.")
        if user.status_reason:
            text += "\n" + _("Reason: {reason}").format(reason=esc(user.status_reason))
        return text
    if user.status is UserStatus.CLOSED:
        return _("⛔ Your account is closed.")
    return _("⏳ Your account is waiting for verification.")


async def _refuse(event: TelegramObject, text: str) -> None:
    if isinstance(event, CallbackQuery):
        await event.answer(_strip_tags(text)[:200], show_alert=True)
    elif isinstance(event, Message):
        await event.answer(text)


def _strip_tags(text: str) -> str:
    """Return plain text for a pop-up alert, which Telegram shows without HTML parsing."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))
