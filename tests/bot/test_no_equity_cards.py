"""Order cards of a user whose positions have no equity behind them: the figures show as ∞, nothing fails."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from engine.exchanges.paper.ledger import PaperBalance
from tests.harness import BotHarness, plain, register, texts

USER = 5040


@pytest.mark.parametrize(
    "command",
    [
        "/bracket BTCUSDT sell 0.5 entry=45000 sl=46000 tp=44000",
        "/bracket BTCUSDT sell 0.5 entry=market sl=46000 tp=40000",
        "/sell BTCUSDT 0.1",
    ],
)
async def test_card_without_equity(
    harness: BotHarness, command: str, caplog: pytest.LogCaptureFixture
) -> None:
    await register(harness, USER)
    user = await harness.services.users.get_by_telegram_id(USER)
    assert user is not None
    async with harness.services.uow() as uow:
        account = await uow.accounts.get_default(user.id)
        assert account is not None
        await uow.paper.save_balance(account.id, PaperBalance("USDT", Decimal("-100000")))
        await uow.paper.save_balance(account.id, PaperBalance("BTC", Decimal("1")))
        await uow.commit()
    caplog.set_level(logging.ERROR)

    card = plain(texts(await harness.send(USER, command))[-1])

    assert card.startswith(("🎯 Confirm the bracket", "📝 Confirm the order")), card
    assert "∞" in card
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == []
