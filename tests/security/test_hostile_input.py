"""Hostile text typed into every command and every conversation step, through the real Dispatcher.

For every case: at least one reply, every reply valid Telegram HTML of at
most 4096 characters, no incident and no ERROR log, and no change to any
table when the step's own validator rejects the text. Steps that may read a
secret (keys, PINs) must delete the message. The corpus gives about 2,000
cases; a hypothesis generator adds more from the same ingredients.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiogram.methods import DeleteMessage
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import build_services, close_services, start_services
from bot.commands import Audience, commands
from bot.filters import MENU_LABELS, is_command
from engine.common.clock import ManualClock
from tests.conftest import START
from tests.harness import BotHarness, register
from tests.security.hostile import CORPUS, SHORT_CORPUS, STEPS, Step, hostile_text
from tests.security.support import assert_replied_cleanly, changed_tables, quiet_settings, snapshot

USER = 401
PIN_USER = 402
FIRST_NEWCOMER = 450_000


class ErrorLog(logging.Handler):
    """Collects every record at ERROR and above, from any logger."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def error_log() -> Iterator[ErrorLog]:
    handler = ErrorLog()
    logging.getLogger().addHandler(handler)
    try:
        yield handler
    finally:
        logging.getLogger().removeHandler(handler)


async def open_harness(tmp_path: Path, migrated_database: Path) -> BotHarness:
    shutil.copy(migrated_database, tmp_path / "test.db")
    services = build_services(quiet_settings(tmp_path), clock=ManualClock(START))
    services.i18n.set_current(services.i18n)
    await start_services(services)
    harness = BotHarness(services)
    await register(harness, USER, username="hostile")
    return harness


async def close_harness(harness: BotHarness) -> None:
    await harness.close()
    await close_services(harness.services)


@pytest.fixture
async def harness(tmp_path: Path, migrated_database: Path) -> AsyncIterator[BotHarness]:
    built = await open_harness(tmp_path, migrated_database)
    try:
        yield built
    finally:
        await close_harness(built)


class Driver:
    """Types text into one step, entering it first whenever the last text moved the user on."""

    def __init__(self, harness: BotHarness) -> None:
        self.harness = harness
        self.newcomer = FIRST_NEWCOMER
        self.cases = 0

    async def state(self, user: int) -> str | None:
        context = self.harness.dispatcher.fsm.get_context(self.harness.bot, chat_id=user, user_id=user)
        return await context.get_state()

    async def user_for(self, step: Step) -> int:
        if step.own_user:
            if await self.harness.services.users.get_by_telegram_id(PIN_USER) is None:
                await register(self.harness, PIN_USER, username="pinned")
            return PIN_USER
        if step.registered:
            return USER
        if await self.harness.services.users.get_by_telegram_id(self.newcomer) is not None:
            self.newcomer += 1  # the last text completed a registration
        return self.newcomer

    async def type_into(self, step: Step, text: str) -> None:
        user = await self.user_for(step)
        if await self.state(user) != step.state:
            await self.enter(step, user)
        before = snapshot(self.harness.services)
        profile = {} if step.registered else {"username": None}
        sent = await self.harness.send(user, text, **profile)  # type: ignore[arg-type]
        what = f"{step.name}: {text[:40]!r}"
        assert_replied_cleanly(sent, what)
        if not step.accepts(text):
            assert changed_tables(before, snapshot(self.harness.services)) == [], what
        leaves = is_command(text) or text in MENU_LABELS  # these leave the step by design
        if step.deletes and text and not leaves:
            assert any(isinstance(request, DeleteMessage) for request in sent), what
        self.cases += 1

    async def enter(self, step: Step, user: int) -> None:
        await self.harness.send(user, "/cancel", **({} if step.registered else {"username": None}))
        await step.enter(self.harness, user)
        if await self.state(user) != step.state and step.name == "PIN prompt":
            # Wrong PINs locked the guard: an admin reset starts it again.
            account = await self.harness.services.users.get_by_telegram_id(user)
            assert account is not None
            await self.harness.services.pins.reset_by_admin(0, account)
            await step.enter(self.harness, user)
        assert await self.state(user) == step.state, f"could not reach {step.name}"

    async def type_command(self, text: str) -> None:
        if await self.state(USER) is not None:
            await self.harness.send(USER, "/cancel")  # leave a conversation the last text opened
        before = snapshot(self.harness.services)
        sent = await self.harness.send(USER, text)
        assert_replied_cleanly(sent, text[:50])
        assert changed_tables(before, snapshot(self.harness.services)) == [], text[:50]
        self.cases += 1


CORPORA = [
    pytest.param(SHORT_CORPUS, id="short"),
    pytest.param(CORPUS, id="full", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("corpus", CORPORA)
@pytest.mark.parametrize("step", STEPS, ids=[step.name for step in STEPS])
async def test_conversation_step_survives_the_corpus(
    harness: BotHarness, step: Step, corpus: list[str], error_log: ErrorLog
) -> None:
    driver = Driver(harness)
    for text in corpus:
        await driver.type_into(step, text)
    assert driver.cases == len(corpus)
    assert [record.getMessage() for record in error_log.records] == []


@pytest.mark.parametrize("corpus", CORPORA)
async def test_every_command_survives_the_corpus(
    harness: BotHarness, corpus: list[str], error_log: ErrorLog
) -> None:
    driver = Driver(harness)
    names = [spec.name for spec in commands(Audience.USER)]
    for name in names:
        for text in corpus:
            await driver.type_command(f"/{name} {text}".rstrip())
    assert driver.cases == len(names) * len(corpus) >= 300
    assert [record.getMessage() for record in error_log.records] == []


GENERATED_STEPS = [step for step in STEPS if step.registered]
COMMAND_FORMS = [
    "/buy BTCUSDT {}",
    "/sell BTCUSDT 0.001 {}",
    "/order BTCUSDT buy limit {} price=40000",
    "/cancel {}",
    "/orders {}",
    "/risk {}",
    "/performance {}",
    "/twap BTCUSDT buy {} 2 1h",
]


def test_generated_hostile_text(tmp_path: Path, migrated_database: Path, error_log: ErrorLog) -> None:
    loop = asyncio.new_event_loop()
    harness = loop.run_until_complete(open_harness(tmp_path, migrated_database))
    driver = Driver(harness)

    @settings(
        max_examples=120,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(text=hostile_text, target=st.sampled_from(GENERATED_STEPS + COMMAND_FORMS))
    def case(text: str, target: Step | str) -> None:
        if isinstance(target, Step):
            loop.run_until_complete(driver.type_into(target, text))
        else:
            loop.run_until_complete(driver.type_command(target.format(text)))

    try:
        case()
    finally:
        loop.run_until_complete(close_harness(harness))
        loop.close()
    assert driver.cases >= 120
    assert [record.getMessage() for record in error_log.records] == []
