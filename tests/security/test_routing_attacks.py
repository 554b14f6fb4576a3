"""Attacks on the command and button tables: admin commands in every disguise, blocked users, floods.

The tables route a command by one lookup and a press by its prefix. A
non-admin must not reach an admin handler through them, whatever shape the
command takes (bot mention, caption, arguments, other case, inside a
conversation step, edited, forwarded, from a group). A suspended user must
reach nothing, and the rate limit must still count every routed update.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiogram.methods import TelegramMethod
from aiogram.types import Chat, Message, MessageOriginUser, Update, User

from bot.app import build_services, close_services, start_services
from bot.command_routes import CommandTable
from engine.common.clock import ManualClock
from engine.users.models import UserStatus
from tests.conftest import ADMIN_ID, START, make_settings
from tests.harness import BotHarness, plain, register
from tests.security.support import (
    ATTACKER,
    VICTIM,
    answers,
    changed_tables,
    quiet_settings,
    reply_texts,
    snapshot,
)

_IDS = itertools.count(10_000)


async def feed(harness: BotHarness, update: Update) -> list[TelegramMethod[Any]]:
    start = len(harness.session.requests)
    await harness.dispatcher.feed_update(harness.bot, update)
    await harness.delivery.drain()
    return harness.session.requests[start:]


def message(user_id: int, *, chat: Chat | None = None, **fields: Any) -> Message:
    return Message(
        message_id=next(_IDS),
        date=datetime.now(UTC),
        chat=chat or Chat(id=user_id, type="private"),
        from_user=User(
            id=user_id, is_bot=False, first_name="Mallory", username="mallory", language_code="en"
        ),
        **fields,
    )


async def world(tmp_path: Path, migrated_database: Path, **limits: object) -> tuple[BotHarness, Any]:
    shutil.copy(migrated_database, tmp_path / "test.db")
    settings = make_settings(tmp_path, rate_limit=limits) if limits else quiet_settings(tmp_path)
    services = build_services(settings, clock=ManualClock(START))
    services.i18n.set_current(services.i18n)
    await start_services(services)
    return BotHarness(services), services


@pytest.fixture
async def harness(tmp_path: Path, migrated_database: Path) -> AsyncIterator[BotHarness]:
    built, services = await world(tmp_path, migrated_database)
    try:
        await register(built, VICTIM, username="victim")
        await register(built, ATTACKER, username="mallory")
        yield built
    finally:
        await built.close()
        await close_services(services)


def shapes(name: str, argument: str, me: str) -> list[str]:
    """The same admin command written every way a user might write it."""
    return [
        f"/{name} {argument}",
        f"/{name}@{me} {argument}",
        f"/{name}@{me.upper()} {argument}",
        f"/{name}@other_bot {argument}",
        f"/{name.upper()} {argument}",
        f"/{name}\u00a0{argument}",
        f"/{name}\n{argument}",
        f"/{name}@ {argument}",
    ]


ADMIN_COMMANDS = [
    ("suspend", str(VICTIM)),
    ("activate", str(VICTIM)),
    ("resetpin", str(VICTIM)),
    ("limits", "MEDIUM max_position=0.99"),
    ("broadcast", "hello everyone"),
    ("users", ""),
    ("user", str(VICTIM)),
    ("stats", ""),
    ("audit", ""),
    ("admin", ""),
    ("scenarios", ""),
]


def refused_as_unknown(sent: list[TelegramMethod[Any]], what: str) -> None:
    shown = [plain(text) for text in reply_texts(sent)]
    fallbacks = (
        "Unknown command. /help lists what I can do.",
        "I did not understand that. /help lists what I can do.",
    )
    assert shown == [] or (len(shown) == 1 and shown[0] in fallbacks), (what, shown)


async def test_admin_commands_in_every_shape_stay_closed(harness: BotHarness) -> None:
    me = (await harness.bot.me()).username or ""
    before = snapshot(harness.services)
    for name, argument in ADMIN_COMMANDS:
        for text in shapes(name, argument, me):
            refused_as_unknown(await harness.send(ATTACKER, text, username="mallory"), text)
            caption = message(ATTACKER, caption=text, photo=[])
            refused_as_unknown(await feed(harness, Update(update_id=next(_IDS), message=caption)), text)
    assert changed_tables(before, snapshot(harness.services)) == []


async def test_admin_command_from_a_conversation_step_stays_closed(harness: BotHarness) -> None:
    """The step is left on a command, and the command then goes through the table."""
    before = snapshot(harness.services)
    for name, argument in ADMIN_COMMANDS:
        await harness.press(ATTACKER, "pn:set", username="mallory")  # now in the PIN setup step
        sent = await harness.send(ATTACKER, f"/{name} {argument}", username="mallory")
        refused_as_unknown(sent, name)
    context = harness.dispatcher.fsm.get_context(harness.bot, chat_id=ATTACKER, user_id=ATTACKER)
    assert await context.get_state() is None
    assert changed_tables(before, snapshot(harness.services)) == []


async def test_admin_commands_edited_forwarded_or_in_groups_do_nothing(harness: BotHarness) -> None:
    before = snapshot(harness.services)
    admin = User(id=ADMIN_ID, is_bot=False, first_name="Boss")
    group = Chat(id=-100_777, type="supergroup", title="Traders")
    for name, argument in ADMIN_COMMANDS:
        text = f"/{name} {argument}"
        edited = message(ATTACKER, text=text, edit_date=int(datetime.now(UTC).timestamp()))
        assert await feed(harness, Update(update_id=next(_IDS), edited_message=edited)) == []
        forwarded = message(
            ATTACKER, text=text, forward_origin=MessageOriginUser(date=datetime.now(UTC), sender_user=admin)
        )
        refused_as_unknown(await feed(harness, Update(update_id=next(_IDS), message=forwarded)), text)
        in_group = message(ATTACKER, chat=group, text=text)
        assert await feed(harness, Update(update_id=next(_IDS), message=in_group)) == []
        # Even the admin is not served in a group: one trader per private chat.
        by_admin = Message(
            message_id=next(_IDS), date=datetime.now(UTC), chat=group, from_user=admin, text=text
        )
        assert await feed(harness, Update(update_id=next(_IDS), message=by_admin)) == []
    assert changed_tables(before, snapshot(harness.services)) == []


async def test_admin_buttons_pressed_by_a_user_do_nothing(harness: BotHarness) -> None:
    before = snapshot(harness.services)
    for data in (f"us:suspend:{VICTIM}", f"us:activate:{VICTIM}", "au:0:", "aa:0", "au:0:victim"):
        pressed = await harness.press(ATTACKER, data, username="mallory")
        assert [answer.text for answer in answers(pressed)] == ["This button is no longer active."], data
        assert reply_texts(pressed) == [], data
    assert changed_tables(before, snapshot(harness.services)) == []


@pytest.mark.parametrize("status", [UserStatus.SUSPENDED, UserStatus.CLOSED])
async def test_blocked_user_reaches_nothing_in_any_shape(harness: BotHarness, status: UserStatus) -> None:
    await harness.services.admin.set_status(ADMIN_ID, VICTIM, status, "test")
    me = (await harness.bot.me()).username or ""
    before = snapshot(harness.services)
    for text in ("/portfolio", f"/portfolio@{me}", "/orders all", "/link", "/settings", "/alerts"):
        sent = await harness.send(VICTIM, text, username="victim")
        assert [("⛔" in reply) for reply in reply_texts(sent)] == [True], text
        caption = message(VICTIM, caption=text, photo=[])
        sent = await feed(harness, Update(update_id=next(_IDS), message=caption))
        assert [("⛔" in reply) for reply in reply_texts(sent)] == [True], text
    for data in ("st:language", "lg:ru", "rp:HIGH:set", "pn:set", "se", "zz:forged"):
        pressed = await harness.press(VICTIM, data, username="victim")
        popups = [answer.text or "" for answer in answers(pressed)]
        assert len(popups) == 1, data
        assert reply_texts(pressed) == [], data
        assert "⛔" in popups[0] or popups[0] == "This button is no longer active.", (data, popups)
    assert changed_tables(before, snapshot(harness.services)) == []


async def test_rate_limit_counts_routed_commands_and_presses(tmp_path: Path, migrated_database: Path) -> None:
    built, services = await world(tmp_path, migrated_database, commands_per_minute=6)
    try:
        await register(built, ATTACKER, username="mallory")  # 3 updates, counted
        for _ in range(3):
            assert reply_texts(await built.send(ATTACKER, "/help", username="mallory"))
        sent = await built.send(ATTACKER, "/portfolio", username="mallory")
        assert [plain(text)[:17] for text in reply_texts(sent)] == ["Too many requests"]
        pressed = await built.press(ATTACKER, "st:language", username="mallory")
        assert "Too many requests" in (answers(pressed)[0].text or "")
        assert reply_texts(pressed) == []

        # The admin is exempt from the general limit, on the table path too.
        for _ in range(8):
            assert reply_texts(await built.send(ADMIN_ID, "/stats", username="boss"))
    finally:
        await built.close()
        await close_services(services)


ODD_TEXTS = [
    "/",
    "/@",
    "/ help",
    "/help@",
    "/help@@@",
    "/\u200bhelp",
    "/start\x00",
    "/start ref_1",
    "/portfolio\u2028x",
    "/orders\u00a0all",
    "/cancel@other",
    "/\u0441tart",  # Cyrillic "с"
    "/users",
]


async def test_odd_command_texts_reply_as_the_walk(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def replies() -> list[list[str]]:
        found = []
        for user, text in itertools.product((ATTACKER, ADMIN_ID), ODD_TEXTS):
            found.append([plain(reply)[:60] for reply in reply_texts(await harness.send(user, text))])
            await harness.send(user, "/cancel")  # leave the registration /start opened
        return found

    routed = await replies()
    monkeypatch.setattr(harness.dispatcher, "command_table", lambda: CommandTable())
    assert await replies() == routed
