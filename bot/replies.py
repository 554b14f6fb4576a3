"""Sending replies that may be longer than one Telegram message."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup, Message, ReplyKeyboardMarkup

from bot.formatting import split_message


async def answer_long(
    message: Message,
    text: str,
    reply_markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | None = None,
) -> list[Message]:
    """Answer with as many messages as the text needs; the keyboard goes on the last one."""
    parts = split_message(text)
    sent = []
    for index, part in enumerate(parts):
        markup = reply_markup if index == len(parts) - 1 else None
        sent.append(await message.answer(part, reply_markup=markup))
    return sent
