"""A bracket's exits: kept in line with the position each pass, and the close-out.

Native exits (``ExitMode.NATIVE``) rest on the exchange as OCO pairs, one
per target (``engine.brackets.native``). Watched exits
(``ExitMode.SYNTHETIC``) rest nothing: each pass compares the last price
with the stop and the targets and sends a market order when one is reached.
So they protect only while the bot runs, and a price that crosses a level
and comes back between two passes is missed.

Every change cancels or reduces what rests before it places anything new.
A stop the price has already passed when it is due is not placed. The
position is closed at market instead.
"""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING

from engine.accounts.models import Exchange
from engine.brackets.context import BracketPass
from engine.brackets.models import (
    STEP_FALLBACK,
    STEP_STOP_MOVED,
    BracketStatus,
    CloseReason,
    ExitMode,
    Leg,
    LegRole,
)
from engine.brackets.native import OcoExits
from engine.brackets.plan import slice_fits
from engine.brackets.position import LegOrder
from engine.common.clock import Clock
from engine.common.crash_points import crash_point
from engine.common.money import ZERO, ceil_to_step, floor_to_step
from engine.errors import IllegalTransitionError, PermanentExchangeError, RiskDenied
from engine.exchanges.models import ExchangeOrder
from engine.orders.lookup import fetch_known
from engine.orders.models import BracketLink, Order, OrderRequest, OrderSide, OrderType
from engine.orders.service import OrderService
from engine.orders.sync import UNKNOWN_ORDER_REASON
from engine.uow import UnitOfWorkFactory

if TYPE_CHECKING:
    from engine.brackets.keeper import BracketKeeper

logger = logging.getLogger(__name__)

# Market orders a close-out sends before it gives up and leaves the position to the user.
MAX_CLOSE_ATTEMPTS = 5
NO_FUNDS = frozenset({"INSUFFICIENT_FUNDS", "INSUFFICIENT_BALANCE"})


