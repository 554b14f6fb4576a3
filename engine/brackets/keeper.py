"""The bracket keeper: brings each bracket's orders in line with its position, one pass at a time.

A pass reads the bracket and its legs as stored, works out what must rest
on the exchange for the position as it is now, and does only what is
missing. The same pass runs for every trigger: a leg's order event, the
scheduled watcher (synthetic exits and self-healing), a close by the user,
and start-up reconciliation. So after a crash at any point the next pass
finds the position as the fills left it and finishes the job. It sends
nothing twice, because every leg is stored before it is sent, with a client
order id fixed by the bracket, the leg and a generation number.

A step the user must hear about (the entry filled, a target hit, exits armed)
is emitted while the position is beyond what the bracket records as notified, and
a step that happens once (the stop moved, the fallback to watched exits, the
end) while the bracket records it not notified. The subscriber raises that record in
the transaction that queues the message, so a crash before it leaves the step
to be sent after the restart, and a crash after it tells nothing twice.

Passes of one bracket never overlap. An event that arrives during a pass
(the pass's own orders emit them) marks the bracket for one more pass
instead of waiting for the lock, so a pass never waits for itself.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.brackets.context import BracketPass
from engine.brackets.exits import ExitDesk
from engine.brackets.models import (
    STEP_END,
    STEP_FALLBACK,
    STEP_STOP_MOVED,
    Bracket,
    BracketStatus,
    CloseReason,
    LegRole,
)
from engine.brackets.position import Position, average_fill
from engine.brackets.state import check_transition
from engine.common.clock import Clock
from engine.common.crash_points import crash_point
from engine.common.money import ZERO
from engine.errors import ExchangeError, PatriotError
from engine.events import Event, EventBus
from engine.exchanges.ports import GatewayProvider
from engine.orders.models import OrderStatus
from engine.orders.service import OrderService
from engine.uow import UnitOfWorkFactory

logger = logging.getLogger(__name__)

LEG_EVENTS = ("order_partially_filled", "order_filled", "order_cancelled", "order_rejected", "order_modified")
MAX_PASSES = 12


class BracketKeeper:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        gateways: GatewayProvider,
        orders: OrderService,
        bus: EventBus,
        clock: Clock,
    ) -> None:
        self._uow = uow_factory
        self._gateways = gateways
        self._orders = orders
        self._bus = bus
        self._clock = clock
        self._dirty: set[uuid.UUID] = set()
        # (bracket, step) -> the value this process last emitted for it; see ``not notified``.
        self._emitted: dict[tuple[uuid.UUID, str], Decimal] = {}
        self._emitted_steps: set[tuple[uuid.UUID, str]] = set()
        self._locks: dict[uuid.UUID, asyncio.Lock] = {}
        # Set while the user watches the result on the message they pressed (the confirmation card).
        self.inline: contextvars.ContextVar[bool] = contextvars.ContextVar("bracket_inline", default=False)
        self._exits = ExitDesk(uow_factory, orders, clock, self)

    def subscribe(self) -> None:
        for name in LEG_EVENTS:
            self._bus.subscribe(name, self._on_order_event)

    async def _on_order_event(self, event: Event) -> None:
        order_id = event.payload.get("order_id")
        if order_id is None:
            return
        if "bracket_id" in event.payload and event.payload["bracket_id"] is None:
            return  # an order outside any bracket, as the order service reports it
        async with self._uow(read_only=True) as uow:
            order = await uow.orders.get(order_id)
        if order is None or order.bracket_id is None:
            return
        await self.reconcile(order.bracket_id)

    # ----- running passes ------------------------------------------------------------

    async def reconcile(self, bracket_id: uuid.UUID) -> None:
        """Run passes over the bracket until nothing is left to do (or another task is running them)."""
        self._dirty.add(bracket_id)
        lock = self._lock(bracket_id)
        if lock.locked():
            return  # its holder runs another pass before it lets go
        async with lock:
            await self._drain(bracket_id)

    @asynccontextmanager
    async def holding(self, bracket_id: uuid.UUID) -> AsyncIterator[None]:
        """Keep passes of the bracket off while the caller sends one of its orders; run them after."""
        async with self._lock(bracket_id):
            try:
                yield
            except Exception:
                # The caller failed, but what it sent may need exits: the passes still run.
                # A cancellation (BaseException) ends the task instead; the watcher takes over.
                self._dirty.add(bracket_id)
                await self._drain(bracket_id)
                raise
            self._dirty.add(bracket_id)
            await self._drain(bracket_id)

    async def _drain(self, bracket_id: uuid.UUID) -> None:
        for _ in range(MAX_PASSES):
            if bracket_id not in self._dirty:
                return
            self._dirty.discard(bracket_id)
            try:
                await self._pass(bracket_id)
            except ExchangeError as exc:
                # Temporary trouble, or a refusal the pass could not handle: the watcher tries again.
                logger.warning("Bracket %s: pass stopped by an exchange error: %s", bracket_id, exc)
                self._dirty.discard(bracket_id)
                return
            except PatriotError as exc:
                logger.warning("Bracket %s: pass stopped: %s %s", bracket_id, exc.code, exc.fields)
                self._dirty.discard(bracket_id)
                return
        self._dirty.discard(bracket_id)
        logger.warning(
            "Bracket %s: still changing after %d passes; the watcher continues", bracket_id, MAX_PASSES
        )

    async def watch(self) -> int:
        """Run a pass over every active bracket (a scheduled job, and start-up reconciliation)."""
        async with self._uow(read_only=True) as uow:
            brackets = await uow.brackets.list_active()
        for bracket in brackets:
            try:
                await self.reconcile(bracket.id)
            except Exception:
                logger.exception("Bracket %s: pass failed", bracket.id)
        return len(brackets)

    def _lock(self, bracket_id: uuid.UUID) -> asyncio.Lock:
        lock = self._locks.get(bracket_id)
        if lock is None:
            lock = self._locks[bracket_id] = asyncio.Lock()
        return lock

    def again(self, bracket_id: uuid.UUID) -> None:
        """Ask for one more pass once the current one ends."""
        self._dirty.add(bracket_id)

    # ----- one pass ------------------------------------------------------------------

    async def _pass(self, bracket_id: uuid.UUID) -> None:
        step = await self._load(bracket_id)
        if step is None:
            return
        bracket, position = step.bracket, step.position

        if bracket.status.is_terminal:
            await self._exits.sweep(step)
            await self.tell_once(step, STEP_END)
            return
        if position.pending() and await self._exits.resolve_pending(step):
            self.again(bracket_id)
            return

        entry = position.entry
        if entry is None:
            await self.finish(step, BracketStatus.CANCELLED, CloseReason.ENTRY_NOT_SENT)
            return
        if position.entered <= ZERO:
            await self._before_fill(step)
            return

        await self._tell_entry(step)
        await self.tell_once(step, STEP_STOP_MOVED)  # after a restart; otherwise notified where it happens
        await self.tell_once(step, STEP_FALLBACK)
        if bracket.status is BracketStatus.CLOSING or position.exited(LegRole.STOP) > ZERO:
            await self._exits.close_out(step)
            return
        await self._tell_targets(step)
        await self._advance(step)
        if position.entry_done and position.open_quantity <= ZERO:
            await self.finish(step, BracketStatus.CLOSED, CloseReason.TARGETS)
            return
        await self._exits.protect(step)

    async def _load(self, bracket_id: uuid.UUID) -> BracketPass | None:
        async with self._uow(read_only=True) as uow:
            bracket = await uow.brackets.get(bracket_id)
            if bracket is None:
                return None
            orders = await uow.orders.list_for_bracket(bracket_id)
            user = await uow.users.get(bracket.user_id)
            account = await uow.accounts.get_for_user(bracket.user_id, bracket.account_id)
        if user is None or account is None:
            logger.warning("Bracket %s: its user or account is gone", bracket_id)
            return None
        gateway = await self._gateways.gateway_for(account)
        market = await gateway.market(bracket.symbol)
        return BracketPass(
            bracket, Position(bracket, orders, market.amount_step), user, account, gateway, market
        )

    async def _before_fill(self, step: BracketPass) -> None:
        """Nothing has filled: end the bracket when its entry ended, or cancel the entry when closing."""
        entry = step.position.entry
        assert entry is not None
        if entry.status.is_terminal:
            reason = (
                CloseReason.ENTRY_REJECTED
                if entry.status is OrderStatus.REJECTED
                else CloseReason.ENTRY_CANCELLED
            )
            await self.finish(step, BracketStatus.CANCELLED, reason)
            return
        if step.bracket.status is BracketStatus.CLOSING and entry.status.is_open:
            await self._exits.cancel_leg(step, entry)

    async def _advance(self, step: BracketPass) -> None:
        """PENDING -> ENTERING while the entry still works, -> OPEN once it is done."""
        bracket = step.bracket
        target = BracketStatus.OPEN if step.position.entry_done else BracketStatus.ENTERING
        if bracket.status is not target:
            await self.move(step, target)

    # ----- state ---------------------------------------------------------------------

    async def move(self, step: BracketPass, target: BracketStatus, reason: CloseReason | None = None) -> None:
        """Store a transition of the bracket (and the reason of a close); raises on an illegal one."""
        bracket = step.bracket
        check_transition(bracket.status, target)
        logger.info("Bracket %s: %s -> %s (%s)", bracket.id, bracket.status, target, reason or "-")
        bracket.status = target
        if reason is not None:
            bracket.close_reason = reason
        if target.is_terminal:
            bracket.closed_at = self._clock.now()
        await self.save(bracket)

    async def finish(self, step: BracketPass, target: BracketStatus, reason: CloseReason) -> None:
        """End the bracket, leave nothing of it resting, and tell the user the result."""
        bracket = step.bracket
        await self.move(step, target, bracket.close_reason or reason)
        await self._exits.sweep(step)
        await self.tell_once(step, STEP_END)

    async def save(self, bracket: Bracket) -> None:
        bracket.updated_at = self._clock.now()
        async with self._uow() as uow:
            await uow.brackets.update(bracket)
            await uow.commit()

    # ----- messages to the user -------------------------------------------------------

    def notified_value(self, bracket: Bracket, step: str, stored: Decimal) -> Decimal:
        """Return what the user knows of a step: the record (``stored``) or what this process emitted."""
        return max(stored, self._emitted.get((bracket.id, step), stored))

    def beyond_notified(self, bracket: Bracket, step: str, value: Decimal, stored: Decimal) -> bool:
        """Tell whether ``value`` is beyond what the user was notified of for the step."""
        return value > self.notified_value(bracket, step, stored)

    def emitted(self, bracket: Bracket, step: str, value: Decimal) -> None:
        """Remember what this process emitted, so a pass before the subscriber's record repeats nothing."""
        self._emitted[(bracket.id, step)] = value

    async def tell_once(self, step: BracketPass, name: str) -> None:
        """Emit a step that happens once (``ONCE_STEPS``) when it has happened and is not notified yet."""
        bracket = step.bracket
        if name in bracket.reported_steps or (bracket.id, name) in self._emitted_steps:
            return
        event = self._once_event(step, name)
        if event is None:
            return
        self._emitted_steps.add((bracket.id, name))
        await self.emit(event[0], bracket, **event[1])

    def _once_event(self, step: BracketPass, name: str) -> tuple[str, dict[str, Any]] | None:
        bracket = step.bracket
        if name == STEP_STOP_MOVED and bracket.active_stop != bracket.stop_price:
            figures = {"stop": bracket.active_stop, "open_quantity": step.position.open_quantity}
            return "bracket_stop_moved", figures
        if name == STEP_FALLBACK and bracket.fallback_reason is not None:
            return "bracket_fallback", {"reason": bracket.fallback_reason}
        if name == STEP_END and bracket.status is BracketStatus.CANCELLED:
            return "bracket_cancelled", {"reason": bracket.close_reason}
        if name == STEP_END and bracket.status is BracketStatus.CLOSED:
            return "bracket_closed", {"reason": bracket.close_reason, "result": step.position.realized()}
        return None

    async def tell_missed_ends(self, since: datetime) -> int:
        """Run a pass over each bracket that ended since ``since`` without its end sent; return how many."""
        async with self._uow(read_only=True) as uow:
            ended = await uow.brackets.list_ended_since(since)
        missed = [bracket for bracket in ended if STEP_END not in bracket.reported_steps]
        for bracket in missed:
            try:
                await self.reconcile(bracket.id)
            except Exception:
                logger.exception("Bracket %s: pass failed", bracket.id)
        return len(missed)

    async def _tell_entry(self, step: BracketPass) -> None:
        bracket, position = step.bracket, step.position
        if not self.beyond_notified(bracket, "entry", position.entered, bracket.reported_entry):
            return
        self.emitted(bracket, "entry", position.entered)
        await self.emit("bracket_entry_filled", bracket, filled=position.entered, done=position.entry_done)

    async def _tell_targets(self, step: BracketPass) -> None:
        bracket, position = step.bracket, step.position
        exited = position.exited_by_targets()
        hits = [
            index
            for index, (done, before) in enumerate(zip(exited, bracket.reported_exits, strict=True), start=1)
            if self.beyond_notified(bracket, f"target:{index}", done, before)
        ]
        if not hits:
            return
        crash_point("bracket_exit_filled")
        for index in hits:
            self.emitted(bracket, f"target:{index}", exited[index - 1])
            legs = [item.order for item in position.exits(LegRole.TARGET) if item.leg.target == index]
            await self.emit(
                "bracket_target_hit",
                bracket,
                target=index,
                quantity=exited[index - 1],
                price=average_fill(legs),
                result=sum((position.exit_result(order) for order in legs), ZERO),
                open_quantity=position.open_quantity,
            )

    async def emit(self, name: str, bracket: Bracket, **payload: Any) -> None:
        # The subscriber (bot.bracket_notices) records what was notified of in the transaction
        # that queues the message. A crash before it leaves the step not notified in the
        # database, and the next pass after the restart emits it again.
        await self._bus.publish(
            Event(
                name=name,
                user_id=bracket.user_id,
                occurred_at=self._clock.now(),
                payload={"bracket_id": bracket.id, **payload},
                shown_inline=self.inline.get(),
            )
        )
