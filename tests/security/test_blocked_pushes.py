"""Pushes to suspended and closed users: only notices about the account itself go out.

Every scheduled job (order sync, risk scan, reports, TWAP, brackets, key
checks) pushes through the outbox, and the outbox checks the user's status
when it delivers. So a push queued before the suspension is held back too.
"""

from __future__ import annotations

import pytest
from aiogram.methods import SendMessage

from engine.notifications.models import Category
from engine.users.models import UserStatus
from tests.conftest import ADMIN_ID
from tests.harness import BotHarness, register

USER = 741


def pushed_texts(harness: BotHarness) -> list[str]:
    return [
        request.text
        for request in harness.session.requests
        if isinstance(request, SendMessage) and request.chat_id == USER
    ]


@pytest.mark.parametrize("status", [UserStatus.SUSPENDED, UserStatus.CLOSED])
async def test_blocked_user_gets_account_notices_only(harness: BotHarness, status: UserStatus) -> None:
    await register(harness, USER)
    user = await harness.services.users.get_by_telegram_id(USER)
    assert user is not None
    notifier = harness.services.notifier
    await notifier.send(USER, "queued before the change", category=Category.ORDER, user_id=user.id)

    changed = await harness.services.admin.set_status(ADMIN_ID, USER, status, "test")
    await notifier.notify_status_change(changed)
    for category in Category:
        await notifier.send(USER, f"push of category {category.value}", category=category, user_id=user.id)
    harness.session.requests.clear()
    await harness.delivery.drain()

    texts = pushed_texts(harness)
    assert "queued before the change" not in texts
    assert texts[-1] == f"push of category {Category.ACCOUNT.value}"
    assert [text for text in texts if text.startswith("push of category")] == [texts[-1]]
    assert any("⛔" in text for text in texts), "the user was not told of the change"

    # An admin's message without a user id still goes out.
    await notifier.send(ADMIN_ID, "to the admin", category=Category.NOTICE)
    await harness.delivery.drain()
    assert any(
        isinstance(request, SendMessage) and request.chat_id == ADMIN_ID
        for request in harness.session.requests
    )
