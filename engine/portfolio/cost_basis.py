"""Average-cost positions and realized PnL replayed from fills, in exact Decimal.

Spot positions are long only. A buy adds its quantity and its cost, fee
included; a sell is a trade: it reduces the position, and its realized PnL
is the proceeds after the fee minus the average cost of the quantity sold.
A sell of more than the fills ever bought closes what they bought and leaves
the rest out of the PnL, because its cost is unknown (coins deposited from
outside, for example).

Fees in the quote asset count in full. A fee in the base asset shrinks the
bought quantity (buys) or is valued at the fill price (sells).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from engine.common.money import ZERO
from engine.orders.models import OrderSide


@dataclass(frozen=True)
class TradeFill:
    """One fill with the order facts needed to book it."""

    account_id: uuid.UUID
    symbol: str
    side: OrderSide
    price: Decimal
    quantity: Decimal
    fee: Decimal
    fee_asset: str
    executed_at: datetime


@dataclass(frozen=True)
class ClosedTrade:
    """A reduction of a position: the quantity sold, its average entry and the PnL it realized."""

    account_id: uuid.UUID
    symbol: str
    quantity: Decimal
    entry_price: Decimal
    exit_price: Decimal
    realized_pnl: Decimal
    closed_at: datetime


@dataclass
class CostBasis:
    """An open position's quantity and total cost (fees included)."""

    quantity: Decimal = ZERO
    cost: Decimal = ZERO
    realized_pnl: Decimal = ZERO

    @property
    def average_price(self) -> Decimal | None:
        return self.cost / self.quantity if self.quantity > ZERO else None


PositionKey = tuple[uuid.UUID, str]


def book_fills(fills: Iterable[TradeFill]) -> tuple[dict[PositionKey, CostBasis], list[ClosedTrade]]:
    """Replay fills in time order; return the cost basis per (account, symbol) and the closed trades."""
    books: dict[PositionKey, CostBasis] = {}
    trades: list[ClosedTrade] = []
    for fill in sorted(fills, key=lambda f: f.executed_at):
        book = books.setdefault((fill.account_id, fill.symbol), CostBasis())
        if fill.side is OrderSide.BUY:
            _buy(book, fill)
            continue
        trade = _sell(book, fill)
        if trade is not None:
            trades.append(trade)
    return books, trades


def _assets(symbol: str) -> tuple[str, str]:
    base, _, quote = symbol.partition("/")
    return base, quote


def _buy(book: CostBasis, fill: TradeFill) -> None:
    base, quote = _assets(fill.symbol)
    cost = fill.quantity * fill.price
    quantity = fill.quantity
    if fill.fee_asset == quote:
        cost += fill.fee
    elif fill.fee_asset == base:
        quantity -= fill.fee
    # NOTE: a fee paid in a third asset (BNB on Binance) is left out of the cost.
    book.quantity += quantity
    book.cost += cost


def _sell(book: CostBasis, fill: TradeFill) -> ClosedTrade | None:
    average = book.average_price
    if average is None:
        return None  # nothing bought through PATRIOT: the cost of what was sold is unknown
    base, quote = _assets(fill.symbol)
    sold = min(fill.quantity, book.quantity)
    fee_value = (
        fill.fee if fill.fee_asset == quote else fill.fee * fill.price if fill.fee_asset == base else ZERO
    )
    fee_share = fee_value * sold / fill.quantity
    realized = sold * fill.price - fee_share - sold * average

    book.cost -= sold * average
    book.quantity -= sold
    book.realized_pnl += realized
    if book.quantity == ZERO:
        book.cost = ZERO
    return ClosedTrade(
        account_id=fill.account_id,
        symbol=fill.symbol,
        quantity=sold,
        entry_price=average,
        exit_price=fill.price,
        realized_pnl=realized,
        closed_at=fill.executed_at,
    )
