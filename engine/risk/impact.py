"""What an order would do to its user's risk: the figures every pre-trade risk check reads.

All values are in USDT and as fractions of equity. "After" values assume the
order fills at its estimated price and pays its estimated fee. An order that
makes a position smaller (|position after| < |position before|) reduces risk:
risk limits never stop it, so a trader can always get out.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from engine.common.clock import Clock
from engine.common.money import ZERO, floor_to_step
from engine.exchanges.ports import GatewayProvider
from engine.orders.models import OrderSide
from engine.portfolio.service import USD_STABLE, VALUATION_ASSET
from engine.risk.exposure import Exposure, ExposureReader
from engine.risk.limits import LimitName, RiskLimits, resolve_limits
from engine.risk.models import EquityMarks, PreTradeInputs
from engine.risk.pretrade import TradeContext
from engine.risk.returns import ReturnsWindow
from engine.risk.var import historical_var
from engine.uow import UnitOfWork, UnitOfWorkFactory
from engine.users.models import User

logger = logging.getLogger(__name__)

INFINITE = Decimal("Infinity")
_CACHE_SIZE = 64
_VAR_SEARCH_STEPS = 40


@dataclass(frozen=True)
class TradeImpact:
    limits: RiskLimits
    equity: Decimal
    equity_after: Decimal
    order_value: Decimal
    fee: Decimal
    position_before: Decimal  # signed value of the traded symbol
    position_after: Decimal
    gross_after: Decimal
    daily_loss_after: Decimal
    drawdown_after: Decimal
    var_after: Decimal
    reduces_risk: bool
    max_quantities: dict[LimitName, Decimal]  # the largest quantity each limit allows
    stop_loss: Decimal | None = None  # loss in USDT if the stop fills, fees included

    @property
    def order_fraction(self) -> Decimal:
        return _ratio(self.order_value, self.equity)

    @property
    def position_fraction_after(self) -> Decimal:
        return _ratio(abs(self.position_after), self.equity_after)

    @property
    def leverage_after(self) -> Decimal:
        return _ratio(self.gross_after, self.equity_after)

    @property
    def stop_loss_fraction(self) -> Decimal | None:
        return None if self.stop_loss is None else _ratio(self.stop_loss, self.equity)

    def value_of(self, name: LimitName) -> Decimal:
        """The value the order would bring the limit's measure to."""
        return {
            LimitName.MAX_ORDER: self.order_fraction,
            LimitName.MAX_POSITION: self.position_fraction_after,
            LimitName.MAX_LEVERAGE: self.leverage_after,
            LimitName.MAX_DAILY_LOSS: self.daily_loss_after,
            LimitName.MAX_DRAWDOWN: self.drawdown_after,
            LimitName.MAX_VAR: self.var_after,
        }[name]

    @property
    def max_passing(self) -> Decimal:
        """The largest quantity that passes every risk limit."""
        return min(self.max_quantities.values())


