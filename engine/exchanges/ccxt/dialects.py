"""What differs between the four exchanges behind ccxt's unified calls.

Each dialect defines how a stop or take-profit is expressed, where trigger orders
live and how to list them, how to find an order by its client order id, how
to amend, and which raw fields hold exact numbers. The gateway calls these
hooks and stays the same for every exchange.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine.accounts.models import Exchange
from engine.common.money import to_canonical
from engine.errors import PermanentExchangeError
from engine.exchanges.ccxt.mapping import RawFields, raw_decimal
from engine.orders.models import OrderRequest, OrderSide, OrderType

_STOP_TYPES = (OrderType.STOP_MARKET, OrderType.STOP_LIMIT)

_BINANCE_STYLE_FIELDS = RawFields(
    order_quantity=("origQty",),
    order_filled=("executedQty",),
    order_price=("price",),
    order_stop_price=("stopPrice",),
    order_cost=("cummulativeQuoteQty",),
    trade_price=("price",),
    trade_quantity=("qty",),
    ticker_last=("lastPrice",),
    ticker_bid=("bidPrice",),
    ticker_ask=("askPrice",),
)


class Dialect:
    """Binance's behaviour is the default; other exchanges override what differs."""

    exchange = Exchange.BINANCE
    fields = _BINANCE_STYLE_FIELDS
    # True where trigger orders sit apart from the regular book and every call
    # about them needs the trigger flag (Bybit conditional, OKX algo orders).
    separate_trigger_book = False
    # True where ``create_oco`` sends a native OCO pair (Binance's order list).
    supports_oco = False
    # True where that pair's stop leg is a stop-limit, because the market-priced stop is not enabled.
    oco_stop_is_limit = False

    def trigger_params(self, request: OrderRequest, stop_price: str) -> dict[str, Any]:
        """ccxt parameters that turn the order into a stop or take-profit at ``stop_price``."""
        key = "stopLossPrice" if request.type in _STOP_TYPES else "takeProfitPrice"
        return {key: stop_price}

    def is_trigger(self, order_type: OrderType) -> bool:
        return self.separate_trigger_book and order_type.needs_stop_price

    def marks_trigger(self, order: dict[str, Any]) -> bool:
        """Return whether the order's own fields mark it as a trigger order, where exchanges report it."""
        return False

    def open_order_queries(self) -> list[tuple[dict[str, Any], bool]]:
        """Parameter sets for fetchOpenOrders, each with whether its orders are trigger orders."""
        return [({}, False)]

    async def find_order(
        self,
        client: Any,
        symbol: str,
        *,
        order_id: str | None,
        client_order_id: str | None,
        is_trigger: bool,
    ) -> dict[str, Any] | None:
        """Fetch one order by exchange id or client order id; None when the exchange has no such order.

        ccxt's unified ``clientOrderId`` parameter becomes origClientOrderId on
        Binance and MEXC and clOrdId (algoClOrdId for algo orders) on OKX.
        """
        params: dict[str, Any] = {"trigger": True} if is_trigger else {}
        if client_order_id is not None:
            params["clientOrderId"] = client_order_id
        result: dict[str, Any] = await client.fetch_order(order_id, symbol, params)
        return result

    async def amend(
        self,
        client: Any,
        symbol: str,
        order_id: str,
        *,
        quantity: str | None,
        price: str | None,
        stop_price: str | None,
    ) -> dict[str, Any]:
        raise PermanentExchangeError(
            f"{self.exchange} cannot amend orders in place",
            reason="AMEND_UNSUPPORTED",
            exchange=self.exchange,
        )

    async def triggered_order(self, client: Any, symbol: str, order: dict[str, Any]) -> dict[str, Any] | None:
        """Return the regular order a fired trigger order became, where the exchange splits them."""
        return None

    async def create_oco(
        self, client: Any, symbol: str, limit: OrderRequest, stop: OrderRequest, stop_limit: str
    ) -> list[dict[str, Any]]:
        """Send a take-profit limit and a stop as one OCO pair.

        Returns both legs as ccxt orders, each carrying its request's client
        order id as ``clientOrderId``.
        """
        raise PermanentExchangeError(
            f"{self.exchange} has no OCO pair that PATRIOT can place",
            reason="OCO_UNSUPPORTED",
            exchange=self.exchange.value,
        )

    def pair_leg_id(self, order_id: str) -> tuple[str, str] | None:
        """Split the id of one leg of a pair the exchange keeps as one order into (order id, leg)."""
        return None

    def pair_of(self, order: dict[str, Any]) -> bool:
        """Tell whether a trigger order is a pair kept as one order (OKX's OCO algo order)."""
        return False

    async def pair_leg(
        self, client: Any, symbol: str, order: dict[str, Any], leg: str
    ) -> tuple[dict[str, Any], bool]:
        """Return one leg of a pair kept as one order, and whether it is still a trigger order."""
        raise NotImplementedError

    def exact_balances(self, info: Any) -> dict[str, tuple[Decimal, Decimal]]:
        """(free, used) per asset from the exchange's own balance text, where the layout is known."""
        rows = info.get("balances") if isinstance(info, dict) else None
        return _exact_rows(rows, asset="asset", free="free", used="locked")


