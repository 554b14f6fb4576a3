"""Orders, their fills, and the net holdings fills deliver to an account.

Reads and writes are SQLAlchemy Core statements on the tables: the order path
runs them for every order, and the ORM's unit of work costs several times more
per row than the statement itself.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import String, bindparam, cast, func, insert, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from engine.common.money import ZERO, to_canonical
from engine.orders.models import CheckRecord, Fill, Order, OrderSide, OrderStatus, OrderType, TimeInForce
from engine.orders.ports import OrderFilter
from storage.models import FillRow, HoldingRow, OrderRow
from storage.prepared import PreparedRead, PreparedWrite, read_many, read_now, write_later

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


_ORDERS = OrderRow.__table__
_FILLS = FillRow.__table__
_HOLDINGS = HoldingRow.__table__

# Built once: the order path runs these for every order, and a statement built
# anew costs more Python than SQLite takes to run it.
# The order path's reads and writes go to the driver directly on SQLite (storage.prepared).
# Writes whose row count is never read go with the transaction's next statement.
_INSERT_ORDER = PreparedWrite(insert(_ORDERS))
_UPDATE_ORDER = update(_ORDERS).where(_ORDERS.c.id == bindparam("key"))
_INSERT_FILL = PreparedWrite(insert(_FILLS))
_SELECT_HOLDING = PreparedRead(
    select(_HOLDINGS.c.quantity).where(
        _HOLDINGS.c.account_id == bindparam("account_id"), _HOLDINGS.c.asset == bindparam("asset")
    )
)
_INSERT_HOLDING = PreparedWrite(insert(_HOLDINGS))
_UPDATE_HOLDING = PreparedWrite(
    update(_HOLDINGS).where(
        _HOLDINGS.c.account_id == bindparam("key_account"), _HOLDINGS.c.asset == bindparam("key_asset")
    )
)
# Every order looks its client order id up and almost never finds it, so only the id is selected.
_CLIENT_ID_TAKEN = PreparedRead(
    select(_ORDERS.c.id).where(
        _ORDERS.c.user_id == bindparam("user_id"), _ORDERS.c.client_order_id == bindparam("client_id")
    )
)
_SELECT_BY_ID = select(_ORDERS).where(_ORDERS.c.id == bindparam("order_id"))
# A page of /orders: the order rows, with the count of all that match on each row, and the
# fills of the page's orders, found by the same page as a subquery so both go in one hand-off.
# A filter's optional fields are named values, and its statuses are constants written into the SQL.
_FILTER_CONDITIONS = {
    "account_id": _ORDERS.c.account_id == bindparam("account_id"),
    "symbol": _ORDERS.c.symbol == bindparam("symbol"),
    "side": _ORDERS.c.side == bindparam("side"),
    "since": _ORDERS.c.created_at >= bindparam("since"),
    "until": _ORDERS.c.created_at < bindparam("until"),
}
_NO_FILTER = OrderFilter()


@lru_cache(maxsize=64)
def _page_reads(
    statuses: tuple[str, ...] | None, fields: tuple[str, ...]
) -> tuple[PreparedRead, PreparedRead]:
    """Build the reads of a page and its fills for one shape of filter: its statuses and other set fields."""
    conditions = [_ORDERS.c.user_id == bindparam("user_id")]
    if statuses is not None:
        conditions.append(_ORDERS.c.status.in_([literal_column(f"'{status}'") for status in statuses]))
    conditions.extend(_FILTER_CONDITIONS[name] for name in fields)
    page = (
        select(_ORDERS)
        .where(*conditions)
        .order_by(_ORDERS.c.created_at.desc(), _ORDERS.c.id)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    fills = (
        select(_FILLS)
        .where(_FILLS.c.order_id.in_(page.with_only_columns(_ORDERS.c.id).scalar_subquery()))
        .order_by(_FILLS.c.executed_at)
    )
    return PreparedRead(page.add_columns(func.count().over().label("matching_total"))), PreparedRead(fills)


def _filter_values(where: OrderFilter) -> dict[str, Any]:
    values = {name: getattr(where, name) for name in _FILTER_CONDITIONS if getattr(where, name) is not None}
    if "side" in values:
        values["side"] = values["side"].value
    return values


def _fill_from_row(row: Any) -> Fill:
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


def _order_from_row(row: Any, fills: list[Fill]) -> Order:
    values = {name: getattr(row, name) for name in _ORDER_FIELDS}
    return Order(
        id=row.id,
        side=OrderSide(row.side),
        type=OrderType(row.type),
        time_in_force=TimeInForce(row.time_in_force),
        status=OrderStatus(row.status),
        fills=fills,
        checks=_checks_from_json(row.checks),
        notified_status=OrderStatus(row.notified_status) if row.notified_status else None,
        notified_filled=row.notified_filled,
        **values,
    )


def _order_values(order: Order) -> dict[str, Any]:
    values = {name: getattr(order, name) for name in _ORDER_FIELDS}
    values.update(
        side=order.side.value,
        type=order.type.value,
        time_in_force=order.time_in_force.value,
        status=order.status.value,
        checks=_checks_to_json(order.checks),
        notified_status=order.notified_status.value if order.notified_status else None,
        notified_filled=order.notified_filled,
    )
    return values


def _fill_values(fill: Fill) -> dict[str, Any]:
    return {
        "id": fill.id,
        "order_id": fill.order_id,
        "trade_id": fill.trade_id,
        "price": fill.price,
        "quantity": fill.quantity,
        "fee": fill.fee,
        "fee_asset": fill.fee_asset,
        "is_maker": fill.is_maker,
        "executed_at": fill.executed_at,
    }


def _filtered(statement: Select[Any], where: OrderFilter) -> Select[Any]:
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
        # Holdings read or written in one transaction, by (account id, asset). None means no row yet.
        self._holdings: dict[tuple[uuid.UUID, str], Decimal | None] = {}
        self._holdings_of: object = None  # that transaction

    async def add(self, order: Order) -> None:
        await write_later(self._session, _INSERT_ORDER, [{"id": order.id, **_order_values(order)}])

    async def update(self, order: Order) -> None:
        result = await self._session.execute(_UPDATE_ORDER, {"key": order.id, **_order_values(order)})
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise LookupError(f"order {order.id} does not exist")

    async def mark_notified(self, order: Order) -> bool:
        """Record the order's current status and filled quantity as notified; False when someone did first.

        The update applies only while the stored record is still the one
        ``order`` was read with, so two passes that race tell the user once.
        """
        result = await self._session.execute(
            update(_ORDERS)
            .where(
                _ORDERS.c.id == order.id,
                _ORDERS.c.notified_status.is_not_distinct_from(
                    order.notified_status.value if order.notified_status else None
                ),
                _ORDERS.c.notified_filled.is_not_distinct_from(order.notified_filled),
            )
            .values(notified_status=order.status.value, notified_filled=order.filled_quantity)
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            return False
        order.mark_notified()
        return True

    async def list_unnotified(self, since: datetime, limit: int = 500) -> list[Order]:
        """Return orders outside brackets, changed since ``since``, whose user was not notified their state.

        PENDING orders are left out: nothing is sent about them. Both filled
        quantities are stored as canonical text on SQLite, so equal amounts are
        equal text; Python compares them again as numbers. Orders already notified
        must not take places in the batch, or they would crowd out not notified ones.
        """
        rows = list(
            await self._session.execute(
                select(_ORDERS)
                .where(
                    _ORDERS.c.updated_at >= since,
                    _ORDERS.c.bracket_id.is_(None),
                    _ORDERS.c.status != OrderStatus.PENDING.value,
                    (_ORDERS.c.notified_status.is_(None))
                    | (_ORDERS.c.notified_status != _ORDERS.c.status)
                    | _ORDERS.c.notified_filled.is_distinct_from(_ORDERS.c.filled_quantity),
                )
                .order_by(_ORDERS.c.updated_at)
                .limit(limit)
            )
        )
        return [order for order in await self._with_fills(rows) if not order.is_notified]

    async def add_fill(self, fill: Fill) -> None:
        await write_later(self._session, _INSERT_FILL, [_fill_values(fill)])

    async def get(self, order_id: uuid.UUID) -> Order | None:
        row = (await self._session.execute(_SELECT_BY_ID, {"order_id": order_id})).first()
        return (await self._with_fills([row]))[0] if row else None

    async def get_for_user(self, user_id: uuid.UUID, order_id: uuid.UUID) -> Order | None:
        return await self._one(_ORDERS.c.id == order_id, _ORDERS.c.user_id == user_id)

    async def get_by_client_id(self, account_id: uuid.UUID, client_order_id: str) -> Order | None:
        return await self._one(
            _ORDERS.c.account_id == account_id, _ORDERS.c.client_order_id == client_order_id
        )

    async def get_by_client_id_for_user(self, user_id: uuid.UUID, client_order_id: str) -> Order | None:
        parameters = {"user_id": user_id, "client_id": client_order_id}
        found = await read_now(self._session, _CLIENT_ID_TAKEN, parameters)
        return await self.get(found[0][0]) if found else None

    async def is_client_id_free(
        self, user_id: uuid.UUID, client_order_id: str, *, holding_of: tuple[uuid.UUID, str] | None = None
    ) -> bool:
        reads = [(_CLIENT_ID_TAKEN, {"user_id": user_id, "client_id": client_order_id})]
        if holding_of is not None:
            reads.append((_SELECT_HOLDING, {"account_id": holding_of[0], "asset": holding_of[1]}))
        results = await read_many(self._session, reads)
        if holding_of is not None:
            self._known_holdings()[holding_of] = results[1][0][0] if results[1] else None
        return not results[0]

    def _known_holdings(self) -> dict[tuple[uuid.UUID, str], Decimal | None]:
        """Return the holdings known in the current transaction; a new transaction starts with none."""
        transaction = self._session.sync_session.get_transaction()
        if transaction is not self._holdings_of:
            self._holdings, self._holdings_of = {}, transaction
        return self._holdings

    async def _one(self, *conditions: Any) -> Order | None:
        row = (await self._session.execute(select(_ORDERS).where(*conditions).limit(1))).first()
        return (await self._with_fills([row]))[0] if row else None

    async def find_by_id_prefix(self, user_id: uuid.UUID, prefix: str, limit: int = 10) -> list[Order]:
        # The first 8 hex digits read the same in SQLite's 32-digit form and
        # PostgreSQL's dashed text, so SQL narrows by them and Python by the rest.
        head = prefix[:8]
        rows = await self._session.execute(
            select(_ORDERS)
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
        if statuses is None and (where is None or where.statuses is None or where.statuses):
            return await self._page(user_id, where or _NO_FILTER, offset, limit)
        statement = select(_ORDERS).where(_ORDERS.c.user_id == user_id)
        if statuses is not None:
            statement = statement.where(OrderRow.status.in_([s.value for s in statuses]))
        if where is not None:
            statement = _filtered(statement, where)
        # The count of every matching order rides on each row of the page: one statement, not two.
        page = statement.add_columns(func.count().over().label("matching_total"))
        rows = list(
            await self._session.execute(
                page.order_by(OrderRow.created_at.desc(), OrderRow.id).offset(offset).limit(limit)
            )
        )
        if rows:
            total = rows[0].matching_total
        elif offset == 0:
            total = 0
        else:  # a page past the end has no row to carry the count
            total = await self._session.scalar(select(func.count()).select_from(statement.subquery())) or 0
        return await self._with_fills(rows), total

    async def _page(
        self, user_id: uuid.UUID, where: OrderFilter, offset: int, limit: int
    ) -> tuple[list[Order], int]:
        statuses = (
            None if where.statuses is None else tuple(sorted(status.value for status in where.statuses))
        )
        filtered = _filter_values(where)
        page, fills = _page_reads(statuses, tuple(filtered))
        values = {"user_id": user_id, "limit": limit, "offset": offset, **filtered}
        rows, fill_rows = await read_many(self._session, [(page, values), (fills, values)])
        if rows:
            total = rows[0].matching_total
        elif offset == 0:
            total = 0
        else:  # a page past the end has no row to carry the count
            matching = _filtered(select(_ORDERS).where(_ORDERS.c.user_id == user_id), where)
            total = await self._session.scalar(select(func.count()).select_from(matching.subquery())) or 0
        by_order: dict[uuid.UUID, list[Fill]] = {row.id: [] for row in rows}
        for fill_row in fill_rows:
            by_order[fill_row.order_id].append(_fill_from_row(fill_row))
        return [_order_from_row(row, by_order[row.id]) for row in rows], total

    async def list_by_status(self, statuses: Iterable[OrderStatus]) -> list[Order]:
        rows = list(
            await self._session.execute(
                select(_ORDERS)
                .where(OrderRow.status.in_([s.value for s in statuses]))
                .order_by(OrderRow.created_at)
            )
        )
        return await self._with_fills(rows)

    async def list_for_account(self, account_id: uuid.UUID, statuses: Iterable[OrderStatus]) -> list[Order]:
        rows = list(
            await self._session.execute(
                select(_ORDERS)
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
            await self._session.execute(
                select(_ORDERS).where(OrderRow.twap_id == twap_id).order_by(OrderRow.created_at)
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
        # The quantity is exact text on SQLite, so the sum is taken here, not in SQL.
        key = (account_id, asset)
        known = self._known_holdings()
        current = known[key] if key in known else await self._holding(account_id, asset)
        known[key] = current + delta if current is not None else delta
        if current is None:
            values = {"account_id": account_id, "asset": asset, "quantity": delta}
            await write_later(self._session, _INSERT_HOLDING, [values])
            return delta
        quantity = current + delta
        await write_later(
            self._session,
            _UPDATE_HOLDING,
            [{"key_account": account_id, "key_asset": asset, "quantity": quantity}],
        )
        return quantity

    async def get_holding(self, account_id: uuid.UUID, asset: str) -> Decimal:
        quantity = await self._holding(account_id, asset)
        return quantity if quantity is not None else ZERO

    async def _holding(self, account_id: uuid.UUID, asset: str) -> Decimal | None:
        rows = await read_now(self._session, _SELECT_HOLDING, {"account_id": account_id, "asset": asset})
        return rows[0][0] if rows else None

    async def _with_fills(self, rows: Sequence[Any]) -> list[Order]:
        if not rows:
            return []
        fill_rows = await self._session.execute(
            select(_FILLS)
            .where(_FILLS.c.order_id.in_([row.id for row in rows]))
            .order_by(_FILLS.c.executed_at)
        )
        by_order: dict[uuid.UUID, list[Fill]] = {row.id: [] for row in rows}
        for fill_row in fill_rows:
            by_order[fill_row.order_id].append(_fill_from_row(fill_row))
        return [_order_from_row(row, by_order[row.id]) for row in rows]
