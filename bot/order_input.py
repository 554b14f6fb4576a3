"""Parsing what traders type: order quick forms, quantities as percentages, /orders filters.

Syntax errors raise ValidationError or InvalidNumberError naming the value,
so the error handler replies with the fix. A wrong number of arguments
returns None and the handler shows the usage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from engine.common.money import parse_positive_decimal
from engine.errors import ValidationError
from engine.market.symbols import normalize_symbol
from engine.orders.models import OrderSide, OrderStatus, OrderType, TimeInForce

HUNDRED = Decimal(100)

TYPE_NAMES: dict[str, OrderType] = {
    "market": OrderType.MARKET,
    "limit": OrderType.LIMIT,
    "stop": OrderType.STOP_MARKET,
    "stop_market": OrderType.STOP_MARKET,
    "stop_limit": OrderType.STOP_LIMIT,
    "tp": OrderType.TAKE_PROFIT,
    "take_profit": OrderType.TAKE_PROFIT,
    "tp_limit": OrderType.TAKE_PROFIT_LIMIT,
    "take_profit_limit": OrderType.TAKE_PROFIT_LIMIT,
}
SIDE_NAMES = {"buy": OrderSide.BUY, "sell": OrderSide.SELL}
STATUS_FILTERS: dict[str, frozenset[OrderStatus] | None] = {
    "open": frozenset({OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED}),
    "pending": frozenset({OrderStatus.PENDING}),
    "filled": frozenset({OrderStatus.FILLED}),
    "cancelled": frozenset({OrderStatus.CANCELLED}),
    "canceled": frozenset({OrderStatus.CANCELLED}),
    "rejected": frozenset({OrderStatus.REJECTED}),
    "all": None,
}
_OPTION = re.compile(r"^([a-z_]+)=(.*)$")
_FLAGS = {"reduce", "post"}


@dataclass(frozen=True)
class QuantityInput:
    """A quantity as typed: an amount of the base asset, or a share of the available balance."""

    amount: Decimal | None = None
    share: Decimal | None = None  # 0 < share <= 1
    text: str = ""


@dataclass(frozen=True)
class OrderForm:
    symbol: str
    side: OrderSide
    type: OrderType
    quantity: QuantityInput
    price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    post_only: bool = False
    account: str | None = None
    client_order_id: str | None = None


def parse_quantity(text: str) -> QuantityInput:
    """``0.01`` is an amount; ``25%`` is a quarter of the available balance."""
    cleaned = text.strip()
    if not cleaned.endswith("%"):
        return QuantityInput(amount=parse_positive_decimal(cleaned, field="quantity"), text=cleaned)
    percent = parse_positive_decimal(cleaned[:-1].strip(), field="percent")
    if percent > HUNDRED:
        raise ValidationError("PERCENT_TOO_LARGE", value=cleaned)
    return QuantityInput(share=percent / HUNDRED, text=cleaned)


def parse_side(text: str) -> OrderSide:
    side = SIDE_NAMES.get(text.lower())
    if side is None:
        raise ValidationError("SIDE_INVALID", value=text[:20])
    return side


def parse_type(text: str) -> OrderType:
    order_type = TYPE_NAMES.get(text.lower().replace("-", "_"))
    if order_type is None:
        raise ValidationError("ORDER_TYPE_INVALID", value=text[:30])
    return order_type


def parse_time_in_force(text: str) -> TimeInForce:
    try:
        return TimeInForce(text.upper())
    except ValueError as exc:
        raise ValidationError("TIF_INVALID", value=text[:10]) from exc


def parse_quick_order(side: OrderSide, arguments: str | None) -> OrderForm | None:
    """``SYMBOL QUANTITY [PRICE]``: a market order, or a limit order when a price is given."""
    parts = (arguments or "").split()
    if len(parts) not in (2, 3):
        return None
    price = parse_positive_decimal(parts[2], field="price") if len(parts) == 3 else None
    return OrderForm(
        symbol=normalize_symbol(parts[0]),
        side=side,
        type=OrderType.LIMIT if price is not None else OrderType.MARKET,
        quantity=parse_quantity(parts[1]),
        price=price,
    )


def parse_order_command(arguments: str) -> OrderForm | None:
    """``SYMBOL SIDE TYPE QTY [price=…] [stop=…] [tif=…] [reduce] [post] [account=…] [id=…]``."""
    parts = arguments.split()
    if len(parts) < 4:
        return None
    symbol, side, order_type, quantity = parts[:4]
    options = _options(parts[4:])
    return OrderForm(
        symbol=normalize_symbol(symbol),
        side=parse_side(side),
        type=parse_type(order_type),
        quantity=parse_quantity(quantity),
        price=_price(options, "price"),
        stop_price=_price(options, "stop"),
        time_in_force=parse_time_in_force(options["tif"]) if "tif" in options else TimeInForce.GTC,
        reduce_only="reduce" in options,
        post_only="post" in options,
        account=options.get("account"),
        client_order_id=options.get("id"),
    )


def parse_modify_options(tokens: list[str]) -> dict[str, Decimal]:
    """``price=…``, ``qty=…`` and ``stop=…`` of /modify, as new values."""
    options = _options(tokens, allowed=("price", "qty", "quantity", "stop"))
    values = {}
    for key, name in (
        ("price", "price"),
        ("qty", "quantity"),
        ("quantity", "quantity"),
        ("stop", "stop_price"),
    ):
        if key in options:
            values[name] = parse_positive_decimal(options[key], field=name)
    return values


def _options(tokens: list[str], allowed: tuple[str, ...] | None = None) -> dict[str, str]:
    known = allowed or ("price", "stop", "tif", "account", "id")
    options: dict[str, str] = {}
    for token in tokens:
        lowered = token.lower()
        match = _OPTION.match(lowered)
        if allowed is None and lowered in _FLAGS:
            key, value = lowered, ""
        elif match is not None and match.group(1) in known:
            key = match.group(1)
            value = token[len(key) + 1 :]  # keep the case of ids and account names
        else:
            raise ValidationError("ORDER_OPTION_UNKNOWN", value=token[:40])
        if key in options:
            raise ValidationError("ORDER_OPTION_REPEATED", value=key)
        options[key] = value
    return options


def _price(options: dict[str, str], key: str) -> Decimal | None:
    if key not in options:
        return None
    return parse_positive_decimal(options[key], field="price" if key == "price" else "stop_price")


@dataclass(frozen=True)
class ListFilter:
    """The /orders filter as typed; ``status`` is a key of STATUS_FILTERS."""

    status: str = "open"
    symbol: str | None = None
    side: OrderSide | None = None
    account: str | None = None
    since: date | None = None
    until: date | None = None

    def window(self) -> tuple[datetime | None, datetime | None]:
        """Return the date range as UTC instants; ``until`` includes its whole day."""
        since = datetime.combine(self.since, datetime.min.time(), UTC) if self.since else None
        until = (
            datetime.combine(self.until, datetime.min.time(), UTC) + timedelta(days=1) if self.until else None
        )
        return since, until


def parse_list_filter(arguments: str | None) -> ListFilter:
    """Parse ``[open|all|filled|cancelled|rejected|pending] [SYMBOL] [buy|sell]``
    ``[account=…] [from=DATE] [to=DATE]``, in any order."""
    status, symbol, side = "open", None, None
    account, since, until = None, None, None
    for token in (arguments or "").split():
        lowered = token.lower()
        if lowered in STATUS_FILTERS:
            status = lowered
        elif lowered in SIDE_NAMES:
            side = SIDE_NAMES[lowered]
        elif lowered.startswith("account="):
            account = token[len("account=") :]
        elif lowered.startswith(("from=", "to=")):
            key, _, value = lowered.partition("=")
            parsed = _date(value)
            since, until = (parsed, until) if key == "from" else (since, parsed)
        else:
            symbol = normalize_symbol(token)
    if since is not None and until is not None and until < since:
        raise ValidationError("DATE_RANGE_INVALID", since=since.isoformat(), until=until.isoformat())
    return ListFilter(status=status, symbol=symbol, side=side, account=account, since=since, until=until)


_INTERVAL = re.compile(r"^([0-9]{1,6})(s|m|h)?$")
_INTERVAL_UNITS = {"s": 1, "m": 60, "h": 3600}


def parse_slices(text: str) -> int:
    if not text.isdigit():
        raise ValidationError("TWAP_SLICES_INVALID", value=text[:20])
    return int(text)


def parse_interval(text: str) -> int:
    """Seconds from ``90``, ``90s``, ``5m`` or ``1h``."""
    match = _INTERVAL.match(text.strip().lower())
    if match is None:
        raise ValidationError("TWAP_INTERVAL_INVALID", value=text[:20])
    return int(match.group(1)) * _INTERVAL_UNITS[match.group(2) or "s"]


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValidationError("DATE_INVALID", value=text[:20]) from exc
