"""Faults around the order path, on the real ``patriot run`` process and the fake Bot API server.

Three scenarios, each over one SQLite file that the test reads directly:

- the process ends abruptly (``os._exit`` at a test-only crash point, as with
  ``kill -9``) at each step of the order path, then starts again;
- the exchange fails ``create_order`` in each way real ones do (the answer is
  lost after the order was placed, "not found" right after create, 5xx, 429,
  insufficient funds, a revoked key), injected by ``engine.exchanges.faults``
  into the PAPER gateway;
- Telegram answers with a 429 storm, 502s and 403, then the network is gone
  for a while.

Each time: every order is stored once and placed on the exchange at most
once, nothing confirmed is lost, and the user gets a message about every
order. Clocks are shortened (a sync pass every second, a PENDING order the
exchange does not know is settled after 3 s) so the runs take seconds.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.common.crash_points import CRASH_EXIT_CODE, ENABLE_VARIABLE, POINT_VARIABLE
from engine.exchanges.faults import FAULTS_VARIABLE
from tests.e2e.conftest import TOKEN_SECRET, BotProcess
from tests.fakes.telegram_server import ApiCall, FakeTelegramServer

pytestmark = pytest.mark.e2e

USER_ID = 5201
PROFILE = {"language_code": "en", "username": "fault_trader", "first_name": "Trader"}
BUY = "/buy BTCUSDT 0.001"
WAIT = 60.0
FAST_CLOCKS = {
    "ORDER_SYNC_INTERVAL_SECONDS": "1",
    "ORDER_LOOKUP_ATTEMPTS": "2",
    "ORDER_LOOKUP_DELAY_SECONDS": "0.2",
    # A PENDING order the exchange does not know is settled after two lookups and 3 s: longer
    # than the order path's own lookups (2 x 0.2 s), as 300 s is longer than 4 x 1 s in production.
    # With 0 s a sync pass running during those lookups rejects an order the exchange filled.
    "ORDER_UNKNOWN_AFTER_LOOKUPS": "2",
    "ORDER_UNKNOWN_AFTER_SECONDS": "3",
    "PAPER_MATCH_INTERVAL_SECONDS": "0.5",
}
# Texts of the outcomes, as bot/views/orders.py and bot/order_recovery.py word them in English.
BOUGHT = "Bought 0.001 BTC"
REJECTED = "The order was rejected"
NOT_SENT = "Nothing was sent; place the order again"


# ----- reading the database -----------------------------------------------------------------


def orders(database: Path) -> list[tuple[str, str, str | None]]:
    """(client order id, status, reject reason) of every order PATRIOT stored."""
    with sqlite3.connect(database) as connection:
        return connection.execute(
            "SELECT client_order_id, status, reject_reason FROM orders ORDER BY created_at"
        ).fetchall()


def paper_orders(database: Path) -> list[str]:
    """Client order ids of every order the PAPER exchange accepted."""
    with sqlite3.connect(database) as connection:
        return [row[0] for row in connection.execute("SELECT client_order_id FROM paper_orders")]


def drafts(database: Path) -> list[tuple[str, str, str | None]]:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT client_order_id, status, reported_at FROM order_drafts").fetchall()


def assert_nothing_duplicated(database: Path) -> None:
    stored = Counter(client_id for client_id, _status, _reason in orders(database))
    placed = Counter(paper_orders(database))
    assert all(count == 1 for count in stored.values()), f"an order is stored twice: {stored}"
    assert all(count == 1 for count in placed.values()), f"an order is placed twice: {placed}"
    assert set(placed) <= set(stored), "PAPER holds an order PATRIOT does not know"


# ----- driving the process ------------------------------------------------------------------


def messages(telegram: FakeTelegramServer, since: int = 0) -> list[str]:
    return [
        call.text or ""
        for call in telegram.calls(since=since, chat_id=USER_ID)
        if call.name in ("sendmessage", "editmessagetext") and call.ok
    ]


def button(prefix: str) -> Callable[[ApiCall], bool]:
    def matches(call: ApiCall) -> bool:
        return call.ok and call.chat_id == USER_ID and any(d.startswith(prefix) for d in call.callback_data())

    return matches


async def until(process: BotProcess, condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while True:
        try:
            if condition():
                return
        except sqlite3.OperationalError:
            pass  # the bot is between two writes; read again
        if not process.running:
            pytest.fail(
                f"the bot exited ({process.popen.returncode}) before {what}:\n{process.stderr()[-4000:]}"
            )
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}:\n{process.stderr()[-4000:]}")
        await asyncio.sleep(0.2)


async def exits_with(process: BotProcess, code: int) -> None:
    try:
        returned = await asyncio.to_thread(process.wait, WAIT)
    except Exception:
        pytest.fail(f"the bot did not stop at its crash point:\n{process.stderr()[-4000:]}")
    assert returned == code, f"exit code {returned}:\n{process.stderr()[-4000:]}"


async def register(telegram: FakeTelegramServer) -> None:
    mark = telegram.mark()
    telegram.push_message(USER_ID, "/start", **PROFILE)
    prompt = await telegram.wait_for(button("rp:"), timeout=WAIT, since=mark)
    mark = press(telegram, prompt, "rp:MEDIUM:reg")
    email = await telegram.wait_for(button("se"), timeout=WAIT, since=mark)
    mark = press(telegram, email, "se")
    await telegram.wait_for_message(USER_ID, "You are registered", timeout=WAIT, since=mark)


async def show_card(telegram: FakeTelegramServer) -> tuple[ApiCall, str]:
    """Send /buy; return the confirmation card and its Confirm button's data."""
    mark = telegram.mark()
    telegram.push_message(USER_ID, BUY, **PROFILE)
    card = await telegram.wait_for(button("od:ok:"), timeout=WAIT, since=mark)
    (confirm,) = [data for data in card.callback_data() if data.startswith("od:ok:")]
    return card, confirm


