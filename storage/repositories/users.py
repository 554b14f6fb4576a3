"""Users, accounts and the audit trail."""

from __future__ import annotations

import json
import uuid
from functools import lru_cache
from typing import Any

from sqlalchemy import String, bindparam, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from engine.accounts.models import Account, Exchange, KeyStatus
from engine.admin.audit import AuditEntry
from engine.users.models import Permission, RiskProfile, User, UserStatus
from storage.models import AccountRow, AuditRow, UserRow
from storage.prepared import PreparedRead, read_now
from storage.raw import RawDecoder, flag, utc


def _user_from_row(row: Any) -> User:
    """Build a User from an ORM row or a decoded row of the users table."""
    return User(
        id=row.id,
        telegram_id=row.telegram_id,
        username=row.username,
        language=row.language,
        risk_profile=RISK_PROFILES[row.risk_profile],
        status=_USER_STATUSES[row.status],
        created_at=row.created_at,
        updated_at=row.updated_at,
        email=row.email,
        timezone=row.timezone,
        first_name=row.first_name,
        permissions=_permissions(row.permissions),
        status_reason=row.status_reason,
        last_seen_at=row.last_seen_at,
        max_slippage=row.max_slippage,
    )


# Enum members by value: a dictionary lookup costs a fraction of an Enum call, and bulk reads make 40,000.
RISK_PROFILES = {member.value: member for member in RiskProfile}
_USER_STATUSES = {member.value: member for member in UserStatus}
_EXCHANGES = {member.value: member for member in Exchange}
_KEY_STATUSES = {member.value: member for member in KeyStatus}


def user_from_raw(row: Any, decode: RawDecoder) -> User:
    """A User from a row read with ``storage.raw.raw`` columns (bulk reads)."""
    return User(
        id=decode.uuid(row.id),
        telegram_id=row.telegram_id,
        username=row.username,
        language=row.language,
        risk_profile=RISK_PROFILES[row.risk_profile],
        status=_USER_STATUSES[row.status],
        created_at=utc(row.created_at),  # type: ignore[arg-type]
        updated_at=utc(row.updated_at),  # type: ignore[arg-type]
        email=row.email,
        timezone=row.timezone,
        first_name=row.first_name,
        permissions=_permissions(row.permissions),
        status_reason=row.status_reason,
        last_seen_at=utc(row.last_seen_at),
        max_slippage=decode.decimal(row.max_slippage),
    )


@lru_cache(maxsize=64)
def _permissions(text: str) -> frozenset[Permission]:
    return frozenset(Permission(p) for p in text.split(",") if p)


def _fill_user_row(row: UserRow, user: User) -> None:
    row.telegram_id = user.telegram_id
    row.username = user.username
    row.username_lower = user.username.lower()
    row.first_name = user.first_name
    row.language = user.language
    row.risk_profile = user.risk_profile.value
    row.status = user.status.value
    row.status_reason = user.status_reason
    row.email = user.email
    row.timezone = user.timezone
    row.permissions = ",".join(sorted(p.value for p in user.permissions))
    row.created_at = user.created_at
    row.updated_at = user.updated_at
    row.last_seen_at = user.last_seen_at
    row.max_slippage = user.max_slippage


_USERS = UserRow.__table__
# Every update loads its user with this, so it goes to the SQLite driver directly (storage.prepared).
_SELECT_BY_TELEGRAM_ID = PreparedRead(select(_USERS).where(_USERS.c.telegram_id == bindparam("telegram_id")))


class SqlUserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, user_id: uuid.UUID) -> User | None:
        row = await self._session.get(UserRow, user_id)
        return _user_from_row(row) if row else None

    async def get_by_telegram_id(self, telegram_id: int) -> User | None:
        rows = await read_now(self._session, _SELECT_BY_TELEGRAM_ID, {"telegram_id": telegram_id})
        return _user_from_row(rows[0]) if rows else None

    async def get_by_username(self, username: str) -> User | None:
        row = await self._session.scalar(select(UserRow).where(UserRow.username_lower == username.lower()))
        return _user_from_row(row) if row else None

    async def add(self, user: User) -> None:
        row = UserRow(id=user.id)
        _fill_user_row(row, user)
        self._session.add(row)
        await self._session.flush()

    async def update(self, user: User) -> None:
        row = await self._session.get(UserRow, user.id)
        if row is None:
            raise LookupError(f"user {user.id} does not exist")
        _fill_user_row(row, user)
        await self._session.flush()

    async def search(self, query: str | None, *, offset: int, limit: int) -> tuple[list[User], int]:
        statement = select(UserRow)
        if query:
            text = query.strip().removeprefix("@").lower()
            pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            statement = statement.where(
                or_(
                    UserRow.username_lower.like(pattern, escape="\\"),
                    cast(UserRow.telegram_id, String).like(pattern, escape="\\"),
                )
            )
        total = await self._session.scalar(select(func.count()).select_from(statement.subquery())) or 0
        rows = await self._session.scalars(
            statement.order_by(UserRow.created_at.desc(), UserRow.telegram_id).offset(offset).limit(limit)
        )
        return [_user_from_row(row) for row in rows], total

    async def count_by_status(self) -> dict[UserStatus, int]:
        rows = await self._session.execute(select(UserRow.status, func.count()).group_by(UserRow.status))
        return {UserStatus(status): count for status, count in rows.all()}


