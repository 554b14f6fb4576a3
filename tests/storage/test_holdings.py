"""Holdings read with the client order id check, then moved by add_to_holding."""

from __future__ import annotations

import sqlite3
from decimal import Decimal

from bot.services import Services
from engine.orders.models import OrderRequest, OrderSide, OrderType
from engine.users.service import Registration


async def test_holding_read_with_check(services: Services) -> None:
    user, _ = await services.users.register(Registration(7, "trader7", "T", "en"))
    account = await services.orders.account(user, None)
    request = OrderRequest(
        "BTC/USDT", OrderSide.BUY, OrderType.MARKET, Decimal("0.001"), client_order_id="c-1"
    )
    order = await services.orders.place(user, account, request)
    holding = (account.id, "BTC")

    async with services.uow() as uow:
        taken = not await uow.orders.is_client_id_free(user.id, "c-1", holding_of=holding)
        free = await uow.orders.is_client_id_free(user.id, "c-2", holding_of=holding)
        first = await uow.orders.add_to_holding(account.id, "BTC", Decimal("0.5"))
        second = await uow.orders.add_to_holding(account.id, "BTC", Decimal("0.25"))
        await uow.commit()

    assert taken
    assert free
    assert first == order.filled_quantity + Decimal("0.5")
    assert second == order.filled_quantity + Decimal("0.75")
    async with services.uow(read_only=True) as uow:
        assert await uow.orders.get_holding(account.id, "BTC") == second


async def test_holding_fresh_in_next_transaction(services: Services) -> None:
    user, _ = await services.users.register(Registration(7, "trader7", "T", "en"))
    account = await services.orders.account(user, None)

    async with services.uow() as uow:
        assert await uow.orders.is_client_id_free(user.id, "c-1", holding_of=(account.id, "ETH"))
        await uow.commit()
        # Another process moves the holding before this unit of work's next transaction.
        with sqlite3.connect(services.database.url.database or "") as connection:
            connection.execute(
                "INSERT INTO account_holdings (account_id, asset, quantity) VALUES (?, 'ETH', '2')",
                (account.id.hex,),
            )
        after = await uow.orders.add_to_holding(account.id, "ETH", Decimal("1"))
        await uow.commit()

    assert after == Decimal("3")
