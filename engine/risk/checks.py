"""Pre-trade risk checks: order size, position size, leverage, daily loss, drawdown and VaR.

Each check compares one value of the order's TradeImpact with the user's
limit. Passing checks still report their figures, which the confirmation card
shows. A denial carries the limit, the value the order would reach and the
largest quantity that passes every risk limit.
"""

from __future__ import annotations

from decimal import Decimal

from engine.common.money import ZERO
from engine.errors import RiskDenied
from engine.risk.impact import RiskAssessor, TradeImpact
from engine.risk.limits import LimitName
from engine.risk.pretrade import CheckResult, PreTradeCheck, TradeContext

POSITION_SIZE_LIMIT_EXCEEDED = "POSITION_SIZE_LIMIT_EXCEEDED"
RISK_LIMIT_EXCEEDED = "RISK_LIMIT_EXCEEDED"


class RiskLimitCheck:
    """One limit: passes when the order's value is at most the limit, or when the order reduces risk."""

    def __init__(self, name: str, limit: LimitName, code: str, assessor: RiskAssessor) -> None:
        self.name = name
        self.limit = limit
        self.code = code
        self._assessor = assessor

    async def check(self, context: TradeContext) -> CheckResult:
        impact = await self._assessor.assess(context)
        value = impact.value_of(self.limit)
        limit = impact.limits.get(self.limit)
        figures = self._figures(impact, value, limit)
        if value <= limit or impact.reduces_risk:
            return CheckResult(self.name, figures=figures)

        denial = RiskDenied(
            self.code,
            limit_name=self.limit.value,
            limit=limit,
            value=value,
            max_passing=impact.max_passing,
            asset=context.market.base,
        )
        return CheckResult(self.name, denial=denial, figures=figures)

    def _figures(self, impact: TradeImpact, value: Decimal, limit: Decimal) -> dict[str, Decimal]:
        figures = {"value": value, "limit": limit}
        if impact.reduces_risk:
            figures["reduces_risk"] = Decimal(1)
        if self.limit is LimitName.MAX_ORDER:
            figures["order_value"] = impact.order_value
            figures["equity"] = impact.equity
            if impact.stop_loss is not None:
                figures["stop_loss"] = max(impact.stop_loss, ZERO)
                figures["stop_loss_fraction"] = max(impact.stop_loss_fraction or ZERO, ZERO)
        return figures


def risk_checks(assessor: RiskAssessor) -> list[PreTradeCheck]:
    """Build the risk checks in the order the confirmation card lists them."""
    return [
        RiskLimitCheck("order_size", LimitName.MAX_ORDER, POSITION_SIZE_LIMIT_EXCEEDED, assessor),
        RiskLimitCheck("position_size", LimitName.MAX_POSITION, POSITION_SIZE_LIMIT_EXCEEDED, assessor),
        RiskLimitCheck("leverage", LimitName.MAX_LEVERAGE, RISK_LIMIT_EXCEEDED, assessor),
        RiskLimitCheck("daily_loss", LimitName.MAX_DAILY_LOSS, RISK_LIMIT_EXCEEDED, assessor),
        RiskLimitCheck("drawdown", LimitName.MAX_DRAWDOWN, RISK_LIMIT_EXCEEDED, assessor),
        RiskLimitCheck("var", LimitName.MAX_VAR, RISK_LIMIT_EXCEEDED, assessor),
    ]
