"""Bracket orders for the bot: preview for confirmation, start on Confirm, list, show and close.

A bracket's draft is an order draft of its entry with the fitted plan
attached, so Confirm works once like any order's. The bracket takes the
draft's id, and its entry the draft's client order id.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from decimal import Decimal

from engine.accounts.models import Account, Exchange
from engine.brackets.figures import BracketFigures, bracket_figures
from engine.brackets.keeper import BracketKeeper
from engine.brackets.models import (
    ACTIVE_STATUSES,
    ENTRY_LEG,
    Bracket,
    BracketStatus,
    CloseReason,
    ExitMode,
)
from engine.brackets.plan import BracketPlan, BracketRequest, fit_plan
from engine.brackets.position import Position
from engine.brackets.state import CLOSABLE
from engine.common.clock import Clock
from engine.common.money import ZERO
from engine.errors import NotFoundError, PatriotError, PermissionDeniedError, ValidationError
from engine.exchanges.ports import ExchangeGateway, GatewayProvider
from engine.orders.drafts import OrderDraft
from engine.orders.models import BracketLink, Order, OrderRequest, OrderSide, OrderType
from engine.orders.previews import OrderPreview
from engine.orders.service import OrderService
from engine.risk.pretrade import PreTradeReport
from engine.uow import UnitOfWorkFactory
from engine.users.models import Permission, User

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BracketPreview:
    """The stored draft of a bracket: its entry's preview, the fitted plan and what it risks."""

    entry: OrderPreview
    plan: BracketPlan
    figures: BracketFigures
    # Native exits whose stop legs rest as stop-limits: the limit's distance beyond the stop (a fraction).
    stop_limit_offset: Decimal | None = None
    # Native exits whose stop the exchange cancels once a target fills in part.
    partial_fill_unprotected: bool = False

    @property
    def draft(self) -> OrderDraft:
        return self.entry.draft

    @property
    def account(self) -> Account:
        return self.entry.account


@dataclass(frozen=True)
class BracketView:
    """A bracket with its legs as stored and what they add up to."""

    bracket: Bracket
    position: Position


