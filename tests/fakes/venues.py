"""Small in-memory stand-ins for the Binance, Bybit, OKX and MEXC spot REST APIs.

Each venue answers the endpoints the gateway uses, in the exchange's own JSON
layout (numbers as strings, its field names and envelopes), and keeps the
orders it accepted so later lookups, cancels and amends see them. The layouts
follow each exchange's public API documentation; only the fields ccxt reads
are filled in.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tests.fakes.ccxt_http import FakeExchangeHttp, Request, recorded_markets

NOW_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC


@dataclass
class VenueOrder:
    id: str
    client_id: str
    symbol: str  # unified, e.g. BTC/USDT
    side: str  # buy, sell
    kind: str  # market, limit
    quantity: str
    price: str | None = None
    stop: str | None = None
    take_profit: bool = False
    trigger: bool = False  # kept apart from the regular book (Bybit, OKX)
    status: str = "open"  # open, filled, canceled
    filled: str = "0"
    fill_price: str | None = None
    list_id: int = -1  # the Binance order list (OCO pair) the order belongs to
    oco: bool = False  # an OKX OCO algo order: take-profit trigger ``take_profit_at``, stop ``stop``
    take_profit_at: str | None = None
    fired_leg: str = ""  # the OKX OCO leg that fired ("tp" or "sl"), as actualSide reports it
    child_id: str = ""  # the regular order a fired OKX algo order placed
    trades: list[tuple[int, str, str]] = field(default_factory=list)  # (trade id, quantity, price)


@dataclass
class Venue:
    """The shared state of one fake exchange: prices, balances, orders, key permissions."""

    exchange_id: str
    http: FakeExchangeHttp
    prices: dict[str, str] = field(
        default_factory=lambda: {"BTC/USDT": "43000.1", "ETH/USDT": "2500.55", "LTC/USDT": "70.12"}
    )
    balances: dict[str, tuple[str, str]] = field(
        default_factory=lambda: {"USDT": ("1000.12345678", "0"), "BTC": ("0.5", "0.1")}
    )
    can_trade: bool = True
    can_withdraw: bool = False
    ip_restricted: bool = False
    orders: list[VenueOrder] = field(default_factory=list)
    # The error (code, message) the next OCO pair is rejected with instead of being accepted.
    oco_reject: tuple[int, str] | None = None
    ids: Any = field(default_factory=lambda: itertools.count(1001))

    def __post_init__(self) -> None:
        markets = recorded_markets(self.exchange_id)
        self.by_id = {market["id"]: symbol for symbol, market in markets.items() if market.get("spot")}
        self.to_id = {symbol: market_id for market_id, symbol in self.by_id.items()}

    def price(self, symbol: str) -> str:
        return self.prices.get(symbol, "2")

    def add(self, order: VenueOrder) -> VenueOrder:
        if order.kind == "market" and not order.trigger and order.stop is None:
            order.status, order.filled, order.fill_price = "filled", order.quantity, self.price(order.symbol)
        self.orders.append(order)
        return order

    def new_id(self) -> str:
        return str(next(self.ids))

    def find(self, *, order_id: str | None = None, client_id: str | None = None) -> VenueOrder | None:
        for order in self.orders:
            if (order_id and order.id == order_id) or (client_id and order.client_id == client_id):
                return order
        return None

    def cost(self, order: VenueOrder) -> str:
        if order.trades:
            return str(sum(Decimal(quantity) * Decimal(price) for _, quantity, price in order.trades))
        if order.fill_price is None:
            return "0"
        return str(Decimal(order.filled) * Decimal(order.fill_price))

    # ----- OCO pairs (Binance order lists) ------------------------------------------

    def siblings(self, order: VenueOrder) -> list[VenueOrder]:
        if order.list_id < 0:
            return []
        return [other for other in self.orders if other.list_id == order.list_id and other is not order]

    def fill(self, order: VenueOrder, quantity: str, price: str | None = None) -> None:
        """Fill ``quantity`` more of a resting order at ``price`` (its own limit by default).

        As on Binance, a leg of an OCO pair that fills, even in part, cancels its sibling.
        """
        assert order.status == "open", f"order {order.id} is {order.status}"
        price = price or order.price or order.stop or self.price(order.symbol)
        filled = Decimal(order.filled) + Decimal(quantity)
        assert filled <= Decimal(order.quantity)
        order.trades.append((int(order.id) * 100 + len(order.trades), quantity, price))
        order.filled = str(filled)
        order.fill_price = price
        if filled == Decimal(order.quantity):
            order.status = "filled"
        for sibling in self.siblings(order):
            if sibling.status == "open":
                sibling.status = "canceled"

    def trigger(self, order: VenueOrder) -> None:
        """Fire a stop-limit leg whose limit the price has already jumped past: it rests unfilled.

        Its OCO sibling is cancelled, as Binance does when either leg activates.
        """
        assert order.status == "open"
        assert order.stop is not None
        for sibling in self.siblings(order):
            if sibling.status == "open":
                sibling.status = "canceled"

    def fire(self, algo: VenueOrder, leg: str, filled: str | None = None) -> VenueOrder:
        """Fire one leg of an OKX OCO algo order: OKX cancels the other leg and places the fired one's order.

        The take-profit places a limit at its order price, the stop a market
        order. ``filled`` of it fills at once (all of it by default).
        """
        assert algo.oco and algo.status == "open"
        take_profit = leg == "tp"
        child = self.add(
            VenueOrder(
                id=self.new_id(),
                client_id="",
                symbol=algo.symbol,
                side=algo.side,
                kind="limit",
                quantity=algo.quantity,
                price=algo.price if take_profit else None,
            )
        )
        algo.status, algo.fired_leg, algo.child_id = "filled", leg, child.id
        amount = algo.quantity if filled is None else filled
        if Decimal(amount) > 0:
            self.fill(child, amount, algo.price if take_profit else algo.stop)
        return child

    def cancel_list(self, list_id: int) -> list[VenueOrder]:
        legs = [order for order in self.orders if order.list_id == list_id]
        for order in legs:
            if order.status == "open":
                order.status = "canceled"
        return legs


def _form_symbol(venue: Venue, request: Request, key: str) -> str:
    return venue.by_id[request.form()[key]]


# ----- Binance and MEXC (the same v3 layout) --------------------------------------


def _binance_order(venue: Venue, order: VenueOrder, *, mexc: bool = False) -> dict[str, Any]:
    status = {"open": "NEW", "filled": "FILLED", "canceled": "CANCELED"}[order.status]
    if order.status == "open" and Decimal(order.filled) > 0:
        status = "PARTIALLY_FILLED"
    if order.stop is None:
        kind = "LIMIT_MAKER" if order.list_id >= 0 else order.kind.upper()
    else:
        kind = ("TAKE_PROFIT" if order.take_profit else "STOP_LOSS") + (
            "_LIMIT" if order.kind == "limit" else ""
        )
    body = {
        "symbol": venue.to_id[order.symbol],
        "orderId": order.id if mexc else int(order.id),
        "orderListId": order.list_id,
        "clientOrderId": order.client_id,
        "price": order.price or "0.00000000",
        "origQty": order.quantity,
        "executedQty": order.filled,
        "cummulativeQuoteQty": venue.cost(order),
        "status": status,
        "timeInForce": "GTC",
        "type": kind,
        "side": order.side.upper(),
        "stopPrice": order.stop or "0.00000000",
        "time": NOW_MS,
        "updateTime": NOW_MS,
        "transactTime": NOW_MS,
        "workingTime": NOW_MS,
    }
    if order.trades and not mexc:
        body["fills"] = [
            {
                "price": price,
                "qty": quantity,
                "commission": "0",
                "commissionAsset": order.symbol.split("/")[1],
                "tradeId": trade_id,
            }
            for trade_id, quantity, price in order.trades
        ]
    elif order.status == "filled" and not mexc:
        body["fills"] = [
            {
                "price": order.fill_price,
                "qty": order.filled,
                "commission": "0.00000100",
                "commissionAsset": order.symbol.split("/")[0],
                "tradeId": int(order.id) + 50_000,
            }
        ]
    return body


def install_binance(venue: Venue, *, mexc: bool = False) -> None:
    http = venue.http

    def not_found(request: Request) -> tuple[int, Any]:
        return 400, {"code": -2013, "msg": "Order does not exist."}

    def create(request: Request) -> tuple[int, Any]:
        form = request.form()
        order_type = form["type"]
        order = venue.add(
            VenueOrder(
                id=venue.new_id(),
                client_id=form.get("newClientOrderId", ""),
                symbol=venue.by_id[form["symbol"]],
                side=form["side"].lower(),
                kind="limit" if "LIMIT" in order_type else "market",
                quantity=form.get("quantity", "0"),
                price=form.get("price"),
                stop=form.get("stopPrice"),
                take_profit=order_type.startswith("TAKE_PROFIT"),
            )
        )
        if mexc:  # MEXC acknowledges with the order's terms only, without a status
            return 200, {
                "symbol": form["symbol"],
                "orderId": order.id,
                "orderListId": -1,
                "price": order.price or "0",
                "origQty": order.quantity,
                "type": order_type,
                "side": form["side"],
                "transactTime": NOW_MS,
            }
        return 200, _binance_order(venue, order)

    def lookup(request: Request) -> tuple[int, Any]:
        query = request.query
        order = venue.find(order_id=query.get("orderId"), client_id=query.get("origClientOrderId"))
        return (200, _binance_order(venue, order, mexc=mexc)) if order else not_found(request)

    def cancel(request: Request) -> tuple[int, Any]:
        order = venue.find(order_id=request.query.get("orderId"))
        if order is None:
            return not_found(request)
        if order.list_id >= 0:
            if order.status != "open":
                return 400, {"code": -2011, "msg": "Unknown order sent."}
            venue.cancel_list(order.list_id)  # a leg's cancel ends its whole order list
        order.status = "canceled"
        return 200, _binance_order(venue, order, mexc=mexc)

    def open_orders(request: Request) -> tuple[int, Any]:
        symbol = request.query.get("symbol")
        return 200, [
            _binance_order(venue, order, mexc=mexc)
            for order in venue.orders
            if order.status == "open" and (symbol is None or venue.to_id[order.symbol] == symbol)
        ]

    def ticker(request: Request) -> tuple[int, Any]:
        symbol = venue.by_id[request.query["symbol"]]
        price = venue.price(symbol)
        return 200, {
            "symbol": request.query["symbol"],
            "lastPrice": price,
            "bidPrice": price,
            "askPrice": price,
            "closeTime": NOW_MS,
        }

    def account(request: Request) -> tuple[int, Any]:
        rows = [
            {"asset": asset, "free": free, "locked": used} for asset, (free, used) in venue.balances.items()
        ]
        return 200, {"canTrade": venue.can_trade, "balances": rows, "permissions": ["SPOT"]}

    def trades(request: Request) -> tuple[int, Any]:
        symbol = venue.by_id[request.query["symbol"]]
        return 200, [
            {
                "symbol": request.query["symbol"],
                "id": int(order.id) + 50_000 if not mexc else str(int(order.id) + 50_000),
                "orderId": order.id if mexc else int(order.id),
                "price": order.fill_price,
                "qty": order.filled,
                "quoteQty": venue.cost(order),
                "commission": "0.00000100",
                "commissionAsset": symbol.split("/")[0],
                "time": NOW_MS,
                "isBuyer": order.side == "buy",
                "isMaker": False,
                "isBestMatch": True,
            }
            for order in venue.orders
            if order.symbol == symbol and order.status == "filled" and not order.trades
        ] + [
            {
                "symbol": request.query["symbol"],
                "id": trade_id,
                "orderId": int(order.id),
                "price": price,
                "qty": quantity,
                "quoteQty": str(Decimal(quantity) * Decimal(price)),
                "commission": "0",
                "commissionAsset": symbol.split("/")[1],
                "time": NOW_MS,
                "isBuyer": order.side == "buy",
                "isMaker": True,
                "isBestMatch": True,
            }
            for order in venue.orders
            if order.symbol == symbol and not mexc
            for trade_id, quantity, price in order.trades
        ]

    http.answer("POST", "/api/v3/order", create)
    if not mexc:
        install_binance_order_lists(venue)
    http.answer("GET", "/api/v3/order", lookup)
    http.answer("DELETE", "/api/v3/order", cancel)
    http.answer("GET", "/api/v3/openOrders", open_orders)
    http.answer("GET", "/api/v3/ticker/24hr", ticker)
    http.answer("GET", "/api/v3/account", account)
    http.answer("GET", "/api/v3/myTrades", trades)
    http.answer(
        "GET",
        "/api/v3/depth",
        (200, {"lastUpdateId": 1, "bids": [["43000.00", "0.50000"]], "asks": [["43000.20", "0.25000"]]}),
    )
    http.answer(
        "GET",
        "/sapi/v1/account/apiRestrictions",
        lambda request: (
            200,
            {
                "ipRestrict": venue.ip_restricted,
                "createTime": NOW_MS,
                "enableReading": True,
                "enableSpotAndMarginTrading": venue.can_trade,
                "enableWithdrawals": venue.can_withdraw,
                "enableMargin": False,
            },
        ),
    )


def _binance_list(venue: Venue, list_id: int, list_client_id: str, legs: list[VenueOrder]) -> dict[str, Any]:
    done = all(order.status != "open" for order in legs)
    return {
        "orderListId": list_id,
        "contingencyType": "OCO",
        "listStatusType": "ALL_DONE" if done else "EXEC_STARTED",
        "listOrderStatus": "ALL_DONE" if done else "EXECUTING",
        "listClientOrderId": list_client_id,
        "transactionTime": NOW_MS,
        "symbol": venue.to_id[legs[0].symbol],
        "orders": [
            {"symbol": venue.to_id[order.symbol], "orderId": int(order.id), "clientOrderId": order.client_id}
            for order in legs
        ],
    }


PRICE_RELATIONSHIP = "The relationship of the prices for the orders is not correct."
# The NOTIONAL filter's minNotional of BTC/USDT in tests/data/ccxt/markets/binance.json.
BINANCE_MIN_NOTIONAL = Decimal("5")


def install_binance_order_lists(venue: Venue) -> None:
    """Binance spot OCO order lists: ``POST /api/v3/orderList/oco``, and the list's lookup and cancel.

    The checks follow Binance's rules: a sell's LIMIT_MAKER price above the
    last price and its stop below it (a buy's the reverse), every client
    order id unused. A leg that fills, even in part, cancels its sibling
    (``Venue.fill``); cancelling either leg or the list cancels both.
    """
    http = venue.http
    names: dict[int, str] = {}

    def create(request: Request) -> tuple[int, Any]:
        form = request.form()
        if venue.oco_reject is not None:
            code, message = venue.oco_reject
            venue.oco_reject = None
            return 400, {"code": code, "msg": message}
        symbol, side = venue.by_id[form["symbol"]], form["side"].lower()
        legs = {position: _leg(form, position) for position in ("above", "below")}
        maker = next(leg for leg in legs.values() if leg["type"] == "LIMIT_MAKER")
        stop = next(leg for leg in legs.values() if leg["type"].startswith("STOP_LOSS"))
        last = Decimal(venue.price(symbol))
        ordered = (
            Decimal(maker["price"]) > last > Decimal(stop["stopPrice"])
            if side == "sell"
            else Decimal(maker["price"]) < last < Decimal(stop["stopPrice"])
        )
        if legs["above"] is not (maker if side == "sell" else stop) or not ordered:
            return 400, {"code": -1013, "msg": PRICE_RELATIONSHIP}
        # NOTIONAL: each leg's limit price times the quantity, the stop-limit's limit included.
        quantity = Decimal(form["quantity"])
        if any(Decimal(leg["price"]) * quantity < BINANCE_MIN_NOTIONAL for leg in legs.values()):
            return 400, {"code": -1013, "msg": "Filter failure: NOTIONAL"}
        taken = {order.client_id for order in venue.orders} | set(names.values())
        if {maker["client"], stop["client"], form["listClientOrderId"]} & taken:
            return 400, {"code": -2010, "msg": "Duplicate order sent."}

        list_id = len(names) + 1
        names[list_id] = form["listClientOrderId"]
        created = [
            venue.add(
                VenueOrder(
                    id=venue.new_id(),
                    client_id=leg["client"],
                    symbol=symbol,
                    side=side,
                    kind="limit",
                    quantity=form["quantity"],
                    price=leg["price"],
                    stop=leg.get("stopPrice"),
                    list_id=list_id,
                )
            )
            for leg in (stop, maker)
        ]
        body = _binance_list(venue, list_id, names[list_id], created)
        body["orderReports"] = [_binance_order(venue, order) for order in created]
        return 200, body

    def find(request: Request) -> list[VenueOrder]:
        query = request.query
        wanted = query.get("orderListId")
        client = query.get("origClientOrderId") or query.get("listClientOrderId")
        list_id = int(wanted) if wanted else next((key for key, name in names.items() if name == client), -1)
        return [order for order in venue.orders if order.list_id == list_id and list_id >= 0]

    def lookup(request: Request) -> tuple[int, Any]:
        legs = find(request)
        if not legs:
            return 400, {"code": -2011, "msg": "Order list does not exist."}
        return 200, _binance_list(venue, legs[0].list_id, names[legs[0].list_id], legs)

    def cancel(request: Request) -> tuple[int, Any]:
        legs = find(request)
        if not legs or all(order.status != "open" for order in legs):
            return 400, {"code": -2011, "msg": "Unknown order sent."}
        venue.cancel_list(legs[0].list_id)
        body = _binance_list(venue, legs[0].list_id, names[legs[0].list_id], legs)
        body["orderReports"] = [_binance_order(venue, order) for order in legs]
        return 200, body

    http.answer("POST", "/api/v3/orderList/oco", create)
    http.answer("GET", "/api/v3/orderList", lookup)
    http.answer("DELETE", "/api/v3/orderList", cancel)


def _leg(form: dict[str, str], position: str) -> dict[str, Any]:
    leg = {
        "type": form[f"{position}Type"],
        "client": form.get(f"{position}ClientOrderId", ""),
        "price": form.get(f"{position}Price"),
    }
    if f"{position}StopPrice" in form:
        leg["stopPrice"] = form[f"{position}StopPrice"]
    return leg


# ----- Bybit v5 -------------------------------------------------------------------


def _bybit_order(venue: Venue, order: VenueOrder) -> dict[str, Any]:
    status = {"open": "Untriggered" if order.trigger else "New", "filled": "Filled", "canceled": "Cancelled"}
    return {
        "orderId": order.id,
        "orderLinkId": order.client_id,
        "symbol": venue.to_id[order.symbol],
        "price": order.price or "0",
        "qty": order.quantity,
        "side": order.side.capitalize(),
        "orderStatus": status[order.status],
        "orderType": order.kind.capitalize(),
        "cumExecQty": order.filled,
        "cumExecValue": venue.cost(order),
        "avgPrice": order.fill_price or "0",
        "timeInForce": "GTC",
        "triggerPrice": order.stop or "0",
        "stopOrderType": "Stop" if order.trigger else "",
        "orderFilter": "StopOrder" if order.trigger else "Order",
        "createdTime": str(NOW_MS),
        "updatedTime": str(NOW_MS),
        "cumExecFee": "0",
    }


def _bybit(result: Any) -> tuple[int, Any]:
    return 200, {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": NOW_MS}


def install_bybit(venue: Venue) -> None:
    http = venue.http

    def matching(request: Request, statuses: set[str]) -> list[dict[str, Any]]:
        query = request.query
        found = []
        for order in venue.orders:
            if order.status not in statuses:
                continue
            if "symbol" in query and venue.to_id[order.symbol] != query["symbol"]:
                continue
            if query.get("orderId") and order.id != query["orderId"]:
                continue
            if query.get("orderLinkId") and order.client_id != query["orderLinkId"]:
                continue
            if query.get("orderFilter") == "StopOrder" and not order.trigger:
                continue
            found.append(_bybit_order(venue, order))
        return found

    def create(request: Request) -> tuple[int, Any]:
        form = request.form()
        order = venue.add(
            VenueOrder(
                id=venue.new_id(),
                client_id=form.get("orderLinkId", ""),
                symbol=venue.by_id[form["symbol"]],
                side=form["side"].lower(),
                kind=form["orderType"].lower(),
                quantity=form["qty"],
                price=form.get("price"),
                stop=form.get("triggerPrice"),
                trigger=form.get("orderFilter") == "StopOrder",
            )
        )
        return _bybit({"orderId": order.id, "orderLinkId": order.client_id})

    def cancel(request: Request) -> tuple[int, Any]:
        order = venue.find(order_id=request.form().get("orderId"))
        if order is None:
            return 200, {"retCode": 170213, "retMsg": "Order does not exist.", "result": {}}
        order.status = "canceled"
        return _bybit({"orderId": order.id, "orderLinkId": order.client_id})

    def amend(request: Request) -> tuple[int, Any]:
        form = request.form()
        order = venue.find(order_id=form.get("orderId"))
        if order is None:
            return 200, {"retCode": 110001, "retMsg": "Order does not exist.", "result": {}}
        order.quantity = form.get("qty", order.quantity)
        order.price = form.get("price", order.price)
        order.stop = form.get("triggerPrice", order.stop)
        return _bybit({"orderId": order.id, "orderLinkId": order.client_id})

    def ticker(request: Request) -> tuple[int, Any]:
        price = venue.price(venue.by_id[request.query["symbol"]])
        return _bybit(
            {
                "category": "spot",
                "list": [
                    {
                        "symbol": request.query["symbol"],
                        "lastPrice": price,
                        "bid1Price": price,
                        "ask1Price": price,
                    }
                ],
            }
        )

    def wallet(request: Request) -> tuple[int, Any]:
        coins = [
            {
                "coin": asset,
                "walletBalance": str(Decimal(free) + Decimal(used)),
                "locked": used,
                "equity": str(Decimal(free) + Decimal(used)),
                "totalOrderIM": "0",
                "totalPositionIM": "0",
                "borrowAmount": "",
                "spotBorrow": "0",
            }
            for asset, (free, used) in venue.balances.items()
        ]
        return _bybit({"list": [{"accountType": "UNIFIED", "coin": coins}]})

    def query_api(request: Request) -> tuple[int, Any]:
        return _bybit(
            {
                "id": "1",
                "apiKey": "hidden",
                "readOnly": 0 if venue.can_trade else 1,
                "permissions": {
                    "Spot": ["SpotTrade"] if venue.can_trade else [],
                    "Wallet": ["AccountTransfer", "Withdraw"] if venue.can_withdraw else ["AccountTransfer"],
                },
                "ips": ["203.0.113.7"] if venue.ip_restricted else ["*"],
                "expiredAt": "" if venue.ip_restricted else "2026-03-31T00:00:00Z",
                "unified": 1,
                "uta": 1,
            }
        )

    http.answer("POST", "/v5/order/create", create)
    http.answer("POST", "/v5/order/cancel", cancel)
    http.answer("POST", "/v5/order/amend", amend)
    http.answer(
        "GET", "/v5/order/realtime", lambda r: _bybit({"list": matching(r, {"open"}), "category": "spot"})
    )
    http.answer(
        "GET",
        "/v5/order/history",
        lambda r: _bybit({"list": matching(r, {"filled", "canceled"}), "category": "spot"}),
    )
    http.answer("GET", "/v5/market/tickers", ticker)
    http.answer("GET", "/v5/account/wallet-balance", wallet)
    http.answer("GET", "/v5/user/query-api", query_api)
    http.answer(
        "GET",
        "/v5/account/info",
        lambda r: _bybit({"unifiedMarginStatus": 4, "marginMode": "REGULAR_MARGIN"}),
    )
    http.answer(
        "GET",
        "/v5/market/orderbook",
        lambda r: _bybit(
            {
                "s": r.query["symbol"],
                "b": [["43000", "0.5"]],
                "a": [["43000.2", "0.25"]],
                "ts": NOW_MS,
                "u": 1,
            }
        ),
    )
    http.answer("GET", "/v5/execution/list", lambda r: _bybit({"list": [], "nextPageCursor": ""}))


# ----- OKX v5 ---------------------------------------------------------------------


def _okx(data: list[Any]) -> tuple[int, Any]:
    return 200, {"code": "0", "msg": "", "data": data}


def _okx_missing() -> tuple[int, Any]:
    return 200, {"code": "51603", "msg": "Order does not exist", "data": []}


def _okx_order(venue: Venue, order: VenueOrder) -> dict[str, Any]:
    return {
        "instId": venue.to_id[order.symbol],
        "ordId": order.id,
        "clOrdId": order.client_id,
        "px": order.price or "",
        "sz": order.quantity,
        "side": order.side,
        "ordType": order.kind,
        "state": _okx_state(order),
        "accFillSz": order.filled,
        "avgPx": order.fill_price or "",
        "fillPx": order.fill_price or "",
        "fee": "-0.0000001" if order.status == "filled" else "0",
        "feeCcy": order.symbol.split("/")[0],
        "tdMode": "cash",
        "cTime": str(NOW_MS),
        "uTime": str(NOW_MS),
    }


def _okx_state(order: VenueOrder) -> str:
    if order.status == "open" and Decimal(order.filled) > 0:
        return "partially_filled"
    return {"open": "live", "filled": "filled", "canceled": "canceled"}[order.status]


def _okx_oco(venue: Venue, order: VenueOrder) -> dict[str, Any]:
    return {
        "instId": venue.to_id[order.symbol],
        "algoId": order.id,
        "algoClOrdId": order.client_id,
        "sz": order.quantity,
        "side": order.side,
        "ordType": "oco",
        "state": {"open": "live", "filled": "effective", "canceled": "canceled"}[order.status],
        "tpTriggerPx": order.take_profit_at or "",
        "tpOrdPx": order.price or "-1",
        "slTriggerPx": order.stop or "",
        "slOrdPx": "-1",
        "actualSide": order.fired_leg,
        "ordId": order.child_id,
        "ordIdList": [order.child_id] if order.child_id else [],
        "tdMode": "cross",
        "cTime": str(NOW_MS),
    }


def _okx_algo(venue: Venue, order: VenueOrder) -> dict[str, Any]:
    if order.oco:
        return _okx_oco(venue, order)
    side = "tp" if order.take_profit else "sl"
    other = "sl" if side == "tp" else "tp"
    return {
        "instId": venue.to_id[order.symbol],
        "algoId": order.id,
        "algoClOrdId": order.client_id,
        "clOrdId": order.client_id,
        "sz": order.quantity,
        "side": order.side,
        "ordType": "conditional",
        "state": {"open": "live", "filled": "effective", "canceled": "canceled"}[order.status],
        f"{side}TriggerPx": order.stop or "",
        f"{side}OrdPx": order.price or "-1",
        f"{other}TriggerPx": "",
        f"{other}OrdPx": "",
        "ordId": "",
        "cTime": str(NOW_MS),
    }


def install_okx(venue: Venue) -> None:
    http = venue.http

    def create(request: Request) -> tuple[int, Any]:
        form = request.form()
        order = venue.add(
            VenueOrder(
                id=venue.new_id(),
                client_id=form.get("clOrdId", ""),
                symbol=venue.by_id[form["instId"]],
                side=form["side"],
                kind="market" if form["ordType"] == "market" else "limit",
                quantity=form["sz"],
                price=form.get("px"),
            )
        )
        return _okx([{"ordId": order.id, "clOrdId": order.client_id, "sCode": "0", "sMsg": "", "tag": ""}])

    def create_oco(form: dict[str, str]) -> tuple[int, Any]:
        if venue.oco_reject is not None:
            code, message = venue.oco_reject
            venue.oco_reject = None
            return 200, {
                "code": "1",
                "msg": "",
                "data": [{"algoId": "", "sCode": str(code), "sMsg": message}],
            }
        symbol, side = venue.by_id[form["instId"]], form["side"]
        last = Decimal(venue.price(symbol))
        take_profit, stop = Decimal(form["tpTriggerPx"]), Decimal(form["slTriggerPx"])
        ordered = take_profit > last > stop if side == "sell" else take_profit < last < stop
        if not ordered:
            # OKX's codes for a take-profit trigger on the wrong side of the last price.
            code = "51279" if side == "sell" else "51277"
            message = "TP trigger price is on the wrong side of the last price"
            return 200, {"code": "1", "msg": "", "data": [{"algoId": "", "sCode": code, "sMsg": message}]}
        order = venue.add(
            VenueOrder(
                id=venue.new_id(),
                client_id=form.get("algoClOrdId", ""),
                symbol=symbol,
                side=side,
                kind="limit",
                quantity=form["sz"],
                price=None if form["tpOrdPx"] == "-1" else form["tpOrdPx"],
                stop=form["slTriggerPx"],
                take_profit_at=form["tpTriggerPx"],
                trigger=True,
                oco=True,
            )
        )
        return _okx([{"algoId": order.id, "algoClOrdId": order.client_id, "sCode": "0", "sMsg": ""}])

    def create_algo(request: Request) -> tuple[int, Any]:
        form = request.form()
        if form.get("ordType") == "oco":
            return create_oco(form)
        take_profit = "tpTriggerPx" in form
        prefix = "tp" if take_profit else "sl"
        order_price = form.get(f"{prefix}OrdPx")
        order = venue.add(
            VenueOrder(
                id=venue.new_id(),
                client_id=form.get("clOrdId", ""),
                symbol=venue.by_id[form["instId"]],
                side=form["side"],
                kind="market" if order_price == "-1" else "limit",
                quantity=form["sz"],
                price=None if order_price == "-1" else order_price,
                stop=form[f"{prefix}TriggerPx"],
                take_profit=take_profit,
                trigger=True,
            )
        )
        return _okx(
            [{"algoId": order.id, "algoClOrdId": order.client_id, "clOrdId": order.client_id, "sCode": "0"}]
        )

    def lookup(request: Request) -> tuple[int, Any]:
        query = request.query
        order = venue.find(order_id=query.get("ordId"), client_id=query.get("clOrdId"))
        if order is None or order.trigger:
            return _okx_missing()
        return _okx([_okx_order(venue, order)])

    def lookup_algo(request: Request) -> tuple[int, Any]:
        query = request.query
        order = venue.find(order_id=query.get("algoId"), client_id=query.get("algoClOrdId"))
        if order is None or not order.trigger:
            return _okx_missing()
        return _okx([_okx_algo(venue, order)])

    def cancel(request: Request) -> tuple[int, Any]:
        order = venue.find(order_id=request.form().get("ordId"))
        if order is None:
            return _okx_missing()
        order.status = "canceled"
        return _okx([{"ordId": order.id, "clOrdId": order.client_id, "sCode": "0", "sMsg": ""}])

    def cancel_algo(request: Request) -> tuple[int, Any]:
        order = venue.find(order_id=request.form().get("algoId"))
        if order is None:
            return _okx_missing()
        if order.oco and order.status != "open":
            failed = {"algoId": order.id, "sCode": "51401", "sMsg": "Order has been canceled or filled"}
            return 200, {"code": "1", "msg": "", "data": [failed]}
        order.status = "canceled"
        return _okx([{"algoId": order.id, "sCode": "0", "sMsg": ""}])

    def amend(request: Request) -> tuple[int, Any]:
        form = request.form()
        order = venue.find(order_id=form.get("ordId"))
        if order is None:
            return _okx_missing()
        order.quantity = form.get("newSz", order.quantity)
        order.price = form.get("newPx", order.price)
        return _okx([{"ordId": order.id, "clOrdId": order.client_id, "reqId": "", "sCode": "0"}])

    def pending(request: Request) -> tuple[int, Any]:
        return _okx([_okx_order(venue, o) for o in venue.orders if o.status == "open" and not o.trigger])

    def pending_algo(request: Request) -> tuple[int, Any]:
        kind = request.query.get("ordType")
        if kind not in ("conditional", "oco"):
            return _okx([])
        return _okx(
            [
                _okx_algo(venue, o)
                for o in venue.orders
                if o.status == "open" and o.trigger and o.oco == (kind == "oco")
            ]
        )

    def balance(request: Request) -> tuple[int, Any]:
        details = [
            {
                "ccy": asset,
                "availBal": free,
                "frozenBal": used,
                "cashBal": str(Decimal(free) + Decimal(used)),
                "eq": str(Decimal(free) + Decimal(used)),
                "uTime": str(NOW_MS),
            }
            for asset, (free, used) in venue.balances.items()
        ]
        return _okx([{"details": details, "totalEq": "0", "uTime": str(NOW_MS)}])

    def ticker(request: Request) -> tuple[int, Any]:
        price = venue.price(venue.by_id[request.query["instId"]])
        return _okx(
            [
                {
                    "instId": request.query["instId"],
                    "last": price,
                    "bidPx": price,
                    "askPx": price,
                    "ts": str(NOW_MS),
                }
            ]
        )

    def config(request: Request) -> tuple[int, Any]:
        granted = (
            ["read_only"]
            + (["trade"] if venue.can_trade else [])
            + (["withdraw"] if venue.can_withdraw else [])
        )
        return _okx(
            [{"uid": "1", "perm": ",".join(granted), "ip": "203.0.113.7" if venue.ip_restricted else ""}]
        )

    http.answer("POST", "/api/v5/trade/batch-orders", create)
    http.answer("POST", "/api/v5/trade/order-algo", create_algo)
    http.answer("GET", "/api/v5/trade/order", lookup)
    http.answer("GET", "/api/v5/trade/order-algo", lookup_algo)
    http.answer("POST", "/api/v5/trade/cancel-order", cancel)
    http.answer("POST", "/api/v5/trade/cancel-algos", cancel_algo)
    http.answer("POST", "/api/v5/trade/amend-order", amend)
    http.answer("GET", "/api/v5/trade/orders-pending", pending)
    http.answer("GET", "/api/v5/trade/orders-algo-pending", pending_algo)
    http.answer("GET", "/api/v5/account/balance", balance)
    http.answer("GET", "/api/v5/account/config", config)
    http.answer("GET", "/api/v5/market/ticker", ticker)
    http.answer(
        "GET",
        "/api/v5/market/books",
        lambda r: _okx(
            [
                {
                    "asks": [["43000.2", "0.25", "0", "1"]],
                    "bids": [["43000", "0.5", "0", "1"]],
                    "ts": str(NOW_MS),
                }
            ]
        ),
    )
    http.answer("GET", "/api/v5/trade/fills-history", lambda r: _okx([]))


INSTALLERS = {
    "binance": install_binance,
    "mexc": lambda venue: install_binance(venue, mexc=True),
    "bybit": install_bybit,
    "okx": install_okx,
}


def venue(http: FakeExchangeHttp, exchange_id: str) -> Venue:
    """A fake exchange answering on ``http``."""
    created = Venue(exchange_id, http)
    INSTALLERS[exchange_id](created)
    return created


class FakeExchanges:
    """One fake venue per exchange; ``install`` gives each new ccxt client its exchange's venue."""

    def __init__(self) -> None:
        self.http: dict[str, FakeExchangeHttp] = {}
        self.venues: dict[str, Venue] = {}
        for exchange_id in INSTALLERS:
            self.http[exchange_id] = FakeExchangeHttp()
            self.venues[exchange_id] = venue(self.http[exchange_id], exchange_id)

    def install(self, client: Any) -> None:
        self.http[client.id].install(client)

    def requests(self) -> list[Request]:
        return [request for http in self.http.values() for request in http.requests]
