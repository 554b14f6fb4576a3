"""The /positions text: one block per position, with derivative details where they apply."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.formatting import amount, esc, number
from bot.views.figures import pct, usdt
from engine.portfolio.models import Position, PositionSide
from engine.users.models import User


def positions_text(positions: list[Position], user: User, filtered: bool) -> str:
    if not positions:
        return _("No positions match these filters.") if filtered else _("No open positions.")
    lines = [_("📈 <b>Positions</b> ({count})").format(count=len(positions))]
    for position in positions:
        lines.append("")
        lines.extend(_position_lines(position, user.language))
    return "\n".join(lines)


def _position_lines(position: Position, locale: str) -> list[str]:
    base, _sep, quote = position.symbol.partition("/")
    # ccxt names a contract BASE/QUOTE:SETTLE, and the margin is held in the settlement asset.
    quote, _sep, settle = quote.partition(":")
    margin_asset = settle or quote
    side = _("LONG") if position.side is PositionSide.LONG else _("SHORT")
    kind = _("derivative") if position.is_derivative else _("spot")
    size = amount(position.size, base, locale)
    header = f"<b>{esc(position.symbol)}</b> {side} {size} · {esc(position.account_name)} ({kind})"
    if position.is_stale:
        header += " " + _("(last known)")
    unknown = _("unknown")
    lines = [
        header,
        _("  Entry {entry} · mark {mark}").format(
            entry=number(position.entry_price, locale) if position.entry_price is not None else unknown,
            mark=number(position.mark_price, locale) if position.mark_price is not None else unknown,
        ),
        _("  Value {value} · PnL {pnl} ({percent})").format(
            value=usdt(position.value, locale) if position.value is not None else unknown,
            pnl=usdt(position.unrealized_pnl, locale, signed=True)
            if position.unrealized_pnl is not None
            else unknown,
            percent=pct(position.unrealized_pnl_fraction, locale, signed=True)
            if position.unrealized_pnl_fraction is not None
            else unknown,
        ),
    ]
    if position.is_derivative:
        lines.append(
            _("  Leverage {leverage} · margin {margin} · liquidation {liquidation}").format(
                leverage=f"{number(position.leverage, locale)}×"
                if position.leverage is not None
                else unknown,
                margin=amount(position.margin, margin_asset, locale)
                if position.margin is not None
                else unknown,
                liquidation=number(position.liquidation_price, locale)
                if position.liquidation_price is not None
                else unknown,
            )
        )
    return lines
