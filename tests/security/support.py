"""Shared pieces of the security suites: a victim with one of everything, DB snapshots, reply checks."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage, SendPhoto, TelegramMethod
from sqlalchemy.engine import make_url

from bot.formatting import TELEGRAM_TEXT_LIMIT
from bot.services import Services
from bot.settings import Settings, TradingSettings
from engine.orders.models import OrderStatus
from tests.bot.test_hygiene import assert_valid_telegram_html
from tests.conftest import make_settings
from tests.harness import BotHarness, button_data, register

VICTIM = 301
ATTACKER = 302

# Columns that change on every update without the input having any effect.
VOLATILE = {("users", "last_seen_at"), ("users", "updated_at")}
# account_valuations caches the last valuation of each account, refreshed by every view of a balance.
VOLATILE_TABLES = {"alembic_version", "account_valuations"}


def quiet_settings(tmp_path: Path) -> Settings:
    """Test settings without the rate limit, and with cards that outlive the test.

    A confirmation card expires in a background task after its time is up. In
    a long run that write would land in the middle of an unrelated case.
    """
    settings = make_settings(tmp_path, rate_limit={"commands_per_minute": 10_000})
    return replace(settings, trading=TradingSettings(_env_file=None, order_confirm_timeout_seconds=3600))


def database_path(services: Services) -> Path:
    return Path(make_url(services.settings.database.database_url).database or "")


def snapshot(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (volatile columns left out), sorted, read through a second connection."""
    with sqlite3.connect(database_path(services)) as connection:
        tables = [
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if name not in VOLATILE_TABLES and not name.startswith("sqlite_")
        ]
        state: dict[str, list[tuple[Any, ...]]] = {}
        for table in tables:
            columns = [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]
            kept = [column for column in columns if (table, column) not in VOLATILE]
            quoted = ", ".join(f'"{column}"' for column in kept)
            rows = connection.execute(f'SELECT {quoted} FROM "{table}"').fetchall()
            state[table] = sorted(rows, key=repr)
    return state


def changed_tables(
    before: dict[str, list[tuple[Any, ...]]], after: dict[str, list[tuple[Any, ...]]]
) -> list[str]:
    return [table for table in sorted(set(before) | set(after)) if before.get(table) != after.get(table)]


def reply_texts(requests: list[TelegramMethod[Any]]) -> list[str]:
    """Texts of messages sent or edited and captions of pictures, in order."""
    found = []
    for request in requests:
        if isinstance(request, SendMessage | EditMessageText):
            found.append(request.text)
        elif isinstance(request, SendPhoto) and request.caption:
            found.append(request.caption)
    return found


def answers(requests: list[TelegramMethod[Any]]) -> list[AnswerCallbackQuery]:
    return [request for request in requests if isinstance(request, AnswerCallbackQuery)]


def assert_replied_cleanly(requests: list[TelegramMethod[Any]], what: str) -> None:
    """At least one reply; every reply valid Telegram HTML within the length limit; no incident."""
    texts = reply_texts(requests)
    popups = [answer.text or "" for answer in answers(requests)]
    assert texts or popups, f"{what!r} got no reply"
    for text in texts:
        assert len(text) <= TELEGRAM_TEXT_LIMIT, f"{what!r}: reply of {len(text)} characters"
        assert_valid_telegram_html(text)
        assert "Incident" not in text, f"{what!r} caused an incident: {text}"
    for popup in popups:
        assert len(popup) <= 200, f"{what!r}: pop-up of {len(popup)} characters"


def error_records(records: list[logging.LogRecord]) -> list[str]:
    return [f"{record.name}: {record.getMessage()}" for record in records if record.levelno >= logging.ERROR]


@dataclass
class Victim:
    """Ids of one thing of each kind that belongs to the victim, hex as buttons carry them."""

    telegram_id: int
    user_id: str
    account: str
    draft: str
    filled_order: str
    open_order: str
    twap: str
    plan: str
    bracket: str
    bracket_draft: str


async def build_victim(harness: BotHarness, telegram_id: int = VICTIM) -> Victim:
    """Register a victim with an open draft, a filled and an open order, a TWAP, a rebalancing plan,
    a bracket waiting for its entry and an open bracket draft."""
    services = harness.services
    await register(harness, telegram_id, username=f"victim{telegram_id}")
    for command in ("/buy BTCUSDT 0.01", "/buy ETHUSDT 0.1"):
        card = await harness.send(telegram_id, command)
        await harness.press(telegram_id, button_data(card, "od:ok:"))
    card = await harness.send(telegram_id, "/buy BTCUSDT 0.001 40000")
    await harness.press(telegram_id, button_data(card, "od:ok:"))
    twap_card = await harness.send(telegram_id, "/twap BTCUSDT buy 0.002 2 1h")
    await harness.press(telegram_id, button_data(twap_card, "ts:"))
    await harness.send(telegram_id, "/rebalance equal")
    bracket_card = await harness.send(telegram_id, "/bracket BTCUSDT buy 0.001 entry=40000 sl=39000 tp=41000")
    started = await harness.press(telegram_id, button_data(bracket_card, "bd:ok:"))
    bracket_draft_card = await harness.send(
        telegram_id, "/bracket BTCUSDT buy 0.001 entry=40000 sl=39000 tp=41000"
    )
    draft_card = await harness.send(telegram_id, "/buy BTCUSDT 0.001")

    user = await services.users.get_by_telegram_id(telegram_id)
    assert user is not None
    async with services.uow(read_only=True) as uow:
        account = await uow.accounts.get_default(user.id)
        orders, _ = await uow.orders.list_for_user(user.id)
    assert account is not None
    twap = (await services.twaps.active(user))[0]
    filled = next(order for order in orders if order.status is OrderStatus.FILLED and order.twap_id is None)
    resting = next(order for order in orders if order.status is OrderStatus.NEW)
    plan = await _open_plan(services, user.id)
    draft = button_data(draft_card, "od:ok:").rsplit(":", 1)[1]
    return Victim(
        telegram_id=telegram_id,
        user_id=user.id.hex,
        account=account.id.hex,
        draft=draft,
        filled_order=filled.id.hex,
        open_order=resting.id.hex,
        twap=twap.id.hex,
        plan=plan,
        bracket=button_data(started, "bk:d:").rsplit(":", 1)[1],
        bracket_draft=button_data(bracket_draft_card, "bd:ok:").rsplit(":", 1)[1],
    )


async def _open_plan(services: Services, user_id: Any) -> str:
    with sqlite3.connect(database_path(services)) as connection:
        row = connection.execute(
            "SELECT id FROM rebalance_plans WHERE user_id = ? AND status = 'OPEN'", (user_id.hex,)
        ).fetchone()
    assert row is not None, "the victim's /rebalance stored no plan"
    return str(row[0]).replace("-", "")


def callback_classes() -> list[type[CallbackData]]:
    """Every CallbackData factory defined in PATRIOT's bot package (bot.app imports all handler modules)."""
    import bot.app  # noqa: F401

    found: list[type[CallbackData]] = []
    pending = list(CallbackData.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("bot."):
            found.append(cls)
    return sorted(found, key=lambda cls: cls.__name__)
