"""The order path: validate -> pre-trade check -> persist PENDING -> submit -> record -> emit.

Every order is stored with its client_order_id before it is sent. When the
exchange's response is lost (timeout, network error), the order is looked up by
that id instead of being sent again. An order still unconfirmed after the
lookups stays PENDING for the reconciliation job (``engine.orders.sync``).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from engine.accounts.models import Account
from engine.common.clock import Clock
from engine.common.ids import new_client_order_id, new_id
from engine.common.money import ZERO, floor_to_step
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
from engine.orders.changes import OrderChanges
from engine.orders.drafts import DraftStatus, OrderDraft, OrderEstimate
from engine.orders.estimate import estimate_order
from engine.orders.impact import estimate_impact
from engine.orders.lookup import fetch_known
from engine.orders.models import CheckRecord, Order, OrderRequest, OrderSide, OrderStatus, OrderType
from engine.orders.previews import Assessment, OrderPreview
from engine.orders.recording import apply_report, base_delta, event_name_for
from engine.orders.state import check_transition
from engine.orders.validation import (
    check_trigger_side,
    fit_to_market,
    validate_against_market,
    validate_client_order_id,
    validate_flags,
)
from engine.risk.pretrade import PreTradeChecker, PreTradeReport, TradeContext
from engine.uow import UnitOfWork, UnitOfWorkFactory
from engine.users.models import Permission, User

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]

__all__ = ["OrderPreview", "OrderService"]


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
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._uow = uow_factory
        self._gateways = gateways
        self._bus = bus
        self._clock = clock
        self._checker = checker
        self._confirm_ttl = confirm_ttl
        self._lookup_attempts = lookup_attempts
        self._lookup_delay = lookup_delay_seconds
        self._sleep = sleep
        self.changes = OrderChanges(self, uow_factory, gateways, bus, clock)

    # ----- preview and confirmation -------------------------------------------------

    async def preview(
        self, user: User, request: OrderRequest, account_id: uuid.UUID | None = None
    ) -> OrderPreview:
        """Fit, validate, estimate and check an order, and store it as a draft awaiting Confirm.

        Raises ValidationError for market-rule violations and RiskDenied when a
        pre-trade check fails; nothing is stored in either case.
        """
        _require_trading(user)
        account = await self.account(user, account_id)
        gateway = await self._gateways.gateway_for(account)
        market = await gateway.market(request.symbol)
        validate_flags(request, gateway.capabilities)
        if request.client_order_id is not None:
            validate_client_order_id(request.client_order_id)
            await self._require_unused_client_id(user, request.client_order_id)

        request, adjustments = fit_to_market(request, market)
        assessment = await self.assess(user, account, gateway, market, request, with_impact=True)
        denial = assessment.report.first_denial
        if denial is not None:
            raise denial

        draft = self.new_draft(user, account, request, assessment.estimate)
        draft.adjustments = adjustments
        await self.store_draft(draft)
        logger.info(
            "Order draft %s for user %s: %s %s %s %s on account %s",
            draft.id,
            user.telegram_id,
            request.type,
            request.side,
            request.quantity,
            request.symbol,
            account.id,
        )
        return OrderPreview(
            draft=draft,
            report=assessment.report,
            account=account,
            impact=assessment.impact,
            max_slippage=user.max_slippage,
        )

    def new_draft(
        self, user: User, account: Account, request: OrderRequest, estimate: OrderEstimate
    ) -> OrderDraft:
        now = self._clock.now()
        return OrderDraft(
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

    async def store_draft(self, draft: OrderDraft) -> None:
        async with self._uow() as uow:
            await uow.drafts.add(draft)
            await uow.commit()

    async def draft(self, user: User, draft_id: uuid.UUID) -> OrderDraft:
        """Return the user's draft, whatever its status."""
        async with self._uow(read_only=True) as uow:
            draft = await uow.drafts.get_for_user(user.id, draft_id)
        if draft is None:
            raise NotFoundError("draft")
        return draft

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

    async def consume_draft(self, user: User, draft_id: uuid.UUID) -> tuple[OrderDraft, Account]:
        """Close the draft as CONFIRMED (once) and return it with its account.

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
        return draft, account

    async def confirm(self, user: User, draft_id: uuid.UUID) -> Order:
        """Consume the draft and place its order, or apply the modification it carries."""
        draft, account = await self.consume_draft(user, draft_id)
        if draft.modifies_order_id is not None:
            return await self.changes.apply_modification(user, account, draft)
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

    async def place(
        self,
        user: User,
        account: Account,
        request: OrderRequest,
        *,
        twap_id: uuid.UUID | None = None,
        replaces_order_id: uuid.UUID | None = None,
        shown_inline: bool = True,
    ) -> Order:
        """Run the whole order path for a request; a missing client_order_id is generated here."""
        _require_trading(user)
        if request.client_order_id is None:
            request = replace(request, client_order_id=new_client_order_id())
        gateway = await self._gateways.gateway_for(account)
        market = await gateway.market(request.symbol)
        validate_flags(request, gateway.capabilities)
        request, _ = fit_to_market(request, market)

        assessment = await self.assess(user, account, gateway, market, request)
        denial = assessment.report.first_denial
        if denial is not None:
            raise denial

        order = _pending_order(user, account, request, self._clock, assessment.report)
        order.twap_id, order.replaces_order_id = twap_id, replaces_order_id
        await self._persist_pending(user, order)
        exchange_report = await self._submit(gateway, order, shown_inline=shown_inline)
        if exchange_report is not None:
            await self.record(order, exchange_report, shown_inline=shown_inline)
        return order

    async def assess(
        self,
        user: User,
        account: Account,
        gateway: ExchangeGateway,
        market: Market,
        request: OrderRequest,
        *,
        with_impact: bool = False,
        released: dict[str, Decimal] | None = None,
        check_trigger: bool = True,
    ) -> Assessment:
        """Validate against the market, estimate, and run the pre-trade checks.

        ``released`` adds balance the order would free first (a modified
        order's own hold) to the free balances the checks see.
        ``check_trigger`` refuses a stop that would fire at once; a change that
        leaves the stop price as it is skips it.
        """
        ticker = await gateway.fetch_ticker(market.symbol)
        validate_against_market(request, market, ticker.last)
        if check_trigger:
            check_trigger_side(request, ticker.last)
        estimate = estimate_order(request, market, ticker, market.taker_fee)

        impact = None
        if with_impact and request.type is OrderType.MARKET:
            book = await gateway.fetch_order_book(market.symbol)
            impact = estimate_impact(book, request.side, request.quantity)
            if impact is not None and impact.covered:
                cost = request.quantity * impact.average_price
                estimate = replace(
                    estimate, price=impact.average_price, cost=cost, fee=cost * market.taker_fee
                )

        balances = await gateway.fetch_balance()
        for asset, amount in (released or {}).items():
            entry = balances.get(asset)
            if entry is not None:
                balances[asset] = replace(entry, free=entry.free + amount, used=entry.used - amount)
        context = TradeContext(user, account, market, request, estimate, balances)
        return Assessment(await self._checker.run(context), estimate, impact)

    async def _require_unused_client_id(self, user: User, client_order_id: str) -> None:
        async with self._uow(read_only=True) as uow:
            taken = await uow.orders.get_by_client_id_for_user(user.id, client_order_id)
        if taken is not None:
            raise ValidationError("CLIENT_ORDER_ID_TAKEN", value=client_order_id)

    async def _persist_pending(self, user: User, order: Order) -> None:
        async with self._uow() as uow:
            # Unique per user covers unique per account: an account has one owner.
            taken = await uow.orders.get_by_client_id_for_user(user.id, order.client_order_id)
            if taken is not None:
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

    async def _submit(
        self, gateway: ExchangeGateway, order: Order, *, shown_inline: bool
    ) -> ExchangeOrder | None:
        try:
            return await gateway.create_order(_request_of(order))
        except TemporaryExchangeError as exc:
            logger.warning("Order %s: outcome unknown after %s; looking it up", order.id, exc)
            return await self.look_up(gateway, order)
        except PermanentExchangeError as exc:
            if exc.reason == "DUPLICATE_CLIENT_ORDER_ID":
                return await self.look_up(gateway, order)
            await self.reject(order, exc.reason or str(exc), shown_inline=shown_inline)
            return None

    async def look_up(self, gateway: ExchangeGateway, order: Order) -> ExchangeOrder | None:
        """Find an order whose submission outcome is unknown, by its client_order_id.

        An exchange may report "not found" for a moment right after accepting
        an order, so every miss is retried after a growing delay. Returns None
        when the exchange still does not respond or does not know the order,
        which then stays PENDING for the reconciliation job.
        """
        for attempt in range(1, self._lookup_attempts + 1):
            try:
                found = await fetch_known(gateway, order)
            except TemporaryExchangeError as exc:
                logger.warning("Order %s lookup %d failed: %s", order.id, attempt, exc)
                found = None
            if found is not None:
                return found
            if attempt < self._lookup_attempts:
                await self._sleep(self._lookup_delay * attempt)
        logger.warning("Order %s stays PENDING: the exchange did not confirm it", order.id)
        return None

    async def reject(self, order: Order, reason: str, *, shown_inline: bool = False) -> None:
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
        _copy_state(stored, order)
        logger.info("Order %s REJECTED: %s", order.id, reason)
        await self.emit("order_rejected", order, shown_inline=shown_inline)

    async def record(
        self,
        order: Order,
        report: ExchangeOrder,
        *,
        shown_inline: bool = False,
        amended: OrderRequest | None = None,
    ) -> Order:
        """Apply an exchange report to the stored order, store new fills and emit the event.

        ``amended`` carries the new quantity and prices of an order changed in
        place. Fills also move the account's net holding of the base asset.
        """
        async with self._uow() as uow:
            stored = await uow.orders.get(order.id)
            if stored is None:
                raise NotFoundError("order")
            if amended is not None:
                stored.quantity, stored.price = amended.quantity, amended.price
                stored.stop_price = amended.stop_price
            previous, new_fills = apply_report(stored, report)
            stored.updated_at = self._clock.now()
            await uow.orders.update(stored)
            for fill in new_fills:
                await uow.orders.add_fill(fill)
            delta = base_delta(stored, new_fills)
            if delta:
                await uow.orders.add_to_holding(stored.account_id, stored.base_asset, delta)
            await uow.commit()

        _copy_state(stored, order)
        name = event_name_for(previous, order, len(new_fills))
        logger.info("Order %s %s -> %s (%d new fills)", order.id, previous, order.status, len(new_fills))
        if name is None and amended is not None:
            name = "order_modified"
        if name is not None:
            await self.emit(name, order, shown_inline=shown_inline)
        return order

    async def emit(self, name: str, order: Order, *, shown_inline: bool) -> None:
        await self._bus.publish(
            Event(
                name=name,
                user_id=order.user_id,
                occurred_at=self._clock.now(),
                payload={"order_id": order.id},
                shown_inline=shown_inline,
            )
        )

    # ----- reading ------------------------------------------------------------------

    async def account(self, user: User, account_id: uuid.UUID | None) -> Account:
        """Return the user's active account with that id, or their default account."""
        async with self._uow(read_only=True) as uow:
            if account_id is None:
                account = await uow.accounts.get_default(user.id)
            else:
                account = await uow.accounts.get_for_user(user.id, account_id)
        if account is None or not account.is_active:
            raise NotFoundError("account")
        return account

    async def accounts(self, user: User) -> list[Account]:
        async with self._uow(read_only=True) as uow:
            return [account for account in await uow.accounts.list_for_user(user.id) if account.is_active]

    async def find_account(self, user: User, reference: str) -> Account:
        """Return the user's active account named ``reference`` (any case) or whose id starts with it."""
        wanted = reference.strip().lower()
        accounts = await self.accounts(user)
        for account in accounts:
            if account.name.lower() == wanted or (len(wanted) >= 8 and account.id.hex.startswith(wanted)):
                return account
        raise ValidationError("ACCOUNT_UNKNOWN", value=reference[:40], known=[a.name for a in accounts])

    async def quantity_for_share(
        self,
        user: User,
        account_id: uuid.UUID | None,
        symbol: str,
        side: OrderSide,
        share: Decimal,
        price: Decimal | None = None,
    ) -> Decimal:
        """Compute the quantity that uses ``share`` of the available balance, rounded down to the step.

        A buy spends the quote asset at ``price`` (else the current ask) with
        the taker fee on top. A sell gives up that share of the base asset.
        Raises SHARE_TOO_SMALL when the result is below the market's minimum.
        """
        account = await self.account(user, account_id)
        gateway = await self._gateways.gateway_for(account)
        market = await gateway.market(symbol)
        balances = await gateway.fetch_balance()
        asset = market.base if side is OrderSide.SELL else market.quote
        entry = balances.get(asset)
        available = entry.free if entry is not None else ZERO

        if side is OrderSide.SELL:
            quantity = available * share
        else:
            if price is None:
                ticker = await gateway.fetch_ticker(symbol)
                price = ticker.ask or ticker.last
            quantity = available * share / (price * (1 + market.taker_fee))
        quantity = floor_to_step(quantity, market.amount_step)
        if quantity < market.min_amount:
            raise ValidationError(
                "SHARE_TOO_SMALL",
                share=share,
                available=available,
                asset=asset,
                minimum=market.min_amount,
                symbol=market.symbol,
            )
        return quantity

    async def net_holding(self, user: User, account_id: uuid.UUID, asset: str) -> Decimal:
        """Net ``asset`` the account received through PATRIOT's fills, after fees paid in it."""
        account = await self.account(user, account_id)
        async with self._uow(read_only=True) as uow:
            return await uow.orders.get_holding(account.id, asset)


def _require_trading(user: User) -> None:
    if not user.can(Permission.TRADE):
        raise PermissionDeniedError("trade")


def _pending_order(
    user: User, account: Account, request: OrderRequest, clock: Clock, report: PreTradeReport
) -> Order:
    assert request.client_order_id is not None
    now = clock.now()
    return Order(
        id=new_id(),
        user_id=user.id,
        account_id=account.id,
        client_order_id=request.client_order_id,
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
        checks=tuple(CheckRecord(r.name, r.passed, dict(r.figures)) for r in report.results),
    )


def _request_of(order: Order) -> OrderRequest:
    return OrderRequest(
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


def _copy_state(source: Order, target: Order) -> None:
    for name in (
        "status",
        "exchange_order_id",
        "quantity",
        "price",
        "stop_price",
        "filled_quantity",
        "average_price",
        "fee",
        "fee_asset",
        "reject_reason",
        "updated_at",
        "fills",
        "is_trigger",
        "lookup_misses",
    ):
        setattr(target, name, getattr(source, name))