class BinanceDialect(Dialect):
    """Binance spot: the default behaviour, and OCO pairs as order lists."""

    supports_oco = True
    oco_stop_is_limit = True

    async def create_oco(
        self, client: Any, symbol: str, limit: OrderRequest, stop: OrderRequest, stop_limit: str
    ) -> list[dict[str, Any]]:
        """Send the pair as one order list (``POST /api/v3/orderList/oco``).

        The take-profit leg is LIMIT_MAKER at the target. The stop leg is
        STOP_LOSS_LIMIT with a limit ``stop_limit`` beyond its stop, because
        the market-priced STOP_LOSS is not enabled on the major pairs
        (exchangeInfo ``orderTypes``). A sell pair puts the take-profit above
        the price and the stop below it; a buy pair the reverse. Each leg
        carries its own client order id; the list's id is the take-profit's
        with an "L" in front.
        """
        take_profit = {
            "Type": "LIMIT_MAKER",
            "Price": _plain(limit.price),
            "ClientOrderId": limit.client_order_id,
        }
        protective = {
            "Type": "STOP_LOSS_LIMIT",
            "Price": stop_limit,
            "StopPrice": _plain(stop.stop_price),
            "TimeInForce": "GTC",
            "ClientOrderId": stop.client_order_id,
        }
        sell = limit.side is OrderSide.SELL
        above, below = (take_profit, protective) if sell else (protective, take_profit)
        market = client.market(symbol)
        params: dict[str, Any] = {
            "symbol": market["id"],
            "side": limit.side.value,
            "quantity": _plain(limit.quantity),
            "listClientOrderId": f"L{limit.client_order_id}",
            "newOrderRespType": "FULL",
        }
        params.update({f"above{key}": value for key, value in above.items()})
        params.update({f"below{key}": value for key, value in below.items()})
        response = await client.private_post_orderlist_oco(params)
        return [client.parse_order(report, market) for report in response.get("orderReports") or []]


class MexcDialect(Dialect):
    exchange = Exchange.MEXC


class BybitDialect(Dialect):
    """Bybit v5: conditional orders (orderFilter=StopOrder); lookups in order/realtime, then order/history."""

    exchange = Exchange.BYBIT
    separate_trigger_book = True
    fields = RawFields(
        order_quantity=("qty",),
        order_filled=("cumExecQty",),
        order_price=("price",),
        order_stop_price=("triggerPrice",),
        order_average=("avgPrice",),
        order_cost=("cumExecValue",),
        order_reason=("rejectReason",),
        trade_price=("execPrice",),
        trade_quantity=("execQty",),
        ticker_last=("lastPrice",),
        ticker_bid=("bid1Price",),
        ticker_ask=("ask1Price",),
    )

    def trigger_params(self, request: OrderRequest, stop_price: str) -> dict[str, Any]:
        # Spot conditional orders take a bare trigger price: ccxt refuses a
        # trigger direction for spot, and its stopLossPrice form makes a TP/SL
        # order (orderFilter=tpslOrder) that the trigger flag cannot find later.
        return {"triggerPrice": stop_price}

    def open_order_queries(self) -> list[tuple[dict[str, Any], bool]]:
        # A unified account lists every kind of order without a filter, and its
        # conditional orders carry a stopOrderType. A classic account needs the
        # second, filtered query.
        return [({}, False), ({"trigger": True}, True)]

    def marks_trigger(self, order: dict[str, Any]) -> bool:
        info = order.get("info") or {}
        return str(info.get("stopOrderType") or "") not in ("", "UNKNOWN")

    async def find_order(
        self,
        client: Any,
        symbol: str,
        *,
        order_id: str | None,
        client_order_id: str | None,
        is_trigger: bool,
    ) -> dict[str, Any] | None:
        # ccxt's fetchOrder sends "orderId=None" when looking up by client id
        # (ccxt 4.5), so the open list and the history are queried directly.
        params: dict[str, Any] = (
            {"orderLinkId": client_order_id} if client_order_id is not None else {"orderId": order_id}
        )
        open_params = {**params, "trigger": True} if is_trigger else params
        found = await client.fetch_open_orders(symbol, None, None, open_params)
        if not found:
            found = await client.fetch_canceled_and_closed_orders(symbol, None, None, params)
        return found[0] if found else None

    async def amend(
        self,
        client: Any,
        symbol: str,
        order_id: str,
        *,
        quantity: str | None,
        price: str | None,
        stop_price: str | None,
    ) -> dict[str, Any]:
        params = {"triggerPrice": stop_price} if stop_price is not None else {}
        # ccxt insists on a type and a side, though Bybit's amend request carries neither.
        result: dict[str, Any] = await client.edit_order(
            order_id, symbol, "limit", "buy", quantity, price, params
        )
        return result

    def exact_balances(self, info: Any) -> dict[str, tuple[Decimal, Decimal]]:
        # The unified account's free amount is derived by ccxt from several
        # fields (wallet, locked, margin); its float values are used instead.
        return {}


