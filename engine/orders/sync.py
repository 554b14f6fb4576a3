"""Keeping PATRIOT's orders in step with the exchanges: scheduled sync and start-up reconciliation.

One pass per account per interval: one ``fetch_open_orders`` call, then one
lookup for each order PATRIOT still records as PENDING or open that the list
does not contain (it filled, was cancelled, or was never accepted). A
temporary exchange error backs the account off, doubling the wait up to a
maximum. Nothing is ever sent again: a PENDING order the exchange does not
know is marked REJECTED only after enough lookups and enough time.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from engine.common.clock import Clock
from engine.errors import ExchangeError, IllegalTransitionError, TemporaryExchangeError
from engine.exchanges.models import ExchangeOrder
from engine.exchanges.paper.exchange import PaperExchange
from engine.exchanges.ports import ExchangeGateway, GatewayProvider
from engine.orders.lookup import fetch_known
from engine.orders.models import Order, OrderStatus
from engine.orders.service import OrderService
from engine.uow import UnitOfWorkFactory

logger = logging.getLogger(__name__)

LIVE_STATUSES = frozenset({OrderStatus.PENDING, OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED})
UNKNOWN_ORDER_REASON = "NOT_FOUND_ON_EXCHANGE"


@dataclass
class _AccountPace:
    last_pass: datetime | None = None
    failures: int = 0
    retry_at: datetime | None = None


class OrderSync:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        gateways: GatewayProvider,
        orders: OrderService,
        clock: Clock,
        *,
        paper: PaperExchange | None = None,
        interval: timedelta = timedelta(seconds=15),
        max_backoff: timedelta = timedelta(minutes=10),
        misses_before_reject: int = 5,
        unknown_after: timedelta = timedelta(minutes=5),
    ) -> None:
        self._uow = uow_factory
        self._gateways = gateways
        self._orders = orders
        self._clock = clock
        self._paper = paper
        self._interval = interval
        self._max_backoff = max_backoff
        self._misses_before_reject = misses_before_reject
        self._unknown_after = unknown_after
        self._pace: dict[uuid.UUID, _AccountPace] = {}

    async def match_paper(self) -> int:
        """Run PAPER's matching up to now and record every order it changed."""
        if self._paper is None:
            return 0
        changes = await self._paper.match()
        for account_id, report in changes:
            async with self._uow(read_only=True) as uow:
                order = await uow.orders.get_by_client_id(account_id, report.client_order_id)
            if order is None:
                logger.warning("PAPER order %s has no PATRIOT order", report.client_order_id)
                continue
            await self._record(order, report)
        return len(changes)

    async def run(self, *, force: bool = False) -> int:
        """Sync every account with PENDING or open orders that is due; return how many orders changed.

        ``force`` ignores the interval and any backoff (start-up reconciliation).
        """
        async with self._uow(read_only=True) as uow:
            owners = await uow.orders.accounts_with_status(LIVE_STATUSES)
        changed = 0
        for user_id, account_id in owners:
            pace = self._pace.setdefault(account_id, _AccountPace())
            now = self._clock.now()
            if not force and not _is_due(pace, now, self._interval):
                continue
            pace.last_pass = now
            try:
                changed += await self.sync_account(user_id, account_id)
            except ExchangeError as exc:
                self._back_off(account_id, pace, exc)
                continue
            pace.failures, pace.retry_at = 0, None
        return changed

    async def sync_account(self, user_id: uuid.UUID, account_id: uuid.UUID) -> int:
        async with self._uow(read_only=True) as uow:
            account = await uow.accounts.get_for_user(user_id, account_id)
            orders = await uow.orders.list_for_account(account_id, LIVE_STATUSES)
        if account is None or not orders:
            return 0
        if not account.is_usable:
            return 0  # paused (deactivated, or its key stopped working): synced again once it is re-checked
        gateway = await self._gateways.gateway_for(account)
        open_reports = await gateway.fetch_open_orders()
        by_client = {report.client_order_id: report for report in open_reports if report.client_order_id}
        by_exchange_id = {report.exchange_order_id: report for report in open_reports}

        changed = 0
        for order in orders:
            report = by_client.get(order.client_order_id)
            if report is None and order.exchange_order_id is not None:
                report = by_exchange_id.get(order.exchange_order_id)
            if report is None:
                report = await fetch_known(gateway, order)
            if report is None:
                await self._note_miss(order)
                continue
            report = await _with_trades(gateway, order, report)
            changed += await self._record(order, report)
        return changed

    async def _record(self, order: Order, report: ExchangeOrder) -> int:
        before = (order.status, order.filled_quantity, order.is_trigger)
        try:
            await self._orders.record(order, report)
        except IllegalTransitionError as exc:
            logger.warning("Order %s: ignored a stale exchange report (%s)", order.id, exc)
            return 0
        return int((order.status, order.filled_quantity, order.is_trigger) != before)

    async def _note_miss(self, order: Order) -> None:
        async with self._uow() as uow:
            stored = await uow.orders.get(order.id)
            if stored is None:
                return
            stored.lookup_misses += 1
            await uow.orders.update(stored)
            await uow.commit()

        age = self._clock.now() - stored.created_at
        if stored.status is not OrderStatus.PENDING:
            # NOTE: an open order the exchange no longer finds stays open here, because
            # some exchanges drop old orders from their lookups; only the user can tell.
            logger.warning(
                "Open order %s is not found on the exchange (%d times)", order.id, stored.lookup_misses
            )
            return
        if stored.lookup_misses >= self._misses_before_reject and age >= self._unknown_after:
            logger.warning(
                "Order %s was never confirmed by the exchange after %d lookups over %s; marking it REJECTED",
                order.id,
                stored.lookup_misses,
                age,
            )
            await self._orders.reject(stored, UNKNOWN_ORDER_REASON)

    def _back_off(self, account_id: uuid.UUID, pace: _AccountPace, error: ExchangeError) -> None:
        pace.failures += 1
        delay = min(self._interval * 2**pace.failures, self._max_backoff)
        pace.retry_at = self._clock.now() + delay
        level = logging.WARNING if isinstance(error, TemporaryExchangeError) else logging.ERROR
        logger.log(
            level,
            "Order sync of account %s failed (%s, attempt %d); next try in %s",
            account_id,
            error,
            pace.failures,
            delay,
        )


def _is_due(pace: _AccountPace, now: datetime, interval: timedelta) -> bool:
    if pace.retry_at is not None and now < pace.retry_at:
        return False
    return pace.last_pass is None or now - pace.last_pass >= interval


async def _with_trades(gateway: ExchangeGateway, order: Order, report: ExchangeOrder) -> ExchangeOrder:
    """Attach the order's trades when the report shows new fills without them.

    Most exchanges' fetch_order reports the filled quantity but not the trades.
    """
    if report.trades or report.filled_quantity <= order.filled_quantity:
        return report
    try:
        trades = await gateway.fetch_my_trades(order.symbol, since=order.created_at)
    except TemporaryExchangeError as exc:
        logger.warning("Trades of order %s not fetched: %s; recorded on a later pass", order.id, exc)
        return report
    mine = tuple(trade for trade in trades if trade.exchange_order_id == report.exchange_order_id)
    return replace(report, trades=mine)
