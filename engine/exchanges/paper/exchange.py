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
- stop and take-profit orders fire on the last price;
- an OCO pair of a limit and a stop-market shares one lock, and the first
  leg the price reaches cancels the other (see ``oco``).

``match`` walks each open order along the replayed price path from the moment
it was last matched to now. The state lives in the database and the path is a
function of the clock, so a late or repeated run finds every crossing once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal

from engine.errors import PermanentExchangeError
from engine.exchanges.models import ExchangeOrder, ExchangeOrderState
from engine.exchanges.paper.execution import (
    AccountBooks,
    is_market_like,
    lock_needed,
    locked_asset,
)
from engine.exchanges.paper.ledger import PaperOrder
from engine.exchanges.paper.matching import match_along, take_now
from engine.exchanges.paper.oco import amend_stop, check_pair, match_pair, place_pair
from engine.exchanges.paper.reader import PaperConfig, PaperReader
from engine.exchanges.paper.records import (
    amend,
    check_request,
    new_order,
    reject_if_firing,
    save,
    to_exchange_order,
)
from engine.market.models import Candle, Market
from engine.market.path import PathStep
from engine.orders.models import OrderRequest, OrderType
from engine.uow import UnitOfWork

logger = logging.getLogger(__name__)

__all__ = ["PaperConfig", "PaperExchange"]


StepsByStart = dict[tuple[str, datetime], list[PathStep]]