class OkxDialect(Dialect):
    """OKX v5: algo orders for stops (ordType conditional, oco, trigger).

    NOTE: ccxt 4.5 sends spot algo orders with tdMode=cross, because OKX
    rejected tdMode=cash for them (ccxt's own comment). On an account with spot
    margin enabled such a stop could borrow; this was not checked on a live
    OKX account.
    """

    exchange = Exchange.OKX
    separate_trigger_book = True
    fields = RawFields(
        order_quantity=("sz",),
        order_filled=("accFillSz",),
        order_price=("px", "slOrdPx", "tpOrdPx", "orderPx"),
        order_stop_price=("slTriggerPx", "tpTriggerPx", "triggerPx"),
        order_average=("avgPx",),
        order_reason=("sMsg",),
        trade_price=("fillPx",),
        trade_quantity=("fillSz",),
        ticker_last=("last",),
        ticker_bid=("bidPx",),
        ticker_ask=("askPx",),
    )

    supports_oco = True

    async def create_oco(
        self, client: Any, symbol: str, limit: OrderRequest, stop: OrderRequest, stop_limit: str
    ) -> list[dict[str, Any]]:
        """Send the pair as one algo order of ordType "oco" (``POST /api/v5/trade/order-algo``).

        ccxt builds it when both a take-profit and a stop-loss price are
        given. The take-profit triggers at the target and places a limit at
        the target (``tpOrdPx``). The stop triggers at the stop and sells or
        buys at market (``slOrdPx=-1``). The algo order carries the take-profit
        leg's client order id (``algoClOrdId``); the stop leg's id is PATRIOT's
        alone. The legs are reported as ``ALGO_ID:tp`` and ``ALGO_ID:sl``.
        """
        params = {
            "takeProfitPrice": _plain(limit.price),
            "tpOrdPx": _plain(limit.price),
            "stopLossPrice": _plain(stop.stop_price),
            # ccxt 4.5 sends the unified clientOrderId as clOrdId, while OKX looks an algo order up by
            # algoClOrdId, so both carry the take-profit leg's id.
            "clientOrderId": limit.client_order_id,
            "algoClOrdId": limit.client_order_id,
        }
        side = limit.side.value.lower()
        ack = await client.create_order(symbol, "market", side, _plain(limit.quantity), None, params)
        algo = {
            "algoId": ack["id"],
            "algoClOrdId": limit.client_order_id,
            "instId": client.market(symbol)["id"],
            "side": side,
            "sz": _plain(limit.quantity),
            "state": "live",
            "tpOrdPx": _plain(limit.price),
            "tpTriggerPx": _plain(limit.price),
            "slTriggerPx": _plain(stop.stop_price),
        }
        take_profit = _okx_leg(symbol, algo, TAKE_PROFIT_LEG, "open")
        protective = {**_okx_leg(symbol, algo, STOP_LEG, "open"), "clientOrderId": stop.client_order_id}
        return [take_profit, protective]

    def pair_leg_id(self, order_id: str) -> tuple[str, str] | None:
        algo_id, separator, leg = order_id.partition(":")
        return (algo_id, leg) if separator and leg in (TAKE_PROFIT_LEG, STOP_LEG) else None

    def pair_of(self, order: dict[str, Any]) -> bool:
        return (order.get("info") or {}).get("ordType") == "oco"

    async def pair_leg(
        self, client: Any, symbol: str, order: dict[str, Any], leg: str
    ) -> tuple[dict[str, Any], bool]:
        # An OCO algo order that fired is "effective": the leg named in actualSide placed a
        # regular order (ordId) that carries the fill, and the other leg is cancelled.
        info = order.get("info") or {}
        state = str(info.get("state") or "")
        if state == "effective" and info.get("actualSide") == leg:
            child = await self.triggered_order(client, symbol, order)
            if child is not None:
                return child, False
        status = "open" if state in ("live", "partially_effective") else "canceled"
        return _okx_leg(symbol, info, leg, status), True

    def open_order_queries(self) -> list[tuple[dict[str, Any], bool]]:
        # The algo list needs one order type per query: PATRIOT's stops and
        # take-profits are "conditional", two-sided exits "oco", and plain
        # trigger orders placed elsewhere "trigger".
        return [
            ({}, False),
            ({"trigger": True, "ordType": "conditional"}, True),
            ({"trigger": True, "ordType": "oco"}, True),
            ({"trigger": True, "ordType": "trigger"}, True),
        ]

    async def amend(
        self,
        client: Any,
        symbol: str,
        order_id: str,
        *,
        quantity: str | None,
        price: str | None,
        stop_price: str | None,
    ) -> dict[str, Any]:
        if stop_price is None:
            result: dict[str, Any] = await client.edit_order(order_id, symbol, "limit", None, quantity, price)
            return result
        # An algo order: its kind (stop or take-profit) and limit price decide the fields to send.
        current = await client.fetch_order(order_id, symbol, {"trigger": True})
        info = current.get("info") or {}
        is_take_profit = raw_decimal(info, ("tpTriggerPx",)) is not None
        keep_price = raw_decimal(info, ("tpOrdPx",) if is_take_profit else ("slOrdPx",))
        order_price = price or (to_canonical(keep_price) if keep_price is not None else "-1")
        params: dict[str, Any] = (
            {"takeProfitPrice": stop_price, "newTpOrdPx": order_price}
            if is_take_profit
            else {"stopLossPrice": stop_price, "newSlOrdPx": order_price}
        )
        algo: dict[str, Any] = await client.edit_order(
            order_id, symbol, "conditional", None, quantity, None, params
        )
        return algo

    async def triggered_order(self, client: Any, symbol: str, order: dict[str, Any]) -> dict[str, Any] | None:
        # A fired algo order turns "effective" and places a regular order with
        # its own id; that order carries the fill.
        info = order.get("info") or {}
        child_id = info.get("ordId") or next(iter(info.get("ordIdList") or ()), None)
        if info.get("state") != "effective" or not child_id:
            return None
        child: dict[str, Any] = await client.fetch_order(str(child_id), symbol)
        return child

    def exact_balances(self, info: Any) -> dict[str, tuple[Decimal, Decimal]]:
        data = info.get("data") if isinstance(info, dict) else None
        rows = data[0].get("details") if data and isinstance(data[0], dict) else None
        return _exact_rows(rows, asset="ccy", free="availBal", used="frozenBal")


