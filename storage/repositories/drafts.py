"""Order drafts: orders shown for confirmation and not yet sent."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from engine.brackets.models import ExitMode, Target
from engine.brackets.plan import BracketPlan, Merge
from engine.common.money import to_canonical
from engine.orders.drafts import Adjustment, DraftStatus, OrderDraft, OrderEstimate
from engine.orders.models import OrderRequest, OrderSide, OrderType, TimeInForce
from storage.models import OrderDraftRow


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
            "adjustments": [
                [item.field, to_canonical(item.requested), to_canonical(item.used)]
                for item in draft.adjustments
            ],
            "modifies": draft.modifies_order_id.hex if draft.modifies_order_id else None,
            "bracket": _plan_payload(draft.bracket) if draft.bracket is not None else None,
        },
        sort_keys=True,
    )


def _plan_payload(plan: BracketPlan) -> dict[str, object]:
    return {
        "symbol": plan.symbol,
        "side": plan.side.value,
        "quantity": to_canonical(plan.quantity),
        "entry_price": _optional_text(plan.entry_price),
        "stop_price": to_canonical(plan.stop_price),
        "targets": [[to_canonical(target.price), to_canonical(target.quantity)] for target in plan.targets],
        "breakeven": plan.breakeven,
        "exit_mode": plan.exit_mode.value,
        "merges": [[merge.target, to_canonical(merge.quantity), merge.into] for merge in plan.merges],
    }


def _plan_from_payload(payload: dict[str, object] | None) -> BracketPlan | None:
    if payload is None:
        return None
    return BracketPlan(
        symbol=str(payload["symbol"]),
        side=OrderSide(payload["side"]),
        quantity=Decimal(str(payload["quantity"])),
        entry_price=_optional_decimal(payload["entry_price"]),  # type: ignore[arg-type]
        stop_price=Decimal(str(payload["stop_price"])),
        targets=tuple(
            Target(Decimal(price), Decimal(quantity))
            for price, quantity in payload["targets"]  # type: ignore[attr-defined]
        ),
        breakeven=bool(payload["breakeven"]),
        exit_mode=ExitMode(payload["exit_mode"]),
        merges=tuple(
            Merge(target, Decimal(quantity), into)
            for target, quantity, into in payload["merges"]  # type: ignore[attr-defined]
        ),
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
        adjustments=tuple(
            Adjustment(field, Decimal(requested), Decimal(used))
            for field, requested, used in payload.get("adjustments", [])
        ),
        modifies_order_id=uuid.UUID(hex=payload["modifies"]) if payload.get("modifies") else None,
        bracket=_plan_from_payload(payload.get("bracket")),
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

    async def mark_reported(self, draft_id: uuid.UUID, at: datetime) -> None:
        await self._session.execute(
            update(OrderDraftRow)
            .where(
                OrderDraftRow.id == draft_id,
                OrderDraftRow.status == DraftStatus.CONFIRMED.value,
                OrderDraftRow.reported_at.is_(None),
            )
            .values(reported_at=at)
        )

    async def list_unreported(self) -> list[OrderDraft]:
        pressed = (DraftStatus.CONFIRMING.value, DraftStatus.CONFIRMED.value)
        rows = await self._session.scalars(
            select(OrderDraftRow)
            .where(OrderDraftRow.status.in_(pressed), OrderDraftRow.reported_at.is_(None))
            .order_by(OrderDraftRow.created_at)
        )
        return [_draft_from_row(row) for row in rows]
