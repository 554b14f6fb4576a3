"""Changing live orders: cancel, cancel many, and modify (amend in place or cancel-replace).

Every order id is looked up among the caller's own orders, so another user's
id is "not found". Modify and cancel are refused with the order's status in
states that do not allow them (``engine.orders.state``).
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from engine.accounts.models import Account
from engine.common.clock import Clock
from engine.common.money import ZERO
from engine.errors import PatriotError, PermanentExchangeError, PermissionDeniedError, ValidationError
from engine.events import EventBus
from engine.exchanges.ports import ExchangeGateway, GatewayProvider
from engine.market.models import Market
from engine.orders.drafts import OrderDraft
from engine.orders.lookup import fetch_known
from engine.orders.models import Order, OrderRequest, OrderSide, OrderStatus, OrderType
from engine.orders.ports import OrderFilter
from engine.orders.previews import OrderPreview
from engine.orders.state import CANCELLABLE, MODIFIABLE
from engine.orders.validation import fit_to_market
from engine.uow import UnitOfWorkFactory
from engine.users.models import Permission, User

if TYPE_CHECKING:
    from engine.orders.service import OrderService

logger = logging.getLogger(__name__)

_ORDER_REF = re.compile(r"^[0-9a-f]{8,32}$")
OPEN_STATUSES = frozenset({OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED})
MAX_BATCH = 200


@dataclass(frozen=True)
class BatchOutcome:
    """The result of one operation of a batch: the order it reached, or why it failed."""

    label: str
    order: Order | None = None
    error: PatriotError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class OrderChanges:
    """Order changes, carried out through the OrderService, which records every exchange report."""

    def __init__(
        self,
        service: OrderService,
        uow_factory: UnitOfWorkFactory,
        gateways: GatewayProvider,
        bus: EventBus,
        clock: Clock,
    ) -> None:
        self._service = service
        self._uow = uow_factory
        self._gateways = gateways
        self._bus = bus
        self._clock = clock

    # ----- finding the caller's orders -----------------------------------------------

    async def get(self, user: User, order_id: uuid.UUID) -> Order:
        async with self._uow(read_only=True) as uow:
            order = await uow.orders.get_for_user(user.id, order_id)
        if order is None:
            raise ValidationError("ORDER_NOT_FOUND", value=order_id.hex[:8])
        return order

    async def resolve(self, user: User, reference: str) -> Order:
        """Find the caller's order by its short id (first 8 hex digits), a longer prefix, or the full id.

        Raises ORDER_ID_INVALID for text that is no id, ORDER_NOT_FOUND when
        none of the caller's orders matches, ORDER_ID_AMBIGUOUS when several do.
        """
        cleaned = reference.strip().lower().replace("-", "")
        if not _ORDER_REF.match(cleaned):
            raise ValidationError("ORDER_ID_INVALID", value=reference[:40])
        if len(cleaned) == 32:
            return await self.get(user, uuid.UUID(hex=cleaned))

        async with self._uow(read_only=True) as uow:
            matches = await uow.orders.find_by_id_prefix(user.id, cleaned)
        if not matches:
            raise ValidationError("ORDER_NOT_FOUND", value=cleaned)
        if len(matches) > 1:
            raise ValidationError(
                "ORDER_ID_AMBIGUOUS", value=cleaned, matches=[order.id.hex[:12] for order in matches]
            )
        return matches[0]

    async def page(
        self, user: User, where: OrderFilter, *, offset: int, limit: int
    ) -> tuple[list[Order], int]:
        """Return one page of the user's orders, newest first, and how many match in all."""
        async with self._uow(read_only=True) as uow:
            return await uow.orders.list_for_user(user.id, where=where, offset=offset, limit=limit)

    async def open_orders(
        self, user: User, *, symbol: str | None = None, account_id: uuid.UUID | None = None
    ) -> list[Order]:
        where = OrderFilter(statuses=OPEN_STATUSES, symbol=symbol, account_id=account_id)
        async with self._uow(read_only=True) as uow:
            orders, _ = await uow.orders.list_for_user(user.id, where=where, limit=MAX_BATCH)
        return orders

    # ----- cancel --------------------------------------------------------------------

    async def cancel(self, user: User, order_id: uuid.UUID) -> Order:
        """Cancel one open order; trigger orders are cancelled in their own book.

        When the exchange no longer lists the order as open (it filled a moment
        ago), its final state is fetched and recorded, and ORDER_NOT_CANCELLABLE
        names that state.
        """
        _require_trading(user)
        order = await self.get(user, order_id)
        _require_not_exit(order)
        if order.status not in CANCELLABLE or order.exchange_order_id is None:
            raise ValidationError("ORDER_NOT_CANCELLABLE", order=order.short_id, status=order.status)
        gateway = await self._gateway(user, order)

        try:
            report = await gateway.cancel_order(
                order.symbol, order.exchange_order_id, is_trigger=order.is_trigger
            )
        except PermanentExchangeError as exc:
            if exc.reason != "ORDER_NOT_FOUND":
                raise
            current = await fetch_known(gateway, order)
            if current is None:
                raise
            await self._service.record(order, current, shown_inline=True)
            raise ValidationError("ORDER_NOT_CANCELLABLE", order=order.short_id, status=order.status) from exc

        await self._service.record(order, report, shown_inline=True)
        logger.info("Order %s of user %s cancel requested: now %s", order.id, user.telegram_id, order.status)
        return order

    async def cancel_references(self, user: User, references: list[str]) -> list[BatchOutcome]:
        """Cancel each order the user named; one failure does not stop the others."""
        outcomes = []
        for reference in dict.fromkeys(references):
            try:
                order = await self.resolve(user, reference)
                outcomes.append(BatchOutcome(reference, await self.cancel(user, order.id)))
            except PatriotError as error:
                outcomes.append(BatchOutcome(reference, error=error))
        return outcomes

    async def cancel_all(
        self, user: User, *, symbol: str | None = None, account_id: uuid.UUID | None = None
    ) -> list[BatchOutcome]:
        """Cancel every open order (of one symbol, or of one account) but brackets' exits; report each one."""
        outcomes = []
        orders = await self.open_orders(user, symbol=symbol, account_id=account_id)
        for order in (order for order in orders if not order.is_bracket_exit):
            try:
                outcomes.append(BatchOutcome(order.short_id, await self.cancel(user, order.id)))
            except PatriotError as error:
                outcomes.append(BatchOutcome(order.short_id, order, error))
        logger.info(
            "Cancel-all for user %s: %d of %d succeeded",
            user.telegram_id,
            sum(outcome.ok for outcome in outcomes),
            len(outcomes),
        )
        return outcomes

    # ----- modify --------------------------------------------------------------------

    async def preview_modify(
        self,
        user: User,
        order_id: uuid.UUID,
        *,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> OrderPreview:
        """Check a change of an open order and store it as a draft awaiting Confirm.

        ``quantity`` is the order's new total, filled part included. The checks
        and the estimate cover the part still to execute, with the balance the
        order has locked counted as free.
        """
        _require_trading(user)
        if quantity is None and price is None and stop_price is None:
            raise ValidationError("MODIFY_NOTHING")
        order = await self.get(user, order_id)
        _require_modifiable(order, quantity, price, stop_price)
        gateway = await self._gateway(user, order)
        account = await self._service.account(user, order.account_id)
        market = await gateway.market(order.symbol)

        terms = OrderRequest(
            symbol=order.symbol,
            side=order.side,
            type=order.type,
            quantity=quantity if quantity is not None else order.quantity,
            price=price if price is not None else order.price,
            stop_price=stop_price if stop_price is not None else order.stop_price,
            time_in_force=order.time_in_force,
            reduce_only=order.reduce_only,
            post_only=order.post_only,
        )
        if terms.quantity <= order.filled_quantity:
            raise ValidationError("QUANTITY_BELOW_FILLED", value=terms.quantity, filled=order.filled_quantity)
        terms, adjustments = fit_to_market(terms, market)
        remaining = replace(terms, quantity=terms.quantity - order.filled_quantity)

        assessment = await self._service.assess(
            user,
            account,
            gateway,
            market,
            remaining,
            released=_held_by(order, market),
            check_trigger=stop_price is not None,
        )
        denial = assessment.report.first_denial
        if denial is not None:
            raise denial

        draft = self._service.drafts.new(user, account, terms, assessment.estimate)
        draft.adjustments = adjustments
        draft.modifies_order_id = order.id
        await self._service.drafts.store(draft)
        logger.info("Modification draft %s for order %s of user %s", draft.id, order.id, user.telegram_id)
        return OrderPreview(
            draft=draft,
            report=assessment.report,
            account=account,
            modifies=order,
            amend_in_place=gateway.capabilities.amend,
        )

    async def apply_modification(self, user: User, account: Account, draft: OrderDraft) -> Order:
        """Amend the order in place where the exchange can; elsewhere cancel it and place the rest anew."""
        assert draft.modifies_order_id is not None
        order = await self.get(user, draft.modifies_order_id)
        _require_modifiable(order, None, None, None)
        gateway = await self._gateways.gateway_for(account)
        terms = draft.request

        if not gateway.capabilities.amend:
            return await self._cancel_replace(user, account, order, draft)

        assert order.exchange_order_id is not None
        report = await gateway.edit_order(
            order.symbol,
            order.exchange_order_id,
            quantity=_changed(terms.quantity, order.quantity),
            price=_changed(terms.price, order.price),
            stop_price=_changed(terms.stop_price, order.stop_price),
        )
        logger.info("Order %s of user %s amended in place", order.id, user.telegram_id)
        return await self._service.record(order, report, shown_inline=True, amended=terms)

    async def _cancel_replace(self, user: User, account: Account, order: Order, draft: OrderDraft) -> Order:
        cancelled = await self.cancel(user, order.id)
        if cancelled.status is not OrderStatus.CANCELLED:
            raise ValidationError("ORDER_NOT_MODIFIABLE", order=order.short_id, status=cancelled.status)

        remaining = draft.request.quantity - cancelled.filled_quantity
        if remaining <= ZERO:
            raise ValidationError("REPLACEMENT_FAILED", order=order.short_id, cause="QUANTITY_BELOW_FILLED")
        request = replace(draft.request, quantity=remaining, client_order_id=draft.client_order_id)
        try:
            replacement = await self._service.place(user, account, request, replaces_order_id=order.id)
        except PatriotError as error:
            logger.warning("Order %s cancelled, but its replacement failed: %s", order.id, error.code)
            raise ValidationError("REPLACEMENT_FAILED", order=order.short_id, cause=error.code) from error
        logger.info("Order %s of user %s replaced by %s", order.id, user.telegram_id, replacement.id)
        return replacement

    async def _gateway(self, user: User, order: Order) -> ExchangeGateway:
        account = await self._service.account(user, order.account_id)
        return await self._gateways.gateway_for(account)


def _require_trading(user: User) -> None:
    if not user.can(Permission.TRADE):
        raise PermissionDeniedError("trade")


def _require_not_exit(order: Order) -> None:
    """Raise BRACKET_LEG for a bracket's exit, which follows its position until the bracket closes."""
    if order.is_bracket_exit:
        raise ValidationError("BRACKET_LEG", order=order.short_id, bracket=order.bracket_id.hex[:8])


def _require_modifiable(
    order: Order, quantity: Decimal | None, price: Decimal | None, stop_price: Decimal | None
) -> None:
    if order.bracket_id is not None:
        # Changing a leg would leave the bracket's other legs out of step with it.
        code = "BRACKET_LEG" if order.is_bracket_exit else "BRACKET_ENTRY"
        raise ValidationError(code, order=order.short_id, bracket=order.bracket_id.hex[:8])
    if order.status not in MODIFIABLE or order.type is OrderType.MARKET or order.exchange_order_id is None:
        raise ValidationError("ORDER_NOT_MODIFIABLE", order=order.short_id, status=order.status)
    if price is not None and not order.type.needs_price:
        raise ValidationError("PRICE_NOT_ALLOWED", type=order.type)
    if stop_price is not None and not order.type.needs_stop_price:
        raise ValidationError("STOP_PRICE_NOT_ALLOWED", type=order.type)


def _changed(new: Decimal | None, old: Decimal | None) -> Decimal | None:
    return new if new != old else None


def _held_by(order: Order, market: Market) -> dict[str, Decimal]:
    """Estimate what the open order has locked, which a change would free first."""
    remaining = order.remaining_quantity
    if order.side is OrderSide.SELL:
        return {market.base: remaining}
    price = order.price or order.stop_price or ZERO
    return {market.quote: remaining * price * (1 + market.taker_fee)}
