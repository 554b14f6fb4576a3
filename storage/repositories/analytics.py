"""Stress scenarios added by admins and rebalancing plans awaiting confirmation."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from engine.analytics.plans import RebalancePlan
from engine.analytics.rebalance import RebalanceMethod, RebalanceOrder
from engine.analytics.scenario_models import StoredScenario
from engine.common.money import to_canonical
from engine.orders.drafts import DraftStatus
from engine.orders.models import OrderSide
from storage.models import RebalancePlanRow, StressScenarioRow


def _scenario_from_row(row: StressScenarioRow) -> StoredScenario:
    return StoredScenario(
        id=row.id,
        name=row.name,
        created_by=row.created_by,
        created_at=row.created_at,
        shocks={asset: Decimal(shock) for asset, shock in json.loads(row.shocks).items()},
        others=row.others,
    )


def _orders_json(orders: list[RebalanceOrder]) -> str:
    return json.dumps(
        [
            {
                "symbol": order.symbol,
                "side": order.side.value,
                "quantity": to_canonical(order.quantity),
                "price": to_canonical(order.price),
                "target_weight": to_canonical(order.target_weight),
            }
            for order in orders
        ]
    )


def _plan_from_row(row: RebalancePlanRow) -> RebalancePlan:
    orders = [
        RebalanceOrder(
            symbol=item["symbol"],
            side=OrderSide(item["side"]),
            quantity=Decimal(item["quantity"]),
            price=Decimal(item["price"]),
            target_weight=Decimal(item["target_weight"]),
        )
        for item in json.loads(row.orders)
    ]
    return RebalancePlan(
        id=row.id,
        user_id=row.user_id,
        account_id=row.account_id,
        method=RebalanceMethod(row.method),
        orders=orders,
        status=DraftStatus(row.status),
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


class SqlAnalyticsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def list_scenarios(self) -> list[StoredScenario]:
        rows = await self._session.scalars(select(StressScenarioRow).order_by(StressScenarioRow.name))
        return [_scenario_from_row(row) for row in rows]

    async def get_scenario(self, name: str) -> StoredScenario | None:
        row = await self._session.scalar(
            select(StressScenarioRow).where(func.lower(StressScenarioRow.name) == name.lower())
        )
        return _scenario_from_row(row) if row else None

    async def add_scenario(self, scenario: StoredScenario) -> None:
        self._session.add(
            StressScenarioRow(
                id=scenario.id,
                name=scenario.name,
                shocks=json.dumps({a: to_canonical(s) for a, s in scenario.shocks.items()}, sort_keys=True),
                others=scenario.others,
                created_by=scenario.created_by,
                created_at=scenario.created_at,
            )
        )
        await self._session.flush()

    async def delete_scenario(self, name: str) -> bool:
        result = await self._session.execute(
            delete(StressScenarioRow).where(func.lower(StressScenarioRow.name) == name.lower())
        )
        return bool(result.rowcount)

    async def add_plan(self, plan: RebalancePlan) -> None:
        self._session.add(
            RebalancePlanRow(
                id=plan.id,
                user_id=plan.user_id,
                account_id=plan.account_id,
                method=plan.method.value,
                orders=_orders_json(plan.orders),
                status=plan.status.value,
                created_at=plan.created_at,
                expires_at=plan.expires_at,
            )
        )
        await self._session.flush()

    async def get_plan_for_user(self, user_id: uuid.UUID, plan_id: uuid.UUID) -> RebalancePlan | None:
        row = await self._session.scalar(
            select(RebalancePlanRow).where(
                RebalancePlanRow.id == plan_id, RebalancePlanRow.user_id == user_id
            )
        )
        return _plan_from_row(row) if row else None

    async def update_plan(self, plan: RebalancePlan) -> None:
        row = await self._session.get(RebalancePlanRow, plan.id)
        if row is None:
            raise LookupError(f"rebalancing plan {plan.id} does not exist")
        row.status = plan.status.value
        await self._session.flush()
