"""TWAP: a large market order sent as equal slices at a fixed interval, to lower its price impact.

The execution is stored (``twaps`` table) and driven by a scheduled job, so it
continues after a restart. A slice's client order id is fixed in advance and
its order is stored before it is sent. After a crash the next run therefore
sends only slices without a stored order, and the order sync resolves what
the exchange did with the last one.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal

from engine.accounts.models import Account
from engine.common.clock import Clock
from engine.common.ids import new_id
from engine.common.money import ZERO
from engine.errors import NotFoundError, PatriotError, ValidationError
from engine.events import Event, EventBus
from engine.exchanges.ports import GatewayProvider
from engine.market.models import Market
from engine.orders.models import Order, OrderRequest, OrderStatus, OrderType
from engine.orders.service import OrderService
from engine.orders.twap_models import (
    MAX_INTERVAL_SECONDS,
    MAX_SLICES,
    MIN_INTERVAL_SECONDS,
    MIN_SLICES,
    Twap,
    TwapStatus,
    slice_quantity,
)
from engine.uow import UnitOfWorkFactory
from engine.users.models import User

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TwapProgress:
    """Fills of the slices sent so far."""

    twap: Twap
    filled_quantity: Decimal
    average_price: Decimal | None
    fee: Decimal
    orders: list[Order]


class TwapService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        orders: OrderService,
        gateways: GatewayProvider,
        bus: EventBus,
        clock: Clock,
    ) -> None:
        self._uow = uow_factory
        self._orders = orders
        self._gateways = gateways
        self._bus = bus
        self._clock = clock
        self._locks: dict[uuid.UUID, asyncio.Lock] = {}

    async def check_plan(self, user: User, draft_id: uuid.UUID, slices: int, interval_seconds: int) -> Market:
        """Check that the draft can run as this TWAP, without consuming it; return its market.

        Raises TWAP_INVALID for a draft that is no new market order,
        TWAP_SLICES or TWAP_INTERVAL for values out of range, and
        TWAP_SLICE_TOO_SMALL when a slice would be below the market's minimums.
        """
        validate_shape(slices, interval_seconds)
        async with self._uow(read_only=True) as uow:
            draft = await uow.drafts.get_for_user(user.id, draft_id)
        if draft is None:
            raise NotFoundError("draft")
        if (
            draft.request.type is not OrderType.MARKET
            or draft.modifies_order_id is not None
            or draft.bracket is not None
        ):
            raise ValidationError("TWAP_INVALID", type=draft.request.type)

        account = await self._orders.account(user, draft.account_id)
        gateway = await self._gateways.gateway_for(account)
        market = await gateway.market(draft.request.symbol)
        ticker = await gateway.fetch_ticker(market.symbol)
        _check_slice_size(draft.request.quantity, slices, market, ticker.last)
        return market

    async def start(self, user: User, draft_id: uuid.UUID, slices: int, interval_seconds: int) -> Twap:
        """Turn a market-order draft into a TWAP and send its first slice now.

        Raises what ``check_plan`` raises; the draft is consumed only when the
        plan passes.
        """
        await self.check_plan(user, draft_id, slices, interval_seconds)
        draft, account = await self._orders.drafts.consume(user, draft_id)
        now = self._clock.now()
        twap = Twap(
            id=new_id(),
            user_id=user.id,
            account_id=account.id,
            symbol=draft.request.symbol,
            side=draft.request.side,
            total_quantity=draft.request.quantity,
            slices=slices,
            interval_seconds=interval_seconds,
            status=TwapStatus.ACTIVE,
            # The first slice is sent below; the job takes the next ones.
            next_run_at=now + timedelta(seconds=interval_seconds),
            created_at=now,
            updated_at=now,
        )
        async with self._uow() as uow:
            await uow.twaps.add(twap)
            # The TWAP reports its own progress from here on, also after a restart.
            await uow.drafts.mark_reported(draft.id, now)
            await uow.commit()
        logger.info(
            "TWAP %s for user %s: %s %s %s in %d slices every %d s",
            twap.id,
            user.telegram_id,
            twap.side,
            twap.total_quantity,
            twap.symbol,
            slices,
            interval_seconds,
        )
        await self._run_slice(user, twap, shown_inline=True)
        return twap

    async def run_due(self) -> int:
        """Send the next slice of every TWAP whose time has come; return how many were sent."""
        async with self._uow(read_only=True) as uow:
            due = await uow.twaps.list_due(self._clock.now())
        sent = 0
        for twap in due:
            async with self._uow(read_only=True) as uow:
                user = await uow.users.get(twap.user_id)
            if user is None:
                continue
            if not user.is_active:
                await self._finish(twap, TwapStatus.FAILED, "USER_NOT_ACTIVE")
                continue
            await self._run_slice(user, twap)
            sent += 1
        return sent

    async def cancel(self, user: User, twap_id: uuid.UUID) -> Twap:
        """Stop sending slices; slices already sent stay as they are."""
        async with self._uow() as uow:
            twap = await uow.twaps.get_for_user(user.id, twap_id)
            if twap is None:
                raise NotFoundError("twap")
            if twap.status is not TwapStatus.ACTIVE:
                raise ValidationError("TWAP_NOT_ACTIVE", twap=twap.short_id, status=twap.status)
            twap.status, twap.updated_at = TwapStatus.CANCELLED, self._clock.now()
            await uow.twaps.update(twap)
            await uow.commit()
        logger.info(
            "TWAP %s cancelled by user %s after %d slices", twap.id, user.telegram_id, twap.slices_sent
        )
        await self._emit("twap_cancelled", twap, shown_inline=True)
        return twap

    async def progress(self, user: User, twap_id: uuid.UUID) -> TwapProgress:
        async with self._uow(read_only=True) as uow:
            twap = await uow.twaps.get_for_user(user.id, twap_id)
            if twap is None:
                raise NotFoundError("twap")
            orders = await uow.orders.list_for_twap(twap.id)
        return _progress(twap, orders)

    async def active(self, user: User) -> list[Twap]:
        async with self._uow(read_only=True) as uow:
            return await uow.twaps.list_for_user(user.id, [TwapStatus.ACTIVE])

    # ----- slices --------------------------------------------------------------------

    async def _run_slice(self, user: User, twap: Twap, *, shown_inline: bool = False) -> None:
        async with self._lock(twap.id):
            found = await self._next_slice(twap)
            if found is None:
                return
            account, index = found
            gateway = await self._gateways.gateway_for(account)
            market = await gateway.market(twap.symbol)
            request = OrderRequest(
                symbol=twap.symbol,
                side=twap.side,
                type=OrderType.MARKET,
                quantity=twap.slice_quantity(index, market.amount_step),
                client_order_id=twap.client_order_id(index),
            )
            try:
                order = await self._orders.place(user, account, request, twap_id=twap.id, shown_inline=True)
            except PatriotError as error:
                if error.code == "CLIENT_ORDER_ID_TAKEN":
                    logger.info(
                        "TWAP %s slice %d is already stored; not sending it again", twap.id, index + 1
                    )
                    await self._mark_sent(twap, index)
                    return
                logger.warning("TWAP %s slice %d failed: %s", twap.id, index + 1, error.code)
                await self._finish(twap, TwapStatus.FAILED, error.code)
                return
            await self._mark_sent(twap, index)

        if order.status is OrderStatus.REJECTED:
            await self._finish(twap, TwapStatus.FAILED, order.reject_reason or "REJECTED")
            return
        await self._emit("twap_slice", twap, shown_inline=shown_inline, slice=index + 1, order_id=order.id)
        if twap.slices_sent >= twap.slices:
            await self._finish(twap, TwapStatus.COMPLETED, None)

    async def _next_slice(self, twap: Twap) -> tuple[Account, int] | None:
        """Return the account and the index of the next slice, or None when there is nothing to send.

        The index is the number of slice orders already stored: PATRIOT stores
        an order before sending it, so a slice without a stored order was never
        sent and is sent now, under the same client order id.
        """
        async with self._uow() as uow:
            stored = await uow.twaps.get_for_user(twap.user_id, twap.id)
            account = await uow.accounts.get_for_user(twap.user_id, twap.account_id)
            index = len(await uow.orders.list_for_twap(twap.id))
            if stored is None or stored.status is not TwapStatus.ACTIVE or index >= stored.slices:
                return None
            if account is None or not account.is_active:
                stored.status, stored.reason = TwapStatus.FAILED, "ACCOUNT_NOT_ACTIVE"
                await uow.twaps.update(stored)
                await uow.commit()
                return None
        return account, index

    async def _mark_sent(self, twap: Twap, index: int) -> None:
        async with self._uow() as uow:
            stored = await uow.twaps.get_for_user(twap.user_id, twap.id)
            if stored is None:
                return
            now = self._clock.now()
            stored.slices_sent = max(stored.slices_sent, index + 1)
            stored.next_run_at = now + timedelta(seconds=stored.interval_seconds)
            stored.updated_at = now
            await uow.twaps.update(stored)
            await uow.commit()
        twap.slices_sent, twap.next_run_at = stored.slices_sent, stored.next_run_at

    def _lock(self, twap_id: uuid.UUID) -> asyncio.Lock:
        lock = self._locks.get(twap_id)
        if lock is None:
            lock = self._locks[twap_id] = asyncio.Lock()
        return lock

    async def _finish(self, twap: Twap, status: TwapStatus, reason: str | None) -> None:
        async with self._uow() as uow:
            stored = await uow.twaps.get_for_user(twap.user_id, twap.id)
            if stored is None or stored.status is not TwapStatus.ACTIVE:
                return
            stored.status, stored.reason, stored.updated_at = status, reason, self._clock.now()
            await uow.twaps.update(stored)
            await uow.commit()
        twap.status, twap.reason = status, reason
        logger.info("TWAP %s %s (%s)", twap.id, status, reason or "-")
        name = "twap_completed" if status is TwapStatus.COMPLETED else "twap_failed"
        await self._emit(name, twap, shown_inline=False)

    async def _emit(self, name: str, twap: Twap, *, shown_inline: bool, **payload: object) -> None:
        await self._bus.publish(
            Event(
                name=name,
                user_id=twap.user_id,
                occurred_at=self._clock.now(),
                payload={"twap_id": twap.id, **payload},
                shown_inline=shown_inline,
            )
        )


def validate_shape(slices: int, interval_seconds: int) -> None:
    """Raise TWAP_SLICES or TWAP_INTERVAL for a number of slices or an interval out of range."""
    if not MIN_SLICES <= slices <= MAX_SLICES:
        raise ValidationError("TWAP_SLICES", value=slices, minimum=MIN_SLICES, maximum=MAX_SLICES)
    if not MIN_INTERVAL_SECONDS <= interval_seconds <= MAX_INTERVAL_SECONDS:
        raise ValidationError(
            "TWAP_INTERVAL",
            value=interval_seconds,
            minimum=MIN_INTERVAL_SECONDS,
            maximum=MAX_INTERVAL_SECONDS,
        )


def _check_slice_size(total: Decimal, slices: int, market: Market, price: Decimal) -> None:
    """Every slice must meet the market's minimum quantity and cost; name the most slices that would."""
    smallest = slice_quantity(total, slices, 0, market.amount_step)
    if smallest >= market.min_amount and smallest * price >= market.min_cost:
        return
    per_slice = max(market.min_amount, market.min_cost / price)
    most = int(total / per_slice)
    raise ValidationError(
        "TWAP_SLICE_TOO_SMALL",
        symbol=market.symbol,
        minimum=market.min_amount,
        minimum_cost=market.min_cost,
        asset=market.quote,
        most=min(most, MAX_SLICES),
    )


def _progress(twap: Twap, orders: list[Order]) -> TwapProgress:
    filled = sum((order.filled_quantity for order in orders), ZERO)
    spent = sum(((order.average_price or ZERO) * order.filled_quantity for order in orders), ZERO)
    fee = sum((order.fee for order in orders), ZERO)
    average = spent / filled if filled > ZERO else None
    return TwapProgress(replace(twap), filled, average, fee, orders)
