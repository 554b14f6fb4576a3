"""Texts about orders: the confirmation card and the result."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.error_texts import explain_reason
from bot.formatting import amount, esc, money, number
from bot.texts import order_status_name, side_name
from bot.views.limits import risk_check_detail, risk_check_name, stop_loss_line
from engine.accounts.models import Account
from engine.common.money import ZERO
from engine.orders.drafts import OrderDraft
from engine.orders.models import Order, OrderSide, OrderStatus, OrderType
from engine.risk.pretrade import PreTradeReport


def _base_quote(symbol: str) -> tuple[str, str]:
    base, _sep, quote = symbol.partition("/")
    return base, quote


def draft_card(
    draft: OrderDraft, account: Account, report: PreTradeReport, locale: str, ttl_seconds: int
) -> str:
    request, estimate = draft.request, draft.estimate
    _base, quote = _base_quote(request.symbol)
    kind = _("at market") if request.type is OrderType.MARKET else esc(request.type.value)
    lines = [
        _("📝 <b>Confirm the order</b>"),
        _("{side} {quantity} {symbol} {kind} on {account}").format(
            side=side_name(request.side),
            quantity=number(request.quantity, locale),
            symbol=esc(request.symbol),
            kind=kind,
            account=esc(account.name),
        ),
        _("Estimated price: {price}").format(price=amount(estimate.price, quote, locale)),
        _("Estimated cost: {cost}").format(cost=money(estimate.cost, quote, locale)),
        _("Fee: {fee}").format(fee=amount(estimate.fee, estimate.fee_asset, locale)),
    ]
    total = estimate.cost + estimate.fee if request.side is OrderSide.BUY else estimate.cost - estimate.fee
    label = _("Total to pay: {total}") if request.side is OrderSide.BUY else _("Total to receive: {total}")
    lines.append(label.format(total=money(total, quote, locale)))
    lines.append(check_lines(report, locale))
    lines.append(
        _("Nothing is sent until you press Confirm. This offer expires in {seconds} s.").format(
            seconds=ttl_seconds
        )
    )
    return "\n".join(lines)


def check_lines(report: PreTradeReport, locale: str) -> str:
    """One line per pre-trade check with its figures, then the loss at the stop when a stop is known."""
    names = {"balance": _("balance")}
    rows = []
    for result in report.results:
        mark = "✅" if result.passed else "❌"
        name = names.get(result.name) or risk_check_name(result.name) or esc(result.name)
        available = result.figures.get("available")
        detail = (
            _(" (free: {value})").format(value=number(available, locale)) if available is not None else ""
        )
        rows.append(f"{mark} {name}{detail}{risk_check_detail(result, locale)}")
    stop_loss = stop_loss_line(report.results, locale)
    if stop_loss is not None:
        rows.append(stop_loss)
    return _("Pre-trade checks: {checks}").format(checks="\n" + "\n".join(rows))


def order_result(order: Order, locale: str) -> str:
    base, quote = _base_quote(order.symbol)
    if order.status is OrderStatus.FILLED:
        verb = (
            _("✅ Bought {quantity} at {price}")
            if order.side is OrderSide.BUY
            else _("✅ Sold {quantity} at {price}")
        )
        text = verb.format(
            quantity=amount(order.filled_quantity, base, locale),
            price=amount(order.average_price or order.price or ZERO, quote, locale),
        )
        cost = (order.average_price or ZERO) * order.filled_quantity
        return (
            text
            + "\n"
            + _("Value {cost}, fee {fee}. Order {order_id}").format(
                cost=money(cost, quote, locale),
                fee=amount(order.fee, order.fee_asset or quote, locale),
                order_id=f"<code>{order.id.hex[:8]}</code>",
            )
        )
    if order.status is OrderStatus.REJECTED:
        return _("❌ The order was rejected: {reason}").format(
            reason=explain_reason(order.reject_reason, locale)
        )
    if order.status is OrderStatus.PENDING:
        return _(
            "⏳ The order was sent, but the exchange has not confirmed it yet. "
            "It is checked again automatically and you will get a message."
        )
    return _("Order {order_id}: {status}, filled {filled} of {quantity}").format(
        order_id=f"<code>{order.id.hex[:8]}</code>",
        status=order_status_name(order.status),
        filled=number(order.filled_quantity, locale),
        quantity=number(order.quantity, locale),
    )
