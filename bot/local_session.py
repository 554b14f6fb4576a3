"""A Bot API session that returns local results and records every request.

``patriot chat`` prints what it records; dispatcher-level tests read it. No
request leaves the process.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncGenerator, Callable
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import (
    EditMessageReplyMarkup,
    EditMessageText,
    GetMe,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import Chat, Message, User

BOT_USER = User(id=1, is_bot=True, first_name="PATRIOT", username="patriot_test_bot")


class LocalSession(BaseSession):
    def __init__(self, on_request: Callable[[TelegramMethod[Any], Any], None] | None = None) -> None:
        super().__init__()
        self.requests: list[TelegramMethod[Any]] = []
        self._on_request = on_request
        # (method type, error) pairs raised by the next matching request, for fault tests.
        self.faults: list[tuple[type[TelegramMethod[Any]], Exception]] = []
        self._message_ids = itertools.count(1000)

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        self.requests.append(method)
        for index, (method_type, error) in enumerate(self.faults):
            if isinstance(method, method_type):
                del self.faults[index]
                raise error
        result = self._answer(method)
        if self._on_request is not None:
            self._on_request(method, result)
        return result  # type: ignore[no-any-return]

    def _answer(self, method: TelegramMethod[Any]) -> Any:
        if isinstance(method, GetMe):
            return BOT_USER
        if isinstance(method, SendMessage | SendPhoto | SendDocument):
            return self._message(method.chat_id, getattr(method, "text", None), method.reply_markup)
        if isinstance(method, EditMessageText | EditMessageReplyMarkup):
            message = self._message(method.chat_id or 0, getattr(method, "text", None), method.reply_markup)
            return message.model_copy(update={"message_id": method.message_id or message.message_id})
        return True

    def _message(self, chat_id: int | str, text: str | None, reply_markup: Any) -> Message:
        return Message(
            message_id=next(self._message_ids),
            date=datetime.now(UTC),
            chat=Chat(id=int(chat_id), type="private"),
            from_user=BOT_USER,
            text=text,
            reply_markup=reply_markup
            if reply_markup is not None and hasattr(reply_markup, "inline_keyboard")
            else None,
        )

    def sent(self, method_type: type[TelegramMethod[Any]] | None = None) -> list[TelegramMethod[Any]]:
        return [r for r in self.requests if method_type is None or isinstance(r, method_type)]

    def clear(self) -> None:
        self.requests.clear()

    async def close(self) -> None:
        """Nothing to close: no connection was opened."""

    async def stream_content(
        self, url: str, headers: dict[str, Any] | None = None, timeout: int = 30, chunk_size: int = 65536
    ) -> AsyncGenerator[bytes, None]:
        raise NotImplementedError("LocalSession serves no files")
        yield b""  # pragma: no cover - makes this an async generator
