"""The life of order drafts: created for a confirmation card, then confirmed, cancelled or expired.

A draft gets its client_order_id when it is created and can be consumed
once, so pressing Confirm twice (or a retried callback) never sends twice.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from engine.accounts.models import Account
from engine.common.clock import Clock
from engine.common.ids import new_client_order_id, new_id
from engine.errors import NotFoundError, PermissionDeniedError, ValidationError
from engine.orders.drafts import DraftStatus, OrderDraft, OrderEstimate
from engine.orders.models import OrderRequest
from engine.uow import UnitOfWork, UnitOfWorkFactory
from engine.users.models import Permission, User

logger = logging.getLogger(__name__)


class DraftBook:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock, confirm_ttl: timedelta) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._confirm_ttl = confirm_ttl

    def new(self, user: User, account: Account, request: OrderRequest, estimate: OrderEstimate) -> OrderDraft:
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

    async def store(self, draft: OrderDraft) -> None:
        async with self._uow() as uow:
            await uow.drafts.add(draft)
            await uow.commit()

    async def get(self, user: User, draft_id: uuid.UUID) -> OrderDraft:
        """Return the user's draft, whatever its status."""
        async with self._uow(read_only=True) as uow:
            draft = await uow.drafts.get_for_user(user.id, draft_id)
        if draft is None:
            raise NotFoundError("draft")
        return draft

    async def cancel(self, user: User, draft_id: uuid.UUID) -> OrderDraft:
        """Close an OPEN draft without sending anything."""
        async with self._uow() as uow:
            draft = await self._open(uow, user, draft_id)
            draft.close(DraftStatus.CANCELLED)
            await uow.drafts.update(draft)
            await uow.commit()
        return draft

    async def expire(self, user: User, draft_id: uuid.UUID) -> bool:
        """Close the draft as EXPIRED if it is still OPEN; return whether it was."""
        async with self._uow() as uow:
            draft = await uow.drafts.get_for_user(user.id, draft_id)
            if draft is None or draft.status is not DraftStatus.OPEN:
                return False
            draft.close(DraftStatus.EXPIRED)
            await uow.drafts.update(draft)
            await uow.commit()
        return True

    async def expire_stale(self) -> int:
        """Close every draft whose confirmation time is over (a job; cards may outlive a restart)."""
        async with self._uow() as uow:
            count = await uow.drafts.expire_open(self._clock.now())
            await uow.commit()
        if count:
            logger.info("Expired %d unconfirmed order drafts", count)
        return count

    async def consume(
        self, user: User, draft_id: uuid.UUID, *, bracket: bool = False
    ) -> tuple[OrderDraft, Account]:
        """Close the draft as CONFIRMED (once) and return it with its account.

        Raises ValidationError DRAFT_EXPIRED or DRAFT_CLOSED when the draft can
        no longer be sent; a second Confirm therefore never sends a second order.
        ``bracket`` says which kind of draft the caller confirms; a draft of the
        other kind is "not found", so a forged button cannot send a bracket's
        entry as a plain order.
        """
        _require_trading(user)
        async with self._uow() as uow:
            draft = await self._open(uow, user, draft_id)
            if (draft.bracket is not None) != bracket:
                raise NotFoundError("draft")
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

    async def claim(self, user: User, draft_id: uuid.UUID) -> OrderDraft:
        """Move the user's OPEN draft to CONFIRMING, so a second press finds it taken.

        A modification goes straight to CONFIRMED: it is applied at once,
        with no stored order to close the draft later.

        Raises NotFoundError (also for a bracket's draft), DRAFT_CLOSED or DRAFT_EXPIRED like ``consume``.
        ``close_in`` then closes it as CONFIRMED in the transaction that stores
        its order, and ``release`` opens it again when the order is refused first.
        """
        _require_trading(user)
        async with self._uow() as uow:
            draft = await self._open(uow, user, draft_id)
            if draft.bracket is not None:
                raise NotFoundError("draft")  # a bracket's draft is confirmed by the bracket service
            expired = draft.is_expired(self._clock.now())
            pressed = DraftStatus.CONFIRMED if draft.modifies_order_id else DraftStatus.CONFIRMING
            draft.close(DraftStatus.EXPIRED if expired else pressed)
            await uow.drafts.update(draft)
            await uow.commit()
        if expired:
            raise ValidationError("DRAFT_EXPIRED")
        return draft

    async def close_in(self, uow: UnitOfWork, user: User, draft_id: uuid.UUID) -> None:
        """Close the CONFIRMING draft as CONFIRMED inside the caller's transaction."""
        draft = await uow.drafts.get_for_user(user.id, draft_id)
        if draft is None:
            raise NotFoundError("draft")
        if draft.status is not DraftStatus.CONFIRMING:
            raise ValidationError("DRAFT_CLOSED", status=draft.status)
        draft.close(DraftStatus.CONFIRMED)
        await uow.drafts.update(draft)

    async def release(self, user: User, draft_id: uuid.UUID) -> None:
        """Open a CONFIRMING draft again after its order was refused before it was stored."""
        async with self._uow() as uow:
            draft = await uow.drafts.get_for_user(user.id, draft_id)
            if draft is None or draft.status is not DraftStatus.CONFIRMING:
                return
            draft.close(DraftStatus.OPEN)
            await uow.drafts.update(draft)
            await uow.commit()

    async def abandon(self, draft: OrderDraft) -> None:
        """Expire a draft that a crash left CONFIRMING: nothing was stored or sent for it."""
        async with self._uow() as uow:
            stored = await uow.drafts.get_for_user(draft.user_id, draft.id)
            if stored is None or stored.status is not DraftStatus.CONFIRMING:
                return
            stored.close(DraftStatus.EXPIRED)
            await uow.drafts.update(stored)
            await uow.commit()

    async def mark_reported(self, draft_id: uuid.UUID) -> None:
        """Record that the user saw the outcome of a CONFIRMED draft (other drafts are left alone)."""
        async with self._uow() as uow:
            await uow.drafts.mark_reported(draft_id, self._clock.now())
            await uow.commit()

    async def unreported(self) -> list[OrderDraft]:
        """Return drafts whose outcome nobody saw because the process stopped: CONFIRMING ones,
        and CONFIRMED ones not marked reported."""
        async with self._uow(read_only=True) as uow:
            return await uow.drafts.list_unreported()

    async def _open(self, uow: UnitOfWork, user: User, draft_id: uuid.UUID) -> OrderDraft:
        draft = await uow.drafts.get_for_user(user.id, draft_id)
        if draft is None:
            raise NotFoundError("draft")
        if draft.status is not DraftStatus.OPEN:
            raise ValidationError("DRAFT_CLOSED", status=draft.status)
        return draft


def _require_trading(user: User) -> None:
    if not user.can(Permission.TRADE):
        raise PermissionDeniedError("trade")
