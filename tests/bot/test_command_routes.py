"""Commands and presses reach the handler that aiogram's router walk would choose, through the tables."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.state import State, StatesGroup, any_state, default_state

from bot import filters
from bot.command_routes import CallbackTable, CommandTable, build_command_table
from bot.routing import awaitable_filter
from bot.settings import Settings
from tests.conftest import ADMIN_ID, make_settings
from tests.harness import BotHarness, register, texts

USER = 4242
NEWCOMER = 4343
# Ids, times and amounts that differ between two sends of the same command.
VOLATILE = re.compile(r"[0-9a-f]{8,}|\d+")


@pytest.fixture
def settings(tmp_path: Path, migrated_database: Path) -> Settings:
    """Every command twice per user is more than the default rate limit lets through."""
    shutil.copy(migrated_database, tmp_path / "test.db")
    return make_settings(tmp_path, rate_limit={"commands_per_minute": 10_000})


def walked(harness: BotHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the dispatcher walk the routers for every message from now on."""
    monkeypatch.setattr(harness.dispatcher, "command_table", lambda: CommandTable())


def spy_walk(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    walks: list[str] = []
    original = Router.propagate_event

    async def spy(self: Router, update_type: str, event: Any, **kwargs: Any) -> Any:
        walks.append(update_type)
        return await original(self, update_type, event, **kwargs)

    monkeypatch.setattr(Router, "propagate_event", spy)
    return walks


async def replies(harness: BotHarness, user: int, text: str) -> list[str]:
    return [VOLATILE.sub("#", reply) for reply in texts(await harness.send(user, text))]


async def test_read_commands_skip_the_router_walk(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await register(harness, USER)
    walks = spy_walk(monkeypatch)
    for command in ("/portfolio", "/help", "/orders", "/alerts"):
        assert texts(await harness.send(USER, command)), command
    assert walks == []


async def test_other_text_walks_the_routers(harness: BotHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    await register(harness, USER)
    walks = spy_walk(monkeypatch)
    assert texts(await harness.send(USER, "hello")) == [
        "I did not understand that. /help lists what I can do."
    ]
    assert "message" in walks


async def test_table_picks_the_walks_handler(harness: BotHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    chosen: list[str] = []

    async def record(handler: Any, event: Any, data: dict[str, Any]) -> Any:
        chosen.append(data["handler"].callback.__qualname__)
        return await handler(event, data)

    async def outcomes() -> dict[tuple[int, str], object]:
        """The handler each command reached, or the refusal a gate before it sent."""
        found: dict[tuple[int, str], object] = {}
        for user in (USER, ADMIN_ID, NEWCOMER):
            for name in names:
                chosen.clear()
                sent = await harness.send(user, f"/{name}")
                found[user, name] = chosen[0] if chosen else texts(sent)
        return found

    # Registered before the first update, so the table's routes carry it too.
    harness.dispatcher.message.middleware(record)
    await register(harness, USER)
    names = sorted(harness.dispatcher.command_table().routes)
    assert {"portfolio", "help", "orders", "alerts", "users"} <= set(names)

    routed = await outcomes()
    walked(harness, monkeypatch)
    assert await outcomes() == routed
    assert routed[USER, "portfolio"] == "show_portfolio"
    assert routed[ADMIN_ID, "users"] == "list_users"
    assert routed[USER, "users"] == "unknown_message"


async def test_presses_pick_the_walks_handler(harness: BotHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    chosen: list[str] = []

    async def record(handler: Any, event: Any, data: dict[str, Any]) -> Any:
        chosen.append(data["handler"].callback.__qualname__)
        return await handler(event, data)

    async def outcomes() -> dict[tuple[int, str], object]:
        found: dict[tuple[int, str], object] = {}
        for user in (USER, ADMIN_ID, NEWCOMER):
            for data in payloads:
                chosen.clear()
                sent = await harness.press(user, data)
                found[user, data] = chosen[0] if chosen else [VOLATILE.sub("#", str(r)) for r in sent]
        return found

    harness.dispatcher.callback_query.middleware(record)
    await register(harness, USER)
    prefixes = sorted(harness.dispatcher.callback_table().by_prefix)
    assert {"od", "rp", "se", "st"} <= set(prefixes)
    # Well-formed and malformed data of every prefix, and a prefix no class has.
    payloads = [prefix + ":x" * fields for prefix in [*prefixes, "zz"] for fields in range(4)]
    payloads.append("st:language")

    routed = await outcomes()
    monkeypatch.setattr(harness.dispatcher, "callback_table", lambda: CallbackTable())
    assert await outcomes() == routed
    assert routed[USER, "zz"] == "stale_button"
    assert routed[USER, "st:language"] == "choose_language_button"


async def test_press_skips_the_router_walk(harness: BotHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    await register(harness, USER)
    walks = spy_walk(monkeypatch)
    assert await harness.press(USER, "st:language")
    assert await harness.press(USER, "zz:forged")
    assert walks == []


@pytest.mark.parametrize("command", ["/portfolio", "/help", "/orders", "/alerts"])
async def test_table_replies_as_the_walk(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    await register(harness, USER)
    routed = await replies(harness, USER, command)
    walked(harness, monkeypatch)
    assert await replies(harness, USER, command) == routed


@pytest.mark.parametrize("text", ["/portfolio@another_bot", "/Portfolio", "/portfolios"])
async def test_near_commands_reach_the_fallback(harness: BotHarness, text: str) -> None:
    await register(harness, USER)
    assert texts(await harness.send(USER, text)) == ["Unknown command. /help lists what I can do."]


async def test_command_to_this_bot_by_name(harness: BotHarness) -> None:
    await register(harness, USER)
    me = await harness.bot.me()
    reply = texts(await harness.send(USER, f"/help@{me.username}"))
    assert reply and "/portfolio" in reply[0]


async def test_menu_button_leaves_the_username_step(harness: BotHarness) -> None:
    asked = texts(await harness.send(NEWCOMER, "/start", username=None))
    assert "Choose a username" in asked[-1]
    label = next(label for label, command in filters.MENU_LABELS.items() if command == "help")

    reply = texts(await harness.send(NEWCOMER, label, username=None))

    # The step must not read the label as a username once the menu left it.
    assert reply and "/portfolio" in reply[0]
    context = harness.dispatcher.fsm.get_context(harness.bot, chat_id=NEWCOMER, user_id=NEWCOMER)
    assert await context.get_state() is None


class Steps(StatesGroup):
    name = State()


async def noop() -> None:
    """A handler that the tables only look at."""


def table_of(*registrations: tuple[Any, ...]) -> set[str]:
    router = Router()
    for handler_filters in registrations:
        router.message.register(noop, *handler_filters)
    return set(build_command_table(router).routes)


def test_table_claims_after_named_steps() -> None:
    text = awaitable_filter(F.text)
    assert table_of((Steps.name, text), (filters.MenuButton("help"),), (Command("b"),)) == {"b"}


def test_table_stops_at_a_step_without_state() -> None:
    text = awaitable_filter(F.text)
    assert table_of((Command("a"),), (StateFilter(default_state), text), (Command("b"),)) == {"a"}
    assert table_of((StateFilter(any_state), text), (Command("b"),)) == set()
    assert table_of((StateFilter(Steps.name, None), text), (Command("b"),)) == set()


def test_table_leaves_contested_names_to_the_walk() -> None:
    text = awaitable_filter(F.text)
    assert table_of((Command("c"), text), (Command("c"),), (Command("d"),)) == {"d"}