class PaperExchange(PaperReader):
    """One simulator shared by every PAPER account; each account has its own books."""

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
                balances = await uow.paper.get_balances_for_new_order(account_id, request.client_order_id)
                if balances is None:
                    raise PermanentExchangeError(
                        "duplicate client order id", reason="DUPLICATE_CLIENT_ORDER_ID"
                    )
                books = AccountBooks(balances)
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

    async def create_oco(
        self, account_id: uuid.UUID, limit: OrderRequest, stop: OrderRequest
    ) -> tuple[ExchangeOrder, ExchangeOrder]:
        """Place a limit and a stop-market that share one quantity (see ``engine.exchanges.paper.oco``)."""
        market = self.market(limit.symbol)
        if limit.client_order_id is None or stop.client_order_id is None:
            raise ValueError("create_oco needs a client_order_id on both legs")
        check_request(limit)
        check_request(stop)
        check_pair(limit, stop)

        async with self._lock(account_id):
            ticker = await self._prices.fetch_ticker(limit.symbol)
            now = self._clock.now()
            candle = self._path.current_candle(limit.symbol, ticker.last, now)
            async with self._uow() as uow:
                for request in (limit, stop):
                    if await uow.paper.get_order(account_id, client_order_id=request.client_order_id):
                        raise PermanentExchangeError(
                            "duplicate client order id", reason="DUPLICATE_CLIENT_ORDER_ID"
                        )
                books = AccountBooks(await uow.paper.get_balances(account_id, for_update=True))
                limit_order, stop_order = new_order(account_id, limit, now), new_order(account_id, stop, now)
                limit_order.oco_with = stop_order.exchange_order_id
                stop_order.oco_with = limit_order.exchange_order_id
                place_pair(
                    limit_order,
                    stop_order,
                    market,
                    books,
                    self.terms(market),
                    last=ticker.last,
                    candle=candle,
                    at=now,
                )
                await uow.paper.add_order(limit_order)
                await uow.paper.add_order(stop_order)
                await save(uow, account_id, books, [limit_order, stop_order], {})
                await uow.commit()

        logger.info(
            "PAPER OCO %s + %s: %s %s %s limit %s stop %s for account %s",
            limit_order.exchange_order_id,
            stop_order.exchange_order_id,
            limit.side,
            limit.quantity,
            limit.symbol,
            limit.price,
            stop.stop_price,
            account_id,
        )
        return to_exchange_order(limit_order), to_exchange_order(stop_order)

    async def cancel_order(self, account_id: uuid.UUID, exchange_order_id: str) -> ExchangeOrder:
        """Cancel an open order (and its OCO partner) after matching it up to now, so earlier fills stay."""
        async with self._lock(account_id):
            now = self._clock.now()
            orders, steps = await self._open_order_with_steps(account_id, exchange_order_id, now)
            async with self._uow() as uow:
                books = AccountBooks(await uow.paper.get_balances(account_id, for_update=True))
                known = {order.exchange_order_id: len(order.trades) for order in orders}
                self._match_orders(orders, books, steps, now)
                for order in orders:
                    if order.is_open:
                        books.release(order, locked_asset(order, self.market(order.symbol)))
                        order.state = ExchangeOrderState.CANCELED
                        order.updated_at = now
                await save(uow, account_id, books, orders, known)
                await uow.commit()
        order = orders[0]
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
            orders, steps = await self._open_order_with_steps(account_id, exchange_order_id, now)
            order = orders[0]
            market = self.market(order.symbol)
            ticker = await self._prices.fetch_ticker(order.symbol)
            candle = self._path.current_candle(order.symbol, ticker.last, now)
            async with self._uow() as uow:
                books = AccountBooks(await uow.paper.get_balances(account_id, for_update=True))
                known = {item.exchange_order_id: len(item.trades) for item in orders}
                self._match_orders(orders, books, steps, now)
                if not order.is_open:
                    raise PermanentExchangeError("order is no longer open", reason="ORDER_NOT_FOUND")
                if len(orders) > 1:
                    self._amend_oco_leg(
                        order, orders[1], market, books, quantity, price, stop_price, ticker.last
                    )
                else:
                    amend(order, quantity, price, stop_price)
                    books.release(order, locked_asset(order, market))
                    self._replace(order, market, books, ticker.last, candle, now)
                order.updated_at = now
                await save(uow, account_id, books, orders, known)
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

    def _amend_oco_leg(
        self,
        order: PaperOrder,
        partner: PaperOrder,
        market: Market,
        books: AccountBooks,
        quantity: Decimal | None,
        price: Decimal | None,
        stop_price: Decimal | None,
        last: Decimal,
    ) -> None:
        if quantity is not None or price is not None or stop_price is None or not order.type.needs_stop_price:
            raise PermanentExchangeError(
                "only the stop price of an OCO's stop leg can change in place", reason="INVALID_ORDER"
            )
        amend_stop(order, partner, market, books, self.terms(market), stop_price=stop_price, last=last)

    async def _open_order_with_steps(
        self, account_id: uuid.UUID, exchange_order_id: str, now: datetime
    ) -> tuple[list[PaperOrder], StepsByStart]:
        """Return the open order first, then its open OCO partner if it has one, with their path."""
        async with self._uow(read_only=True) as uow:
            order = await uow.paper.get_order(account_id, exchange_order_id=exchange_order_id)
            partner = None
            if order is not None and order.oco_with is not None:
                partner = await uow.paper.get_order(account_id, exchange_order_id=order.oco_with)
        if order is None or not order.is_open:
            raise PermanentExchangeError("unknown or closed order", reason="ORDER_NOT_FOUND")
        orders = [order] if partner is None or not partner.is_open else [order, partner]
        return orders, await self._steps_for(orders, now)

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
        changed: list[PaperOrder] = []
        by_id = {order.exchange_order_id: order for order in orders}
        done: set[str] = set()
        for order in sorted(orders, key=lambda item: item.created_at):
            if order.exchange_order_id in done:
                continue
            market = self.markets.get(order.symbol)
            start = order.matched_until or order.created_at
            path = steps.get((order.symbol, start))
            if market is None or path is None:
                continue
            partner = by_id.get(order.oco_with or "")
            if partner is not None and partner.is_open:
                # An OCO's legs are walked together, so the first leg the price reaches decides.
                done.add(partner.exchange_order_id)
                limit, stop = (order, partner) if order.type is OrderType.LIMIT else (partner, order)
                if match_pair(limit, stop, market, books, self.terms(market), path):
                    changed.extend((limit, stop))
                limit.matched_until = stop.matched_until = now
                continue
            if match_along(order, market, books, self.terms(market), path):
                changed.append(order)
            order.matched_until = now
        return changed

    def _lock(self, account_id: uuid.UUID) -> asyncio.Lock:
        lock = self._locks.get(account_id)
        if lock is None:
            lock = self._locks[account_id] = asyncio.Lock()
        return lock
