"""The /portfolio text."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.formatting import amount, esc, moment, money
from engine.portfolio.service import VALUATION_ASSET, AccountValuation, PortfolioSummary
from engine.users.models import User


def portfolio_text(summary: PortfolioSummary, user: User) -> str:
    locale = user.language
    lines = [
        _("💼 <b>Portfolio</b> — {time}").format(time=moment(summary.valued_at, user.timezone, locale)),
    ]
    for valuation in summary.accounts:
        lines.append("")
        lines.extend(_account_lines(valuation, locale))
    lines.append("")
    lines.append(
        _("<b>Total equity: {total}</b>").format(total=money(summary.total, VALUATION_ASSET, locale))
    )
    return "\n".join(lines)


def _account_lines(valuation: AccountValuation, locale: str) -> list[str]:
    account = valuation.account
    header = f"<b>{esc(account.name)}</b> ({esc(account.exchange.value)})"
    if valuation.error is not None:
        return [
            header,
            _("⚠️ The exchange cannot be reached right now ({code}).").format(code=esc(valuation.error)),
        ]
    if not valuation.holdings:
        return [header, _("No balances.")]

    lines = [header]
    for holding in valuation.holdings:
        quantity = amount(holding.total, holding.asset, locale)
        if holding.value is None:
            lines.append("  " + _("{quantity} (no price)").format(quantity=quantity))
        elif holding.asset == VALUATION_ASSET:
            lines.append(f"  {money(holding.total, holding.asset, locale)}")
        else:
            lines.append(
                "  "
                + _("{quantity} × {price} = {value}").format(
                    quantity=quantity,
                    price=amount(holding.price, VALUATION_ASSET, locale),
                    value=money(holding.value, VALUATION_ASSET, locale),
                )
            )
    lines.append(_("  Account total: {total}").format(total=money(valuation.total, VALUATION_ASSET, locale)))
    return lines
