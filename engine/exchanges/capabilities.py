"""What each live exchange's spot API supports through ccxt (version 4.5).

The order and bracket services read this table to decide whether to send a
native trigger, attached TP/SL or OCO order, or to watch prices themselves.
Sources: ccxt's request builders for each exchange and the exchanges' spot API
documentation.

- Binance spot has STOP_LOSS_LIMIT and TAKE_PROFIT_LIMIT on every major pair,
  but its market-priced STOP_LOSS and TAKE_PROFIT types are not enabled for
  them (exchangeInfo ``orderTypes``), so stop and take-profit orders must carry
  a limit price. Trigger orders live in the regular order book. Editing is a
  cancel-and-replace with a new order id, so it is not listed as amend. Spot
  has no reduce-only flag. OCO pairs are order lists (``orderList/oco``),
  sent through ccxt's implicit method because ccxt has no unified call.
- Bybit spot: conditional orders (``orderFilter=StopOrder``) for stops and
  take-profits, TP/SL attached to limit orders, in-place amend (``order/amend``).
- OKX spot: algo orders (``conditional`` for one stop or take-profit, ``oco``
  for both, which brackets use), TP/SL attached to orders (``attachAlgoOrds``),
  in-place amend (``amend-order``, ``amend-algos``). Demo trading serves as its
  testnet.
- MEXC spot: market and limit orders only, no amend and no testnet.
"""

from __future__ import annotations

from engine.accounts.models import Exchange
from engine.exchanges.models import Capabilities
from engine.orders.models import OrderType

_ALL_TYPES = frozenset(OrderType)

CAPABILITIES: dict[Exchange, Capabilities] = {
    Exchange.BINANCE: Capabilities(
        order_types=frozenset(
            {OrderType.MARKET, OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT_LIMIT}
        ),
        trigger_orders=True,
        attached_tp_sl=False,
        reduce_only=False,
        oco=True,
        amend=False,
        testnet=True,
    ),
    Exchange.BYBIT: Capabilities(
        order_types=_ALL_TYPES,
        trigger_orders=True,
        attached_tp_sl=True,
        reduce_only=False,
        oco=False,
        amend=True,
        testnet=True,
    ),
    Exchange.OKX: Capabilities(
        order_types=_ALL_TYPES,
        trigger_orders=True,
        attached_tp_sl=True,
        reduce_only=False,
        oco=True,
        amend=True,
        testnet=True,
    ),
    Exchange.MEXC: Capabilities(
        order_types=frozenset({OrderType.MARKET, OrderType.LIMIT}),
        trigger_orders=False,
        attached_tp_sl=False,
        reduce_only=False,
        oco=False,
        amend=False,
        testnet=False,
    ),
}


def capabilities_for(exchange: Exchange) -> Capabilities:
    """Return the live exchange's capabilities; PAPER's own are in its gateway.

    ``oco`` says the exchange has a pair; the ccxt gateway reports it only
    where it also places one (``CcxtGateway.capabilities``).
    """
    return CAPABILITIES[exchange]


def has_testnet(exchange: Exchange) -> bool:
    return exchange in CAPABILITIES and CAPABILITIES[exchange].testnet