class RiskAssessor:
    """Builds one TradeImpact per order; every risk check of that order reads the same one."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        exposures: ExposureReader,
        gateways: GatewayProvider,
        returns: ReturnsWindow,
        clock: Clock,
    ) -> None:
        self._uow = uow_factory
        self._exposures = exposures
        self._gateways = gateways
        self._returns = returns
        self._clock = clock
        # The checker runs the checks of one order one after another; keyed by the
        # context's identity so concurrent orders of other users do not mix.
        self._cache: OrderedDict[int, tuple[TradeContext, TradeImpact]] = OrderedDict()

    async def assess(self, context: TradeContext) -> TradeImpact:
        cached = self._cache.get(id(context))
        if cached is not None and cached[0] is context:
            return cached[1]
        impact = await self._assess(context)
        self._cache[id(context)] = (context, impact)
        while len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return impact

    async def read_inputs(self, uow: UnitOfWork, user: User) -> PreTradeInputs:
        """Read the user's accounts, limits and equity marks in the caller's transaction."""
        return await uow.risk.pretrade_inputs(user.id)

    async def _assess(self, context: TradeContext) -> TradeImpact:
        user = context.user
        inputs = context.risk_inputs
        if inputs is None or inputs.user_id != user.id:
            async with self._uow(read_only=True) as uow:
                inputs = await self.read_inputs(uow, user)
        limits = resolve_limits(user.risk_profile, inputs.profile_limits, inputs.personal_limits)
        marks = inputs.marks
        # The order's own account was read for the balance check a moment ago.
        known = {context.account.id: context.balances}
        exposure = (await self._exposures.read({user.id: inputs.accounts}, known=known)).get(user.id)
        if exposure is None:
            # An account could not be read: value what this order's account holds.
            exposure = Exposure(equity=ZERO)
        rate = await self._quote_rate(context)
        return build_impact(context, exposure, marks, limits, rate, self._returns, self._clock.now())

    async def _quote_rate(self, context: TradeContext) -> Decimal:
        """USDT per unit of the market's quote asset (1 for USD stablecoins)."""
        quote = context.market.quote
        if quote in USD_STABLE:
            return Decimal(1)
        gateway = await self._gateways.gateway_for(context.account)
        return (await gateway.fetch_ticker(f"{quote}/{VALUATION_ASSET}")).last


def build_impact(
    context: TradeContext,
    exposure: Exposure,
    marks: EquityMarks | None,
    limits: RiskLimits,
    quote_rate: Decimal,
    returns: ReturnsWindow,
    now: datetime,
) -> TradeImpact:
    """Compute the order's figures and the largest quantity each limit allows."""
    market, request, estimate = context.market, context.request, context.estimate
    # NOTE: for a pair quoted in a non-USD asset only the base asset's position is
    # followed; the change in the quote asset's holding is left out.
    symbol = f"{market.base}/{VALUATION_ASSET}"
    unit_value = estimate.price * quote_rate
    sign = Decimal(1) if request.side is OrderSide.BUY else Decimal(-1)
    fee_rate = estimate.fee / estimate.cost if estimate.cost else ZERO

    equity = exposure.equity
    order_value = request.quantity * unit_value
    fee = estimate.fee * quote_rate
    equity_after = equity - fee
    before = exposure.position(symbol)
    after = before + sign * order_value
    gross_after = exposure.gross - abs(before) + abs(after)

    day_start = marks.day_start_equity if marks is not None and marks.day == now.date() else equity
    peak = max(marks.peak_equity, equity) if marks is not None else equity
    positions_after = dict(exposure.positions)
    positions_after[symbol] = after

    def var_for(quantity: Decimal) -> Decimal:
        moved = dict(exposure.positions)
        moved[symbol] = before + sign * quantity * unit_value
        return _var(returns, moved, equity - quantity * unit_value * fee_rate)

    var_after = var_for(request.quantity)

    def var_ok(quantity: Decimal) -> bool:
        # The search tries the requested quantity first, whose VaR is var_after, computed above.
        value = var_after if quantity is request.quantity else var_for(quantity)
        return value <= limits.max_var

    maxima = _max_quantities(
        limits,
        equity=equity,
        unit_value=unit_value,
        fee_rate=fee_rate,
        before=before,
        same_direction=sign * before >= ZERO,
        gross=exposure.gross,
        day_start=day_start,
        peak=peak,
        var_ok=var_ok,
        requested=request.quantity,
    )
    step = market.amount_step
    return TradeImpact(
        limits=limits,
        equity=equity,
        equity_after=equity_after,
        order_value=order_value,
        fee=fee,
        position_before=before,
        position_after=after,
        gross_after=gross_after,
        daily_loss_after=_ratio(max(day_start - equity_after, ZERO), day_start),
        drawdown_after=_ratio(max(peak - equity_after, ZERO), peak),
        var_after=var_after,
        reduces_risk=abs(after) < abs(before),
        max_quantities={name: _floor(value, step) for name, value in maxima.items()},
        stop_loss=_stop_loss(context, unit_value, quote_rate, fee_rate),
    )


