"""Finding an order on its exchange when PATRIOT does not know its current state."""

from __future__ import annotations

from engine.errors import PermanentExchangeError
from engine.exchanges.models import ExchangeOrder
from engine.exchanges.ports import ExchangeGateway
from engine.orders.models import Order


def trigger_flags(gateway: ExchangeGateway, order: Order) -> tuple[bool, ...]:
    """The books to search, most likely first.

    Exchanges that keep trigger orders apart (Binance algo, Bybit conditional,
    OKX algo orders) report "not found" for a stop looked up in the regular
    book, so a stop whose book is not known yet is searched in both.
    """
    if order.exchange_order_id is not None or not gateway.capabilities.trigger_orders:
        return (order.is_trigger,)
    if order.type.needs_stop_price:
        return (True, False)
    return (False,)


async def fetch_known(gateway: ExchangeGateway, order: Order) -> ExchangeOrder | None:
    """Look the order up once: by exchange id when PATRIOT has it, else by client order id.

    Returns None when the exchange does not know the order (yet), whether the
    gateway returns None or raises ORDER_NOT_FOUND. Other exchange errors
    propagate to the caller.
    """
    for is_trigger in trigger_flags(gateway, order):
        try:
            found = await _fetch(gateway, order, is_trigger)
        except PermanentExchangeError as exc:
            if exc.reason != "ORDER_NOT_FOUND":
                raise
            found = None
        if found is not None:
            return found
    return None


async def _fetch(gateway: ExchangeGateway, order: Order, is_trigger: bool) -> ExchangeOrder | None:
    if order.exchange_order_id is not None:
        return await gateway.fetch_order(
            order.symbol, exchange_order_id=order.exchange_order_id, is_trigger=is_trigger
        )
    return await gateway.fetch_order(
        order.symbol, client_order_id=order.client_order_id, is_trigger=is_trigger
    )