class BracketService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        orders: OrderService,
        gateways: GatewayProvider,
        keeper: BracketKeeper,
        clock: Clock,
        *,
        paper_exits: ExitMode = ExitMode.NATIVE,
    ) -> None:
        self._uow = uow_factory
        self._orders = orders
        self._gateways = gateways
        self.keeper = keeper
        self._clock = clock
        self._paper_exits = paper_exits

    # ----- preview and confirmation -------------------------------------------------

    async def preview(
        self, user: User, request: BracketRequest, account_id: uuid.UUID | None = None
    ) -> BracketPreview:
        """Fit and check a bracket and store it as a draft awaiting Confirm.

        Raises ValidationError (BRACKET_* and the market's rules) or RiskDenied;
        nothing is stored then.
        """
        _require_trading(user)
        account = await self._orders.account(user, account_id)
        gateway = await self._gateways.gateway_for(account)
        market = await gateway.market(request.symbol)
        exit_mode = self.exit_mode_for(account, gateway, request.exit_mode)

        ticker = await gateway.fetch_ticker(market.symbol)
        long = request.side is OrderSide.BUY
        reference = (ticker.ask if long else ticker.bid) or ticker.last
        plan = fit_plan(request, market, reference, exit_mode)
        if not long:
            await _require_holding(gateway, market.base, plan.quantity)

        entry = entry_request(plan)
        assessment = await self._orders.assess(
            user,
            account,
            gateway,
            market,
            entry,
            with_impact=plan.entry_price is None,
            stop_loss=plan.stop_price,
        )
        denial = assessment.report.first_denial
        if denial is not None:
            raise denial

        draft = self._orders.drafts.new(user, account, entry, assessment.estimate)
        draft.bracket = plan
        await self._orders.drafts.store(draft)
        # The estimate's price is where the entry is expected to fill: a limit already past the
        # market fills at the market's price.
        expected = assessment.estimate.price
        figures = bracket_figures(plan, expected, market.taker_fee, _equity(assessment.report))
        logger.info(
            "Bracket draft %s for user %s: %s %s %s, stop %s, %d targets, %s exits",
            draft.id,
            user.telegram_id,
            plan.side,
            plan.quantity,
            plan.symbol,
            plan.stop_price,
            len(plan.targets),
            exit_mode,
        )
        entry_preview = OrderPreview(
            draft=draft,
            report=assessment.report,
            account=account,
            impact=assessment.impact,
            max_slippage=user.max_slippage,
        )
        native = exit_mode is ExitMode.NATIVE
        capabilities = gateway.capabilities
        return BracketPreview(
            entry_preview,
            plan,
            figures,
            stop_limit_offset=capabilities.oco_stop_limit if native else None,
            partial_fill_unprotected=native and not capabilities.oco_stop_survives_partial_fill,
        )

    def exit_mode_for(
        self, account: Account, gateway: ExchangeGateway, requested: ExitMode | None
    ) -> ExitMode:
        """Choose the exits: the requested kind, else PAPER's setting, else native where OCO exists.

        Raises BRACKET_NATIVE_UNSUPPORTED when native exits are requested on an
        exchange without OCO orders.
        """
        native = gateway.capabilities.oco
        if requested is ExitMode.NATIVE and not native:
            raise ValidationError("BRACKET_NATIVE_UNSUPPORTED", exchange=account.exchange.value)
        if requested is not None:
            return requested
        if account.exchange is Exchange.PAPER:
            return self._paper_exits
        return ExitMode.NATIVE if native else ExitMode.SYNTHETIC

    async def confirm(self, user: User, draft_id: uuid.UUID) -> Bracket:
        """Consume the draft once, store the bracket and send its entry; exits follow its fills.

        Raises what the entry's order path raises (the checks run again); the
        bracket is then CANCELLED and nothing was sent.
        """
        draft, account = await self._orders.drafts.consume(user, draft_id, bracket=True)
        plan = draft.bracket
        assert plan is not None
        now = self._clock.now()
        bracket = Bracket(
            id=draft.id,
            user_id=user.id,
            account_id=account.id,
            symbol=plan.symbol,
            side=plan.side,
            quantity=plan.quantity,
            entry_price=plan.entry_price,
            stop_price=plan.stop_price,
            targets=plan.targets,
            breakeven=plan.breakeven,
            exit_mode=plan.exit_mode,
            status=BracketStatus.PENDING,
            created_at=now,
            updated_at=now,
        )
        async with self._uow() as uow:
            await uow.brackets.add(bracket)
            # The bracket reports its own life cycle from here on, also after a restart.
            await uow.drafts.mark_reported(draft.id, now)
            await uow.commit()
        logger.info("Bracket %s of user %s started: sending its entry", bracket.id, user.telegram_id)

        request = replace(entry_request(plan), client_order_id=draft.client_order_id)
        link = BracketLink(bracket.id, ENTRY_LEG.code, stop_loss=plan.stop_price)
        token = self.keeper.inline.set(True)
        try:
            async with self.keeper.holding(bracket.id):
                try:
                    await self._orders.place(user, account, request, bracket=link)
                except PatriotError:
                    await self._cancel_unsent(bracket)
                    raise
        finally:
            self.keeper.inline.reset(token)
        return await self._reload(bracket.id)

    async def _cancel_unsent(self, bracket: Bracket) -> None:
        async with self._uow() as uow:
            stored = await uow.brackets.get(bracket.id)
            legs = await uow.orders.list_for_bracket(bracket.id)
            if stored is None or legs:
                return  # the entry was stored: the keeper ends the bracket from the entry's state
            stored.status = BracketStatus.CANCELLED
            stored.close_reason = CloseReason.ENTRY_REJECTED
            stored.closed_at = stored.updated_at = self._clock.now()
            await uow.brackets.update(stored)
            await uow.commit()
        logger.info("Bracket %s cancelled: its entry was rejected before it was sent", bracket.id)

    # ----- reading ---------------------------------------------------------------------

    async def view(self, user: User, bracket_id: uuid.UUID) -> BracketView:
        """Return the user's bracket with its legs; another user's id is "not found"."""
        async with self._uow(read_only=True) as uow:
            bracket = await uow.brackets.get_for_user(user.id, bracket_id)
            if bracket is None:
                raise NotFoundError("bracket")
            orders = await uow.orders.list_for_bracket(bracket.id)
            account = await uow.accounts.get_for_user(user.id, bracket.account_id)
        step = await self._step(account, bracket.symbol)
        return BracketView(bracket, Position(bracket, orders, step))

    async def active(self, user: User) -> list[BracketView]:
        async with self._uow(read_only=True) as uow:
            brackets = await uow.brackets.list_for_user(user.id, ACTIVE_STATUSES, limit=50)
        return [await self.view(user, bracket.id) for bracket in brackets]

    async def recent(self, user: User, limit: int = 10) -> list[Bracket]:
        async with self._uow(read_only=True) as uow:
            return await uow.brackets.list_for_user(user.id, limit=limit)

    async def of_order(self, user: User, order: Order) -> Bracket | None:
        if order.bracket_id is None:
            return None
        async with self._uow(read_only=True) as uow:
            return await uow.brackets.get_for_user(user.id, order.bracket_id)

    # ----- closing ---------------------------------------------------------------------

    async def close(self, user: User, bracket_id: uuid.UUID) -> Bracket:
        """Close the bracket: cancel its exits (and the entry's rest) and sell what is open at market.

        An entry that has not filled is cancelled and the bracket with it.
        Raises BRACKET_NOT_CLOSABLE when it is closing or over already.
        """
        if not user.can(Permission.TRADE):
            raise PermissionDeniedError("trade")
        async with self.keeper.holding(bracket_id):
            async with self._uow() as uow:
                bracket = await uow.brackets.get_for_user(user.id, bracket_id)
                if bracket is None:
                    raise NotFoundError("bracket")
                if bracket.status not in CLOSABLE:
                    raise ValidationError(
                        "BRACKET_NOT_CLOSABLE", bracket=bracket.short_id, status=bracket.status
                    )
                bracket.status = BracketStatus.CLOSING
                bracket.close_reason = CloseReason.USER
                bracket.updated_at = self._clock.now()
                await uow.brackets.update(bracket)
                await uow.commit()
            logger.info("Bracket %s: closing at the request of user %s", bracket_id, user.telegram_id)
        return await self._reload(bracket_id)

    async def _reload(self, bracket_id: uuid.UUID) -> Bracket:
        async with self._uow(read_only=True) as uow:
            bracket = await uow.brackets.get(bracket_id)
        if bracket is None:
            raise NotFoundError("bracket")
        return bracket

    async def _step(self, account: Account | None, symbol: str) -> Decimal:
        if account is None:
            return Decimal("1E-8")
        gateway = await self._gateways.gateway_for(account)
        return (await gateway.market(symbol)).amount_step


def entry_request(plan: BracketPlan) -> OrderRequest:
    return OrderRequest(
        symbol=plan.symbol,
        side=plan.side,
        type=OrderType.MARKET if plan.entry_price is None else OrderType.LIMIT,
        quantity=plan.quantity,
        price=plan.entry_price,
    )


async def _require_holding(gateway: ExchangeGateway, asset: str, quantity: Decimal) -> None:
    """Raise BRACKET_SHORT_NEEDS_HOLDING unless the account holds the base a spot SELL bracket sells."""
    entry = (await gateway.fetch_balance()).get(asset)
    free = entry.free if entry is not None else ZERO
    if free < quantity:
        raise ValidationError("BRACKET_SHORT_NEEDS_HOLDING", asset=asset, value=quantity, available=free)


def _equity(report: PreTradeReport) -> Decimal | None:
    for result in report.results:
        equity = result.figures.get("equity")
        if equity is not None:
            return equity
    return None


def _require_trading(user: User) -> None:
    if not user.can(Permission.TRADE):
        raise PermissionDeniedError("trade")
