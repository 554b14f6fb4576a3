"""The PAPER exchange: a simulator with real recorded prices and exact balances.

Every order type rests, triggers and fills as on a spot exchange:

- market orders (and stops once they fire) take from a synthetic book around
  the current price (see ``execution``), so a large order pays more per unit;
- a limit order takes what the book offers within its price at once. The
  rest (GTC) rests with its balance locked and fills at its own price as
  maker when the replayed price reaches it, at most the configured share of
  each recorded candle's volume, so a large order fills in parts;
- IOC cancels what it cannot fill at once, FOK fills all or nothing, and a
  post-only order that would take is refused;
- stop and take-profit orders fire on the last price.

``match`` walks each open order along the replayed price path from the moment
it was last matched to now. The state lives in the database and the path is a
function of the clock, so a late or repeated run finds every crossing once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import islice

from engine.common.clock import Clock
from engine.errors import PermanentExchangeError, ValidationError
from engine.exchanges.models import BalanceEntry, ExchangeOrder, ExchangeOrderState, ExchangeTrade, OrderBook
from engine.exchanges.paper.execution import (
    AccountBooks,
    PaperTerms,
    is_market_like,
    level_price,
    level_size,
    lock_needed,
    locked_asset,
    synthetic_levels,
)
from engine.exchanges.paper.ledger import PaperBalance, PaperOrder
from engine.exchanges.paper.markets import PAPER_MARKETS
from engine.exchanges.paper.matching import match_along, take_now
from engine.exchanges.paper.prices import price_path_for
from engine.exchanges.paper.records import (
    amend,
    check_request,
    new_order,
    reject_if_firing,
    save,
    to_exchange_order,
)
from engine.market.models import Candle, Market, Ticker
from engine.market.path import PathStep
from engine.market.ports import PriceFeed
from engine.orders.models import OrderRequest, OrderSide
from engine.uow import UnitOfWork, UnitOfWorkFactory

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PaperConfig:
    starting_balance: Decimal
    quote_asset: str = "USDT"
    slippage: Decimal = Decimal("0.0005")
    taker_fee: Decimal | None = None  # None: the market's own fee
    maker_fee: Decimal | None = None
    # Share of a recorded candle's volume one order (or one book level) can fill.
    volume_share: Decimal = Decimal("0.1")
    buy_fee_in_base: bool = False


StepsByStart = dict[tuple[str, datetime], list[PathStep]]


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
        self._path = price_path_for(prices)
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

    def terms(self, market: Market) -> PaperTerms:
        config = self.config
        return PaperTerms(
            taker_fee=self.taker_fee(market),
            maker_fee=config.maker_fee if config.maker_fee is not None else market.maker_fee,
            slippage=config.slippage,
            buy_fee_in_base=config.buy_fee_in_base,
            volume_share=config.volume_share,
        )

    # ----- market data ---------------------------------------------------------------

    async def fetch_ticker(self, symbol: str) -> Ticker:
        """Return the feed's last price, with bid and ask where a market order would fill."""
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
        """Return the synthetic book that market orders fill against (see ``execution``)."""
        market = self.market(symbol)
        terms = self.terms(market)
        ticker = await self._prices.fetch_ticker(symbol)
        candle = self._path.current_candle(symbol, ticker.last, self._clock.now())
        size = level_size(market, candle.volume, terms)
        # A buyer meets the ask side of the book and a seller the bid side.
        asks = list(islice(synthetic_levels(market, OrderSide.BUY, ticker.last, terms, size), limit))
        bids = list(islice(synthetic_levels(market, OrderSide.SELL, ticker.last, terms, size), limit))
        return OrderBook(symbol=symbol, bids=tuple(bids), asks=tuple(asks), timestamp=ticker.timestamp)

    def execution_price(self, market: Market, side: OrderSide, last: Decimal) -> Decimal:
        """Return the best level a taker meets: slippage against the trader, rounded away from them."""
        return level_price(market, side, last, self.config.slippage, 1)

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
        """Return the balances of many accounts in one read (the risk scan values every user at once)."""
        async with self._uow(read_only=True) as uow:
            books = await uow.paper.get_balances_many(account_ids)
        entries: dict[uuid.UUID, dict[str, BalanceEntry]] = {}
        for index, (account_id, balances) in enumerate(books.items()):
            if index and index % 1000 == 0:
                await asyncio.sleep(0)  # a scan of many accounts gives the loop a turn
            entries[account_id] = {
                asset: BalanceEntry(asset, balance.free, balance.locked)
                for asset, balance in balances.items()
            }
        return entries

    # ----- orders --------------------------------------------------------------------

    async def create_order(
        self,
        account_id: uuid.UUID,
        request: OrderRequest,
        *,
        before: Callable[[UnitOfWork], Awaitable[None]] | None = None,
        after: Callable[[UnitOfWork, ExchangeOrder], Awaitable[None]] | None = None,
    ) -> ExchangeOrder:
        """Place and fill what the book offers now; ``before`` and ``after`` share its transaction.

        The callbacks let the order service store its own record of the order in
        the same transaction (see ``AtomicOrderGateway``).
        """
        market = self.market(request.symbol)
        if request.client_order_id is None:
            raise ValueError("create_order needs a client_order_id")
        check_request(request)

        async with self._lock(account_id):
            ticker = await self._prices.fetch_ticker(request.symbol)
            now = self._clock.now()
            candle = self._path.current_candle(request.symbol, ticker.last, now)
            async with self._uow() as uow:
                if before is not None:
                    await before(uow)
                if await uow.paper.get_order(account_id, client_order_id=request.client_order_id):
                    raise PermanentExchangeError(
                        "duplicate client order id", reason="DUPLICATE_CLIENT_ORDER_ID"
                    )
                books = AccountBooks(await uow.paper.get_balances(account_id, for_update=True))
                order = new_order(account_id, request, now)
                self._place(order, market, books, ticker.last, candle, now)
                # Stored once, in its state after placing: nothing saw it before.
                await uow.paper.add_order(order)
                await save(uow, account_id, books, [], {})
                for trade in order.trades:
                    await uow.paper.add_trade(account_id, trade)
                report = to_exchange_order(order)
                if after is not None:
                    await after(uow, report)
                await uow.commit()

        logger.info(
            "PAPER order %s %s: %s %s %s %s, filled %s at %s for account %s (client order %s)",
            order.exchange_order_id,
            order.state,
            request.type,
            request.side,
            request.quantity,
            request.symbol,
            order.filled_quantity,
            order.average_price,
            account_id,
            request.client_order_id,
        )
        return report

    def _place(
        self,
        order: PaperOrder,
        market: Market,
        books: AccountBooks,
        last: Decimal,
        candle: Candle,
        now: datetime,
    ) -> None:
        terms = self.terms(market)
        asset = locked_asset(order, market)
        if order.type.needs_stop_price:
            reject_if_firing(order, last)
            books.lock(order, asset, lock_needed(order, market, terms))
            return  # rests until the price reaches its stop
        if not is_market_like(order):
            books.lock(order, asset, lock_needed(order, market, terms))
        take_now(order, market, books, terms, last=last, candle=candle, at=now, placing=True)

    async def cancel_order(self, account_id: uuid.UUID, exchange_order_id: str) -> ExchangeOrder:
        """Cancel an open order after matching it up to now, so fills that already happened stay."""
        async with self._lock(account_id):
            now = self._clock.now()
            order, steps = await self._open_order_with_steps(account_id, exchange_order_id, now)
            async with self._uow() as uow:
                books = AccountBooks(await uow.paper.get_balances(account_id, for_update=True))
                known = {order.exchange_order_id: len(order.trades)}
                self._match_orders([order], books, steps, now)
                if order.is_open:
                    market = self.market(order.symbol)
                    books.release(order, locked_asset(order, market))
                    order.state = ExchangeOrderState.CANCELED
                    order.updated_at = now
                await save(uow, account_id, books, [order], known)
                await uow.commit()
        logger.info("PAPER order %s of account %s is %s", exchange_order_id, account_id, order.state)
        return to_exchange_order(order)

    async def edit_order(
        self,
        account_id: uuid.UUID,
        exchange_order_id: str,
        *,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> ExchangeOrder:
        """Amend an open order in place; the new quantity is the order's new total.

        The amended order is checked like a new one: it must not fire at once
        (stops), a post-only must not take, and the balance must cover it.
        """
        async with self._lock(account_id):
            now = self._clock.now()
            order, steps = await self._open_order_with_steps(account_id, exchange_order_id, now)
            market = self.market(order.symbol)
            ticker = await self._prices.fetch_ticker(order.symbol)
            candle = self._path.current_candle(order.symbol, ticker.last, now)
            async with self._uow() as uow:
                books = AccountBooks(await uow.paper.get_balances(account_id, for_update=True))
                known = {order.exchange_order_id: len(order.trades)}
                self._match_orders([order], books, steps, now)
                if not order.is_open:
                    raise PermanentExchangeError("order is no longer open", reason="ORDER_NOT_FOUND")
                amend(order, quantity, price, stop_price)
                books.release(order, locked_asset(order, market))
                self._replace(order, market, books, ticker.last, candle, now)
                order.updated_at = now
                await save(uow, account_id, books, [order], known)
                await uow.commit()
        logger.info("PAPER order %s of account %s amended", exchange_order_id, account_id)
        return to_exchange_order(order)

    def _replace(
        self,
        order: PaperOrder,
        market: Market,
        books: AccountBooks,
        last: Decimal,
        candle: Candle,
        now: datetime,
    ) -> None:
        """Check and lock an amended order as if it were new; a fired stop acts as its limit part."""
        if order.type.needs_stop_price and not order.triggered:
            self._place(order, market, books, last, candle, now)
            return
        terms = self.terms(market)
        books.lock(order, locked_asset(order, market), lock_needed(order, market, terms))
        take_now(order, market, books, terms, last=last, candle=candle, at=now, placing=True)

    async def _open_order_with_steps(
        self, account_id: uuid.UUID, exchange_order_id: str, now: datetime
    ) -> tuple[PaperOrder, StepsByStart]:
        async with self._uow(read_only=True) as uow:
            order = await uow.paper.get_order(account_id, exchange_order_id=exchange_order_id)
        if order is None or not order.is_open:
            raise PermanentExchangeError("unknown or closed order", reason="ORDER_NOT_FOUND")
        return order, await self._steps_for([order], now)

    # ----- matching ------------------------------------------------------------------

    async def match(self) -> list[tuple[uuid.UUID, ExchangeOrder]]:
        """Match every account's open orders up to now; return the orders that changed."""
        async with self._uow(read_only=True) as uow:
            accounts = await uow.paper.accounts_with_open_orders()
        changed: list[tuple[uuid.UUID, ExchangeOrder]] = []
        for account_id in accounts:
            for order in await self.match_account(account_id):
                changed.append((account_id, order))
        return changed

    async def match_account(self, account_id: uuid.UUID) -> list[ExchangeOrder]:
        async with self._lock(account_id):
            now = self._clock.now()
            async with self._uow(read_only=True) as uow:
                orders = await uow.paper.list_open_orders(account_id)
            if not orders:
                return []
            steps = await self._steps_for(orders, now)
            async with self._uow() as uow:
                # Re-read under the write transaction; the account lock keeps them as they were.
                orders = await uow.paper.list_open_orders(account_id)
                books = AccountBooks(await uow.paper.get_balances(account_id, for_update=True))
                known = {order.exchange_order_id: len(order.trades) for order in orders}
                changed = self._match_orders(orders, books, steps, now)
                await save(uow, account_id, books, orders, known)
                await uow.commit()
        for order in changed:
            logger.info(
                "PAPER matched order %s of account %s: %s, filled %s of %s",
                order.exchange_order_id,
                account_id,
                order.state,
                order.filled_quantity,
                order.quantity,
            )
        return [to_exchange_order(order) for order in changed]

    async def _steps_for(self, orders: list[PaperOrder], now: datetime) -> StepsByStart:
        starts = {(order.symbol, order.matched_until or order.created_at) for order in orders}
        return {
            (symbol, start): await self._path.steps(symbol, start, now)
            for symbol, start in starts
            if start < now and symbol in self.markets
        }

    def _match_orders(
        self, orders: list[PaperOrder], books: AccountBooks, steps: StepsByStart, now: datetime
    ) -> list[PaperOrder]:
        # NOTE: an account's orders are matched one after another, not interleaved
        # in time. They only interact when a fired stop-market buy needs free
        # balance beyond what it holds, and then the earlier-created order wins.
        changed = []
        for order in sorted(orders, key=lambda item: item.created_at):
            market = self.markets.get(order.symbol)
            start = order.matched_until or order.created_at
            path = steps.get((order.symbol, start))
            if market is None or path is None:
                continue
            if match_along(order, market, books, self.terms(market), path):
                changed.append(order)
            order.matched_until = now
        return changed

    # ----- queries -------------------------------------------------------------------

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
        return to_exchange_order(order) if order else None

    async def fetch_open_orders(self, account_id: uuid.UUID, symbol: str | None) -> list[ExchangeOrder]:
        async with self._uow(read_only=True) as uow:
            orders = await uow.paper.list_open_orders(account_id, symbol)
        return [to_exchange_order(order) for order in orders]

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
