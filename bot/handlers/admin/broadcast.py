"""/broadcast TEXT: a message to every active user, delivered through the outbox."""

from __future__ import annotations

from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.commands import Audience, CommandSpec, register
from bot.filters import IsAdmin
from bot.middlewares.access import ADMIN
from bot.routing import RouterBlueprint
from bot.services import Services

router = RouterBlueprint(__name__, filters=(IsAdmin(),))

# Leaves room for the localized header within Telegram's 4096 characters after escaping.
MAX_BROADCAST_LENGTH = 3500

register(
    CommandSpec(
        "broadcast",
        __("Send a message to every active user"),
        Audience.ADMIN,
        usage=__("/broadcast TEXT"),
        order=212,
    )
)


@router.message(Command("broadcast"), flags={"access": ADMIN})
async def broadcast(message: Message, command: CommandObject, services: Services) -> None:
    text = (command.args or "").strip()
    if not text:
        await message.answer(_("Usage: {usage}").format(usage="<code>/broadcast TEXT</code>"))
        return
    if len(text) > MAX_BROADCAST_LENGTH:
        await message.answer(
            _("The text is {length} characters long; a broadcast may have at most {maximum}.").format(
                length=len(text), maximum=MAX_BROADCAST_LENGTH
            )
        )
        return

    started = await services.broadcaster.start(message.chat.id, text)
    await services.admin.record(
        message.chat.id,
        "admin.broadcast",
        batch=str(started.batch_id),
        recipients=str(started.recipients),
        text=text[:200],
    )
    await message.answer(
        _(
            "📢 Broadcast #{batch} is queued for {recipients} users "
            "({unreachable} who blocked the bot are left out). "
            "You will get progress reports and the final count here."
        ).format(batch=started.batch_id, recipients=started.recipients, unreachable=started.unreachable)
    )
