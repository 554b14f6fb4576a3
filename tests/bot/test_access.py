"""Suspended users, admin-only commands and ownership checks."""

from __future__ import annotations

import pytest
from aiogram.methods import AnswerCallbackQuery, SendMessage

from engine.users.models import UserStatus
from tests.conftest import ADMIN_ID
from tests.harness import BotHarness, button_data, plain, register, texts

USER = 77
ADMIN_COMMANDS = ["/admin", "/users", "/user 77", "/suspend 77", "/activate 77", "/stats", "/audit"]


async def suspend(harness: BotHarness, telegram_id: int, reason: str = "") -> None:
    await harness.send(ADMIN_ID, f"/suspend {telegram_id} {reason}".strip(), username="boss")


@pytest.mark.parametrize(
    "command", ["/portfolio", "/buy BTCUSDT 0.001", "/help", "/start", "/settings", "hello"]
)
async def test_suspended_user_gets_one_refusal_for_every_command(harness: BotHarness, command: str) -> None:
    await register(harness, USER)
    await suspend(harness, USER, "chargeback")

    requests = await harness.send(USER, command)
    messages = [r for r in requests if isinstance(r, SendMessage)]
    assert len(messages) == 1
    assert "suspended" in plain(messages[0].text)
    assert "chargeback" in plain(messages[0].text)


async def test_suspended_user_button_press_is_refused_with_alert(harness: BotHarness) -> None:
    await register(harness, USER)
    card = await harness.send(USER, "/buy BTCUSDT 0.001")
    await suspend(harness, USER)

    requests = await harness.press(USER, button_data(card, "od:ok:"))
    answers = [r for r in requests if isinstance(r, AnswerCallbackQuery)]
    assert len(answers) == 1 and answers[0].show_alert
    assert "suspended" in (answers[0].text or "")
    assert not [r for r in requests if isinstance(r, SendMessage)]


async def test_reactivated_user_trades_again(harness: BotHarness) -> None:
    await register(harness, USER)
    await suspend(harness, USER)
    await harness.send(ADMIN_ID, f"/activate {USER}", username="boss")
    card = await harness.send(USER, "/buy BTCUSDT 0.001")
    assert "Confirm the order" in plain(texts(card)[0])


@pytest.mark.parametrize("command", ADMIN_COMMANDS)
async def test_admin_commands_give_non_admins_no_hint(harness: BotHarness, command: str) -> None:
    await register(harness, USER)
    replies = texts(await harness.send(USER, command))
    assert replies == ["Unknown command. /help lists what I can do."]
    user = await harness.services.users.get_by_telegram_id(USER)
    assert user is not None and user.status is UserStatus.ACTIVE


async def test_help_lists_no_admin_commands_to_users(harness: BotHarness) -> None:
    await register(harness, USER)
    help_text = plain(texts(await harness.send(USER, "/help"))[0])
    assert "/buy" in help_text and "/portfolio" in help_text
    for command in ("/suspend", "/users", "/audit", "/admin"):
        assert command not in help_text


async def test_forged_admin_button_is_ignored_for_non_admins(harness: BotHarness) -> None:
    await register(harness, USER)
    await register(harness, USER + 1, username="victim")
    requests = await harness.press(USER, f"us:suspend:{USER + 1}")
    victim = await harness.services.users.get_by_telegram_id(USER + 1)
    assert victim is not None and victim.status is UserStatus.ACTIVE
    answers = [r for r in requests if isinstance(r, AnswerCallbackQuery)]
    assert answers and "no longer active" in (answers[0].text or "")


async def test_malformed_callback_data_is_answered(harness: BotHarness) -> None:
    await register(harness, USER)
    for data in ("od:ok:not-hex", "od:ok:" + "0" * 32, "zz", "od:ok"):
        requests = await harness.press(USER, data)
        assert [r for r in requests if isinstance(r, AnswerCallbackQuery)], data
