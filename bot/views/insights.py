"""Insights in plain words."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.formatting import esc
from bot.views.figures import pct, ratio
from engine.analytics.insights import Insight, InsightCode


def insight_lines(found: list[Insight], locale: str) -> list[str]:
    if not found:
        return []
    return [_("<b>Insights</b>"), *(_insight_text(insight, locale) for insight in found)]


def _insight_text(insight: Insight, locale: str) -> str:
    fields = insight.fields
    if insight.code is InsightCode.CONCENTRATED:
        return _(
            "⚠️ {asset} is {weight} of your equity (over 30 %): one bad move in it moves the whole account."
        ).format(asset=esc(fields["asset"]), weight=pct(fields["weight"], locale, places=1))
    if insight.code is InsightCode.VAR_OVER_LIMIT:
        return _(
            "⚠️ Your one-day VaR at 95 % is {var} of equity, above the {limit} your risk profile allows. "
            "Reduce position sizes or spread them over less correlated assets."
        ).format(var=pct(fields["var"], locale), limit=pct(fields["limit"], locale))
    if insight.code is InsightCode.VAR_WITHIN_LIMIT:
        return _(
            "✅ Your one-day VaR at 95 % ({var} of equity) is within the {limit} your risk profile allows."
        ).format(var=pct(fields["var"], locale), limit=pct(fields["limit"], locale))
    if insight.code is InsightCode.LOW_WIN_RATE:
        return _(
            "⚠️ Only {win_rate} of your {trades} trades won (under 40 %). "
            "Check that the winners are large enough to pay for the losers (profit factor)."
        ).format(win_rate=pct(fields["win_rate"], locale, places=1), trades=fields["trades"])
    return _(
        "ℹ️ A Sharpe ratio of {sharpe} (over 2) is unusually high, often the sign of a short or lucky period. "
        "Do not size up on it alone."
    ).format(sharpe=ratio(fields["sharpe"], locale))
