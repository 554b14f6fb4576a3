"""/performance, /risk and /rebalance: figures, charts and rebalancing after one confirmation."""

from __future__ import annotations

import asyncio
import uuid

from aiogram import F
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot import charts
from bot.callbacks import RebalanceAction
from bot.commands import CommandSpec, register
from bot.error_texts import describe_error
from bot.filters import MenuButton
from bot.keyboards import button
from bot.pin_guard import PinCheck, PinPurpose, live_account
from bot.replies import answer_long
from bot.routing import RouterBlueprint
from bot.services import Services
from bot.views import analytics_errors  # noqa: F401 - registers the error explanations
from bot.views.performance import performance_text
from bot.views.rebalance import outcomes_text, proposal_text
from bot.views.risk import TEXT_CORRELATION_ASSETS, risk_text
from engine.analytics.drawdown import drawdown_series
from engine.analytics.params import Period, parse_benchmark, parse_confidence, parse_horizon, parse_period
from engine.analytics.rebalance import RebalanceMethod
from engine.analytics.risk_service import RiskReport
from engine.errors import NotFoundError, PatriotError, ValidationError
from engine.users.models import Permission, User

router = RouterBlueprint(__name__)

register(
    CommandSpec(
        "performance",
        __("Returns, ratios, drawdown and trades over a period"),
        usage=__("/performance [1H|4H|1D|7D|30D|90D|1Y|ALL] [vs BTC|ETH]"),
        menu_label=__("📊 Performance"),
        order=22,
    )
)
register(
    CommandSpec(
        "risk",
        __("VaR, CVaR, concentration and stress scenarios"),
        usage=__("/risk [confidence 0.90-0.99] [horizon 1-720 h], e.g. /risk 0.99 48"),
        menu_label=__("🛡 Risk"),
        order=23,
    )
)
register(
    CommandSpec(
        "rebalance",
        __("Orders that rebalance the default account"),
        usage=__("/rebalance equal|invvol|parity"),
        order=24,
    )
)

DEFAULT_PERIOD = Period.D30


@router.message(Command("performance"), flags={"permission": Permission.VIEW_PORTFOLIO})
@router.message(MenuButton("performance"), flags={"permission": Permission.VIEW_PORTFOLIO})
async def show_performance(
    message: Message, user: User, services: Services, command: CommandObject | None = None
) -> None:
    period, benchmark = parse_performance_arguments(command.args if command else None)
    report = await services.analytics.performance.report(user, period, benchmark)
    minutes = services.settings.analytics.snapshot_interval_minutes
    await answer_long(message, performance_text(report, user, minutes))
    if report.figures is None:
        return
    values = [float(value) for value in report.equity]
    labels = {
        "title": _("Equity, {period}").format(period=period.value),
        "equity": "USDT",
        "drawdown": _("Drawdown, %"),
    }
    png = await asyncio.to_thread(
        charts.equity_chart, report.timestamps, values, drawdown_series(values), labels
    )
    await message.answer_photo(BufferedInputFile(png, filename="equity.png"), caption=labels["title"])


def parse_performance_arguments(arguments: str | None) -> tuple[Period, str | None]:
    """Read ``[PERIOD] [vs BTC|ETH]``; the period defaults to 30D."""
    terms = (arguments or "").split()
    benchmark = None
    if len(terms) >= 2 and terms[-2].lower() == "vs":
        benchmark = parse_benchmark(terms[-1])
        terms = terms[:-2]
    if len(terms) > 1:
        raise ValidationError("PERIOD_INVALID", value=" ".join(terms), allowed=[p.value for p in Period])
    return (parse_period(terms[0]) if terms else DEFAULT_PERIOD), benchmark


@router.message(Command("risk"), flags={"permission": Permission.VIEW_PORTFOLIO})
@router.message(MenuButton("risk"), flags={"permission": Permission.VIEW_PORTFOLIO})
async def show_risk(
    message: Message, user: User, services: Services, command: CommandObject | None = None
) -> None:
    confidence, horizon = parse_risk_arguments(command.args if command else None)
    report = await services.analytics.risk.report(user, confidence, horizon)
    await answer_long(message, risk_text(report, user, confidence, horizon))
    await _send_risk_charts(message, report)