def _max_quantities(
    limits: RiskLimits,
    *,
    equity: Decimal,
    unit_value: Decimal,
    fee_rate: Decimal,
    before: Decimal,
    same_direction: bool,
    gross: Decimal,
    day_start: Decimal,
    peak: Decimal,
    var_ok: Callable[[Decimal], bool],
    requested: Decimal,
) -> dict[LimitName, Decimal]:
    """Solve each limit for the quantity; see the module docstring for what "after" means."""
    if unit_value <= ZERO or equity <= ZERO:
        return dict.fromkeys(LimitName, ZERO)
    held = abs(before) if same_direction else -abs(before)
    position_limit = limits.max_position
    leverage_limit = limits.max_leverage
    maxima = {
        LimitName.MAX_ORDER: limits.max_order * equity / unit_value,
        # |before + q·p| <= L·(E - q·p·f), solved for q on the side the order moves the position.
        LimitName.MAX_POSITION: (position_limit * equity - held)
        / (unit_value * (1 + position_limit * fee_rate)),
        LimitName.MAX_LEVERAGE: (leverage_limit * equity - gross + (abs(before) - held))
        / (unit_value * (1 + leverage_limit * fee_rate)),
        LimitName.MAX_DAILY_LOSS: _fee_headroom(
            limits.max_daily_loss, day_start, equity, unit_value, fee_rate
        ),
        LimitName.MAX_DRAWDOWN: _fee_headroom(limits.max_drawdown, peak, equity, unit_value, fee_rate),
        LimitName.MAX_VAR: _largest_passing(var_ok, requested),
    }
    return {name: max(value, ZERO) for name, value in maxima.items()}


def _fee_headroom(
    limit: Decimal, base: Decimal, equity: Decimal, unit_value: Decimal, fee_rate: Decimal
) -> Decimal:
    """The quantity whose fee would bring a loss measured from ``base`` to ``limit``."""
    headroom = limit * base - (base - equity)
    if headroom < ZERO:
        return ZERO
    if fee_rate == ZERO:
        return INFINITE
    return headroom / (unit_value * fee_rate)


def _largest_passing(passes: Callable[[Decimal], bool], requested: Decimal) -> Decimal:
    """The largest quantity up to ``requested`` that passes, by bisection.

    NOTE: assumes VaR grows with the quantity between 0 and the request, which
    holds for a new or growing position but not always when it hedges another.
    """
    if passes(requested):
        return INFINITE
    low, high = ZERO, requested
    for _ in range(_VAR_SEARCH_STEPS):
        middle = (low + high) / 2
        if passes(middle):
            low = middle
        else:
            high = middle
    return low


def _var(returns: ReturnsWindow, positions: dict[str, Decimal], equity: Decimal) -> Decimal:
    if equity <= ZERO:
        return INFINITE if any(value != ZERO for value in positions.values()) else ZERO
    table = returns.table()
    if len(table.returns) == 0 or not any(value != ZERO for value in positions.values()):
        return ZERO
    value = historical_var(table.returns, table.weights(positions, equity))
    return Decimal(str(round(value, 10)))


def _stop_loss(
    context: TradeContext, unit_value: Decimal, quote_rate: Decimal, fee_rate: Decimal
) -> Decimal | None:
    """Loss if the position opened by this order is closed at its stop: price move plus both fees."""
    stop = context.stop_loss
    if stop is None:
        return None
    quantity = context.request.quantity
    stop_value = stop * quote_rate
    move = unit_value - stop_value if context.request.side is OrderSide.BUY else stop_value - unit_value
    fees = quantity * (unit_value + stop_value) * fee_rate
    return quantity * move + fees


def _floor(value: Decimal, step: Decimal) -> Decimal:
    if value.is_infinite():
        return value
    return floor_to_step(value, step)


def _ratio(numerator: Decimal, denominator: Decimal) -> Decimal:
    if denominator <= ZERO:
        return INFINITE if numerator > ZERO else ZERO
    return numerator / denominator
