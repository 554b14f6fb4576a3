"""Orders, their fills, and the net holdings fills deliver to an account."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from sqlalchemy import String, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from engine.common.money import ZERO, to_canonical
from engine.orders.models import CheckRecord, Fill, Order, OrderSide, OrderStatus, OrderType, TimeInForce
from engine.orders.ports import OrderFilter
from storage.models import FillRow, HoldingRow, OrderRow

_ORDER_FIELDS = (
    "user_id",
    "account_id",
    "client_order_id",
    "exchange_order_id",
    "symbol",
    "quantity",
    "price",
    "stop_price",
    "reduce_only",
    "post_only",
    "filled_quantity",
    "average_price",
    "fee",
    "fee_asset",
    "reject_reason",
    "bracket_id",
    "bracket_leg",
    "created_at",
    "updated_at",
    "is_trigger",
    "lookup_misses",
    "twap_id",
    "replaces_order_id",
)


def _fill_from_row(row: FillRow) -> Fill:
    return Fill(
        id=row.id,
        order_id=row.order_id,
        trade_id=row.trade_id,
        price=row.price,
        quantity=row.quantity,
        fee=row.fee,
        fee_asset=row.fee_asset,
        is_maker=row.is_maker,
        executed_at=row.executed_at,
    )


def _checks_to_json(checks: tuple[CheckRecord, ...]) -> str | None:
    if not checks:
        return None
    return json.dumps(
        [
            {
                "name": check.name,
                "passed": check.passed,
                "figures": {key: to_canonical(value) for key, value in check.figures.items()},
            }
            for check in checks
        ],
        sort_keys=True,
    )


def _checks_from_json(text: str | None) -> tuple[CheckRecord, ...]:
    if not text:
        return ()
    return tuple(
        CheckRecord(
            name=item["name"],
            passed=item["passed"],
            figures={key: Decimal(value) for key, value in item["figures"].items()},
        )
        for item in json.loads(text)
    )


def _order_from_row(row: OrderRow, fills: list[Fill]) -> Order:
    values = {name: getattr(row, name) for name in _ORDER_FIELDS}
    return Order(
        id=row.id,
        side=OrderSide(row.side),
        type=OrderType(row.type),
        time_in_force=TimeInForce(row.time_in_force),
        status=OrderStatus(row.status),
        fills=fills,
        checks=_checks_from_json(row.checks),
        **values,
    )


def _fill_order_row(row: OrderRow, order: Order) -> None:
    for name in _ORDER_FIELDS:
        setattr(row, name, getattr(order, name))
    row.side = order.side.value
    row.type = order.type.value
    row.time_in_force = order.time_in_force.value
    row.status = order.status.value
    row.checks = _checks_to_json(order.checks)


def _filtered(statement: Select[tuple[OrderRow]], where: OrderFilter) -> Select[tuple[OrderRow]]:
    if where.statuses is not None:
        statement = statement.where(OrderRow.status.in_([status.value for status in where.statuses]))
    if where.account_id is not None:
        statement = statement.where(OrderRow.account_id == where.account_id)
    if where.symbol is not None:
        statement = statement.where(OrderRow.symbol == where.symbol)
    if where.side is not None:
        statement = statement.where(OrderRow.side == where.side.value)
    if where.since is not None:
        statement = statement.where(OrderRow.created_at >= where.since)
    if where.until is not None:
        statement = statement.where(OrderRow.created_at < where.until)
    return statement


class SqlOrderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        # The session's identity map keeps only weak references to rows, so keeping the rows this
        # repository loaded lets update() reuse them instead of selecting again.
        self._rows: dict[uuid.UUID, OrderRow] = {}

    async def add(self, order: Order) -> None:
        row = OrderRow(id=order.id)
        _fill_order_row(row, order)
        self._session.add(row)
        self._rows[row.id] = row
        await self._session.flush()

    async def update(self, order: Order) -> None:
        row = self._rows.get(order.id) or await self._session.get(OrderRow, order.id)
        if row is None:
            raise LookupError(f"order {order.id} does not exist")
        _fill_order_row(row, order)
        await self._session.flush()

    async def add_fill(self, fill: Fill) -> None:
        self._session.add(
            FillRow(
                id=fill.id,
                order_id=fill.order_id,
                trade_id=fill.trade_id,
                price=fill.price,
                quantity=fill.quantity,
                fee=fill.fee,
                fee_asset=fill.fee_asset,
                is_maker=fill.is_maker,
                executed_at=fill.executed_at,
            )
        )
        await self._session.flush()

    async def get(self, order_id: uuid.UUID) -> Order | None:
        row = await self._session.get(OrderRow, order_id)
        return (await self._with_fills([row]))[0] if row else None

    async def get_for_user(self, user_id: uuid.UUID, order_id: uuid.UUID) -> Order | None:
        row = await self._session.scalar(
            select(OrderRow).where(OrderRow.id == order_id, OrderRow.user_id == user_id)
        )
        return (await self._with_fills([row]))[0] if row else None

    async def get_by_client_id(self, account_id: uuid.UUID, client_order_id: str) -> Order | None:
        row = await self._session.scalar(
            select(OrderRow).where(
                OrderRow.account_id == account_id, OrderRow.client_order_id == client_order_id
            )
        )
        return (await self._with_fills([row]))[0] if row else None

    async def get_by_client_id_for_user(self, user_id: uuid.UUID, client_order_id: str) -> Order | None:
        row = await self._session.scalar(
            select(OrderRow)
            .where(OrderRow.user_id == user_id, OrderRow.client_order_id == client_order_id)
            .limit(1)
        )
        return (await self._with_fills([row]))[0] if row else None

    async def find_by_id_prefix(self, user_id: uuid.UUID, prefix: str, limit: int = 10) -> list[Order]:
        # The first 8 hex digits read the same in SQLite's 32-digit form and
        # PostgreSQL's dashed text, so SQL narrows by them and Python by the rest.
        head = prefix[:8]
        rows = await self._session.scalars(
            select(OrderRow)
            .where(OrderRow.user_id == user_id, cast(OrderRow.id, String).like(f"{head}%"))
            .order_by(OrderRow.created_at.desc())
            .limit(200)
        )
        matching = [row for row in rows if row.id.hex.startswith(prefix)][:limit]
        return await self._with_fills(matching)

    async def list_for_user(
        self,
        user_id: uuid.UUID,
        *,
        statuses: Iterable[OrderStatus] | None = None,
        offset: int = 0,
        limit: int = 50,
        where: OrderFilter | None = None,
    ) -> tuple[list[Order], int]:
        statement = select(OrderRow).where(OrderRow.user_id == user_id)
        if statuses is not None:
            statement = statement.where(OrderRow.status.in_([s.value for s in statuses]))
        if where is not None:
            statement = _filtered(statement, where)
        total = await self._session.scalar(select(func.count()).select_from(statement.subquery())) or 0
        rows = list(
            await self._session.scalars(
                statement.order_by(OrderRow.created_at.desc(), OrderRow.id).offset(offset).limit(limit)
            )
        )
        return await self._with_fills(rows), total

    async def list_by_status(self, statuses: Iterable[OrderStatus]) -> list[Order]:
        rows = list(
            await self._session.scalars(
                select(OrderRow)
                .where(OrderRow.status.in_([s.value for s in statuses]))
                .order_by(OrderRow.created_at)
            )
        )
        return await self._with_fills(rows)

    async def list_for_account(self, account_id: uuid.UUID, statuses: Iterable[OrderStatus]) -> list[Order]:
        rows = list(
            await self._session.scalars(
                select(OrderRow)
                .where(OrderRow.account_id == account_id, OrderRow.status.in_([s.value for s in statuses]))
                .order_by(OrderRow.created_at)
            )
        )
        return await self._with_fills(rows)

    async def accounts_with_status(
        self, statuses: Iterable[OrderStatus]
    ) -> list[tuple[uuid.UUID, uuid.UUID]]:
        rows = await self._session.execute(
            select(OrderRow.user_id, OrderRow.account_id)
            .where(OrderRow.status.in_([s.value for s in statuses]))
            .distinct()
        )
        return [(user_id, account_id) for user_id, account_id in rows.all()]

    async def list_for_twap(self, twap_id: uuid.UUID) -> list[Order]:
        rows = list(
            await self._session.scalars(
                select(OrderRow).where(OrderRow.twap_id == twap_id).order_by(OrderRow.created_at)
            )
        )
        return await self._with_fills(rows)

    async def list_for_bracket(self, bracket_id: uuid.UUID) -> list[Order]:
        rows = list(
            await self._session.scalars(
                select(OrderRow).where(OrderRow.bracket_id == bracket_id).order_by(OrderRow.created_at)
            )
        )
        return await self._with_fills(rows)

    async def count_created_since(self, since: datetime) -> int:
        return (
            await self._session.scalar(
                select(func.count()).select_from(OrderRow).where(OrderRow.created_at >= since)
            )
            or 0
        )

    async def add_to_holding(self, account_id: uuid.UUID, asset: str, delta: Decimal) -> Decimal:
        row = await self._session.get(HoldingRow, (account_id, asset))
        if row is None:
            row = HoldingRow(account_id=account_id, asset=asset, quantity=ZERO)
            self._session.add(row)
        row.quantity = row.quantity + delta
        await self._session.flush()
        return row.quantity

    async def get_holding(self, account_id: uuid.UUID, asset: str) -> Decimal:
        row = await self._session.get(HoldingRow, (account_id, asset))
        return row.quantity if row is not None else ZERO

    async def _with_fills(self, rows: list[OrderRow]) -> list[Order]:
        if not rows:
            return []
        self._rows.update((row.id, row) for row in rows)
        fill_rows = await self._session.scalars(
            select(FillRow)
            .where(FillRow.order_id.in_([row.id for row in rows]))
            .order_by(FillRow.executed_at)
        )
        by_order: dict[uuid.UUID, list[Fill]] = {row.id: [] for row in rows}
        for fill_row in fill_rows:
            by_order[fill_row.order_id].append(_fill_from_row(fill_row))
        return [_order_from_row(row, by_order[row.id]) for row in rows]