async def confirm_buy(telegram: FakeTelegramServer) -> int:
    """Send /buy and press Confirm on its card; return the mark of the press."""
    card, confirm = await show_card(telegram)
    return press(telegram, card, confirm)


def press(telegram: FakeTelegramServer, card: ApiCall, data: str) -> int:
    assert card.message_id is not None
    mark = telegram.mark()
    telegram.push_callback(USER_ID, data, card.message_id)
    return mark


def count_messages(telegram: FakeTelegramServer, text: str, since: int = 0) -> int:
    """Count the messages to the user since ``since`` that contain ``text``."""
    return sum(text in message for message in messages(telegram, since))


def assert_no_secret_in_output(process: BotProcess) -> None:
    for output in (process.stdout(), process.stderr()):
        assert TOKEN_SECRET not in output, "the bot token is in the log"


# ----- kill -9 at each step of the order path -----------------------------------------------

# (crash point, what the restart must tell the user, whether PAPER got the order).
# A PAPER order takes the one-transaction path at order_before_persist,
# order_before_commit and order_recorded, and the PENDING-first path of a live
# exchange at the other points (engine.exchanges.faults.wrap_for_tests).
CRASHES = [
    ("order_before_persist", NOT_SENT, False),
    ("order_persisted", REJECTED, False),
    ("order_submitted", BOUGHT, True),
    ("order_before_commit", NOT_SENT, False),
    ("order_recorded", BOUGHT, True),
]
# Points where the crash leaves no order in PATRIOT's books.
NOTHING_STORED = {"order_before_persist", "order_before_commit"}


