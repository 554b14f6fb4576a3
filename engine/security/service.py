"""Setting, checking, changing and resetting trading PINs, with the lockout after wrong attempts.

A correct PIN opens a session of ``PinPolicy.session`` during which guarded
actions run without asking again. ``max_attempts`` wrong PINs in a row lock
every guarded action for ``lockout``; the count survives a restart because it
is stored. Changing or removing a PIN always needs the current one, whatever
the session. An admin can remove a forgotten PIN; that is audited.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from engine.accounts.ports import SecretBox
from engine.admin.audit import AuditEntry
from engine.common.clock import Clock
from engine.common.ids import new_id
from engine.common.secrets import Secret
from engine.errors import ValidationError
from engine.security.pin import PinRecord, ScryptCost, check_strength, derive, matches, new_salt
from engine.uow import UnitOfWorkFactory
from engine.users.models import User

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PinPolicy:
    session: timedelta = timedelta(minutes=5)
    max_attempts: int = 5
    lockout: timedelta = timedelta(minutes=30)
    cost: ScryptCost = field(default_factory=ScryptCost)


class PinState(StrEnum):
    NOT_SET = "NOT_SET"  # guarded actions run without a PIN
    CONFIRMED = "CONFIRMED"  # a correct PIN was entered within the session
    REQUIRED = "REQUIRED"  # the next guarded action asks for the PIN
    LOCKED = "LOCKED"  # too many wrong PINs: guarded actions are refused until ``locked_until``


@dataclass(frozen=True)
class PinStatus:
    state: PinState
    locked_until: datetime | None = None


class Verdict(StrEnum):
    ACCEPTED = "ACCEPTED"
    WRONG = "WRONG"
    LOCKED = "LOCKED"


@dataclass(frozen=True)
class PinAttempt:
    """The result of entering a PIN; ``just_locked`` is set on the attempt that caused the lockout."""

    verdict: Verdict
    attempts_left: int = 0
    locked_until: datetime | None = None
    just_locked: bool = False

    @property
    def accepted(self) -> bool:
        return self.verdict is Verdict.ACCEPTED


class PinService:
    def __init__(
        self, uow_factory: UnitOfWorkFactory, box: SecretBox, clock: Clock, policy: PinPolicy | None = None
    ) -> None:
        self._uow = uow_factory
        self._box = box
        self._clock = clock
        self.policy = policy or PinPolicy()

    async def status(self, user: User) -> PinStatus:
        record = await self._get(user)
        now = self._clock.now()
        if record is None:
            return PinStatus(PinState.NOT_SET)
        if record.is_locked(now):
            return PinStatus(PinState.LOCKED, record.locked_until)
        if record.is_confirmed(now):
            return PinStatus(PinState.CONFIRMED)
        return PinStatus(PinState.REQUIRED)

    async def set_first(self, user: User, pin: Secret) -> None:
        """Store the user's first PIN; raise PIN_ALREADY_SET when one exists (change it instead)."""
        check_strength(pin)
        record = await self._new_record(user, pin)
        async with self._uow() as uow:
            if await uow.pins.get(user.id) is not None:
                raise ValidationError("PIN_ALREADY_SET")
            await uow.pins.save(record)
            await uow.commit()
        logger.info("User %s set a trading PIN", user.telegram_id)

    async def verify(self, user: User, pin: Secret, *, start_session: bool = True) -> PinAttempt:
        """Check the PIN, count a wrong one, and lock after ``max_attempts`` wrong ones in a row.

        Raises PIN_NOT_SET when the user has no PIN. A locked PIN is not
        checked at all, so guessing during the lockout tells nothing.
        """
        record = await self._get(user)
        if record is None:
            raise ValidationError("PIN_NOT_SET")
        if record.is_locked(self._clock.now()):
            return PinAttempt(Verdict.LOCKED, locked_until=record.locked_until)

        stored = self._box.open(record.sealed_hash)
        candidate = await asyncio.to_thread(derive, pin, record.salt, record.cost)
        correct = matches(candidate, stored)
        return await self._count(user, record.sealed_hash, correct, start_session)

    async def change(self, user: User, current: Secret, new: Secret) -> PinAttempt:
        """Replace the PIN when ``current`` is right; a wrong one counts towards the lockout."""
        check_strength(new)
        attempt = await self.verify(user, current, start_session=False)
        if not attempt.accepted:
            return attempt
        record = await self._new_record(user, new)
        async with self._uow() as uow:
            await uow.pins.save(record)
            await uow.commit()
        logger.info("User %s changed the trading PIN", user.telegram_id)
        return attempt

    async def remove(self, user: User, current: Secret) -> PinAttempt:
        """Remove the PIN when ``current`` is right; a wrong one counts towards the lockout."""
        attempt = await self.verify(user, current, start_session=False)
        if attempt.accepted:
            async with self._uow() as uow:
                await uow.pins.delete(user.id)
                await uow.commit()
            logger.info("User %s removed the trading PIN", user.telegram_id)
        return attempt

    async def reset_by_admin(self, actor_telegram_id: int, target: User) -> bool:
        """Remove a forgotten PIN (also ending a lockout) and audit it; return whether there was one."""
        async with self._uow() as uow:
            removed = await uow.pins.delete(target.id)
            await uow.audit.add(
                AuditEntry(
                    id=new_id(),
                    actor_telegram_id=actor_telegram_id,
                    action="user.pin.reset",
                    created_at=self._clock.now(),
                    target_telegram_id=target.telegram_id,
                    details={"had_pin": "yes" if removed else "no"},
                )
            )
            await uow.commit()
        logger.warning("Admin %s reset the trading PIN of user %s", actor_telegram_id, target.telegram_id)
        return removed

    async def reseal_all(self) -> int:
        """Re-encrypt every stored PIN hash under the newest master key; return how many."""
        async with self._uow() as uow:
            records = await uow.pins.list_all()
            for record in records:
                record.sealed_hash = self._box.reseal(record.sealed_hash)
                await uow.pins.save(record)
            await uow.commit()
        return len(records)

    async def check_sealing(self) -> int:
        """Open every stored PIN hash once; raise VaultError at the first the master key cannot open."""
        async with self._uow(read_only=True) as uow:
            records = await uow.pins.list_all()
        for record in records:
            self._box.open(record.sealed_hash)
        return len(records)

    async def _get(self, user: User) -> PinRecord | None:
        async with self._uow(read_only=True) as uow:
            return await uow.pins.get(user.id)

    async def _new_record(self, user: User, pin: Secret) -> PinRecord:
        salt, cost, now = new_salt(), self.policy.cost, self._clock.now()
        digest = await asyncio.to_thread(derive, pin, salt, cost)
        return PinRecord(
            user_id=user.id,
            sealed_hash=self._box.seal(digest),
            salt=salt,
            cost=cost,
            created_at=now,
            updated_at=now,
        )

    async def _count(self, user: User, checked_hash: str, correct: bool, start_session: bool) -> PinAttempt:
        """Store the outcome of one attempt in a write transaction, so concurrent attempts all count."""
        policy = self.policy
        async with self._uow() as uow:
            record = await uow.pins.get(user.id)
            if record is None:
                raise ValidationError("PIN_NOT_SET")
            now = self._clock.now()
            if record.is_locked(now):
                return PinAttempt(Verdict.LOCKED, locked_until=record.locked_until)
            # A PIN changed while this one was being checked is not the PIN that was checked.
            correct = correct and record.sealed_hash == checked_hash
            if correct:
                record.failed_attempts, record.locked_until = 0, None
                if start_session:
                    record.confirmed_until = now + policy.session
            else:
                record.failed_attempts += 1
                record.confirmed_until = None
            locked = record.failed_attempts >= policy.max_attempts
            if locked:
                record.failed_attempts, record.locked_until = 0, now + policy.lockout
            record.updated_at = now
            await uow.pins.save(record)
            await uow.commit()

        if correct:
            return PinAttempt(Verdict.ACCEPTED)
        if locked:
            logger.warning(
                "User %s entered %d wrong PINs in a row: guarded actions locked until %s",
                user.telegram_id,
                policy.max_attempts,
                record.locked_until.isoformat() if record.locked_until else "?",
            )
            return PinAttempt(Verdict.LOCKED, locked_until=record.locked_until, just_locked=True)
        logger.info(
            "User %s entered a wrong PIN (%d of %d)",
            user.telegram_id,
            record.failed_attempts,
            policy.max_attempts,
        )
        return PinAttempt(Verdict.WRONG, attempts_left=policy.max_attempts - record.failed_attempts)
