"""The order path: validate -> pre-trade check -> persist PENDING -> submit -> record -> emit.

Every order is stored with its client_order_id before it is sent. When the
exchange's answer is lost (timeout, network error), the order is looked up by
that id instead of being sent again.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, replace
from datetime import timedelta

from engine.accounts.models import Account
from engine.common.clock import Clock
from engine.common.ids import new_client_order_id, new_id
from engine.errors import (
    NotFoundError,
    PermanentExchangeError,
    PermissionDeniedError,
    TemporaryExchangeError,
    ValidationError,
)
from engine.events import Event, EventBus
from engine.exchanges.models import ExchangeOrder
from engine.exchanges.ports import ExchangeGateway, GatewayProvider
from engine.market.models import Market
from engine.orders.drafts import DraftStatus, OrderDraft, OrderEstimate
from engine.orders.estimate import estimate_order
from engine.orders.models import Order, OrderRequest, OrderStatus
from engine.orders.recording import apply_report, event_name_for
from engine.orders.state import check_transition
from engine.orders.validation import validate_against_market
from engine.risk.pretrade import PreTradeChecker, PreTradeReport, TradeContext
from engine.uow import UnitOfWork, UnitOfWorkFactory
from engine.users.models import Permission, User

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OrderPreview:
    """A stored draft with its pre-trade report and the account it will be sent to."""

    draft: OrderDraft
    report: PreTradeReport
    account: Account


class OrderService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        gateways: GatewayProvider,
        bus: EventBus,
        clock: Clock,
        checker: PreTradeChecker,
        *,
        confirm_ttl: timedelta = timedelta(seconds=60),
        lookup_attempts: int = 4,
        lookup_delay_seconds: float = 1.0,
    ) -> None:
        self._uow = uow_factory
        self._gateways = gateways
        self._bus = bus
        self._clock = clock
        self._checker = checker
        self._confirm_ttl = confirm_ttl
        self._lookup_attempts = lookup_attempts
        self._lookup_delay = lookup_delay_seconds

    # ----- preview and confirmation -------------------------------------------------

    async def preview(
        self, user: User, request: OrderRequest, account_id: uuid.UUID | None = None
    ) -> OrderPreview:
        """Validate, estimate and check an order, and store it as a draft awaiting Confirm.

        Raises ValidationError for market-rule violations and RiskDenied when a
        pre-trade check fails; nothing is stored in either case.
        """
        _require_trading(user)
        account = await self._account(user, account_id)
        gateway = await self._gateways.gateway_for(account)
        market = await gateway.market(request.symbol)
        report, estimate = await self._check(user, account, gateway, market, request)
        denial = report.first_denial
        if denial is not None:
            raise denial

        now = self._clock.now()
        draft = OrderDraft(
            id=new_id(),
            user_id=user.id,
            account_id=account.id,
            request=request,
            client_order_id=request.client_order_id or new_client_order_id(),
            estimate=estimate,
            status=DraftStatus.OPEN,
            created_at=now,
            expires_at=now + self._confirm_ttl,
        )
        async with self._uow() as uow:
            await uow.drafts.add(draft)
            await uow.commit()
        logger.info(
            "Order draft %s for user %s: %s %s %s on account %s",
            draft.id,
            user.telegram_id,
            request.side,
            request.quantity,
            request.symbol,
            account.id,
        )
        return OrderPreview(draft=draft, report=report, account=account)

    async def get_draft(self, user: User, draft_id: uuid.UUID) -> OrderDraft | None:
        """Return the user's draft, or None when it does not exist or belongs to someone else."""
        async with self._uow(read_only=True) as uow:
            return await uow.drafts.get_for_user(user.id, draft_id)

    async def cancel_draft(self, user: User, draft_id: uuid.UUID) -> OrderDraft:
        """Close an OPEN draft without sending anything."""
        async with self._uow() as uow:
            draft = await self._open_draft(uow, user, draft_id)
            draft.close(DraftStatus.CANCELLED)
            await uow.drafts.update(draft)
            await uow.commit()
        return draft

    async def expire_draft(self, user: User, draft_id: uuid.UUID) -> bool:
        """Close the draft as EXPIRED if it is still OPEN; return whether it was."""
        async with self._uow() as uow:
            draft = await uow.drafts.get_for_user(user.id, draft_id)
            if draft is None or draft.status is not DraftStatus.OPEN:
                return False
            draft.close(DraftStatus.EXPIRED)
            await uow.drafts.update(draft)
            await uow.commit()
        return True

    async def expire_stale_drafts(self) -> int:
        """Close every draft whose confirmation time is over (a job; cards may outlive a restart)."""
        async with self._uow() as uow:
            count = await uow.drafts.expire_open(self._clock.now())
            await uow.commit()
        if count:
            logger.info("Expired %d unconfirmed order drafts", count)
        return count

    async def confirm(self, user: User, draft_id: uuid.UUID) -> Order:
        """Consume the draft (once) and place its order.

        Raises ValidationError DRAFT_EXPIRED or DRAFT_CLOSED when the draft can
        no longer be sent; a second Confirm therefore never sends a second order.
        """
        _require_trading(user)
        async with self._uow() as uow:
            draft = await self._open_draft(uow, user, draft_id)
            if draft.is_expired(self._clock.now()):
                draft.close(DraftStatus.EXPIRED)
                await uow.drafts.update(draft)
                await uow.commit()
                raise ValidationError("DRAFT_EXPIRED")
            draft.close(DraftStatus.CONFIRMED)
            await uow.drafts.update(draft)
            account = await uow.accounts.get_for_user(user.id, draft.account_id)
            await uow.commit()

        if account is None or not account.is_active:
            raise NotFoundError("account")
        request = replace(draft.request, client_order_id=draft.client_order_id)
        return await self.place(user, account, request)

    async def _open_draft(self, uow: UnitOfWork, user: User, draft_id: uuid.UUID) -> OrderDraft:
        draft = await uow.drafts.get_for_user(user.id, draft_id)
        if draft is None:
            raise NotFoundError("draft")
        if draft.status is not DraftStatus.OPEN:
            raise ValidationError("DRAFT_CLOSED", status=draft.status)
        return draft

    # ----- placing ------------------------------------------------------------------

    async def place(self, user: User, account: Account, request: OrderRequest) -> Order:
        """Run the whole order path for a request that carries its client_order_id."""
        _require_trading(user)
        if request.client_order_id is None:
            request = replace(request, client_order_id=new_client_order_id())
        gateway = await self._gateways.gateway_for(account)
        market = await gateway.market(request.symbol)

        report, _ = await self._check(user, account, gateway, market, request)
        denial = report.first_denial
        if denial is not None:
            raise denial

        order = await self._persist_pending(user, account, request)
        exchange_report = await self._submit(gateway, order)
        if exchange_report is not None:
            await self.record(order, exchange_report, shown_inline=True)
        return order

    async def _check(
        self,
        user: User,
        account: Account,
        gateway: ExchangeGateway,
        market: Market,
        request: OrderRequest,
    ) -> tuple[PreTradeReport, OrderEstimate]:
        ticker = await gateway.fetch_ticker(market.symbol)
        validate_against_market(request, market, ticker.last)
        estimate = estimate_order(request, market, ticker, market.taker_fee)
        balances = await gateway.fetch_balance()
        context = TradeContext(user, account, market, request, estimate, balances)
        return await self._checker.run(context), estimate

    async def _persist_pending(self, user: User, account: Account, request: OrderRequest) -> Order:
        now = self._clock.now()
        order = Order(
            id=new_id(),
            user_id=user.id,
            account_id=account.id,
            client_order_id=request.client_order_id or new_client_order_id(),
            symbol=request.symbol,
            side=request.side,
            type=request.type,
            quantity=request.quantity,
            status=OrderStatus.PENDING,
            created_at=now,
            updated_at=now,
            time_in_force=request.time_in_force,
            price=request.price,
            stop_price=request.stop_price,
            reduce_only=request.reduce_only,
            post_only=request.post_only,
        )
        async with self._uow() as uow:
            if await uow.orders.get_by_client_id(account.id, order.client_order_id):
                raise ValidationError("CLIENT_ORDER_ID_TAKEN", value=order.client_order_id)
            await uow.orders.add(order)
            await uow.commit()
        logger.info(
            "Order %s PENDING for user %s: %s %s %s %s (client order %s)",
            order.id,
            user.telegram_id,
            order.type,
            order.side,
            order.quantity,
            order.symbol,
            order.client_order_id,
        )
        return order

    async def _submit(self, gateway: ExchangeGateway, order: Order) -> ExchangeOrder | None:
        request = OrderRequest(
            symbol=order.symbol,
            side=order.side,
            type=order.type,
            quantity=order.quantity,
            price=order.price,
            stop_price=order.stop_price,
            time_in_force=order.time_in_force,
            reduce_only=order.reduce_only,
            post_only=order.post_only,
            client_order_id=order.client_order_id,
        )
        try:
            return await gateway.create_order(request)
        except TemporaryExchangeError as exc:
            logger.warning("Order %s: outcome unknown after %s; looking it up", order.id, exc)
            return await self.look_up(gateway, order)
        except PermanentExchangeError as exc:
            if exc.reason == "DUPLICATE_CLIENT_ORDER_ID":
                return await self.look_up(gateway, order)
            await self._reject(order, exc.reason or str(exc))
            return None

    async def look_up(self, gateway: ExchangeGateway, order: Order) -> ExchangeOrder | None:
        """Find an order whose submission outcome is unknown, by its client_order_id.

        Returns None when the exchange still does not answer or does not know
        the order; it then stays PENDING for the reconciliation job.
        """
        for attempt in range(1, self._lookup_attempts + 1):
            try:
                found = await gateway.fetch_order(order.symbol, client_order_id=order.client_order_id)
            except TemporaryExchangeError as exc:
                logger.warning("Order %s lookup %d failed: %s", order.id, attempt, exc)
                found = None
            if found is not None:
                return found
            await asyncio.sleep(self._lookup_delay * attempt)
        logger.warning("Order %s stays PENDING: the exchange did not confirm it", order.id)
        return None

    async def _reject(self, order: Order, reason: str) -> None:
        async with self._uow() as uow:
            stored = await uow.orders.get(order.id)
            if stored is None:
                raise NotFoundError("order")
            check_transition(stored.status, OrderStatus.REJECTED)
            stored.status = OrderStatus.REJECTED
            stored.reject_reason = reason
            stored.updated_at = self._clock.now()
            await uow.orders.update(stored)
            await uow.commit()
        order.status, order.reject_reason = stored.status, reason
        logger.info("Order %s REJECTED: %s", order.id, reason)
        await self._emit("order_rejected", order, shown_inline=True)

    async def record(self, order: Order, report: ExchangeOrder, *, shown_inline: bool = False) -> Order:
        """Apply an exchange report to the stored order, store new fills and emit the event."""
        async with self._uow() as uow:
            stored = await uow.orders.get(order.id)
            if stored is None:
                raise NotFoundError("order")
            previous, new_fills = apply_report(stored, report)
            stored.updated_at = self._clock.now()
            await uow.orders.update(stored)
            for fill in new_fills:
                await uow.orders.add_fill(fill)
            await uow.commit()

        _copy_state(stored, order)
        name = event_name_for(previous, order, len(new_fills))
        logger.info("Order %s %s -> %s (%d new fills)", order.id, previous, order.status, len(new_fills))
        if name is not None:
            await self._emit(name, order, shown_inline=shown_inline)
        return order

    async def _emit(self, name: str, order: Order, *, shown_inline: bool) -> None:
        await self._bus.publish(
            Event(
                name=name,
                user_id=order.user_id,
                occurred_at=self._clock.now(),
                payload={"order_id": order.id},
                shown_inline=shown_inline,
            )
        )

    async def _account(self, user: User, account_id: uuid.UUID | None) -> Account:
        async with self._uow(read_only=True) as uow:
            if account_id is None:
                account = await uow.accounts.get_default(user.id)
            else:
                account = await uow.accounts.get_for_user(user.id, account_id)
        if account is None or not account.is_active:
            raise NotFoundError("account")
        return account


def _require_trading(user: User) -> None:
    if not user.can(Permission.TRADE):
        raise PermissionDeniedError("trade")


def _copy_state(source: Order, target: Order) -> None:
    for name in (
        "status",
        "exchange_order_id",
        "filled_quantity",
        "average_price",
        "fee",
        "fee_asset",
        "reject_reason",
        "updated_at",
        "fills",
    ):
        setattr(target, name, getattr(source, name))