class ExitDesk:
    def __init__(
        self, uow_factory: UnitOfWorkFactory, orders: OrderService, clock: Clock, keeper: BracketKeeper
    ) -> None:
        self._uow = uow_factory
        self._orders = orders
        self._clock = clock
        self._keeper = keeper
        self._native = OcoExits(orders, self)

    # ----- orders the pass is unsure about --------------------------------------------

    async def resolve_pending(self, step: BracketPass) -> bool:
        """Look up every leg stored but never acknowledged; return whether any changed.

        PAPER answers from PATRIOT's own database, so "not found" there means
        the order never reached it and it is rejected at once. On a live
        exchange the order sync decides, after several lookups over minutes.
        """
        changed = False
        missed = []
        for item in step.position.pending():
            found = await fetch_known(step.gateway, item.order)
            if found is None:
                missed.append(item)
            else:
                changed = await self.record(item.order, found) or changed

        # Second round: a leg the exchange keeps only under its partner's id is found through it.
        for item in missed:
            order = item.order
            found = await self._through_partner(step, item)
            if found is not None:
                changed = await self.record(order, found) or changed
            elif step.gateway.exchange is Exchange.PAPER:
                logger.warning(
                    "Bracket %s: leg %s never reached PAPER; rejecting it", step.bracket.id, order.id
                )
                await self._orders.reject(order, UNKNOWN_ORDER_REASON)
                changed = True
        return changed

    async def _through_partner(self, step: BracketPass, item: LegOrder) -> ExchangeOrder | None:
        """Look a PENDING OCO leg up by its partner's exchange id (OKX: "ALGO:tp" gives "ALGO:sl").

        OKX's OCO algo order carries the take-profit leg's client order id
        only, so after a lost response the stop leg cannot be found by its own id.
        """
        partner = next(
            (
                other
                for other in step.position.legs
                if other is not item
                and other.leg.target == item.leg.target
                and other.generation == item.generation
                and other.leg.role is not item.leg.role
                and other.order.exchange_order_id is not None
            ),
            None,
        )
        if partner is None or item.leg.target is None:
            return None
        sibling = step.gateway.sibling_leg_id(partner.order.exchange_order_id)
        if sibling is None:
            return None
        logger.info("Bracket %s: looking leg %s up as %s", step.bracket.id, item.order.id, sibling)
        return await step.gateway.fetch_order(item.order.symbol, exchange_order_id=sibling, is_trigger=True)

    async def record(self, order: Order, report: ExchangeOrder, amended: OrderRequest | None = None) -> bool:
        before = (order.status, order.filled_quantity, order.quantity, order.stop_price)
        try:
            await self._orders.record(order, report, amended=amended)
        except IllegalTransitionError as exc:
            logger.warning("Order %s: ignored a stale exchange report (%s)", order.id, exc)
            return False
        return (order.status, order.filled_quantity, order.quantity, order.stop_price) != before

    def again(self, bracket_id: uuid.UUID) -> None:
        """Ask the keeper for one more pass over the bracket once this one ends."""
        self._keeper.again(bracket_id)

    async def refresh(self, step: BracketPass) -> bool:
        """Fetch every working leg from the exchange and record what changed; return whether anything did.

        Run before concluding that the position is gone: a leg may have filled
        on the exchange without PATRIOT having recorded it yet.
        """
        changed = False
        for item in step.position.legs:
            if item.order.status.is_open:
                found = await fetch_known(step.gateway, item.order)
                if found is not None:
                    changed = await self.record(item.order, found) or changed
        if changed:
            self._keeper.again(step.bracket.id)
        return changed

    async def cancel_leg(self, step: BracketPass, order: Order) -> None:
        """Cancel one working leg and record the result; a leg that filled meanwhile is recorded as filled."""
        if order.exchange_order_id is None:
            return
        try:
            report = await step.gateway.cancel_order(
                order.symbol, order.exchange_order_id, is_trigger=order.is_trigger
            )
        except PermanentExchangeError as exc:
            if exc.reason != "ORDER_NOT_FOUND":
                raise
            found = await fetch_known(step.gateway, order)
            if found is None:
                return
            report = found
        logger.info("Bracket %s: cancelled leg %s (%s)", step.bracket.id, order.id, order.bracket_leg)
        await self.record(order, report)
        self._keeper.again(step.bracket.id)

    async def sweep(self, step: BracketPass) -> None:
        """Leave nothing of a finished bracket working: cancel its entry's rest and its resting exits."""
        if step.position.pending():
            await self.resolve_pending(step)
        for item in step.position.legs:
            if item.order.status.is_open:
                await self.cancel_leg(step, item.order)

    # ----- protection ----------------------------------------------------------------

    async def protect(self, step: BracketPass) -> None:
        """Make the exits cover the open position: move the stop to breakeven when due, then arm or watch."""
        bracket = step.bracket
        if bracket.reported_cover <= ZERO:
            crash_point("bracket_before_arming")
        last = (await step.gateway.fetch_ticker(bracket.symbol)).last
        await self._breakeven(step)
        layout = step.layout()
        if not any(layout):
            await self._dust(step)
            return
        if bracket.exit_mode is ExitMode.SYNTHETIC:
            await self._watch(step, layout, last)
        else:
            await self._native.arm(step, layout, last)

    async def _dust(self, step: BracketPass) -> None:
        """Close the bracket when what is open is below the market's minimum, since no order can sell it."""
        if step.position.entry_done:
            await self._keeper.finish(step, BracketStatus.CLOSED, CloseReason.DUST)
        # else: the entry still works and more fills may lift the position above the minimum

    async def _breakeven(self, step: BracketPass) -> None:
        """Move the stop to the average entry price once the first target has filled, when asked."""
        bracket, position = step.bracket, step.position
        if not bracket.breakeven or bracket.stop_moved or position.entry_average is None:
            return
        first = next(index for index, target in enumerate(bracket.targets) if target.quantity > ZERO)
        if position.exited_by_targets()[first] <= ZERO or step.layout()[first] > ZERO:
            return  # the first target has not filled completely yet
        tick = step.market.price_step
        average = position.entry_average
        stop = ceil_to_step(average, tick) if bracket.is_long else floor_to_step(average, tick)
        better = stop > bracket.active_stop if bracket.is_long else stop < bracket.active_stop
        bracket.stop_moved = True
        if better:
            bracket.active_stop = stop
        await self._keeper.save(bracket)
        if better:
            logger.info("Bracket %s: stop moved to breakeven %s", bracket.id, stop)
            await self._keeper.tell_once(step, STEP_STOP_MOVED)

    async def _watch(self, step: BracketPass, layout: list[Decimal], last: Decimal) -> None:
        bracket, position = step.bracket, step.position
        resting = [
            item.order
            for item in position.live_exits()
            if item.order.type is not OrderType.MARKET and item.order.status.is_open
        ]
        if resting:
            # Native exits left from before a fallback: cancelled before the bot takes over.
            for order in resting:
                await self.cancel_leg(step, order)
            return
        if bracket.stop_reached(last):
            logger.info(
                "Bracket %s: last price %s reached the watched stop %s", bracket.id, last, bracket.active_stop
            )
            await self.begin_close(step, CloseReason.STOP)
            return
        if position.live_exits():
            return  # an exit is on its way, or its fate is not known yet
        for index, size in enumerate(layout, start=1):
            if size > ZERO and bracket.target_reached(index, last):
                logger.info("Bracket %s: last price %s reached target %d", bracket.id, last, index)
                await self._market_exit(step, Leg(LegRole.TARGET, index), size)
                return
        await self.tell_cover(step, position.open_quantity)

    async def placement_rejected(self, step: BracketPass, reason: str) -> None:
        """Close the position when the stop has passed or a long's coins are gone.

        Any other rejection hands the exits to the bot.
        """
        if reason == "STOP_WOULD_TRIGGER":
            await self.begin_close(step, CloseReason.STOP_PASSED)
            return
        # A sell pair without coins means the position may be gone. A buy pair (a short's) lacks
        # quote instead, because it reserves more than the sale brought in, so it falls back.
        if reason in NO_FUNDS and step.bracket.exit_side is OrderSide.SELL:
            if not await self.refresh(step):
                await self.begin_close(step, CloseReason.POSITION_GONE)
            return
        bracket = step.bracket
        logger.warning(
            "Bracket %s: native exits rejected (%s); the bot watches the prices instead", bracket.id, reason
        )
        bracket.exit_mode = ExitMode.SYNTHETIC
        bracket.fallback_reason = reason
        await self._keeper.save(bracket)
        await self._keeper.tell_once(step, STEP_FALLBACK)
        self._keeper.again(bracket.id)

    async def tell_cover(self, step: BracketPass, cover: Decimal) -> None:
        """Tell the user when the exits cover more than last notified; record a shrink silently."""
        bracket, keeper = step.bracket, self._keeper
        if keeper.beyond_notified(bracket, "cover", cover, bracket.reported_cover):
            keeper.emitted(bracket, "cover", cover)
            await keeper.emit(
                "bracket_armed", bracket, cover=cover, mode=bracket.exit_mode, layout=tuple(step.layout())
            )
            return
        if cover >= keeper.notified_value(bracket, "cover", bracket.reported_cover):
            return
        # Less is covered now (a target sold part of it): lower the record, so a later rise is sent.
        keeper.emitted(bracket, "cover", cover)
        if cover < bracket.reported_cover:
            async with self._uow() as uow:
                await uow.brackets.lower_cover(bracket.id, cover)
                await uow.commit()

    # ----- leaving the position ------------------------------------------------------

    async def begin_close(self, step: BracketPass, reason: CloseReason) -> None:
        bracket = step.bracket
        if bracket.status is not BracketStatus.CLOSING:
            await self._keeper.move(step, BracketStatus.CLOSING, reason)
        self._keeper.again(bracket.id)

    async def close_out(self, step: BracketPass) -> None:
        """Cancel whatever still works, then sell what is left at market; CLOSED once nothing is left."""
        bracket, position = step.bracket, step.position
        if bracket.status is not BracketStatus.CLOSING:
            reason = CloseReason.STOP if position.exited(LegRole.STOP) > ZERO else CloseReason.USER
            await self._keeper.move(step, BracketStatus.CLOSING, bracket.close_reason or reason)

        working = [item.order for item in position.legs if item.order.status.is_open]
        if working:
            for order in working:
                await self.cancel_leg(step, order)
            return
        if position.pending():
            return  # a leg whose fate is unknown: the next pass resolves it first

        rest = position.open_quantity
        if rest <= ZERO:
            await self._keeper.finish(step, BracketStatus.CLOSED, bracket.close_reason or CloseReason.USER)
            return
        last = (await step.gateway.fetch_ticker(bracket.symbol)).last
        if not slice_fits(step.market, rest, last):
            await self._keeper.finish(step, BracketStatus.CLOSED, bracket.close_reason or CloseReason.DUST)
            return
        stopped = bracket.close_reason in (CloseReason.STOP, CloseReason.STOP_PASSED)
        await self._market_exit(step, Leg(LegRole.STOP) if stopped else Leg(LegRole.CLOSE), rest)

    async def _held(self, step: BracketPass, size: Decimal) -> Decimal:
        """Return ``size`` cut to the free base asset when the exit sells, so a smaller holding is still sold.

        Watched exits reserve no coins, so the trader may have sold part of the position meanwhile.
        """
        bracket = step.bracket
        if bracket.exit_side is not OrderSide.SELL:
            return size
        balances = await step.gateway.fetch_balance()
        entry = balances.get(step.market.base)
        free = floor_to_step(entry.free, step.market.amount_step) if entry is not None else ZERO
        if free >= size:
            return size
        logger.warning("Bracket %s: exit of %s cut to the %s held", bracket.id, size, free)
        return free

    async def _market_exit(self, step: BracketPass, leg: Leg, wanted: Decimal) -> None:
        bracket, position = step.bracket, step.position
        size = await self._held(step, wanted)
        if size < wanted:
            last = (await step.gateway.fetch_ticker(bracket.symbol)).last
            if not slice_fits(step.market, size, last):
                size = wanted  # too little is held to sell: the refusal below closes the bracket
        generation = position.next_generation(leg)
        if generation > MAX_CLOSE_ATTEMPTS:
            logger.error(
                "Bracket %s: %d market exits for %s failed; leaving the rest to the user",
                bracket.id,
                generation - 1,
                leg.code,
            )
            return
        request = OrderRequest(
            symbol=bracket.symbol,
            side=bracket.exit_side,
            type=OrderType.MARKET,
            quantity=size,
            client_order_id=bracket.client_order_id(leg, generation),
        )
        try:
            await self._orders.place(
                step.user,
                step.account,
                request,
                bracket=BracketLink(bracket.id, leg.code, protective=True),
                shown_inline=False,
            )
        except (PermanentExchangeError, RiskDenied) as error:
            reason = error.reason if isinstance(error, PermanentExchangeError) else error.code
            if reason in NO_FUNDS and not await self.refresh(step):
                if bracket.status is not BracketStatus.CLOSING:
                    await self._keeper.move(step, BracketStatus.CLOSING, CloseReason.POSITION_GONE)
                bracket.close_reason = CloseReason.POSITION_GONE
                await self._keeper.finish(step, BracketStatus.CLOSED, CloseReason.POSITION_GONE)
                return
            logger.warning("Bracket %s: market exit %s rejected: %s", bracket.id, leg.code, reason)
            return
        self._keeper.again(bracket.id)
