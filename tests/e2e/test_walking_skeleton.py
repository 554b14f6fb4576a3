"""The real ``python -m bot run`` process, driven through the fake Bot API server.

One user registers in Russian, buys, cancels an order, reads the portfolio
and sends a bad number. The admin suspends the user, and SIGTERM stops the
process cleanly. Texts are compared with the message catalogs read from
``locales/``, so the test passes whether or not the Russian catalog is complete.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import subprocess
from collections.abc import Awaitable, Callable
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TypeVar

import pytest
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, parse_decimal

from tests.e2e.conftest import ADMIN_ID, TOKEN_SECRET, BotProcess
from tests.fakes.telegram_server import ApiCall, FakeTelegramServer, callback_data_with_prefix, plain_text

pytestmark = pytest.mark.e2e

T = TypeVar("T")

LOCALES = Path(__file__).resolve().parents[2] / "locales"
WAIT = 30.0  # seconds: the maximum wait for any single step
STOP_TIMEOUT = 10.0

USER_ID = 5001
USER = {"language_code": "ru", "username": "a_b", "first_name": "abdo <"}
OTHER_USER_ID = 5002
ADMIN = {"language_code": "en", "username": "boss", "first_name": "Admin"}
ADMIN_COMMANDS = ("/suspend", "/activate", "/users", "/user ", "/stats", "/audit")

WELCOME = (
    "👋 Welcome to PATRIOT, a trading assistant for crypto exchanges.\n"
    "You get a paper account with {balance} to practise on real market prices."
)
RISK_PROMPT = (
    "Choose your risk profile. It sets the default limits on order size, position size, "
    "leverage and daily loss. You can change it later in /settings."
)
EMAIL_PROMPT = "Send your email for reports and account notices, or press Skip."
REGISTERED = (
    "✅ You are registered, {name}.\n"
    "Your paper account holds {balance}. Try <code>/buy BTCUSDT 0.001</code>, "
    "then /portfolio. /help lists every command."
)
CANCELLED = "✖ Cancelled. Nothing was sent."
TOTAL_EQUITY = "<b>Total equity: {total}</b>"
SUSPENDED = "⛔ Your account is suspended. Trading and every command are unavailable."

BTC_BOUGHT = f"{format_decimal(Decimal('0.001'), locale='ru')} BTC"  # "0,001 BTC"

# A quantity or a price in any locale: digits, group separators (comma, dot,
# no-break or narrow no-break space) and the decimal mark.
NUMBER = r"\d[\d\u00a0\u202f ,.]*"


@cache
def catalog(language: str) -> dict[str, str]:
    """Translations of ``language`` that the bot uses: non-empty and not fuzzy, from every .po file."""
    translations: dict[str, str] = {}
    for path in sorted((LOCALES / language / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle, locale=language):
                if message.id and message.string and not message.fuzzy and isinstance(message.id, str):
                    translations[message.id] = str(message.string)
    return translations


def translated(msgid: str, language: str) -> str:
    """The text the bot sends for ``msgid`` in ``language``; gettext falls back to the msgid."""
    return catalog(language).get(msgid, msgid)


def before_placeholder(template: str, placeholder: str) -> str:
    """The fixed text of a template up to ``{placeholder}``."""
    head, found, _tail = template.partition("{" + placeholder + "}")
    assert found, f"{{{placeholder}}} is missing from the template {template!r}"
    return head


def has_button(prefix: str, chat_id: int) -> Callable[[ApiCall], bool]:
    def matches(call: ApiCall) -> bool:
        return (
            call.name == "sendmessage"
            and call.ok
            and call.chat_id == chat_id
            and any(data.startswith(prefix) for data in call.callback_data())
        )

    return matches


def edit_of(message_id: int, chat_id: int, method: str = "editmessagetext") -> Callable[[ApiCall], bool]:
    def matches(call: ApiCall) -> bool:
        return call.name == method and call.ok and call.chat_id == chat_id and call.message_id == message_id

    return matches


def press(telegram: FakeTelegramServer, card: ApiCall, data: str) -> int:
    """Press the button ``data`` on the message that ``card`` sent; return the mark before the press."""
    assert data in card.callback_data(), f"{data!r} is not a button of {card.callback_data()!r}"
    assert card.chat_id is not None
    assert card.message_id is not None
    mark = telegram.mark()
    telegram.push_callback(card.chat_id, data, card.message_id)
    return mark


def keyboard_of(telegram: FakeTelegramServer, call: ApiCall) -> dict | None:
    """The inline keyboard that the message created by ``call`` has now."""
    assert call.chat_id is not None
    assert call.message_id is not None
    message = telegram.message(call.chat_id, call.message_id)
    assert message is not None, f"message {call.message_id} is gone"
    return message.inline_keyboard


def texts_to(telegram: FakeTelegramServer, chat_id: int, *, since: int) -> list[str]:
    """Texts the bot sent or edited in the chat from call ``since`` on."""
    return [
        call.text or ""
        for call in telegram.calls(since=since, chat_id=chat_id)
        if call.name in ("sendmessage", "editmessagetext")
    ]


def usdt_line(portfolio: str) -> str:
    """The USDT holding line of a /portfolio text, e.g. ``9 956,55 USDT``."""
    lines = [line.strip() for line in portfolio.splitlines() if re.fullmatch(rf"\s+{NUMBER} USDT", line)]
    assert len(lines) == 1, f"expected one USDT holding line in {portfolio!r}"
    return lines[0]


async def ask_portfolio(telegram: FakeTelegramServer, chat_id: int) -> str:
    mark = telegram.mark()
    telegram.push_message(chat_id, "/portfolio", **USER)
    heading = translated("💼 <b>Portfolio</b> — {time}", "ru")
    reply = await telegram.wait_for_message(
        chat_id, before_placeholder(heading, "time"), since=mark, timeout=WAIT
    )
    return reply.text or ""


async def while_running(bot_process: BotProcess, waiting: Awaitable[T]) -> T:
    """Await ``waiting``, but fail at once if the bot process exits first."""
    task = asyncio.ensure_future(waiting)
    while not task.done():
        if not bot_process.running:
            task.cancel()
            pytest.fail(
                f"the bot exited with code {bot_process.popen.returncode}; its stderr is printed below"
            )
        await asyncio.wait({task}, timeout=0.2)
    return task.result()


async def test_walking_skeleton(telegram: FakeTelegramServer, bot_process: BotProcess) -> None:
    await check_startup(telegram, bot_process)
    await register_in_russian(telegram)
    usdt_after_buy = await buy_and_cancel(telegram)
    await check_portfolio(telegram, usdt_after_buy)
    await reject_negative_quantity(telegram, usdt_after_buy)
    await hide_admin_commands(telegram, USER_ID, USER)
    refusal_mark = await suspend_user(telegram)
    await hide_admin_commands(telegram, OTHER_USER_ID, {"language_code": "en", "username": "other_user"})
    await stop_cleanly(telegram, bot_process)
    check_after_exit(telegram, bot_process, refusal_mark)


async def check_startup(telegram: FakeTelegramServer, bot_process: BotProcess) -> None:
    # NOTE: importing aiogram and ccxt alone took about 10 s of the 30 s on a 2-CPU machine.
    await while_running(bot_process, telegram.wait_for_call("getMe", timeout=WAIT))
    # Commands are published before polling starts, so they are all set by the first getUpdates.
    first_poll = await while_running(bot_process, telegram.wait_for_call("getUpdates", timeout=WAIT))
    assert first_poll.params.get("timeout") == 1, "POLLING_TIMEOUT_SECONDS=1 must set the long-poll timeout"

    for language in ("en", "ru"):
        commands = telegram.commands_for(language)
        assert commands is not None, f"setMyCommands was not called for language_code={language}"
        names = [command["command"] for command in commands]
        assert "start" in names
        assert "buy" in names
        assert "suspend" not in names, "admin commands must not be in every user's menu"

    english = {command["command"]: command["description"] for command in telegram.commands_for("en") or []}
    russian = {command["command"]: command["description"] for command in telegram.commands_for("ru") or []}
    assert russian["buy"] == translated(english["buy"], "ru")
    assert russian["buy"] != english["buy"], "the Russian menu must be translated"

    admin_menu = telegram.commands_for("en", scope="chat", chat_id=ADMIN_ID)
    assert admin_menu is not None, "the admin's chat got no command menu"
    assert "suspend" in [command["command"] for command in admin_menu]

    assert telegram.calls("deleteWebhook"), "polling must start with deleteWebhook"


async def register_in_russian(telegram: FakeTelegramServer) -> None:
    mark = telegram.mark()
    telegram.push_message(USER_ID, "/start", **USER)

    prompt = await telegram.wait_for(has_button("rp:", USER_ID), timeout=WAIT, since=mark)
    assert prompt.text == translated(RISK_PROMPT, "ru")
    welcome = texts_to(telegram, USER_ID, since=mark)[0]
    assert welcome.startswith(before_placeholder(translated(WELCOME, "ru"), "balance")), welcome
    registration_buttons = prompt.callback_data()
    assert all(data.endswith(":reg") for data in registration_buttons), registration_buttons

    mark = press(telegram, prompt, registration_buttons[0])
    await telegram.wait_for(edit_of(prompt.message_id or 0, USER_ID), timeout=WAIT, since=mark)
    email_prompt = await telegram.wait_for(has_button("se", USER_ID), timeout=WAIT, since=mark)
    assert email_prompt.text == translated(EMAIL_PROMPT, "ru")

    mark = press(telegram, email_prompt, callback_data_with_prefix(email_prompt.callback_data(), "se"))
    removal = edit_of(email_prompt.message_id or 0, USER_ID, "editmessagereplymarkup")
    await telegram.wait_for(removal, timeout=WAIT, since=mark)
    assert keyboard_of(telegram, email_prompt) is None, "Skip must remove its button"

    registered_head = before_placeholder(translated(REGISTERED, "ru"), "name")
    done = await telegram.wait_for_message(USER_ID, registered_head, timeout=WAIT, since=mark)
    assert "a_b" in (done.text or "")
    assert "<code>/buy BTCUSDT 0.001</code>" in (done.text or "")


async def buy_and_cancel(telegram: FakeTelegramServer) -> str:
    """Buy 0.001 BTC through the card, then cancel a second card; return the USDT line after the buy."""
    card = await open_buy_card(telegram)
    mark = press(telegram, card, callback_data_with_prefix(card.callback_data(), "od:ok:"))
    result = await telegram.wait_for(edit_of(card.message_id or 0, USER_ID), timeout=WAIT, since=mark)
    result_text = result.text or ""
    assert result_text.startswith("✅"), result_text
    assert BTC_BOUGHT in result_text, result_text
    assert re.search(rf"{NUMBER} USDT", result_text), f"no fill price in {result_text!r}"
    assert telegram.calls("answerCallbackQuery", since=mark), "the Confirm press was not answered"
    assert keyboard_of(telegram, card) is None, "the result must replace the Confirm/Cancel buttons"

    usdt_after_buy = usdt_line(await ask_portfolio(telegram, USER_ID))
    assert parse_decimal(usdt_after_buy.removesuffix(" USDT"), locale="ru") < Decimal("10000")

    second_card = await open_buy_card(telegram)
    mark = press(telegram, second_card, callback_data_with_prefix(second_card.callback_data(), "od:no:"))
    cancelled = await telegram.wait_for(
        edit_of(second_card.message_id or 0, USER_ID), timeout=WAIT, since=mark
    )
    assert cancelled.text == translated(CANCELLED, "ru")
    assert texts_to(telegram, USER_ID, since=mark) == [cancelled.text], "Cancel must send no other message"

    assert usdt_line(await ask_portfolio(telegram, USER_ID)) == usdt_after_buy, "Cancel must not trade"
    return usdt_after_buy


async def open_buy_card(telegram: FakeTelegramServer) -> ApiCall:
    mark = telegram.mark()
    telegram.push_message(USER_ID, "/buy BTCUSDT 0.001", **USER)
    card = await telegram.wait_for(has_button("od:ok:", USER_ID), timeout=WAIT, since=mark)
    callback_data_with_prefix(card.callback_data(), "od:no:")
    return card


async def check_portfolio(telegram: FakeTelegramServer, usdt_after_buy: str) -> None:
    portfolio = await ask_portfolio(telegram, USER_ID)
    holding = rf"^\s+{re.escape(BTC_BOUGHT)} × {NUMBER} USDT = {NUMBER} USDT$"
    assert re.search(holding, portfolio, re.MULTILINE), portfolio
    assert usdt_line(portfolio) == usdt_after_buy
    total_head = re.escape(before_placeholder(translated(TOTAL_EQUITY, "ru"), "total"))
    assert re.search(rf"{total_head}{NUMBER} USDT", portfolio), portfolio


async def reject_negative_quantity(telegram: FakeTelegramServer, usdt_after_buy: str) -> None:
    mark = telegram.mark()
    telegram.push_message(USER_ID, "/buy BTCUSDT -1", **USER)
    reply = await telegram.wait_for_message(USER_ID, "INVALID_NUMBER", timeout=WAIT, since=mark)
    assert "-1" in plain_text(reply.text or "", "HTML")
    cards = [call for call in telegram.calls(since=mark, chat_id=USER_ID) if call.callback_data()]
    assert cards == [], "a bad quantity must not produce a confirmation card"

    portfolio = await ask_portfolio(telegram, USER_ID)
    assert usdt_line(portfolio) == usdt_after_buy
    assert BTC_BOUGHT in portfolio


async def hide_admin_commands(telegram: FakeTelegramServer, user_id: int, profile: dict[str, str]) -> None:
    mark = telegram.mark()
    telegram.push_message(user_id, "/admin", **profile)
    reply = await telegram.wait_for_message(user_id, timeout=WAIT, since=mark)
    for command in ADMIN_COMMANDS:
        assert command not in (reply.text or ""), f"a non-admin's /admin revealed {command}: {reply.text!r}"


async def suspend_user(telegram: FakeTelegramServer) -> int:
    """Suspend the user as the admin; return the mark from which the user's /portfolio was sent."""
    mark = telegram.mark()
    telegram.push_message(ADMIN_ID, f"/suspend {USER_ID} testing", **ADMIN)
    await telegram.wait_for_message(ADMIN_ID, "@a_b", timeout=WAIT, since=mark)
    notice = await telegram.wait_for_message(USER_ID, "⛔", timeout=WAIT, since=mark)
    assert "testing" in (notice.text or "")

    mark = telegram.mark()
    telegram.push_message(ADMIN_ID, "/admin", **ADMIN)
    admin_help = await telegram.wait_for_message(ADMIN_ID, timeout=WAIT, since=mark)
    assert "/suspend" in (admin_help.text or ""), "the admin's /admin must list the admin commands"

    mark = telegram.mark()
    telegram.push_message(ADMIN_ID, f"/user {USER_ID}", **ADMIN)
    card = await telegram.wait_for_message(ADMIN_ID, "a_b", timeout=WAIT, since=mark)
    assert "abdo &lt;" in (card.text or ""), "the first name must be HTML-escaped in the user card"

    refusal_mark = telegram.mark()
    telegram.push_message(USER_ID, "/portfolio", **USER)
    refusal = await telegram.wait_for_message(USER_ID, "⛔", timeout=WAIT, since=refusal_mark)
    assert refusal.text == texts_to(telegram, USER_ID, since=refusal_mark)[0]
    assert (refusal.text or "").startswith(translated(SUSPENDED, "ru"))
    return refusal_mark


