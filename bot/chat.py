"""``patriot chat``: use the bot from a terminal, with no token and no network.

Each line you type reaches the same Dispatcher as a Telegram message from the
chosen user id. The bot's replies are printed as plain text; inline buttons
are numbered, and typing a number presses that button of the latest message.
The scheduled jobs of ``patriot run`` run too, so PAPER orders fill, brackets
are watched, and pushes are printed as they arrive.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import itertools
import re
import sys
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteMessage,
    EditMessageReplyMarkup,
    EditMessageText,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import (
    CallbackQuery,
    Chat,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    Update,
    User,
)

from bot.app import (
    bot_defaults,
    build_dispatcher,
    build_services,
    build_vault,
    close_services,
    instrument_session,
    start_services,
)
from bot.delivery import TelegramSender
from bot.local_session import BOT_USER, LocalSession
from bot.scheduler import build_scheduler
from bot.settings import Settings
from engine.notifications.dispatcher import OutboxDispatcher
from storage.vault import KeyVault

CHAT_TOKEN = "123456:local-chat-session-token-not-secret"
QUIT_WORDS = {":q", ":quit", "exit", "quit"}
PUSH_CHECK_SECONDS = 1.0


class TerminalChat:
    def __init__(self, args: argparse.Namespace, output: Any = sys.stdout) -> None:
        self.user = User(
            id=args.user_id,
            is_bot=False,
            first_name=args.first_name,
            username=args.username or None,
            language_code=args.language,
        )
        self.chat = Chat(id=args.user_id, type="private")
        self.output = output
        self.update_ids = itertools.count(1)
        self.message_ids = itertools.count(1)
        # (message id, button text, callback data) of the last inline keyboard shown.
        self.buttons: list[tuple[int, str, str]] = []

    def print_request(self, method: TelegramMethod[Any], result: Any) -> None:
        if isinstance(method, SendMessage):
            self._print_text(method.text, method.reply_markup, result.message_id, edited=False)
        elif isinstance(method, EditMessageText):
            self._print_text(method.text, method.reply_markup, method.message_id or 0, edited=True)
        elif isinstance(method, SendPhoto):
            self._print_text(
                f"[picture] {method.caption or ''}", method.reply_markup, result.message_id, edited=False
            )
        elif isinstance(method, EditMessageReplyMarkup) and method.reply_markup is None:
            self.buttons = [b for b in self.buttons if b[0] != method.message_id]
        elif isinstance(method, AnswerCallbackQuery) and method.text:
            self._write(f"  (notice) {method.text}")
        elif isinstance(method, DeleteMessage):
            self._write("  (a message was deleted)")

    def _print_text(self, text: str, markup: Any, message_id: int, *, edited: bool) -> None:
        prefix = "bot (edited)" if edited else "bot"
        self._write(f"{prefix}: {plain_text(text)}")
        if isinstance(markup, InlineKeyboardMarkup):
            self._show_inline(markup, message_id)
        elif edited:
            self.buttons = [b for b in self.buttons if b[0] != message_id]
        elif isinstance(markup, ReplyKeyboardMarkup):
            labels = [button.text for row in markup.keyboard for button in row]
            self._write("  menu: " + " | ".join(labels))

    def _show_inline(self, markup: InlineKeyboardMarkup, message_id: int) -> None:
        self.buttons = [
            (message_id, button.text, button.callback_data or "")
            for row in markup.inline_keyboard
            for button in row
            if button.callback_data
        ]
        numbered = "  ".join(f"[{index}] {text}" for index, (_, text, _) in enumerate(self.buttons, 1))
        self._write("  " + numbered)

    def _write(self, line: str) -> None:
        print(line, file=self.output, flush=True)

    def update_for(self, line: str) -> Update:
        if line.isdigit() and 1 <= int(line) <= len(self.buttons):
            message_id, _, data = self.buttons[int(line) - 1]
            message = Message(
                message_id=message_id,
                date=datetime.now(UTC),
                chat=self.chat,
                from_user=BOT_USER,
                text="",
            )
            query = CallbackQuery(
                id=str(next(self.update_ids)),
                from_user=self.user,
                chat_instance="chat",
                data=data,
                message=message,
            )
            return Update(update_id=next(self.update_ids), callback_query=query)
        message = Message(
            message_id=next(self.message_ids),
            date=datetime.now(UTC),
            chat=self.chat,
            from_user=self.user,
            text=line,
        )
        return Update(update_id=next(self.update_ids), message=message)


def plain_text(text: str) -> str:
    """Drop HTML tags and unescape entities for the terminal."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


async def run_chat(settings: Settings, args: argparse.Namespace) -> int:
    if args.database_url:
        settings.database.database_url = args.database_url
    chat = TerminalChat(args)
    session = LocalSession(on_request=chat.print_request)
    services = build_services(settings, vault=_chat_vault(settings))
    services.i18n.set_current(services.i18n)
    await start_services(services)
    bot = Bot(token=CHAT_TOKEN, session=instrument_session(session), default=bot_defaults())
    dispatcher = build_dispatcher(services, bot)
    delivery = OutboxDispatcher(services.uow, TelegramSender(bot), services.reachability, services.clock)
    # The jobs of `patriot run`: PAPER matching, bracket watching, risk scan, start-up reconciliation.
    scheduler = build_scheduler(services)
    print("PATRIOT chat. Type /start to begin, a number to press a button, :q to leave.", flush=True)
    scheduler.start()
    pushes = Pushes(delivery)
    background = asyncio.create_task(pushes.run())
    try:
        await _loop(chat, dispatcher, bot, pushes)
    finally:
        background.cancel()
        scheduler.shutdown(wait=False)
        await close_services(services)
    return 0


class Pushes:
    """Prints the queued pushes after each reply and every second, one drain at a time."""

    def __init__(self, delivery: OutboxDispatcher) -> None:
        self._delivery = delivery
        self._lock = asyncio.Lock()

    async def drain(self) -> None:
        async with self._lock:
            await self._delivery.drain()

    async def run(self) -> None:
        while True:
            await asyncio.sleep(PUSH_CHECK_SECONDS)
            await self.drain()


def _chat_vault(settings: Settings) -> KeyVault:
    """Return the configured vault, or one whose key lives in this process only, so chat runs anywhere."""
    if settings.vault.master_key is not None or settings.vault.master_key_file is not None:
        return build_vault(settings)
    print(
        "No MASTER_KEY is set, so this session encrypts API keys with a temporary key. "
        "Accounts you link now cannot be read in a later session. "
        "Run `patriot keys generate` and set MASTER_KEY to keep them.",
        flush=True,
    )
    return KeyVault.with_ephemeral_key()


async def _loop(chat: TerminalChat, dispatcher: Dispatcher, bot: Bot, pushes: Pushes) -> None:
    while True:
        try:
            line = (await asyncio.to_thread(input, "> ")).strip()
        except EOFError:
            return
        if line in QUIT_WORDS:
            return
        if not line:
            continue
        await dispatcher.feed_update(bot, chat.update_for(line))
        # Pushes (order events, notices) wait in the outbox; show them after each reply.
        await pushes.drain()