# The two legs of an OKX OCO algo order, as its actualSide names them.
TAKE_PROFIT_LEG = "tp"
STOP_LEG = "sl"


def _okx_leg(symbol: str, algo: dict[str, Any], leg: str, status: str) -> dict[str, Any]:
    """Build one leg of an OKX OCO algo order as a ccxt order: a take-profit limit or a stop-market."""
    take_profit = leg == TAKE_PROFIT_LEG
    info: dict[str, Any] = {"sz": algo.get("sz"), "accFillSz": "0"}
    if take_profit:
        info["px"] = algo.get("tpOrdPx")
    else:
        info["slTriggerPx"] = algo.get("slTriggerPx")
    created = algo.get("cTime")
    return {
        "id": f"{algo.get('algoId')}:{leg}",
        "clientOrderId": (algo.get("algoClOrdId") or None) if take_profit else None,
        "symbol": symbol,
        "side": algo.get("side"),
        "type": "limit" if take_profit else "market",
        "status": status,
        "timestamp": int(created) if created else None,
        "info": info,
    }


def _plain(value: Decimal | None) -> str:
    if value is None:
        raise ValueError("an OCO leg is missing its price")
    return format(value, "f")


def _exact_rows(rows: Any, *, asset: str, free: str, used: str) -> dict[str, tuple[Decimal, Decimal]]:
    exact = {}
    for row in rows or ():
        free_amount, used_amount = raw_decimal(row, (free,)), raw_decimal(row, (used,))
        if row.get(asset) and free_amount is not None and used_amount is not None:
            exact[str(row[asset])] = (free_amount, used_amount)
    return exact


DIALECTS: dict[Exchange, Dialect] = {
    Exchange.BINANCE: BinanceDialect(),
    Exchange.BYBIT: BybitDialect(),
    Exchange.OKX: OkxDialect(),
    Exchange.MEXC: MexcDialect(),
}
