"""A bracket survives the real ``patriot run`` process ending abruptly at each risky moment.

One bracket, four runs of the process over one database. The first three
runs end through a test-only crash point (``engine.common.crash_points``,
``os._exit``, so no cleanup code runs, as with ``kill -9``):

1. the exchange accepted the entry, PATRIOT has not recorded its answer;
2. after the restart the entry's fill is recorded, no exit is placed yet;
3. after the next restart the exits are armed and the first target fills;
   the other exits have not been adjusted (moved to breakeven) yet.

The fourth run finishes the job. After every run the SQLite file is read
directly and checked: every leg exists once on PAPER and once in PATRIOT,
their states agree, the open stop orders cover exactly the open quantity
at the stop in force, and a closed bracket leaves nothing open.

Prices: PAPER replays the recorded BTC/USDT candles at 60 recorded seconds
per second (a 5-minute candle every 5 s) from a little before candle 147
(2022-01-06 12:15 UTC). Candles 147 to 154 stay below the first target,
42990, candle 155 reaches it, and nothing from candle 130 to 260 comes near
the stop (42000) or the second target (43600). When the restarts are slow
and the third run arms the exits after candle 155, the first target's limit
is already below the market and fills at once, which serves the same.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from engine.common.crash_points import CRASH_EXIT_CODE, ENABLE_VARIABLE, POINT_VARIABLE
from tests.brackets.conftest import btc_candles
from tests.e2e.conftest import BotProcess
from tests.fakes.telegram_server import ApiCall, FakeTelegramServer

pytestmark = pytest.mark.e2e

USER_ID = 5101
PROFILE = {"language_code": "en", "username": "bracket_trader", "first_name": "Trader"}
SPEED = 60
START_CANDLE = 147
T1, T2, STOP = Decimal("42990"), Decimal("43600"), Decimal("42000")
COMMAND = f"/bracket BTCUSDT buy 0.01 entry=market sl={STOP} tp={T1},{T2} breakeven"
QUANTITY = Decimal("0.01")
WAIT = 60.0


def settings(anchor: datetime, crash_at: str | None) -> dict[str, str]:
    values = {
        "PAPER_REPLAY_SPEED": str(SPEED),
        "PAPER_REPLAY_ANCHOR": anchor.isoformat(),
        "PAPER_MATCH_INTERVAL_SECONDS": "0.5",
        "BRACKET_WATCH_INTERVAL_SECONDS": "0.5",
    }
    if crash_at is not None:
        values.update({ENABLE_VARIABLE: "1", POINT_VARIABLE: crash_at})
    return values


def test_recorded_prices_suit_the_scenario() -> None:
    candles = btc_candles()
    assert max(candle.high for candle in candles[START_CANDLE:155]) < T1
    assert candles[155].high >= T1
    assert min(candle.low for candle in candles[130:260]) > STOP
    assert max(candle.high for candle in candles[130:260]) < T2


# ----- reading the database -------------------------------------------------------------


@dataclass(frozen=True)
class Leg:
    client_order_id: str
    leg: str
    status: str
    type: str
    quantity: Decimal
    filled: Decimal
    stop_price: Decimal | None


@dataclass(frozen=True)
class PaperLeg:
    client_order_id: str
    state: str
    type: str
    quantity: Decimal
    filled: Decimal
    stop_price: Decimal | None

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled


@dataclass(frozen=True)
class Snapshot:
    status: str
    active_stop: Decimal
    stop_moved: bool
    close_reason: str | None
    legs: list[Leg]
    paper: list[PaperLeg]
    btc: Decimal  # free plus locked

    def legs_of(self, prefix: str) -> list[Leg]:
        return [leg for leg in self.legs if leg.leg.startswith(prefix)]


def _decimal(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


def snapshot(database: Path) -> Snapshot:
    with sqlite3.connect(database) as connection:
        brackets = connection.execute(
            "SELECT id, status, active_stop, stop_moved, close_reason FROM brackets"
        ).fetchall()
        assert len(brackets) == 1, f"expected one bracket, found {brackets}"
        bracket_id, status, active_stop, stop_moved, close_reason = brackets[0]
        legs = [
            Leg(row[0], row[1], row[2], row[3], Decimal(row[4]), Decimal(row[5]), _decimal(row[6]))
            for row in connection.execute(
                "SELECT client_order_id, bracket_leg, status, type, quantity, filled_quantity, stop_price "
                "FROM orders WHERE bracket_id = ? ORDER BY created_at",
                (bracket_id,),
            )
        ]
        paper = [
            PaperLeg(row[0], row[1], row[2], Decimal(row[3]), Decimal(row[4]), _decimal(row[5]))
            for row in connection.execute(
                "SELECT client_order_id, state, type, quantity, filled_quantity, stop_price FROM paper_orders"
            )
        ]
        btc = connection.execute("SELECT free, locked FROM paper_balances WHERE asset = 'BTC'").fetchall()
    held = sum((Decimal(free) + Decimal(locked) for free, locked in btc), Decimal(0))
    return Snapshot(status, Decimal(active_stop), bool(stop_moved), close_reason, legs, paper, held)


EXCHANGE_STATE = {"FILLED": {"closed"}, "CANCELLED": {"canceled", "expired"}, "NEW": {"open"}}


def check_consistent(state: Snapshot) -> None:
    """What must hold whenever the bot is not in the middle of a pass."""
    ids = [leg.client_order_id for leg in state.legs]
    assert len(ids) == len(set(ids)), f"a leg is stored twice: {ids}"
    paper_ids = [order.client_order_id for order in state.paper]
    assert len(paper_ids) == len(set(paper_ids)), f"PAPER holds an order twice: {paper_ids}"
    paper = {order.client_order_id: order for order in state.paper}
    assert set(paper) <= set(ids), "PAPER holds an order PATRIOT does not know"
    for leg in state.legs:
        if leg.status in EXCHANGE_STATE:
            assert paper[leg.client_order_id].state in EXCHANGE_STATE[leg.status], (
                leg,
                paper[leg.client_order_id],
            )

    entered = sum((leg.filled for leg in state.legs_of("entry")), Decimal(0))
    exited = sum((leg.filled for leg in state.legs if leg.leg != "entry"), Decimal(0))
    open_quantity = entered - exited
    assert state.btc == open_quantity, "the account holds exactly what the bracket has open"
    live_stops = [order for order in state.paper if order.state == "open" and order.type == "STOP_MARKET"]
    if state.status in ("OPEN", "ENTERING"):
        assert sum((order.remaining for order in live_stops), Decimal(0)) == open_quantity
        assert {order.stop_price for order in live_stops} == {state.active_stop}
    if state.status in ("CLOSED", "CANCELLED"):
        assert [order for order in state.paper if order.state == "open"] == []
        assert open_quantity == 0


# ----- driving the process ---------------------------------------------------------------


async def exits_with(process: BotProcess, code: int) -> None:
    try:
        returned = await asyncio.to_thread(process.wait, WAIT)
    except Exception:
        pytest.fail(f"the bot did not stop at its crash point:\n{process.stderr()[-4000:]}")
    assert returned == code, f"exit code {returned}:\n{process.stderr()[-4000:]}"


async def until(process: BotProcess, condition, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + WAIT
    while True:
        try:
            if condition():
                return
        except (sqlite3.OperationalError, AssertionError, ValueError):
            pass  # the bot is between two writes; read again
        if not process.running:
            pytest.fail(
                f"the bot exited ({process.popen.returncode}) before {what}:\n{process.stderr()[-4000:]}"
            )
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}:\n{process.stderr()[-4000:]}")
        await asyncio.sleep(0.2)


async def stop(process: BotProcess) -> None:
    process.terminate()
    assert await asyncio.to_thread(process.wait, 15) == 0


async def register_and_confirm(telegram: FakeTelegramServer) -> None:
    mark = telegram.mark()
    telegram.push_message(USER_ID, "/start", **PROFILE)
    prompt = await telegram.wait_for(_button("rp:", USER_ID), timeout=WAIT, since=mark)
    mark = _press(telegram, prompt, "rp:MEDIUM:reg")
    email = await telegram.wait_for(_button("se", USER_ID), timeout=WAIT, since=mark)
    mark = _press(telegram, email, "se")
    await telegram.wait_for_message(USER_ID, "You are registered", timeout=WAIT, since=mark)

    mark = telegram.mark()
    telegram.push_message(USER_ID, COMMAND, **PROFILE)
    card = await telegram.wait_for(_button("bd:ok:", USER_ID), timeout=WAIT, since=mark)
    assert "Confirm the bracket" in (card.text or "")
    (confirm,) = [data for data in card.callback_data() if data.startswith("bd:ok:")]
    _press(telegram, card, confirm)


def _button(prefix: str, chat_id: int):  # type: ignore[no-untyped-def]
    def matches(call: ApiCall) -> bool:
        return (
            call.ok
            and call.chat_id == chat_id
            and any(data.startswith(prefix) for data in call.callback_data())
        )

    return matches


def _press(telegram: FakeTelegramServer, card: ApiCall, data: str) -> int:
    assert card.message_id is not None
    mark = telegram.mark()
    telegram.push_callback(USER_ID, data, card.message_id)
    return mark


async def test_bracket_survives_crashes(telegram: FakeTelegramServer, tmp_path: Path) -> None:
    # Start a candle early: the process needs some seconds before it takes the bracket.
    anchor = datetime.now(UTC) - timedelta(seconds=(START_CANDLE * 300 - 300) / SPEED)
    database = tmp_path / "e2e.db"
    runs: list[BotProcess] = []

    def run(crash_at: str | None) -> BotProcess:
        if runs:
            (tmp_path / f"run{len(runs)}.stderr.log").write_bytes(runs[-1].stderr_path.read_bytes())
        process = BotProcess(tmp_path, telegram.base_url, settings(anchor, crash_at))
        runs.append(process)
        return process

    try:
        # 1. The entry reaches PAPER; the process ends before recording the answer.
        first = run("bracket_entry_sent")
        await register_and_confirm(telegram)
        await exits_with(first, CRASH_EXIT_CODE)
        state = snapshot(database)
        assert state.status == "PENDING"
        (entry,) = state.legs
        assert entry.status == "PENDING"
        assert [(order.client_order_id, order.state) for order in state.paper] == [
            (entry.client_order_id, "closed")
        ]

        # 2. The restart records the fill; the process ends before placing any exit.
        second = run("bracket_before_arming")
        await exits_with(second, CRASH_EXIT_CODE)
        state = snapshot(database)
        assert [leg.leg for leg in state.legs] == ["entry"], "no exit may be placed before this point"
        assert state.legs[0].status == "FILLED"
        assert state.legs[0].filled == QUANTITY
        assert len(state.paper) == 1, "the entry was not sent again"
        assert state.btc == QUANTITY

        # 3. The restart arms the exits; the first target fills and the process ends before moving the stop.
        third = run("bracket_exit_filled")
        await exits_with(third, CRASH_EXIT_CODE)
        state = snapshot(database)
        (target,) = [leg for leg in state.legs_of("target:1") if leg.status == "FILLED"]
        assert target.filled == QUANTITY / 2
        assert not state.stop_moved, "the crash came before the stop moved"
        assert {leg.stop_price for leg in state.legs_of("stop:")} == {STOP}

        # 4. The last restart moves the stop of what is open to the entry price; nothing is duplicated.
        fourth = run(None)
        await until(fourth, lambda: _settled(snapshot(database)), "the stop to move to breakeven")
        await stop(fourth)
        state = snapshot(database)
        check_consistent(state)
        assert state.stop_moved
        if state.status == "OPEN":
            assert len([leg for leg in state.legs_of("target:") if leg.status == "NEW"]) == 1
            assert state.btc == QUANTITY / 2
        else:  # the price fell through the entry price in the meantime and the stop sold the rest
            assert state.status == "CLOSED"
            assert state.btc == 0
    finally:
        for process in runs:
            process.kill()
        for index, process in enumerate(runs, start=1):
            print(f"--- run {index} exit code {process.popen.returncode}")
        print("--- last run's stderr ---\n" + (runs[-1].stderr() if runs else ""))
        print("--- Bot API calls ---\n" + telegram.describe_calls(chat_id=USER_ID))


def _settled(state: Snapshot) -> bool:
    if not state.stop_moved:
        return False
    check_consistent(state)
    return True
