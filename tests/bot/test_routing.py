"""Blueprints register filters that aiogram awaits on the loop, not in a worker thread."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiogram import F
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Chat

from bot.routing import awaitable_filter
from tests.harness import BotHarness, register


class Probe(StatesGroup):
    waiting = State()


async def test_read_commands_check_no_filter_in_a_thread(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await register(harness, 4242)
    threaded: list[Any] = []
    original = asyncio.to_thread

    async def spy(function: Any, *args: Any, **kwargs: Any) -> Any:
        threaded.append(getattr(function, "func", function))
        return await original(function, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", spy)
    for command in ("/help", "/portfolio", "/orders", "/alerts"):
        await harness.send(4242, command)
    assert threaded == []


def test_state_filter_matches_like_the_bare_state() -> None:
    wrapped = awaitable_filter(Probe.waiting)
    assert wrapped is not Probe.waiting
    assert asyncio.run(wrapped(object(), raw_state=Probe.waiting.state)) is True
    assert asyncio.run(wrapped(object(), raw_state=None)) is False


def test_magic_filter_matches_like_the_bare_one() -> None:
    wrapped = awaitable_filter(F.type == "private")

    assert wrapped is not None
    assert asyncio.run(wrapped(Chat(id=1, type="private"))) is True
    assert asyncio.run(wrapped(Chat(id=1, type="group"))) is False
