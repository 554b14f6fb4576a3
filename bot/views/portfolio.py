"""The /portfolio text: totals, PnL, the 24 h change and each account, unreachable ones included."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.formatting import amount, esc, moment
from bot.views.figures import pct, usdt
from engine.portfolio.models import VALUATION_ASSET, AccountValuation, Holding, PortfolioSummary
from engine.users.models import User


def portfolio_text(summary: PortfolioSummary, user: User) -> str:
    locale = user.language
    lines = [
        _("💼 <b>Portfolio</b> — {time}").format(time=moment(summary.valued_at, user.timezone, locale)),
        _("<b>Total equity: {total}</b>").format(total=usdt(summary.total, locale)),
        _("Available: {available} · in use: {used}").format(
            available=usdt(summary.available, locale), used=usdt(summary.used, locale)
        ),
        _("Unrealized PnL: {unrealized} · realized PnL: {realized}").format(
            unrealized=usdt(summary.unrealized_pnl, locale, signed=True),
            realized=usdt(summary.realized_pnl, locale, signed=True),
        ),
        _("Positions: {positions} · open orders: {orders}").format(
            positions=len(summary.positions), orders=summary.open_orders
        ),
        _change_line(summary, user),
    ]
    for valuation in summary.accounts:
        lines.append("")
        lines.extend(_account_lines(valuation, user))
    if not summary.accounts:
        lines += ["", _("No active accounts.")]
    return "\n".join(lines)


def _change_line(summary: PortfolioSummary, user: User) -> str:
    change, past = summary.change_24h, summary.equity_24h_ago
    if change is None or past is None:
        return _("24 h change: no equity snapshot from 24 h ago yet.")
    return _("24 h change: {change} ({percent}) since {time}").format(
        change=usdt(change, user.language, signed=True),
        percent=pct(summary.change_24h_fraction, user.language, signed=True),
        time=moment(past.taken_at, user.timezone, user.language),
    )


def _account_lines(valuation: AccountValuation, user: User) -> list[str]:
    locale = user.language
    account = valuation.account
    header = f"<b>{esc(account.name)}</b> ({esc(account.exchange.value)})"
    lines = [header]
    if not valuation.is_live:
        lines.append(
            _("⚠️ The exchange cannot be reached right now ({code}).").format(code=esc(valuation.error))
        )
        if valuation.valued_at is None:
            lines.append(_("No earlier valuation is stored; this account is not in the totals."))
            return lines
        lines.append(
            _("Last known values from {time}:").format(
                time=moment(valuation.valued_at, user.timezone, locale)
            )
        )
    if not valuation.holdings:
        lines.append(_("No balances."))
        return lines

    lines.extend("  " + _holding_line(holding, locale) for holding in valuation.holdings)
    lines.append(
        _("  Account total: {total} (available {available}, in use {used})").format(
            total=usdt(valuation.total, locale),
            available=usdt(valuation.available, locale),
            used=usdt(valuation.used, locale),
        )
    )
    return lines


def _holding_line(holding: Holding, locale: str) -> str:
    quantity = amount(holding.total, holding.asset, locale)
    if holding.value is None or holding.price is None:
        return _("{quantity} (no price)").format(quantity=quantity)
    if holding.asset == VALUATION_ASSET:
        return usdt(holding.total, locale)
    return _("{quantity} × {price} = {value}").format(
        quantity=quantity,
        price=amount(holding.price, VALUATION_ASSET, locale),
        value=usdt(holding.value, locale),
    )
