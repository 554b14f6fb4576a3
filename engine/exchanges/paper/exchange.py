"""The PAPER exchange: a simulator with real recorded prices and exact balances.

Market orders fill at once at the current price moved against the trader by
the configured slippage, rounded to the tick away from the trader. Fees are
charged in the quote asset (USDT) on both sides, so holdings stay whole
multiples of the market's step.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from engine.common.clock import Clock
from engine.common.money import ZERO, ceil_to_step, floor_to_step
from engine.errors import PermanentExchangeError, ValidationError
from engine.exchanges.models import (
    BalanceEntry,
    ExchangeOrder,
    ExchangeOrderState,
    ExchangeTrade,
    OrderBook,
    OrderBookLevel,
)
from engine.exchanges.paper.ledger import PaperBalance, PaperOrder
from engine.exchanges.paper.markets import PAPER_MARKETS
from engine.market.models import Market, Ticker
from engine.market.ports import PriceFeed
from engine.orders.models import OrderRequest, OrderSide, OrderType
from engine.uow import UnitOfWork, UnitOfWorkFactory

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PaperConfig:
    starting_balance: Decimal
    quote_asset: str = "USDT"
    slippage: Decimal = Decimal("0.0005")
    taker_fee: Decimal | None = None  # None: the market's own fee
    maker_fee: Decimal | None = None


class PaperExchange:
    """One simulator shared by every PAPER account; each account has its own books."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        prices: PriceFeed,
        clock: Clock,
        config: PaperConfig,
        markets: dict[str, Market] | None = None,
    ) -> None:
        self._uow = uow_factory
        self._prices = prices
        self._clock = clock
        self.config = config
        available = set(prices.symbols())
        self.markets = {
            symbol: market for symbol, market in (markets or PAPER_MARKETS).items() if symbol in available
        }
        self._locks: dict[uuid.UUID, asyncio.Lock] = {}

    def market(self, symbol: str) -> Market:
        market = self.markets.get(symbol)
        if market is None:
            raise ValidationError("SYMBOL_UNKNOWN", value=symbol, known=sorted(self.markets))
        return market

    def taker_fee(self, market: Market) -> Decimal:
        return self.config.taker_fee if self.config.taker_fee is not None else market.taker_fee

    async def fetch_ticker(self, symbol: str) -> Ticker:
        """The feed's last price, with bid and ask where a market order would fill."""
        market = self.market(symbol)
        ticker = await self._prices.fetch_ticker(symbol)
        return Ticker(
            symbol=symbol,
            last=ticker.last,
            timestamp=ticker.timestamp,
            bid=self.execution_price(market, OrderSide.SELL, ticker.last),
            ask=self.execution_price(market, OrderSide.BUY, ticker.last),
        )

    async def fetch_order_book(self, symbol: str, limit: int) -> OrderBook:
        """A synthetic book around the replayed price: the best levels sit where market orders fill.

        Each level holds the quantity the recorded candle traded; deeper levels
        step one slippage further away.
        """
        market = self.market(symbol)
        ticker = await self._prices.fetch_ticker(symbol)
        candle_volume = self._candle_volume(symbol)
        bids, asks = [], []
        for depth in range(1, limit + 1):
            away = self.config.slippage * depth
            bids.append(
                OrderBookLevel(floor_to_step(ticker.last * (1 - away), market.price_step), candle_volume)
            )
            asks.append(
                OrderBookLevel(ceil_to_step(ticker.last * (1 + away), market.price_step), candle_volume)
            )
        return OrderBook(symbol=symbol, bids=tuple(bids), asks=tuple(asks), timestamp=ticker.timestamp)

    def _candle_volume(self, symbol: str) -> Decimal:
        current_candle = getattr(self._prices, "current_candle", None)
        if current_candle is None:
            return Decimal("1000000")  # live feeds have no candle volume: an effectively deep book
        volume = current_candle(symbol).volume
        return volume if volume > ZERO else self.market(symbol).min_amount

    def opening_balances(self) -> list[PaperBalance]:
        """Balances a new PAPER account starts with."""
        return [PaperBalance(asset=self.config.quote_asset, free=self.config.starting_balance)]

    async def fetch_balance(self, account_id: uuid.UUID) -> dict[str, BalanceEntry]:
        async with self._uow(read_only=True) as uow:
            balances = await uow.paper.get_balances(account_id)
        return {
            asset: BalanceEntry(asset=asset, free=balance.free, used=balance.locked)
            for asset, balance in balances.items()
        }

    async def fetch_balances(
        self, account_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, dict[str, BalanceEntry]]:
        """Balances of many accounts in one read (the risk scan values every user at once)."""
        async with self._uow(read_only=True) as uow:
            books = await uow.paper.get_balances_many(account_ids)
        return {
            account_id: {
                asset: BalanceEntry(asset=asset, free=balance.free, used=balance.locked)
                for asset, balance in balances.items()
            }
            for account_id, balances in books.items()
        }

    def execution_price(self, market: Market, side: OrderSide, last: Decimal) -> Decimal:
        """Apply slippage against the trader and round to the tick away from them."""
        if side is OrderSide.BUY:
            return ceil_to_step(last * (1 + self.config.slippage), market.price_step)
        return floor_to_step(last * (1 - self.config.slippage), market.price_step)

    async def create_order(self, account_id: uuid.UUID, request: OrderRequest) -> ExchangeOrder:
        market = self.market(request.symbol)
        if request.type is not OrderType.MARKET:
            # TODO: resting order types (limit, stop, take-profit) and their matching.
            raise PermanentExchangeError(
                f"PAPER does not accept {request.type} orders yet", reason="ORDER_TYPE_UNSUPPORTED"
            )
        if request.client_order_id is None:
            raise ValueError("create_order needs a client_order_id")

        async with self._lock(account_id):
            ticker = await self._prices.fetch_ticker(request.symbol)
            async with self._uow() as uow:
                if await uow.paper.get_order(account_id, client_order_id=request.client_order_id):
                    raise PermanentExchangeError(
                        "duplicate client order id", reason="DUPLICATE_CLIENT_ORDER_ID"
                    )
                order = await self._fill_market(uow, account_id, market, request, ticker.last)
                await uow.commit()

        logger.info(
            "PAPER filled %s %s %s at %s for account %s (client order %s)",
            request.side,
            order.filled_quantity,
            request.symbol,
            order.average_price,
            account_id,
            request.client_order_id,
        )
        return _to_exchange_order(order)

    async def _fill_market(
        self,
        uow: UnitOfWork,
        account_id: uuid.UUID,
        market: Market,
        request: OrderRequest,
        last: Decimal,
    ) -> PaperOrder:
        price = self.execution_price(market, request.side, last)
        quantity = request.quantity
        cost = quantity * price
        fee = cost * self.taker_fee(market)

        balances = await uow.paper.get_balances(account_id, for_update=True)
        base = balances.get(market.base) or PaperBalance(asset=market.base)
        quote = balances.get(market.quote) or PaperBalance(asset=market.quote)

        if request.side is OrderSide.BUY:
            _require(quote, cost + fee)
            quote.free -= cost + fee
            base.free += quantity
        else:
            _require(base, quantity)
            base.free -= quantity
            quote.free += cost - fee

        now = self._clock.now()
        exchange_order_id = f"paper-{uuid.uuid4().hex[:20]}"
        trade = ExchangeTrade(
            trade_id=f"paper-t-{uuid.uuid4().hex[:18]}",
            exchange_order_id=exchange_order_id,
            symbol=market.symbol,
            side=request.side,
            price=price,
            quantity=quantity,
            fee=fee,
            fee_asset=market.quote,
            is_maker=False,
            executed_at=now,
        )
        order = PaperOrder(
            exchange_order_id=exchange_order_id,
            account_id=account_id,
            client_order_id=request.client_order_id,
            symbol=market.symbol,
            side=request.side,
            type=request.type,
            state=ExchangeOrderState.CLOSED,
            quantity=quantity,
            created_at=now,
            updated_at=now,
            time_in_force=request.time_in_force,
            filled_quantity=quantity,
            average_price=price,
            fee=fee,
            fee_asset=market.quote,
            trades=[trade],
        )

        await uow.paper.save_balance(account_id, base)
        await uow.paper.save_balance(account_id, quote)
        await uow.paper.add_order(order)
        await uow.paper.add_trade(account_id, trade)
        return order

    async def fetch_order(
        self,
        account_id: uuid.UUID,
        *,
        exchange_order_id: str | None = None,
        client_order_id: str | None = None,
    ) -> ExchangeOrder | None:
        async with self._uow(read_only=True) as uow:
            order = await uow.paper.get_order(
                account_id, exchange_order_id=exchange_order_id, client_order_id=client_order_id
            )
        return _to_exchange_order(order) if order else None

    async def fetch_open_orders(self, account_id: uuid.UUID, symbol: str | None) -> list[ExchangeOrder]:
        async with self._uow(read_only=True) as uow:
            orders = await uow.paper.list_open_orders(account_id, symbol)
        return [_to_exchange_order(order) for order in orders]

    async def fetch_my_trades(
        self, account_id: uuid.UUID, symbol: str, since: datetime | None
    ) -> list[ExchangeTrade]:
        async with self._uow(read_only=True) as uow:
            return await uow.paper.list_trades(account_id, symbol, since)

    def _lock(self, account_id: uuid.UUID) -> asyncio.Lock:
        lock = self._locks.get(account_id)
        if lock is None:
            lock = self._locks[account_id] = asyncio.Lock()
        return lock


def _require(balance: PaperBalance, amount: Decimal) -> None:
    if balance.free < amount:
        raise PermanentExchangeError(
            f"insufficient {balance.asset}: need {amount}, free {balance.free}",
            reason="INSUFFICIENT_FUNDS",
            asset=balance.asset,
            required=amount,
            available=balance.free,
        )


def _to_exchange_order(order: PaperOrder) -> ExchangeOrder:
    return ExchangeOrder(
        exchange_order_id=order.exchange_order_id,
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.side,
        type=order.type,
        state=order.state,
        quantity=order.quantity,
        filled_quantity=order.filled_quantity,
        created_at=order.created_at,
        price=order.price,
        stop_price=order.stop_price,
        average_price=order.average_price,
        fee=order.fee if order.fee else ZERO,
        fee_asset=order.fee_asset,
        reason=order.reason,
        trades=tuple(order.trades),
    )
