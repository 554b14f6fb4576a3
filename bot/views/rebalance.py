"""Texts of /rebalance: the plan for one confirmation and what each order did."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.error_texts import describe_error
from bot.formatting import amount, esc
from bot.texts import side_name
from bot.views.figures import pct, usdt
from bot.views.orders import order_result
from engine.analytics.rebalance import RebalanceMethod
from engine.analytics.rebalance_service import RebalanceOutcome, RebalanceProposal


def method_name(method: RebalanceMethod) -> str:
    return {
        RebalanceMethod.EQUAL: _("equal weight"),
        RebalanceMethod.INVERSE_VOLATILITY: _("inverse volatility"),
        RebalanceMethod.RISK_PARITY: _("risk parity"),
    }[method]


def proposal_text(proposal: RebalanceProposal, locale: str, ttl_seconds: int) -> str:
    plan = proposal.plan
    lines = [
        _("⚖️ <b>Rebalance {account}</b> to {method}").format(
            account=esc(proposal.account_name), method=method_name(plan.method)
        ),
        _("Shares of the assets' value (cash stays as it is):"),
    ]
    for asset, target in sorted(proposal.target.items(), key=lambda item: -item[1]):
        lines.append(
            f"  {esc(asset)}: {pct(proposal.current.get(asset, 0.0), locale, places=1)}"
            f" → {pct(target, locale, places=1)}"
        )
    if not plan.orders:
        lines.append(_("Every asset is within one order of its target: nothing to send."))
        return "\n".join(lines)

    lines.append(_("<b>Orders</b> (market, sells first):"))
    for order in plan.orders:
        base = order.symbol.partition("/")[0]
        lines.append(
            _("  {side} {quantity} ≈ {value}").format(
                side=side_name(order.side),
                quantity=amount(order.quantity, base, locale),
                value=usdt(order.value, locale),
            )
        )
    lines.append(
        _(
            "Each order is checked again just before it is sent, with the balances of that moment. "
            "Nothing is sent until you press Send all. This offer expires in {seconds} s."
        ).format(seconds=ttl_seconds)
    )
    return "\n".join(lines)


def outcomes_text(outcomes: list[RebalanceOutcome], locale: str) -> str:
    lines = [_("⚖️ <b>Rebalancing sent</b>")]
    for outcome in outcomes:
        if outcome.placed is not None:
            lines.append(order_result(outcome.placed, locale))
        elif outcome.error is not None:
            lines.append(
                _("❌ {side} {symbol}:").format(
                    side=side_name(outcome.order.side), symbol=esc(outcome.order.symbol)
                )
                + " "
                + describe_error(outcome.error, locale)
            )
    return "\n".join(lines)