def _account_from_row(row: AccountRow) -> Account:
    return Account(
        id=row.id,
        user_id=row.user_id,
        exchange=Exchange(row.exchange),
        name=row.name,
        is_testnet=row.is_testnet,
        is_active=row.is_active,
        is_default=row.is_default,
        created_at=row.created_at,
        updated_at=row.updated_at,
        key_status=KeyStatus(row.key_status),
        key_problem=row.key_problem,
        key_checked_at=row.key_checked_at,
        key_hint=row.key_hint,
        can_withdraw=row.can_withdraw,
        removed_at=row.removed_at,
    )


def account_from_raw(row: Any, decode: RawDecoder) -> Account:
    """An Account from a row read with ``storage.raw.raw`` columns (bulk reads)."""
    return Account(
        id=decode.uuid(row.id),
        user_id=decode.uuid(row.user_id),
        exchange=_EXCHANGES[row.exchange],
        name=row.name,
        is_testnet=flag(row.is_testnet),
        is_active=flag(row.is_active),
        is_default=flag(row.is_default),
        created_at=utc(row.created_at),  # type: ignore[arg-type]
        updated_at=utc(row.updated_at),  # type: ignore[arg-type]
        key_status=_KEY_STATUSES[row.key_status],
        key_problem=row.key_problem,
        key_checked_at=utc(row.key_checked_at),
        key_hint=row.key_hint,
        can_withdraw=None if row.can_withdraw is None else flag(row.can_withdraw),
        removed_at=utc(row.removed_at),
    )


def _fill_account_row(row: AccountRow, account: Account) -> None:
    row.name = account.name
    row.is_testnet = account.is_testnet
    row.is_active = account.is_active
    row.is_default = account.is_default
    row.updated_at = account.updated_at
    row.key_status = account.key_status.value
    row.key_problem = account.key_problem
    row.key_checked_at = account.key_checked_at
    row.key_hint = account.key_hint
    row.can_withdraw = account.can_withdraw
    row.removed_at = account.removed_at


_ACCOUNTS = AccountRow.__table__
_SELECT_USER_ACCOUNTS = (
    select(_ACCOUNTS)
    .where(_ACCOUNTS.c.user_id == bindparam("user_id"), _ACCOUNTS.c.removed_at.is_(None))
    .order_by(_ACCOUNTS.c.created_at)
)


class SqlAccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, account: Account) -> None:
        row = AccountRow(
            id=account.id,
            user_id=account.user_id,
            exchange=account.exchange.value,
            created_at=account.created_at,
        )
        _fill_account_row(row, account)
        self._session.add(row)
        await self._session.flush()

    async def update(self, account: Account) -> None:
        row = await self._session.get(AccountRow, account.id)
        if row is None:
            raise LookupError(f"account {account.id} does not exist")
        _fill_account_row(row, account)
        await self._session.flush()

    async def get(self, account_id: uuid.UUID) -> Account | None:
        row = await self._session.get(AccountRow, account_id)
        return _account_from_row(row) if row else None

    async def get_for_user(self, user_id: uuid.UUID, account_id: uuid.UUID) -> Account | None:
        row = await self._session.scalar(
            select(AccountRow).where(
                AccountRow.id == account_id,
                AccountRow.user_id == user_id,
                AccountRow.removed_at.is_(None),
            )
        )
        return _account_from_row(row) if row else None

    async def list_for_user(self, user_id: uuid.UUID) -> list[Account]:
        # Core rows: every order and every /portfolio reads this.
        rows = await self._session.execute(_SELECT_USER_ACCOUNTS, {"user_id": user_id})
        return [_account_from_row(row) for row in rows]  # type: ignore[arg-type]

    async def get_default(self, user_id: uuid.UUID) -> Account | None:
        row = await self._session.scalar(
            select(AccountRow)
            .where(
                AccountRow.user_id == user_id,
                AccountRow.is_active.is_(True),
                AccountRow.removed_at.is_(None),
            )
            .order_by(AccountRow.is_default.desc(), AccountRow.created_at)
            .limit(1)
        )
        return _account_from_row(row) if row else None

    async def list_live(self) -> list[Account]:
        rows = await self._session.scalars(
            select(AccountRow)
            .where(
                AccountRow.exchange != Exchange.PAPER.value,
                AccountRow.is_active.is_(True),
                AccountRow.removed_at.is_(None),
            )
            .order_by(AccountRow.created_at)
        )
        return [_account_from_row(row) for row in rows]


class SqlAuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, entry: AuditEntry) -> None:
        self._session.add(
            AuditRow(
                id=entry.id,
                actor_telegram_id=entry.actor_telegram_id,
                action=entry.action,
                target_telegram_id=entry.target_telegram_id,
                details=json.dumps(entry.details, ensure_ascii=False, sort_keys=True),
                created_at=entry.created_at,
            )
        )
        await self._session.flush()

    async def recent(self, *, offset: int, limit: int) -> tuple[list[AuditEntry], int]:
        total = await self._session.scalar(select(func.count()).select_from(AuditRow)) or 0
        rows = await self._session.scalars(
            select(AuditRow).order_by(AuditRow.created_at.desc()).offset(offset).limit(limit)
        )
        entries = [
            AuditEntry(
                id=row.id,
                actor_telegram_id=row.actor_telegram_id,
                action=row.action,
                created_at=row.created_at,
                target_telegram_id=row.target_telegram_id,
                details=json.loads(row.details or "{}"),
            )
            for row in rows
        ]
        return entries, total
