"""Admin actions on users; every change is written to the audit trail."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from engine.admin.audit import AuditEntry
from engine.common.clock import Clock
from engine.common.ids import new_id
from engine.errors import NotFoundError
from engine.uow import UnitOfWorkFactory
from engine.users.models import User, UserStatus
from engine.users.validation import USERNAME_PATTERN

logger = logging.getLogger(__name__)

# Telegram user ids are positive and fit in 52 bits (at most 16 decimal digits).
TELEGRAM_ID = re.compile(r"[0-9]{1,16}")


class AdminService:
    """User management for admins; every change is written to the audit trail."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    async def find_user(self, reference: str) -> User | None:
        """Find by Telegram id (``123``) or username (``@name`` or ``name``).

        Anything else (other scripts' digits, ids longer than Telegram's, stray
        characters) finds nobody instead of being guessed at.
        """
        text = reference.strip()
        async with self._uow(read_only=True) as uow:
            if TELEGRAM_ID.fullmatch(text):
                return await uow.users.get_by_telegram_id(int(text))
            name = text.removeprefix("@")
            if USERNAME_PATTERN.fullmatch(name):
                return await uow.users.get_by_username(name)
        return None

    async def search_users(self, query: str | None, *, page: int, page_size: int) -> tuple[list[User], int]:
        async with self._uow(read_only=True) as uow:
            return await uow.users.search(query, offset=page * page_size, limit=page_size)

    async def set_status(
        self, actor_telegram_id: int, target_telegram_id: int, status: UserStatus, reason: str | None
    ) -> User:
        """Suspend, activate or close a user and audit it; raises NotFoundError for an unknown id."""
        async with self._uow() as uow:
            user = await uow.users.get_by_telegram_id(target_telegram_id)
            if user is None:
                raise NotFoundError("user")
            previous = user.status
            user.status = status
            user.status_reason = reason
            user.updated_at = self._clock.now()
            await uow.users.update(user)
            await uow.audit.add(
                AuditEntry(
                    id=new_id(),
                    actor_telegram_id=actor_telegram_id,
                    action=f"user.status.{status.value.lower()}",
                    created_at=self._clock.now(),
                    target_telegram_id=target_telegram_id,
                    details={"from": previous.value, "to": status.value, "reason": reason or ""},
                )
            )
            await uow.commit()
        logger.info(
            "Admin %s set user %s status %s -> %s", actor_telegram_id, target_telegram_id, previous, status
        )
        return user

    async def record(
        self, actor_telegram_id: int, action: str, target: int | None = None, **details: str
    ) -> None:
        """Audit an admin action that changes nothing else (a lookup, a broadcast)."""
        async with self._uow() as uow:
            await uow.audit.add(
                AuditEntry(
                    id=new_id(),
                    actor_telegram_id=actor_telegram_id,
                    action=action,
                    created_at=self._clock.now(),
                    target_telegram_id=target,
                    details=dict(details),
                )
            )
            await uow.commit()

    async def recent_audit(self, *, page: int, page_size: int) -> tuple[list[AuditEntry], int]:
        async with self._uow(read_only=True) as uow:
            return await uow.audit.recent(offset=page * page_size, limit=page_size)

    async def stats(self) -> dict[str, int]:
        """Users by status and orders created in the last 24 hours."""
        async with self._uow(read_only=True) as uow:
            by_status = await uow.users.count_by_status()
            orders_24h = await uow.orders.count_created_since(self._clock.now() - timedelta(hours=24))
        counts = {f"users_{status.value.lower()}": by_status.get(status, 0) for status in UserStatus}
        counts["users_total"] = sum(by_status.values())
        counts["orders_24h"] = orders_24h
        return counts