async def stop_cleanly(telegram: FakeTelegramServer, bot_process: BotProcess) -> None:
    assert bot_process.running, "the bot exited before SIGTERM"
    bot_process.terminate()
    try:
        # The fake server runs on this event loop, so the wait happens in a thread.
        exit_code = await asyncio.to_thread(bot_process.wait, STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the bot did not exit within {STOP_TIMEOUT} s of SIGTERM")
    assert exit_code == 0


def check_after_exit(telegram: FakeTelegramServer, bot_process: BotProcess, refusal_mark: int) -> None:
    stderr = bot_process.stderr()
    stdout = bot_process.stdout()
    assert "Starting as @patriot_test_bot" in stderr
    assert "Stopped" in stderr
    assert TOKEN_SECRET not in stderr
    assert TOKEN_SECRET not in stdout

    # Every handler has finished now, so "nothing else" is final.
    after_refusal = telegram.calls(since=refusal_mark, chat_id=USER_ID)
    assert len(after_refusal) == 1, (
        "a suspended user must get exactly one refusal:\n"
        + telegram.describe_calls(since=refusal_mark, chat_id=USER_ID)
    )

    assert telegram.acknowledged_offset >= telegram.last_update_id + 1, (
        f"offset {telegram.acknowledged_offset} leaves updates up to {telegram.last_update_id} unconfirmed"
    )
    assert telegram.pending_updates == []
    shutdown_ack = telegram.calls("getUpdates")[-1]
    assert shutdown_ack.params.get("offset") == telegram.last_update_id + 1
    assert shutdown_ack.params.get("limit") == 1, "the last getUpdates must be the runner's acknowledgement"
    assert telegram.rejected_requests == 0, "the bot used a token other than BOT_TOKEN"
    failed = [call for call in telegram.sent if call.status not in (200, None)]
    assert failed == [], "Bot API calls failed:\n" + "\n".join(
        f"{call.method} {call.status} {call.response}" for call in failed
    )
    for call in telegram.sent:
        assert "abdo <" not in (call.text or ""), f"unescaped first name sent in {call.method}"

    with sqlite3.connect(bot_process.database) as database:
        (orders,) = database.execute("SELECT COUNT(*) FROM orders").fetchone()
    assert orders == 1, "only the confirmed buy may create an order"
