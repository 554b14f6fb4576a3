"""/resetpin: an admin removes a user's forgotten trading PIN (audited, and the user is told)."""

from __future__ import annotations

from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.commands import Audience, CommandSpec, register
from bot.filters import IsAdmin
from bot.formatting import esc
from bot.i18n import localized
from bot.middlewares.access import ADMIN
from bot.notifier import Notifier
from bot.pin_guard import PinPurpose
from bot.routing import RouterBlueprint
from bot.services import Services
from engine.errors import NotFoundError
from engine.notifications.models import Category

router = RouterBlueprint(__name__, filters=(IsAdmin(),))

register(
    CommandSpec(
        "resetpin",
        __("Remove a user's forgotten trading PIN"),
        Audience.ADMIN,
        usage=__("/resetpin ID or /resetpin @username"),
        order=206,
    )
)


@router.message(Command("resetpin"), flags={"access": ADMIN, "pin": PinPurpose.ADMIN})
async def reset_pin(message: Message, command: CommandObject, services: Services, notifier: Notifier) -> None:
    reference = (command.args or "").strip()
    if not reference:
        await message.answer(_("Usage: {usage}").format(usage="<code>/resetpin ID</code>"))
        return
    target = await services.admin.find_user(reference)
    if target is None:
        raise NotFoundError("user")

    had_pin = await services.pins.reset_by_admin(message.chat.id, target)
    if not had_pin:
        await message.answer(
            _("@{username} has no PIN; nothing changed.").format(username=esc(target.username))
        )
        return
    await message.answer(
        _("The PIN of @{username} is removed. They can set a new one in /settings.").format(
            username=esc(target.username)
        )
    )
    with localized(services.i18n, target.language):
        notice = _(
            "🔐 An admin removed your trading PIN. Set a new one in /settings. "
            "If you did not ask for this, contact support at once."
        )
    await notifier.send(target.telegram_id, notice, category=Category.ACCOUNT, user_id=target.id)
