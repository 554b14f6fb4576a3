"""Native exits: one OCO pair per target, a limit at the target and a stop at the stop in force.

The stop leg is requested as a stop-market; an exchange without one for the
pair rests it as a stop-limit (``Capabilities.oco_stop_limit``, Binance).

Both legs of a pair are sized to that target's open share, so the pairs'
stops always sum to exactly the open quantity, and the exchange keeps it so
while the bot is down: a target that fills cancels its own stop, and a stop
that fires cancels its own target. One stop order for the whole position
next to separate target orders would not work on a spot account. Each
resting sell reserves its coins, so two orders cannot both reserve the same
coins. And after a target fill such a stop would still ask for more than is
left, until the bot shrank it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from engine.brackets.context import BracketPass
from engine.brackets.models import CloseReason, Leg, LegRole
from engine.common.money import ZERO
from engine.errors import PermanentExchangeError, RiskDenied
from engine.orders.models import BracketLink, Order, OrderRequest, OrderStatus, OrderType
from engine.orders.recording import request_of
from engine.orders.service import OrderService

if TYPE_CHECKING:
    from engine.brackets.exits import ExitDesk

logger = logging.getLogger(__name__)


@dataclass
class Pair:
    """One target's OCO pair on the exchange: its limit leg and its stop leg."""

    limit: Order | None = None
    stop: Order | None = None

    def matches(self, size: Decimal, price: Decimal, stop_price: Decimal) -> bool:
        return self.sized(size, price) and self.stop is not None and self.stop.stop_price == stop_price

    def sized(self, size: Decimal, price: Decimal) -> bool:
        limit, stop = self.limit, self.stop
        if limit is None or stop is None or limit.status is OrderStatus.PENDING:
            return False
        return limit.price == price and limit.remaining_quantity == size and stop.remaining_quantity == size

    def orders(self) -> list[Order]:
        return [order for order in (self.limit, self.stop) if order is not None]


class OcoExits:
    def __init__(self, orders: OrderService, desk: ExitDesk) -> None:
        self._orders = orders
        self._desk = desk

    async def arm(self, step: BracketPass, layout: list[Decimal], last: Decimal) -> None:
        bracket = step.bracket
        pairs = self._pairs(step)
        # A target with a leg whose fate is unknown gets nothing new until the order sync resolves it.
        unsure = {
            item.leg.target for item in step.position.live_exits() if item.order.status is OrderStatus.PENDING
        }
        keep: dict[int, Pair] = {}
        amend: list[Pair] = []
        cancel: list[Order] = []
        missing: list[int] = []
        for index, size in enumerate(layout, start=1):
            price = bracket.targets[index - 1].price
            live = pairs.pop(index, [])
            good = next((pair for pair in live if pair.matches(size, price, bracket.active_stop)), None)
            if good is None and step.gateway.capabilities.amend:
                good = next((pair for pair in live if pair.sized(size, price)), None)
                if good is not None:
                    amend.append(good)
            if good is not None:
                keep[index] = good
            elif size > ZERO and index not in unsure:
                missing.append(index)
            cancel.extend(order for pair in live if pair is not good for order in pair.orders())
        cancel.extend(order for leftovers in pairs.values() for pair in leftovers for order in pair.orders())

        if any(order.status.is_open for order in cancel):
            for order in cancel:
                if order.status.is_open:
                    await self._desk.cancel_leg(step, order)
            return  # the next pass places what is missing, on the position as the cancels left it
        if bracket.stop_reached(last) and (missing or amend or unsure):
            logger.info(
                "Bracket %s: last price %s is beyond the stop %s", bracket.id, last, bracket.active_stop
            )
            await self._desk.begin_close(step, CloseReason.STOP_PASSED)
            return
        for pair in amend:
            if not await self._move_stop(step, pair):
                return
        for index in missing:
            if not await self._place_pair(step, index, layout[index - 1]):
                return
        if missing:
            self._desk.again(bracket.id)
            return
        cover = sum((pair.stop.remaining_quantity for pair in keep.values() if pair.stop is not None), ZERO)
        await self._desk.tell_cover(step, cover)

    def _pairs(self, step: BracketPass) -> dict[int, list[Pair]]:
        """Live OCO legs grouped by target and generation; a leg without its partner forms a pair alone."""
        grouped: dict[tuple[int, int], Pair] = {}
        for item in step.position.live_exits():
            if item.leg.target is None or item.order.type is OrderType.MARKET:
                continue
            pair = grouped.setdefault((item.leg.target, item.generation), Pair())
            if item.leg.role is LegRole.TARGET:
                pair.limit = item.order
            else:
                pair.stop = item.order
        by_target: dict[int, list[Pair]] = {}
        for (target, _generation), pair in sorted(grouped.items()):
            by_target.setdefault(target, []).append(pair)
        return by_target

    async def _place_pair(self, step: BracketPass, index: int, size: Decimal) -> bool:
        """Place target ``index``'s OCO pair; return False when the pass must stop here."""
        bracket, position = step.bracket, step.position
        target_leg, stop_leg = Leg(LegRole.TARGET, index), Leg(LegRole.STOP, index)
        generation = max(position.next_generation(target_leg), position.next_generation(stop_leg))
        limit = OrderRequest(
            symbol=bracket.symbol,
            side=bracket.exit_side,
            type=OrderType.LIMIT,
            quantity=size,
            price=bracket.targets[index - 1].price,
            client_order_id=bracket.client_order_id(target_leg, generation),
        )
        stop = OrderRequest(
            symbol=bracket.symbol,
            side=bracket.exit_side,
            type=OrderType.STOP_MARKET,
            quantity=size,
            stop_price=bracket.active_stop,
            client_order_id=bracket.client_order_id(stop_leg, generation),
        )
        links = (
            BracketLink(bracket.id, target_leg.code, protective=True),
            BracketLink(bracket.id, stop_leg.code, protective=True),
        )
        try:
            await self._orders.pairs.place(step.user, step.account, limit, stop, links)
        except PermanentExchangeError as exc:
            await self._desk.placement_rejected(step, exc.reason)
            return False
        except RiskDenied as denial:
            await self._desk.placement_rejected(step, denial.code)
            return False
        logger.info("Bracket %s: target %d armed for %s (generation %d)", bracket.id, index, size, generation)
        return True

    async def _move_stop(self, step: BracketPass, pair: Pair) -> bool:
        """Amend the pair's stop leg to the stop in force; return False when the pass must stop here."""
        stop = pair.stop
        assert stop is not None and stop.exchange_order_id is not None
        new_stop = step.bracket.active_stop
        try:
            report = await step.gateway.edit_order(stop.symbol, stop.exchange_order_id, stop_price=new_stop)
        except PermanentExchangeError as exc:
            if exc.reason == "ORDER_NOT_FOUND":
                self._desk.again(step.bracket.id)  # it filled or was cancelled: the next pass reads its state
                return False
            if exc.reason == "AMEND_UNSUPPORTED":
                # A pair the exchange keeps as one order (OKX's OCO algo order) is replaced instead.
                for order in pair.orders():
                    if order.status.is_open:
                        await self._desk.cancel_leg(step, order)
                return False
            await self._desk.placement_rejected(step, exc.reason)
            return False
        terms = request_of(stop)
        await self._desk.record(
            stop,
            report,
            amended=OrderRequest(
                symbol=terms.symbol,
                side=terms.side,
                type=terms.type,
                quantity=report.quantity,
                stop_price=new_stop,
                client_order_id=terms.client_order_id,
            ),
        )
        return True
