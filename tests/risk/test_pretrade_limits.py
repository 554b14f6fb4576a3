"""Each pre-trade risk check at its limit, for every profile: just under passes, just over is denied."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np
import pytest

from engine.accounts.models import Account, Exchange
from engine.common.money import ZERO, floor_to_step
from engine.errors import RiskDenied
from engine.exchanges.paper.markets import PAPER_MARKETS
from engine.market.history import DailyHistory
from engine.orders.drafts import OrderEstimate
from engine.orders.models import OrderRequest, OrderSide, OrderType
from engine.risk.checks import risk_checks
from engine.risk.exposure import Exposure
from engine.risk.impact import TradeImpact, build_impact
from engine.risk.limits import DEFAULT_LIMITS, LimitName, RiskLimits
from engine.risk.models import EquityMarks
from engine.risk.pretrade import CheckResult, TradeContext
from engine.risk.returns import ReturnsWindow
from engine.users.models import RiskProfile, User, UserStatus

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
MARKET_TIME = datetime(2022, 1, 6, tzinfo=UTC)  # the first replayed day
MARKET = PAPER_MARKETS["BTC/USDT"]
PRICE = Decimal("43472.87")  # the ask at the replay's start
FEE = Decimal("0.001")
EQUITY = Decimal("10000")
STEP = MARKET.amount_step
RETURNS = ReturnsWindow(DailyHistory(), lambda: MARKET_TIME)
PROFILES = list(RiskProfile)


def context(quantity: Decimal, side: OrderSide = OrderSide.BUY, stop: Decimal | None = None) -> TradeContext:
    user = User(uuid.uuid4(), 1, "trader", "en", RiskProfile.MEDIUM, UserStatus.ACTIVE, NOW, NOW)
    account = Account(uuid.uuid4(), user.id, Exchange.PAPER, "Paper", False, True, True, NOW, NOW)
    request = OrderRequest("BTC/USDT", side, OrderType.MARKET, quantity)
    cost = quantity * PRICE
    estimate = OrderEstimate(PRICE, quantity, cost, cost * FEE, "USDT")
    return TradeContext(user, account, MARKET, request, estimate, {}, stop_loss=stop)


def impact(
    quantity: Decimal,
    limits: RiskLimits,
    exposure: Exposure | None = None,
    marks: EquityMarks | None = None,
    **extra: object,
) -> TradeImpact:
    return build_impact(
        context(quantity, **extra), exposure or Exposure(EQUITY), marks, limits, Decimal(1), RETURNS, NOW
    )  # type: ignore[arg-type]


class FixedAssessor:
    def __init__(self, value: TradeImpact) -> None:
        self.value = value

    async def assess(self, _context: TradeContext) -> TradeImpact:
        return self.value


async def run_check(name: str, result: TradeImpact, quantity: Decimal) -> CheckResult:
    checks = {check.name: check for check in risk_checks(FixedAssessor(result))}  # type: ignore[arg-type]
    return await checks[name].check(context(quantity))


def assert_boundary(name: LimitName, under: TradeImpact, over: TradeImpact, limit: Decimal) -> None:
    assert under.value_of(name) <= limit, f"{name}: {under.value_of(name)} should pass {limit}"
    assert over.value_of(name) > limit, f"{name}: {over.value_of(name)} should break {limit}"


@pytest.mark.parametrize("profile", PROFILES)
async def test_max_order_at_its_limit(profile: RiskProfile) -> None:
    limits = DEFAULT_LIMITS[profile]
    largest = floor_to_step(limits.max_order * EQUITY / PRICE, STEP)
    under, over = impact(largest, limits), impact(largest + STEP, limits)
    assert_boundary(LimitName.MAX_ORDER, under, over, limits.max_order)

    assert (await run_check("order_size", under, largest)).passed
    denied = (await run_check("order_size", over, largest + STEP)).denial
    assert isinstance(denied, RiskDenied)
    assert denied.code == "POSITION_SIZE_LIMIT_EXCEEDED"
    assert denied.limit_name == "max_order"
    assert denied.limit == limits.max_order
    assert denied.value == (largest + STEP) * PRICE / EQUITY
    assert denied.max_passing == largest


@pytest.mark.parametrize("profile", PROFILES)
async def test_max_position_at_its_limit(profile: RiskProfile) -> None:
    limits = DEFAULT_LIMITS[profile]
    held = (limits.max_position - limits.max_order / 2) * EQUITY  # the room left is half an order
    exposure = Exposure(EQUITY, {"BTC/USDT": held})
    # held + q·p <= L·(E - q·p·fee), solved for q independently of the engine.
    largest = floor_to_step(
        (limits.max_position * EQUITY - held) / (PRICE * (1 + limits.max_position * FEE)), STEP
    )
    under, over = impact(largest, limits, exposure), impact(largest + STEP, limits, exposure)
    assert_boundary(LimitName.MAX_POSITION, under, over, limits.max_position)

    assert (await run_check("position_size", under, largest)).passed
    denied = (await run_check("position_size", over, largest + STEP)).denial
    assert isinstance(denied, RiskDenied)
    assert denied.code == "POSITION_SIZE_LIMIT_EXCEEDED"
    assert denied.limit_name == "max_position"
    assert denied.value == (held + (largest + STEP) * PRICE) / (EQUITY - (largest + STEP) * PRICE * FEE)
    assert denied.max_passing == largest


@pytest.mark.parametrize("profile", PROFILES)
async def test_max_leverage_at_its_limit(profile: RiskProfile) -> None:
    limits = DEFAULT_LIMITS[profile]
    # A short in another market makes room for gross exposure near the leverage limit.
    short = -(limits.max_leverage * EQUITY - Decimal("300"))
    exposure = Exposure(EQUITY, {"ETH/USDT": short})
    gross = abs(short)
    largest = floor_to_step(
        (limits.max_leverage * EQUITY - gross) / (PRICE * (1 + limits.max_leverage * FEE)), STEP
    )
    under, over = impact(largest, limits, exposure), impact(largest + STEP, limits, exposure)
    assert_boundary(LimitName.MAX_LEVERAGE, under, over, limits.max_leverage)

    assert (await run_check("leverage", under, largest)).passed
    denied = (await run_check("leverage", over, largest + STEP)).denial
    assert isinstance(denied, RiskDenied)
    assert denied.code == "RISK_LIMIT_EXCEEDED"
    assert denied.limit_name == "max_leverage"
    assert denied.value == (gross + (largest + STEP) * PRICE) / (EQUITY - (largest + STEP) * PRICE * FEE)
    assert over.max_quantities[LimitName.MAX_LEVERAGE] == largest
    # The short alone breaks the VaR limit of some profiles, and the denial offers what passes every limit.
    assert denied.max_passing == min(over.max_quantities.values())


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("limit_name", [LimitName.MAX_DAILY_LOSS, LimitName.MAX_DRAWDOWN])
async def test_loss_limits_at_their_limit(profile: RiskProfile, limit_name: LimitName) -> None:
    limits = DEFAULT_LIMITS[profile]
    quantity = Decimal("0.001")
    fee = quantity * PRICE * FEE
    base = Decimal("20000")
    # Equity after the fee lands one cent inside and one cent outside the limit.
    inside = base * (1 - limits.get(limit_name)) + fee + Decimal("0.01")
    outside = inside - Decimal("0.02")
    check = "daily_loss" if limit_name is LimitName.MAX_DAILY_LOSS else "drawdown"

    def marks_for() -> EquityMarks:
        if limit_name is LimitName.MAX_DAILY_LOSS:
            return EquityMarks(uuid.uuid4(), NOW.date(), base, base, NOW)
        return EquityMarks(uuid.uuid4(), date(2025, 12, 1), inside, base, NOW)  # old day: no daily loss

    under = impact(quantity, limits, Exposure(inside), marks_for())
    over = impact(quantity, limits, Exposure(outside), marks_for())
    assert_boundary(limit_name, under, over, limits.get(limit_name))
    assert (await run_check(check, under, quantity)).passed

    denied = (await run_check(check, over, quantity)).denial
    assert isinstance(denied, RiskDenied)
    assert denied.code == "RISK_LIMIT_EXCEEDED"
    assert denied.limit_name == limit_name.value
    assert denied.value == (base - (outside - fee)) / base
    # Only an order whose fee fits in the cent left before the limit would pass.
    headroom = limits.get(limit_name) * base - (base - outside)
    assert denied.max_passing == floor_to_step(headroom / (PRICE * FEE), STEP)

    already_past = impact(quantity, limits, Exposure(outside - Decimal(100)), marks_for())
    assert already_past.max_passing == ZERO, "past a loss limit no order that adds risk passes"


@pytest.mark.parametrize("profile", PROFILES)
async def test_value_at_risk_at_its_limit(profile: RiskProfile) -> None:
    limits = DEFAULT_LIMITS[profile]
    table = RETURNS.table()
    btc = table.returns[:, table.symbols.index("BTC/USDT")]
    one_day = Decimal(str(-np.percentile(btc, 5)))  # BTC's own 95 % one-day VaR, as a fraction
    # One position: VaR = w · VaR(BTC) with w = q·p / (E - q·p·fee); solved for q.
    largest = floor_to_step(limits.max_var * EQUITY / (PRICE * (one_day + limits.max_var * FEE)), STEP)
    under, over = impact(largest, limits), impact(largest + STEP, limits)
    assert_boundary(LimitName.MAX_VAR, under, over, limits.max_var)

    assert (await run_check("var", under, largest)).passed
    denied = (await run_check("var", over, largest + STEP)).denial
    assert isinstance(denied, RiskDenied)
    assert denied.code == "RISK_LIMIT_EXCEEDED"
    assert denied.limit_name == "max_var"
    assert over.max_quantities[LimitName.MAX_VAR] == largest
    assert denied.max_passing == min(largest, floor_to_step(limits.max_order * EQUITY / PRICE, STEP))


async def test_order_that_reduces_a_position_always_passes() -> None:
    limits = DEFAULT_LIMITS[RiskProfile.LOW]
    exposure = Exposure(EQUITY, {"BTC/USDT": Decimal("9000")})  # far past the 10 % position limit
    marks = EquityMarks(uuid.uuid4(), NOW.date(), Decimal("20000"), Decimal("20000"), NOW)  # 50 % down today
    selling = build_impact(
        context(Decimal("0.1"), OrderSide.SELL), exposure, marks, limits, Decimal(1), RETURNS, NOW
    )
    assert selling.reduces_risk
    for check in risk_checks(FixedAssessor(selling)):  # type: ignore[arg-type]
        result = await check.check(context(Decimal("0.1"), OrderSide.SELL))
        assert result.passed, check.name
        assert result.figures["reduces_risk"] == 1


async def test_loss_at_stop_includes_both_fees() -> None:
    stop = Decimal("42000")
    quantity = Decimal("0.01")
    result = impact(quantity, DEFAULT_LIMITS[RiskProfile.MEDIUM], stop=stop)
    expected = quantity * (PRICE - stop) + quantity * (PRICE + stop) * FEE
    assert result.stop_loss == expected
    assert result.stop_loss_fraction == expected / EQUITY