# The default suite kills the process at the steps where the order's fate is least settled:
# stored but not sent, sent but not recorded, and in the middle of PAPER's one transaction.
# The slow run kills it at every step in a row.
SEQUENCES = [
    pytest.param(CRASHES[1:4], id="short"),
    pytest.param(CRASHES, id="every-step", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("crashes", SEQUENCES)
async def test_kill_at_each_step_of_the_order_path(
    telegram: FakeTelegramServer, tmp_path: Path, crashes: list[tuple[str, str, bool]]
) -> None:
    database = tmp_path / "e2e.db"
    runs: list[BotProcess] = []

    def run(crash_at: str | None) -> BotProcess:
        if runs:
            (tmp_path / f"run{len(runs)}.stderr.log").write_bytes(runs[-1].stderr_path.read_bytes())
        values = dict(FAST_CLOCKS)
        if crash_at is not None:
            values.update({ENABLE_VARIABLE: "1", POINT_VARIABLE: crash_at})
        process = BotProcess(tmp_path, telegram.base_url, values)
        runs.append(process)
        return process

    try:
        run(crashes[0][0])
        await register(telegram)
        for index, (point, outcome, placed) in enumerate(crashes):
            process = runs[-1]
            pressed = await confirm_buy(telegram)
            await exits_with(process, CRASH_EXIT_CODE)
            assert_nothing_duplicated(database)
            assert count_messages(telegram, outcome, pressed) == 0, (
                f"{point}: the outcome came before the crash"
            )

            # The restart (crashing at the next point, if any) sends the user the order's outcome.
            following = crashes[index + 1][0] if index + 1 < len(crashes) else None
            restarted = run(following)
            await until(
                restarted,
                lambda outcome=outcome, pressed=pressed: count_messages(telegram, outcome, pressed) >= 1,
                f"the outcome after {point}",
            )
            await asyncio.sleep(1.5)  # a second message, if any, would come now
            assert count_messages(telegram, outcome, pressed) == 1, (
                f"{point}: sent {count_messages(telegram, outcome, pressed)} times"
            )
            assert_nothing_duplicated(database)
            last = orders(database)[-1] if orders(database) else None
            if placed:
                assert last is not None and last[0] in paper_orders(database), point
            elif point not in NOTHING_STORED:
                assert last is not None and last[0] not in paper_orders(database), point
            placed_so_far = sum(was_placed for _point, _outcome, was_placed in crashes[: index + 1])
            assert len(paper_orders(database)) == placed_so_far, point

        # Every confirmed draft was reported; the one cut short before its order was stored is closed.
        final = runs[-1]
        await until(
            final,
            lambda: all(reported for _id, _status, reported in drafts(database) if _status == "CONFIRMED"),
            "every confirmed draft to be reported",
        )
        statuses = Counter(status for _id, status, _reason in orders(database))
        expected = Counter("FILLED" if placed else "REJECTED" for point, _outcome, placed in crashes)
        expected["REJECTED"] -= sum(point in NOTHING_STORED for point, *_rest in crashes)
        assert statuses == +expected, statuses
        assert [status for _id, status, _at in drafts(database)].count("CONFIRMING") == 0
        final.terminate()
        assert await asyncio.to_thread(final.wait, 15) == 0
        for process in runs:
            assert_no_secret_in_output(process)
    finally:
        for process in runs:
            process.kill()


def notification_states(database: Path) -> list[tuple[str, str | None]]:
    """(status, status the user was notified of) of every order PATRIOT stored."""
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT status, notified_status FROM orders ORDER BY created_at").fetchall()


async def test_kill_before_push_recorded(telegram: FakeTelegramServer, tmp_path: Path) -> None:
    """The order's state is committed and its event published; the process ends before the push is queued."""
    database = tmp_path / "e2e.db"
    runs: list[BotProcess] = []

    def run(crash_at: str | None) -> BotProcess:
        values = dict(FAST_CLOCKS)
        if crash_at is not None:
            values.update({ENABLE_VARIABLE: "1", POINT_VARIABLE: crash_at})
        runs.append(BotProcess(tmp_path, telegram.base_url, values))
        return runs[-1]

    try:
        run("order_persisted")
        await register(telegram)
        pressed = await confirm_buy(telegram)
        await exits_with(runs[-1], CRASH_EXIT_CODE)

        # The order sync rejects the order PAPER never got; the process ends before telling it.
        await exits_with(run("event_before_notified"), CRASH_EXIT_CODE)
        assert notification_states(database) == [("REJECTED", None)]
        assert count_messages(telegram, REJECTED, pressed) == 0

        restarted = run(None)
        await until(restarted, lambda: count_messages(telegram, REJECTED, pressed) >= 1, "the rejection")
        await asyncio.sleep(1.5)  # a second message, if any, would come now
        assert count_messages(telegram, REJECTED, pressed) == 1
        assert notification_states(database) == [("REJECTED", "REJECTED")]
        restarted.terminate()
        assert await asyncio.to_thread(restarted.wait, 15) == 0

        # One more start looks again and finds nothing not notified.
        again = run(None)
        await until(again, lambda: "Start-up reconciliation" in again.stderr(), "the start-up reconciliation")
        await asyncio.sleep(1.0)
        assert count_messages(telegram, REJECTED, pressed) == 1
        again.terminate()
        assert await asyncio.to_thread(again.wait, 15) == 0
    finally:
        for process in runs:
            process.kill()


# ----- exchange faults ----------------------------------------------------------------------

# (fault on create_order, the final status, the message the user must get, whether PAPER has the order)
EXCHANGE_FAULTS = [
    ("timeout_after_submit", "FILLED", BOUGHT, True),
    ("not_found_after_create", "FILLED", BOUGHT, True),
    ("server_error", "REJECTED", REJECTED, False),
    ("rate_limited", "REJECTED", REJECTED, False),
    ("insufficient_funds", "REJECTED", "not enough free balance", False),
    ("key_revoked", "REJECTED", REJECTED, False),
]


async def test_exchange_faults_lose_and_repeat_nothing(telegram: FakeTelegramServer, tmp_path: Path) -> None:
    database = tmp_path / "e2e.db"
    faults = ",".join(fault for fault, *_rest in EXCHANGE_FAULTS)
    process = BotProcess(
        tmp_path, telegram.base_url, {**FAST_CLOCKS, ENABLE_VARIABLE: "1", FAULTS_VARIABLE: faults}
    )
    try:
        await register(telegram)
        for index, (fault, status, message, placed) in enumerate(EXCHANGE_FAULTS):
            pressed = await confirm_buy(telegram)
            await until(
                process, lambda index=index: len(orders(database)) == index + 1, f"the order of {fault}"
            )
            await until(
                process,
                lambda index=index, status=status: orders(database)[index][1] == status,
                f"{fault} to end {status}",
            )
            await until(
                process,
                lambda message=message, pressed=pressed: count_messages(telegram, message, pressed) >= 1,
                f"the user to hear of {fault}",
            )
            client_id = orders(database)[index][0]
            assert (client_id in paper_orders(database)) is placed, fault
            assert_nothing_duplicated(database)

        await asyncio.sleep(2)  # sync passes that could still send or repeat something
        assert_nothing_duplicated(database)
        assert [status for _id, status, _reason in orders(database)] == [row[1] for row in EXCHANGE_FAULTS]
        process.terminate()
        assert await asyncio.to_thread(process.wait, 15) == 0
        assert_no_secret_in_output(process)
    finally:
        process.kill()


# ----- Telegram faults ----------------------------------------------------------------------

OUTAGES = [pytest.param(8.0, id="8s"), pytest.param(60.0, id="60s", marks=pytest.mark.slow)]


@pytest.mark.parametrize("outage_seconds", OUTAGES)
async def test_telegram_faults_reach_every_user(
    telegram: FakeTelegramServer, tmp_path: Path, outage_seconds: float
) -> None:
    database = tmp_path / "e2e.db"
    process = BotProcess(tmp_path, telegram.base_url, FAST_CLOCKS)
    try:
        await register(telegram)

        # A flood-control storm, then gateway errors, on the outcome of a Confirm: it still arrives once.
        card, confirm = await show_card(telegram)
        telegram.rate_limit_next("editMessageText", retry_after=1, count=3, chat_id=USER_ID)
        telegram.rate_limit_next("sendMessage", retry_after=1, count=3, chat_id=USER_ID)
        pressed = press(telegram, card, confirm)
        await until(
            process, lambda: count_messages(telegram, BOUGHT, pressed) >= 1, "the outcome after a 429 storm"
        )
        card, confirm = await show_card(telegram)
        telegram.server_error_next("editMessageText", status=502, count=3, chat_id=USER_ID)
        telegram.server_error_next("sendMessage", status=502, count=3, chat_id=USER_ID)
        pressed = press(telegram, card, confirm)
        await until(process, lambda: count_messages(telegram, BOUGHT, pressed) >= 1, "the outcome after 502s")

        # The user blocks the bot: nothing can reach them, and nothing else breaks.
        telegram.block_chat(USER_ID)
        mark = telegram.mark()
        telegram.push_message(USER_ID, "/orders", **PROFILE)
        await telegram.wait_for(lambda call: call.chat_id == USER_ID and call.status == 403, WAIT, since=mark)
        telegram.unblock_chat(USER_ID)

        # No network: the user's message waits at Telegram, and the bot replies once it is back.
        await telegram.go_offline()
        telegram.push_message(USER_ID, "/portfolio", **PROFILE)
        await asyncio.sleep(outage_seconds)
        assert process.running, "the bot exited while the network was down"
        mark = telegram.mark()
        await telegram.go_online()
        await telegram.wait_for_message(USER_ID, "equity", timeout=WAIT, since=mark)

        assert_nothing_duplicated(database)
        assert [status for _id, status, _reason in orders(database)] == ["FILLED", "FILLED"]
        assert count_messages(telegram, BOUGHT) == 2, messages(telegram)
        process.terminate()
        assert await asyncio.to_thread(process.wait, 30) == 0
        assert_no_secret_in_output(process)
    finally:
        process.kill()