def parse_risk_arguments(arguments: str | None) -> tuple[float, float]:
    """Read ``[confidence] [horizon_hours]``; defaults 0.95 and 24 h."""
    terms = (arguments or "").split()
    if len(terms) > 2:
        raise ValidationError("HORIZON_INVALID", value=" ".join(terms[1:]), minimum=1, maximum=720)
    confidence = parse_confidence(terms[0]) if terms else 0.95
    horizon = parse_horizon(terms[1]) if len(terms) > 1 else 24.0
    return confidence, horizon


async def _send_risk_charts(message: Message, report: RiskReport) -> None:
    figures = report.figures
    if figures is None or report.equity <= 0:
        return
    assets = [*figures.assets, "USDT"]
    weights = [abs(p.weight) for p in figures.positions] + [float(report.cash / report.equity)]
    title = _("Allocation, % of equity")
    png = await asyncio.to_thread(charts.allocation_chart, assets, weights, title)
    await message.answer_photo(BufferedInputFile(png, filename="allocation.png"), caption=title)
    if len(figures.assets) > TEXT_CORRELATION_ASSETS:
        title = _("Correlation of daily returns")
        png = await asyncio.to_thread(charts.correlation_heatmap, figures.assets, figures.correlation, title)
        await message.answer_photo(BufferedInputFile(png, filename="correlation.png"), caption=title)


@router.message(Command("rebalance"), flags={"permission": Permission.TRADE})
async def propose_rebalance(message: Message, user: User, services: Services, command: CommandObject) -> None:
    text = (command.args or "").strip().lower()
    try:
        method = RebalanceMethod(text)
    except ValueError:
        await message.answer(
            _("Usage: {usage}").format(usage="<code>/rebalance equal|invvol|parity</code>")
            + "\n"
            + _(
                "equal: the same value in each asset; invvol: less in the more volatile ones; "
                "parity: each asset adds the same risk."
            )
        )
        return
    proposal = await services.analytics.rebalancing.propose(user, method)
    ttl = services.settings.trading.order_confirm_timeout_seconds
    markup = _confirm_buttons(proposal.plan.id) if proposal.plan.orders else None
    await answer_long(message, proposal_text(proposal, user.language, ttl), reply_markup=markup)


def _confirm_buttons(plan_id: uuid.UUID) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                button(_("✅ Send all orders"), RebalanceAction(action="ok", plan=plan_id.hex)),
                button(_("✖ Cancel"), RebalanceAction(action="no", plan=plan_id.hex)),
            ]
        ]
    )


def _plan_id(callback_data: RebalanceAction) -> uuid.UUID:
    try:
        return uuid.UUID(hex=callback_data.plan)
    except ValueError as exc:
        raise NotFoundError("plan") from exc


@router.callback_query(
    RebalanceAction.filter(F.action == "ok"), flags={"permission": Permission.TRADE, "rate_limit": "order"}
)
async def confirm_rebalance(
    query: CallbackQuery, callback_data: RebalanceAction, user: User, services: Services, pin: PinCheck
) -> None:
    plan = await services.analytics.rebalancing.plan(user, _plan_id(callback_data))
    if not await pin.confirmed(PinPurpose.LIVE_ORDER, applies=live_account(services, user, plan.account_id)):
        return  # asked for the PIN; the press runs again once it is right
    await query.answer(_("Sending…"))
    if not isinstance(query.message, Message):
        return  # the card is too old for Telegram to show; nothing to edit
    try:
        outcomes = await services.analytics.rebalancing.confirm(user, _plan_id(callback_data))
    except PatriotError as error:
        await query.message.edit_text(describe_error(error, user.language))
        return
    await query.message.edit_text(outcomes_text(outcomes, user.language))


@router.callback_query(RebalanceAction.filter(F.action == "no"))
async def cancel_rebalance(
    query: CallbackQuery, callback_data: RebalanceAction, user: User, services: Services
) -> None:
    await services.analytics.rebalancing.cancel(user, _plan_id(callback_data))
    await query.answer(_("Cancelled"))
    if isinstance(query.message, Message):
        await query.message.edit_text(_("✖ Cancelled. Nothing was sent."))
