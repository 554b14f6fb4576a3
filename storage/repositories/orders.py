"""Orders, fills and order drafts."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from engine.common.money import to_canonical
from engine.orders.drafts import DraftStatus, OrderDraft, OrderEstimate
from engine.orders.models import Fill, Order, OrderRequest, OrderSide, OrderStatus, OrderType, TimeInForce
from storage.models import FillRow, OrderDraftRow, OrderRow

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
    "created_at",
    "updated_at",
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


def _order_from_row(row: OrderRow, fills: list[Fill]) -> Order:
    values = {name: getattr(row, name) for name in _ORDER_FIELDS}
    return Order(
        id=row.id,
        side=OrderSide(row.side),
        type=OrderType(row.type),
        time_in_force=TimeInForce(row.time_in_force),
        status=OrderStatus(row.status),
        fills=fills,
        **values,
    )


def _fill_order_row(row: OrderRow, order: Order) -> None:
    for name in _ORDER_FIELDS:
        setattr(row, name, getattr(order, name))
    row.side = order.side.value
    row.type = order.type.value
    row.time_in_force = order.time_in_force.value
    row.status = order.status.value


class SqlOrderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, order: Order) -> None:
        row = OrderRow(id=order.id)
        _fill_order_row(row, order)
        self._session.add(row)
        await self._session.flush()

    async def update(self, order: Order) -> None:
        row = await self._session.get(OrderRow, order.id)
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

    async def list_for_user(
        self,
        user_id: uuid.UUID,
        *,
        statuses: Iterable[OrderStatus] | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[list[Order], int]:
        statement = select(OrderRow).where(OrderRow.user_id == user_id)
        if statuses is not None:
            statement = statement.where(OrderRow.status.in_([s.value for s in statuses]))
        total = await self._session.scalar(select(func.count()).select_from(statement.subquery())) or 0
        rows = list(
            await self._session.scalars(
                statement.order_by(OrderRow.created_at.desc()).offset(offset).limit(limit)
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

    async def count_created_since(self, since: datetime) -> int:
        return (
            await self._session.scalar(
                select(func.count()).select_from(OrderRow).where(OrderRow.created_at >= since)
            )
            or 0
        )

    async def _with_fills(self, rows: list[OrderRow]) -> list[Order]:
        if not rows:
            return []
        fill_rows = await self._session.scalars(
            select(FillRow)
            .where(FillRow.order_id.in_([row.id for row in rows]))
            .order_by(FillRow.executed_at)
        )
        by_order: dict[uuid.UUID, list[Fill]] = {row.id: [] for row in rows}
        for fill_row in fill_rows:
            by_order[fill_row.order_id].append(_fill_from_row(fill_row))
        return [_order_from_row(row, by_order[row.id]) for row in rows]


def _optional_text(value: Decimal | None) -> str | None:
    return to_canonical(value) if value is not None else None


def _optional_decimal(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


def _draft_payload(draft: OrderDraft) -> str:
    request, estimate = draft.request, draft.estimate
    return json.dumps(
        {
            "request": {
                "symbol": request.symbol,
                "side": request.side.value,
                "type": request.type.value,
                "quantity": to_canonical(request.quantity),
                "price": _optional_text(request.price),
                "stop_price": _optional_text(request.stop_price),
                "time_in_force": request.time_in_force.value,
                "reduce_only": request.reduce_only,
                "post_only": request.post_only,
            },
            "estimate": {
                "price": to_canonical(estimate.price),
                "quantity": to_canonical(estimate.quantity),
                "cost": to_canonical(estimate.cost),
                "fee": to_canonical(estimate.fee),
                "fee_asset": estimate.fee_asset,
            },
        },
        sort_keys=True,
    )


def _draft_from_row(row: OrderDraftRow) -> OrderDraft:
    payload = json.loads(row.payload)
    request, estimate = payload["request"], payload["estimate"]
    return OrderDraft(
        id=row.id,
        user_id=row.user_id,
        account_id=row.account_id,
        request=OrderRequest(
            symbol=request["symbol"],
            side=OrderSide(request["side"]),
            type=OrderType(request["type"]),
            quantity=Decimal(request["quantity"]),
            price=_optional_decimal(request["price"]),
            stop_price=_optional_decimal(request["stop_price"]),
            time_in_force=TimeInForce(request["time_in_force"]),
            reduce_only=request["reduce_only"],
            post_only=request["post_only"],
            client_order_id=row.client_order_id,
        ),
        client_order_id=row.client_order_id,
        estimate=OrderEstimate(
            price=Decimal(estimate["price"]),
            quantity=Decimal(estimate["quantity"]),
            cost=Decimal(estimate["cost"]),
            fee=Decimal(estimate["fee"]),
            fee_asset=estimate["fee_asset"],
        ),
        status=DraftStatus(row.status),
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


class SqlOrderDraftRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, draft: OrderDraft) -> None:
        self._session.add(
            OrderDraftRow(
                id=draft.id,
                user_id=draft.user_id,
                account_id=draft.account_id,
                client_order_id=draft.client_order_id,
                payload=_draft_payload(draft),
                status=draft.status.value,
                created_at=draft.created_at,
                expires_at=draft.expires_at,
            )
        )
        await self._session.flush()

    async def get_for_user(self, user_id: uuid.UUID, draft_id: uuid.UUID) -> OrderDraft | None:
        row = await self._session.scalar(
            select(OrderDraftRow).where(OrderDraftRow.id == draft_id, OrderDraftRow.user_id == user_id)
        )
        return _draft_from_row(row) if row else None

    async def update(self, draft: OrderDraft) -> None:
        row = await self._session.get(OrderDraftRow, draft.id)
        if row is None:
            raise LookupError(f"draft {draft.id} does not exist")
        row.status = draft.status.value
        row.payload = _draft_payload(draft)
        await self._session.flush()

    async def expire_open(self, now: datetime) -> int:
        result = await self._session.execute(
            update(OrderDraftRow)
            .where(OrderDraftRow.status == DraftStatus.OPEN.value, OrderDraftRow.expires_at <= now)
            .values(status=DraftStatus.EXPIRED.value)
        )
        return result.rowcount or 0
