"""The order path: validate -> pre-trade check -> persist PENDING -> submit -> record -> emit.

Every order is stored with its client_order_id before it is sent. When the
exchange's response is lost (timeout, network error), the order is looked up by
that id instead of being sent again. An order still unconfirmed after the
lookups stays PENDING for the reconciliation job (``engine.orders.sync``).

On the PAPER simulator, whose books are tables in the same database, the
order is stored, filled and recorded in one transaction instead
(``AtomicOrderGateway``): a crash before the commit leaves no trace on either
side, so there is nothing to look up.
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
from engine.common.crash_points import crash_point
from engine.common.ids import new_client_order_id
from engine.errors import (
    NotFoundError,
    PatriotError,
    PermanentExchangeError,
    PermissionDeniedError,
    RiskDenied,
    TemporaryExchangeError,
    ValidationError,
)
from engine.events import Event, EventBus
from engine.exchanges.models import BalanceEntry, ExchangeOrder
from engine.exchanges.ports import AtomicOrderGateway, ExchangeGateway, GatewayProvider, is_atomic
from engine.market.models import Market
from engine.orders.changes import OrderChanges
from engine.orders.draft_book import DraftBook
from engine.orders.drafts import OrderDraft
from engine.orders.estimate import estimate_order
from engine.orders.impact import estimate_impact
from engine.orders.lookup import fetch_known
from engine.orders.models import BracketLink, Fill, Order, OrderRequest, OrderStatus, OrderType
from engine.orders.pairs import OcoPlacement
from engine.orders.previews import Assessment, OrderPreview
from engine.orders.recording import (
    apply_report,
    base_delta,
    copy_state,
    event_name_for,
    pending_order,
    request_of,
)
from engine.orders.state import check_transition
from engine.orders.trading_accounts import TradingAccounts
from engine.orders.validation import (
    check_trigger_side,
    fit_to_market,
    validate_against_market,
    validate_client_order_id,
    validate_flags,
)
from engine.risk.models import PreTradeInputs
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
        self.drafts = DraftBook(uow_factory, clock, confirm_ttl)
        self.accounts = TradingAccounts(uow_factory, gateways)
        self.changes = OrderChanges(self, uow_factory, gateways, bus, clock)
        self.pairs = OcoPlacement(self, uow_factory, gateways, clock)

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

        draft = self.drafts.new(user, account, request, assessment.estimate)
        draft.adjustments = adjustments
        await self.drafts.store(draft)
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

    async def get_draft(self, user: User, draft_id: uuid.UUID) -> OrderDraft | None:
        """Return the user's draft, or None when it does not exist or belongs to someone else."""
        async with self._uow(read_only=True) as uow:
            return await uow.drafts.get_for_user(user.id, draft_id)

    async def cancel_draft(self, user: User, draft_id: uuid.UUID) -> OrderDraft:
        """Close an OPEN draft without sending anything."""
        return await self.drafts.cancel(user, draft_id)

    async def expire_draft(self, user: User, draft_id: uuid.UUID) -> bool:
        """Close the draft as EXPIRED if it is still OPEN; return whether it was."""
        return await self.drafts.expire(user, draft_id)

    async def expire_stale_drafts(self) -> int:
        """Close every draft whose confirmation time is over (a job; cards may outlive a restart)."""
        return await self.drafts.expire_stale()

    async def confirm(self, user: User, draft_id: uuid.UUID) -> Order:
        """Place the draft's order, or apply the modification it carries.

        The press moves the draft to CONFIRMING; it becomes CONFIRMED in the
        transaction that stores the order (PENDING, or PAPER's filled or
        rejected one), so a confirmed draft always has its order. A refusal
        before that (a pre-trade denial) opens the draft again; a crash leaves
        it CONFIRMING for ``bot.order_recovery``.
        A bracket's draft is not an order's: the bracket service confirms it.
        """
        draft = await self.drafts.claim(user, draft_id)
        if draft.modifies_order_id is not None:
            account = await self.account(user, draft.account_id)
            return await self.changes.apply_modification(user, account, draft)
        try:
            account = await self.account(user, draft.account_id)
            request = replace(draft.request, client_order_id=draft.client_order_id)
            return await self.place(user, account, request, draft_id=draft.id)
        except PatriotError:
            await self.drafts.release(user, draft_id)  # a no-op once the order is stored
            raise

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
        draft_id: uuid.UUID | None = None,
        bracket: BracketLink | None = None,
    ) -> Order:
        """Run the whole order path for a request; a missing client_order_id is generated here.

        ``draft_id`` names the confirmation draft to close together with storing the order.
        ``bracket`` links the order to its bracket. A protective leg (an exit of
        a bracket the user opened) skips the status check and the risk limits,
        because the bracket passed them as a whole; the balance still has to cover it.
        """
        protective = bracket is not None and bracket.protective
        if not protective:
            _require_trading(user)
        if request.client_order_id is None:
            request = replace(request, client_order_id=new_client_order_id())
        gateway = await self._gateways.gateway_for(account)
        market = await gateway.market(request.symbol)
        validate_flags(request, gateway.capabilities)
        request, _ = fit_to_market(request, market)

        stop_loss = bracket.stop_loss if bracket is not None else None
        assessment = await self.assess(user, account, gateway, market, request, stop_loss=stop_loss)
        denial = blocking_denial(assessment.report, protective)
        if denial is not None:
            raise denial

        order = pending_order(user, account, request, self._clock, assessment.report)
        order.twap_id, order.replaces_order_id = twap_id, replaces_order_id
        if bracket is not None:
            order.bracket_id, order.bracket_leg = bracket.bracket_id, bracket.leg
        crash_point("order_before_persist")
        # A bracket's legs keep the PENDING-first path: its restart recovery is built on that path's steps.
        placed = (
            bracket is None
            and is_atomic(gateway)
            and await self._place_atomically(
                user, gateway, order, shown_inline=shown_inline, draft_id=draft_id
            )
        )
        if placed:
            crash_point("order_recorded")
            return order
        # Live exchanges, bracket legs and a client order id the simulator already has:
        # stored PENDING, then sent.
        await self._persist_pending(user, order, draft_id)
        crash_point("order_persisted")
        exchange_report = await self._submit(gateway, order, shown_inline=shown_inline)
        if bracket is not None and bracket.leg == "entry":
            crash_point("bracket_entry_sent")
        if exchange_report is not None:
            crash_point("order_submitted")
            await self.record(order, exchange_report, shown_inline=shown_inline)
            crash_point("order_recorded")
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
        stop_loss: Decimal | None = None,
    ) -> Assessment:
        """Validate against the market, estimate, and run the pre-trade checks.

        ``released`` adds balance the order would free first (a modified
        order's own hold) to the free balances the checks see.
        ``check_trigger`` refuses a stop that would fire at once; a change that
        leaves the stop price as it is skips it. ``stop_loss`` is the protective
        stop of a bracket's entry, for the loss-at-stop figure.
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

        balances, inputs = await self._balances_and_risk_inputs(user, gateway)
        for asset, amount in (released or {}).items():
            entry = balances.get(asset)
            if entry is not None:
                balances[asset] = replace(entry, free=entry.free + amount, used=entry.used - amount)
        context = TradeContext(user, account, market, request, estimate, balances, stop_loss, inputs)
        return Assessment(await self._checker.run(context), estimate, impact)

    async def _balances_and_risk_inputs(
        self, user: User, gateway: ExchangeGateway
    ) -> tuple[dict[str, BalanceEntry], PreTradeInputs | None]:
        if not is_atomic(gateway):
            return await gateway.fetch_balance(), None  # the risk checks read theirs after the network call
        # PAPER's balances are rows of this database: one read transaction takes them and the risk inputs.
        async with self._uow(read_only=True) as uow:
            return await gateway.fetch_balance_in(uow), await self._checker.read_inputs(uow, user)

    async def _require_unused_client_id(self, user: User, client_order_id: str) -> None:
        async with self._uow(read_only=True) as uow:
            taken = await uow.orders.get_by_client_id_for_user(user.id, client_order_id)
        if taken is not None:
            raise ValidationError("CLIENT_ORDER_ID_TAKEN", value=client_order_id)

    async def _persist_pending(self, user: User, order: Order, draft_id: uuid.UUID | None) -> None:
        async with self._uow() as uow:
            if draft_id is not None:
                await self.drafts.close_in(uow, user, draft_id)
            await _require_client_id_free(uow, user, order.client_order_id)
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

    async def _place_atomically(
        self,
        user: User,
        gateway: AtomicOrderGateway,
        order: Order,
        *,
        shown_inline: bool,
        draft_id: uuid.UUID | None = None,
    ) -> bool:
        """Store, fill and record a PAPER order in one transaction, then emit its event.

        Returns False, with nothing stored, when the simulator already knows the
        client order id; the caller then takes the path that looks it up.
        """
        outcome: list[tuple[OrderStatus, int]] = []

        async def before(uow: UnitOfWork) -> None:
            if draft_id is not None:
                await self.drafts.close_in(uow, user, draft_id)
            # The holding the fills will move is read with the check: one call to the database.
            holding = (order.account_id, order.base_asset)
            if not await uow.orders.is_client_id_free(user.id, order.client_order_id, holding_of=holding):
                raise ValidationError("CLIENT_ORDER_ID_TAKEN", value=order.client_order_id)

        async def after(uow: UnitOfWork, report: ExchangeOrder) -> None:
            previous, new_fills = apply_report(order, report)
            order.updated_at = self._clock.now()
            if shown_inline:
                order.mark_notified()  # the card shows the outcome
            await uow.orders.add(order)
            await _store_fills(uow, order, new_fills)
            outcome.append((previous, len(new_fills)))
            crash_point("order_before_commit")

        try:
            await gateway.create_order_atomically(request_of(order), before, after)
        except PermanentExchangeError as exc:
            if exc.reason == "DUPLICATE_CLIENT_ORDER_ID":
                return False
            await self._store_rejected(
                user, order, exc.reason or str(exc), shown_inline=shown_inline, draft_id=draft_id
            )
            return True

        previous, fill_count = outcome[0]
        logger.info(
            "Order %s for user %s: %s %s %s %s (client order %s) on PAPER -> %s (%d fills)",
            order.id,
            user.telegram_id,
            order.type,
            order.side,
            order.quantity,
            order.symbol,
            order.client_order_id,
            order.status,
            fill_count,
        )
        name = event_name_for(previous, order, fill_count)
        if name is not None:
            await self.emit(name, order, shown_inline=shown_inline)
        return True

    async def _store_rejected(
        self, user: User, order: Order, reason: str, *, shown_inline: bool, draft_id: uuid.UUID | None = None
    ) -> None:
        """Store an order the simulator rejected, as REJECTED with the reason, and emit order_rejected."""
        check_transition(order.status, OrderStatus.REJECTED)
        order.status = OrderStatus.REJECTED
        order.reject_reason = reason
        order.updated_at = self._clock.now()
        if shown_inline:
            order.mark_notified()
        async with self._uow() as uow:
            if draft_id is not None:
                await self.drafts.close_in(uow, user, draft_id)
            await _require_client_id_free(uow, user, order.client_order_id)
            await uow.orders.add(order)
            await uow.commit()
        logger.info("Order %s of user %s REJECTED: %s", order.id, user.telegram_id, reason)
        await self.emit("order_rejected", order, shown_inline=shown_inline)

    async def _submit(
        self, gateway: ExchangeGateway, order: Order, *, shown_inline: bool
    ) -> ExchangeOrder | None:
        try:
            return await gateway.create_order(request_of(order))
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
            if shown_inline:
                stored.mark_notified()
            await uow.orders.update(stored)
            await uow.commit()
        copy_state(stored, order)
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
            if shown_inline:
                stored.mark_notified()  # the card the user pressed shows the new state
            await uow.orders.update(stored)
            await _store_fills(uow, stored, new_fills)
            await uow.commit()

        copy_state(stored, order)
        name = event_name_for(previous, order, len(new_fills))
        logger.info("Order %s %s -> %s (%d new fills)", order.id, previous, order.status, len(new_fills))
        if name is None and amended is not None:
            name = "order_modified"
        if name is not None:
            await self.emit(name, order, shown_inline=shown_inline)
        return order

    async def account(self, user: User, account_id: uuid.UUID | None) -> Account:
        """Return the user's active account with that id, or their default account."""
        return await self.accounts.get(user, account_id)

    async def emit(self, name: str, order: Order, *, shown_inline: bool) -> None:
        await self._bus.publish(
            Event(
                name=name,
                user_id=order.user_id,
                occurred_at=self._clock.now(),
                # The bracket id lets subscribers skip orders outside brackets without reading them.
                payload={"order_id": order.id, "bracket_id": order.bracket_id},
                shown_inline=shown_inline,
            )
        )


async def _require_client_id_free(uow: UnitOfWork, user: User, client_order_id: str) -> None:
    # Unique per user covers unique per account: an account has one owner.
    taken = await uow.orders.get_by_client_id_for_user(user.id, client_order_id)
    if taken is not None:
        raise ValidationError("CLIENT_ORDER_ID_TAKEN", value=client_order_id)


def _require_trading(user: User) -> None:
    if not user.can(Permission.TRADE):
        raise PermissionDeniedError("trade")


def blocking_denial(report: PreTradeReport, protective: bool) -> RiskDenied | None:
    """Return the denial that stops the order: any, or for a protective leg only a lack of balance."""
    if not protective:
        return report.first_denial
    return next(
        (
            result.denial
            for result in report.results
            if result.denial is not None and result.denial.code == "INSUFFICIENT_BALANCE"
        ),
        None,
    )


async def _store_fills(uow: UnitOfWork, order: Order, fills: list[Fill]) -> None:
    """Store an order's new fills and move its base asset's holding by what they traded."""
    for fill in fills:
        await uow.orders.add_fill(fill)
    delta = base_delta(order, fills)
    if delta:
        await uow.orders.add_to_holding(order.account_id, order.base_asset, delta)
