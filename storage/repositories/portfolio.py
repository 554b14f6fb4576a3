"""Equity snapshots, last account valuations, and the fills and open orders the portfolio reads."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, exists, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from engine.common.money import to_canonical
from engine.exchanges.models import BalanceEntry
from engine.orders.models import OrderSide, OrderStatus
from engine.portfolio.cost_basis import TradeFill
from engine.portfolio.models import EquitySnapshot, Holding, StoredValuation
from engine.portfolio.ports import SummaryReads
from engine.users.models import User, UserStatus
from storage.models import (
    AccountRow,
    AccountValuationRow,
    EquitySnapshotRow,
    FillRow,
    OrderRow,
    PaperBalanceRow,
    UserRow,
)
from storage.prepared import PreparedRead, read_many
from storage.raw import RawDecoder
from storage.repositories.users import _SELECT_USER_ACCOUNTS, _user_from_row, account_from_raw

_OPEN_STATUSES = [status.value for status in OrderStatus if status.is_open]

# Statements built once, because every /portfolio runs all three and SQLAlchemy
# would otherwise build each statement and its cache key again on every call.
_SELECT_FILLS = (
    select(FillRow, OrderRow.account_id, OrderRow.symbol, OrderRow.side)
    .join(OrderRow, FillRow.order_id == OrderRow.id)
    .where(OrderRow.user_id == bindparam("user_id"))
    .order_by(FillRow.executed_at)
)
_COUNT_OPEN_ORDERS = (
    select(func.count())
    .select_from(OrderRow)
    .where(OrderRow.user_id == bindparam("user_id"), OrderRow.status.in_(_OPEN_STATUSES))
)
_SELECT_SNAPSHOT_AT_OR_BEFORE = (
    select(EquitySnapshotRow)
    .where(
        EquitySnapshotRow.user_id == bindparam("user_id"), EquitySnapshotRow.taken_at <= bindparam("moment")
    )
    .order_by(EquitySnapshotRow.taken_at.desc())
    .limit(1)
)


# The summary's reads, run together on the SQLite driver (storage.prepared): each selects by the
# user's id, so none needs another's result and all go in one hand-off.
_ACCOUNTS = AccountRow.__table__
_ORDERS = OrderRow.__table__
_FILLS = FillRow.__table__
_VALUATIONS = AccountValuationRow.__table__
_BALANCES = PaperBalanceRow.__table__
_SNAPSHOTS = EquitySnapshotRow.__table__
_OF_USER = (_ACCOUNTS.c.user_id == bindparam("user_id"), _ACCOUNTS.c.removed_at.is_(None))
_READ_ACCOUNTS = PreparedRead(_SELECT_USER_ACCOUNTS)
_READ_VALUATIONS = PreparedRead(
    select(_VALUATIONS).join(_ACCOUNTS, _ACCOUNTS.c.id == _VALUATIONS.c.account_id).where(*_OF_USER)
)
_READ_PAPER_BALANCES = PreparedRead(
    select(_BALANCES.c.account_id, _BALANCES.c.asset, _BALANCES.c.free, _BALANCES.c.locked)
    .join(_ACCOUNTS, _ACCOUNTS.c.id == _BALANCES.c.account_id)
    .where(*_OF_USER)
)
_READ_FILLS = PreparedRead(
    select(
        _ORDERS.c.account_id,
        _ORDERS.c.symbol,
        _ORDERS.c.side,
        _FILLS.c.price,
        _FILLS.c.quantity,
        _FILLS.c.fee,
        _FILLS.c.fee_asset,
        _FILLS.c.executed_at,
    )
    .join(_ORDERS, _FILLS.c.order_id == _ORDERS.c.id)
    .where(_ORDERS.c.user_id == bindparam("user_id"))
    .order_by(_FILLS.c.executed_at)
)
# The statuses are constants written into the SQL: a prepared statement binds only named values.
_READ_OPEN_COUNT = PreparedRead(
    select(func.count().label("open_orders"))
    .select_from(_ORDERS)
    .where(
        _ORDERS.c.user_id == bindparam("user_id"),
        _ORDERS.c.status.in_([literal_column(f"'{status}'") for status in _OPEN_STATUSES]),
    )
)
_READ_SNAPSHOT = PreparedRead(
    select(_SNAPSHOTS)
    .where(_SNAPSHOTS.c.user_id == bindparam("user_id"), _SNAPSHOTS.c.taken_at <= bindparam("moment"))
    .order_by(_SNAPSHOTS.c.taken_at.desc())
    # SQLite's LIMIT comes with an OFFSET, and a prepared statement's values are all named.
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)


def _optional_text(value: Decimal | None) -> str | None:
    return to_canonical(value) if value is not None else None


def _optional_decimal(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


def _holdings_json(holdings: list[Holding]) -> str:
    return json.dumps(
        [
            {
                "asset": h.asset,
                "free": to_canonical(h.free),
                "locked": to_canonical(h.locked),
                "price": _optional_text(h.price),
                "value": _optional_text(h.value),
            }
            for h in holdings
        ]
    )


def _holdings_from_json(text: str) -> list[Holding]:
    return [
        Holding(
            asset=item["asset"],
            free=Decimal(item["free"]),
            locked=Decimal(item["locked"]),
            price=_optional_decimal(item["price"]),
            value=_optional_decimal(item["value"]),
        )
        for item in json.loads(text)
    ]


def _stored_from_row(row: Any) -> StoredValuation:
    return StoredValuation(row.account_id, row.valued_at, _holdings_from_json(row.holdings))


def _trade_fill(row: Any) -> TradeFill:
    return TradeFill(
        account_id=row.account_id,
        symbol=row.symbol,
        side=OrderSide(row.side),
        price=row.price,
        quantity=row.quantity,
        fee=row.fee,
        fee_asset=row.fee_asset,
        executed_at=row.executed_at,
    )


def _snapshot_from_row(row: Any) -> EquitySnapshot:
    return EquitySnapshot(
        user_id=row.user_id,
        taken_at=row.taken_at,
        equity=row.equity,
        complete=row.complete,
        benchmarks={symbol: Decimal(price) for symbol, price in json.loads(row.benchmarks).items()},
    )


class SqlPortfolioRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_snapshot(self, snapshot: EquitySnapshot) -> None:
        self._session.add(
            EquitySnapshotRow(
                id=uuid.uuid4(),
                user_id=snapshot.user_id,
                taken_at=snapshot.taken_at,
                equity=snapshot.equity,
                complete=snapshot.complete,
                benchmarks=json.dumps({s: to_canonical(p) for s, p in snapshot.benchmarks.items()}),
            )
        )
        await self._session.flush()

    async def list_snapshots(
        self, user_id: uuid.UUID, since: datetime | None, until: datetime
    ) -> list[EquitySnapshot]:
        statement = select(EquitySnapshotRow).where(
            EquitySnapshotRow.user_id == user_id, EquitySnapshotRow.taken_at <= until
        )
        if since is not None:
            statement = statement.where(EquitySnapshotRow.taken_at >= since)
        rows = await self._session.scalars(statement.order_by(EquitySnapshotRow.taken_at))
        return [_snapshot_from_row(row) for row in rows]

    async def snapshot_at_or_before(self, user_id: uuid.UUID, moment: datetime) -> EquitySnapshot | None:
        row = await self._session.scalar(
            _SELECT_SNAPSHOT_AT_OR_BEFORE, {"user_id": user_id, "moment": moment}
        )
        return _snapshot_from_row(row) if row else None

    async def save_valuation(self, valuation: StoredValuation) -> None:
        row = await self._session.get(AccountValuationRow, valuation.account_id)
        if row is None:
            row = AccountValuationRow(account_id=valuation.account_id)
            self._session.add(row)
        row.valued_at = valuation.valued_at
        row.holdings = _holdings_json(valuation.holdings)
        await self._session.flush()

    async def get_valuations(self, account_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, StoredValuation]:
        ids = list(account_ids)
        if not ids:
            return {}
        rows = await self._session.scalars(
            select(AccountValuationRow).where(AccountValuationRow.account_id.in_(ids))
        )
        return {row.account_id: _stored_from_row(row) for row in rows}

    async def list_fills(self, user_id: uuid.UUID) -> list[TradeFill]:
        rows = await self._session.execute(_SELECT_FILLS, {"user_id": user_id})
        return [
            TradeFill(
                account_id=account_id,
                symbol=symbol,
                side=OrderSide(side),
                price=fill.price,
                quantity=fill.quantity,
                fee=fill.fee,
                fee_asset=fill.fee_asset,
                executed_at=fill.executed_at,
            )
            for fill, account_id, symbol, side in rows.all()
        ]

    async def count_open_orders(self, user_id: uuid.UUID) -> int:
        return await self._session.scalar(_COUNT_OPEN_ORDERS, {"user_id": user_id}) or 0

    async def summary_reads(self, user_id: uuid.UUID, moment: datetime) -> SummaryReads:
        by_user = {"user_id": user_id}
        accounts, valuations, balances, fills, open_orders, snapshots = await read_many(
            self._session,
            [
                (_READ_ACCOUNTS, by_user),
                (_READ_VALUATIONS, by_user),
                (_READ_PAPER_BALANCES, by_user),
                (_READ_FILLS, by_user),
                (_READ_OPEN_COUNT, by_user),
                (_READ_SNAPSHOT, {"user_id": user_id, "moment": moment, "limit": 1, "offset": 0}),
            ],
        )
        decode = RawDecoder()
        paper: dict[uuid.UUID, dict[str, BalanceEntry]] = {}
        for account_id, asset, free, locked in balances:
            paper.setdefault(account_id, {})[asset] = BalanceEntry(asset, free, locked)
        return SummaryReads(
            accounts=[account_from_raw(row, decode) for row in accounts],
            stored={row.account_id: _stored_from_row(row) for row in valuations},
            paper_balances=paper,
            fills=[_trade_fill(row) for row in fills],
            open_orders=open_orders[0].open_orders,
            past=_snapshot_from_row(snapshots[0]) if snapshots else None,
        )

    async def list_active_users(self) -> list[User]:
        has_account = exists().where(AccountRow.user_id == UserRow.id, AccountRow.is_active.is_(True))
        rows = await self._session.scalars(
            select(UserRow)
            .where(UserRow.status == UserStatus.ACTIVE.value, has_account)
            .order_by(UserRow.created_at)
        )
        return [_user_from_row(row) for row in rows]
