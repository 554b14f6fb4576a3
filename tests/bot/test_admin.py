"""Admin commands and the audit trail."""

from __future__ import annotations

from aiogram.methods import SendMessage

from engine.users.models import UserStatus
from tests.conftest import ADMIN_ID
from tests.harness import BotHarness, button_data, plain, register, texts


async def admin(harness: BotHarness, command: str) -> list[str]:
    return texts(await harness.send(ADMIN_ID, command, username="boss"))


async def test_unregistered_admin_can_use_admin_commands(harness: BotHarness) -> None:
    reply = plain((await admin(harness, "/admin"))[0])
    for command in ("/users", "/user", "/suspend", "/activate", "/stats", "/audit"):
        assert command in reply


async def test_users_are_paginated_and_searchable(harness: BotHarness) -> None:
    for index in range(12):
        await register(harness, 1000 + index, username=f"user_{index:02d}")
    first = await harness.send(ADMIN_ID, "/users", username="boss")
    assert "1–10 of 12" in plain(texts(first)[0])
    second = await harness.press(ADMIN_ID, button_data(first, "au:1:"), username="boss")
    assert "11–12 of 12" in plain(texts(second)[-1])

    found = plain((await admin(harness, "/users user_07"))[0])
    assert "1–1 of 1" in found and "@user_07" in found
    by_id = plain((await admin(harness, "/users 1003"))[0])
    assert "@user_03" in by_id
    assert "No users match" in plain((await admin(harness, "/users nobody"))[0])
    assert "Search by a Telegram id" in plain((await admin(harness, "/users a%b"))[0])


async def test_user_card_by_id_and_name(harness: BotHarness) -> None:
    await register(harness, 2000, username="carol")
    by_id = plain((await admin(harness, "/user 2000"))[0])
    by_name = plain((await admin(harness, "/user @carol"))[0])
    assert "@carol (2000)" in by_id and "@carol (2000)" in by_name
    assert "NOT_FOUND" in (await admin(harness, "/user 999999"))[0]


async def test_suspend_notifies_user_and_is_audited(harness: BotHarness) -> None:
    await register(harness, 2001, username="dave")
    requests = await harness.send(ADMIN_ID, "/suspend 2001 suspicious activity", username="boss")
    messages = [r for r in requests if isinstance(r, SendMessage)]
    assert any(m.chat_id == 2001 and "suspicious activity" in plain(m.text) for m in messages)
    assert any(m.chat_id == ADMIN_ID and "suspended" in plain(m.text) for m in messages)

    user = await harness.services.users.get_by_telegram_id(2001)
    assert user is not None and user.status is UserStatus.SUSPENDED
    assert user.status_reason == "suspicious activity"

    entries, _ = await harness.services.admin.recent_audit(page=0, page_size=10)
    change = next(e for e in entries if e.action == "user.status.suspended")
    assert change.actor_telegram_id == ADMIN_ID and change.target_telegram_id == 2001
    assert change.details == {"from": "ACTIVE", "reason": "suspicious activity", "to": "SUSPENDED"}

    audit = plain((await admin(harness, "/audit"))[0])
    assert "suspended a user" in audit


async def test_status_buttons_on_user_card(harness: BotHarness) -> None:
    await register(harness, 2002, username="erin")
    card = await harness.send(ADMIN_ID, "/user 2002", username="boss")
    await harness.press(ADMIN_ID, button_data(card, "us:suspend:2002"), username="boss")
    user = await harness.services.users.get_by_telegram_id(2002)
    assert user is not None and user.status is UserStatus.SUSPENDED
    await harness.press(ADMIN_ID, "us:activate:2002", username="boss")
    user = await harness.services.users.get_by_telegram_id(2002)
    assert user is not None and user.status is UserStatus.ACTIVE


async def test_admin_cannot_be_suspended_and_repeats_are_reported(harness: BotHarness) -> None:
    await register(harness, ADMIN_ID, username="boss")
    assert "cannot be suspended" in plain((await admin(harness, f"/suspend {ADMIN_ID}"))[0])
    await register(harness, 2003, username="frank")
    assert "already active" in plain((await admin(harness, "/activate 2003"))[0])
    assert "Usage" in plain((await admin(harness, "/suspend"))[0])


async def test_stats_counts_users_and_orders(harness: BotHarness) -> None:
    await register(harness, 2004, username="gail")
    await register(harness, 2005, username="hank")
    await admin(harness, "/suspend 2005")
    card = await harness.send(2004, "/buy BTCUSDT 0.001")
    await harness.press(2004, button_data(card, "od:ok:"))
    stats = plain((await admin(harness, "/stats"))[0])
    assert "Users: 2 (active 1, suspended 1, closed 0, pending 0)" in stats
    assert "Orders in the last 24 h: 1" in stats
