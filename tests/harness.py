"""Drives the real Dispatcher with updates and reads what the bot sent."""

from __future__ import annotations

import html
import itertools
import re
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot
from aiogram.methods import EditMessageText, SendMessage, TelegramMethod
from aiogram.types import CallbackQuery, Chat, InlineKeyboardMarkup, Message, Update, User

from bot.app import bot_defaults, build_dispatcher, instrument_session
from bot.delivery import TelegramSender
from bot.local_session import BOT_USER, LocalSession
from bot.services import Services
from engine.notifications.dispatcher import OutboxDispatcher

TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"


class BotHarness:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.session = LocalSession()
        self.bot = Bot(token=TOKEN, session=instrument_session(self.session), default=bot_defaults())
        self.dispatcher = build_dispatcher(services, self.bot)
        # No delivery task runs here: pushes queued by an update are sent right after it.
        self.delivery = OutboxDispatcher(
            services.uow, TelegramSender(self.bot), services.reachability, services.clock
        )
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self.last_message_id = 0  # id of the last message fed by ``send``

    async def close(self) -> None:
        await self.dispatcher.storage.close()

    def telegram_user(
        self,
        user_id: int,
        language: str | None = "en",
        username: str | None = "trader",
        first_name: str = "Trader",
    ) -> User:
        return User(
            id=user_id, is_bot=False, first_name=first_name, username=username, language_code=language
        )

    async def send(self, user_id: int, text: str, **profile: Any) -> list[TelegramMethod[Any]]:
        """Feed a text message from the user; return the requests the bot made in response."""
        start = len(self.session.requests)
        message = Message(
            message_id=next(self._message_ids),
            date=datetime.now(UTC),
            chat=Chat(id=user_id, type="private"),
            from_user=self.telegram_user(user_id, **profile),
            text=text,
        )
        self.last_message_id = message.message_id
        await self.dispatcher.feed_update(self.bot, Update(update_id=next(self._update_ids), message=message))
        await self.delivery.drain()
        return self.session.requests[start:]

    async def press(
        self, user_id: int, data: str, message_id: int = 1, **profile: Any
    ) -> list[TelegramMethod[Any]]:
        """Feed a press of an inline button carrying ``data`` on message ``message_id``."""
        start = len(self.session.requests)
        message = Message(
            message_id=message_id,
            date=datetime.now(UTC),
            chat=Chat(id=user_id, type="private"),
            from_user=BOT_USER,
            text="",
        )
        query = CallbackQuery(
            id=str(next(self._update_ids)),
            from_user=self.telegram_user(user_id, **profile),
            chat_instance="test",
            data=data,
            message=message,
        )
        await self.dispatcher.feed_update(
            self.bot, Update(update_id=next(self._update_ids), callback_query=query)
        )
        await self.delivery.drain()
        return self.session.requests[start:]


def texts(requests: list[TelegramMethod[Any]]) -> list[str]:
    """Texts of the messages sent or edited, in order."""
    return [r.text for r in requests if isinstance(r, SendMessage | EditMessageText)]


def plain(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def buttons(requests: list[TelegramMethod[Any]]) -> dict[str, str]:
    """Map button text to callback data over every inline keyboard in the requests (latest wins)."""
    found: dict[str, str] = {}
    for request in requests:
        markup = getattr(request, "reply_markup", None)
        if isinstance(markup, InlineKeyboardMarkup):
            for row in markup.inline_keyboard:
                for button in row:
                    if button.callback_data:
                        found[button.text] = button.callback_data
    return found


def button_data(requests: list[TelegramMethod[Any]], prefix: str) -> str:
    matches = [data for data in buttons(requests).values() if data.startswith(prefix)]
    assert matches, f"no button with data starting {prefix!r} in {buttons(requests)}"
    return matches[-1]


async def register(
    harness: BotHarness,
    user_id: int,
    *,
    language: str = "en",
    username: str | None = "trader",
    profile: str = "MEDIUM",
) -> None:
    """Run the whole /start conversation: valid Telegram username, a risk profile, email skipped."""
    person = {"language": language, "username": username}
    started = await harness.send(user_id, "/start", **person)
    await harness.press(user_id, button_data(started, f"rp:{profile}:reg"), **person)
    await harness.press(user_id, "se", **person)
    user = await harness.services.users.get_by_telegram_id(user_id)
    assert user is not None, f"registration of {user_id} did not complete"
