"""Texts about orders: the confirmation card, the result, and what an order is in one line."""

from __future__ import annotations

from decimal import Decimal

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.error_texts import explain_reason
from bot.formatting import amount, esc, money, number, percent
from bot.texts import order_status_name, side_name
from bot.views.limits import risk_check_detail, risk_check_name, stop_loss_line
from engine.common.money import ZERO
from engine.orders.drafts import Adjustment
from engine.orders.models import Order, OrderRequest, OrderSide, OrderStatus, OrderType, TimeInForce
from engine.orders.previews import OrderPreview
from engine.risk.pretrade import PreTradeReport


def base_quote(symbol: str) -> tuple[str, str]:
    base, _sep, quote = symbol.partition("/")
    return base, quote


def short(order: Order) -> str:
    return f"<code>{order.short_id}</code>"


def order_type_name(order_type: OrderType) -> str:
    return {
        OrderType.MARKET: _("market"),
        OrderType.LIMIT: _("limit"),
        OrderType.STOP_MARKET: _("stop-market"),
        OrderType.STOP_LIMIT: _("stop-limit"),
        OrderType.TAKE_PROFIT: _("take-profit"),
        OrderType.TAKE_PROFIT_LIMIT: _("take-profit-limit"),
    }[order_type]


def reason_text(reason: str | None) -> str:
    """Explain a reason code from an exchange or from PATRIOT; unknown text is shown escaped."""
    if not reason:
        return "-"
    known = {
        "INSUFFICIENT_FUNDS": _("not enough free balance on the exchange"),
        "POST_ONLY_WOULD_TAKE": _("a post-only order would have traded at once"),
        "FOK_NOT_FILLED": _("fill-or-kill: the whole quantity was not available at once"),
        "IOC_REMAINDER": _("immediate-or-cancel: the rest was not available at once"),
        "BOOK_EXHAUSTED": _("the order book had no more volume for the rest"),
        "STOP_WOULD_TRIGGER": _("the stop price would trigger at once"),
        "REDUCE_ONLY_WOULD_INCREASE": _(
            "a reduce-only buy has no short position to reduce on a spot account"
        ),
        "NOT_FOUND_ON_EXCHANGE": _("the exchange never confirmed the order, so it was not placed"),
        "ORDER_TYPE_UNSUPPORTED": _("the exchange does not support this order type"),
    }
    if reason in known:
        return known[reason]
    # Reasons that are also error codes (KEY_INVALID, AUTHENTICATION_FAILED, ...)
    # have their explanation in bot.error_texts; anything else is shown as it came.
    return explain_reason(reason, get_i18n().current_locale)


def terms_text(request: OrderRequest | Order, locale: str) -> str:
    """E.g. ``limit at 42,000 USDT, IOC, post-only``."""
    _base, quote = base_quote(request.symbol)
    price = amount(request.price, quote, locale) if request.price is not None else ""
    stop = amount(request.stop_price, quote, locale) if request.stop_price is not None else ""
    kind = {
        OrderType.MARKET: _("at market"),
        OrderType.LIMIT: _("limit at {price}"),
        OrderType.STOP_MARKET: _("stop at {stop}, then at market"),
        OrderType.STOP_LIMIT: _("stop at {stop}, then limit at {price}"),
        OrderType.TAKE_PROFIT: _("take-profit at {stop}, then at market"),
        OrderType.TAKE_PROFIT_LIMIT: _("take-profit at {stop}, then limit at {price}"),
    }[request.type].format(price=price, stop=stop)
    flags = [kind]
    if request.time_in_force is not TimeInForce.GTC:
        flags.append(request.time_in_force.value)
    if request.post_only:
        flags.append(_("post-only"))
    if request.reduce_only:
        flags.append(_("reduce-only"))
    return ", ".join(flags)


def order_summary(request: OrderRequest | Order, locale: str) -> str:
    """E.g. ``Buy 0.01 BTC/USDT limit at 42,000 USDT``."""
    return _("{side} {quantity} {symbol} {terms}").format(
        side=side_name(request.side),
        quantity=number(request.quantity, locale),
        symbol=esc(request.symbol),
        terms=terms_text(request, locale),
    )


# ----- the confirmation card ---------------------------------------------------------------


def draft_card(preview: OrderPreview, locale: str, ttl_seconds: int, notes: list[str] | None = None) -> str:
    draft, account = preview.draft, preview.account
    request, estimate = draft.request, draft.estimate
    _base, quote = base_quote(request.symbol)

    if preview.modifies is not None:
        lines = [
            _("✏️ <b>Confirm the change of order {order_id}</b>").format(order_id=short(preview.modifies))
        ]
        lines.extend(_change_lines(preview.modifies, request, locale))
        if preview.amend_in_place is False:
            lines.append(
                _(
                    "This exchange cannot change orders in place: "
                    "the order is cancelled and a new one is placed."
                )
            )
    else:
        lines = [
            _("📝 <b>Confirm the order</b>"),
            _("{summary} on {account}").format(
                summary=order_summary(request, locale), account=esc(account.name)
            ),
        ]
    if draft.request.client_order_id:
        lines.append(_("Client order id: {value}").format(value=f"<code>{esc(draft.client_order_id)}</code>"))
    lines.extend(notes or [])
    lines.extend(adjustment_line(item, request.symbol, locale) for item in draft.adjustments)

    lines.append(_("Estimated price: {price}").format(price=amount(estimate.price, quote, locale)))
    lines.append(_("Estimated cost: {cost}").format(cost=money(estimate.cost, quote, locale)))
    lines.append(_("Fee: {fee}").format(fee=amount(estimate.fee, estimate.fee_asset, locale)))
    total = estimate.cost + estimate.fee if request.side is OrderSide.BUY else estimate.cost - estimate.fee
    label = _("Total to pay: {total}") if request.side is OrderSide.BUY else _("Total to receive: {total}")
    lines.append(label.format(total=money(total, quote, locale)))
    lines.extend(impact_lines(preview, locale))
    lines.append(check_lines(preview.report, locale))
    lines.append(
        _("Nothing is sent until you press Confirm. This offer expires in {seconds} s.").format(
            seconds=ttl_seconds
        )
    )
    return "\n".join(lines)


def _change_lines(order: Order, request: OrderRequest, locale: str) -> list[str]:
    _base, quote = base_quote(order.symbol)
    lines = [order_summary(order, locale)]
    pairs = (
        (_("Quantity"), order.quantity, request.quantity, ""),
        (_("Price"), order.price, request.price, quote),
        (_("Stop price"), order.stop_price, request.stop_price, quote),
    )
    for label, old, new, asset in pairs:
        if new is not None and old != new:
            lines.append(
                _("{label}: {old} → {new}").format(
                    label=label,
                    old=amount(old, asset, locale).strip() if old is not None else "-",
                    new=amount(new, asset, locale).strip(),
                )
            )
    if order.filled_quantity > ZERO:
        lines.append(
            _("Already filled: {filled}; the change applies to the rest.").format(
                filled=number(order.filled_quantity, locale)
            )
        )
    return lines


def adjustment_line(item: Adjustment, symbol: str, locale: str) -> str:
    names = {
        "quantity": _("Quantity rounded down to the market's step: {requested} → {used}"),
        "price": _("Price rounded to the market's tick in your favour: {requested} → {used}"),
        "stop_price": _("Stop price rounded to the market's tick: {requested} → {used}"),
    }
    template = names.get(item.field, "{requested} → {used}")
    return "ℹ️ " + template.format(requested=number(item.requested, locale), used=number(item.used, locale))


def impact_lines(preview: OrderPreview, locale: str) -> list[str]:
    impact = preview.impact
    if impact is None:
        return []
    limit = preview.max_slippage
    if not impact.covered:
        return [
            _(
                "⚠️ The exchange's order book is too thin for the whole quantity. "
                "Consider splitting it into a TWAP."
            )
        ]
    line = _("Expected price impact: {impact}").format(impact=percent(impact.fraction, locale))
    if limit is not None and impact.exceeds(limit):
        line = "⚠️ " + _(
            "Expected price impact {impact} is above your maximum slippage {limit}. "
            "You can split the order into a TWAP."
        ).format(impact=percent(impact.fraction, locale), limit=percent(limit, locale))
    return [line]


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


# ----- results -----------------------------------------------------------------------------


def order_result(order: Order, locale: str) -> str:
    """Describe the order's state in one message, sent after Confirm and for every later change."""
    text = _result(order, locale)
    if order.replaces_order_id is not None:
        text = _("Order {old} was cancelled and replaced by {new}.").format(
            old=f"<code>{order.replaces_order_id.hex[:8]}</code>", new=short(order)
        ) + ("\n" + text)
    return text


def _result(order: Order, locale: str) -> str:
    base, quote = base_quote(order.symbol)
    average = order.average_price or order.price or ZERO
    if order.status is OrderStatus.FILLED:
        verb = (
            _("✅ Bought {quantity} at {price}")
            if order.side is OrderSide.BUY
            else _("✅ Sold {quantity} at {price}")
        )
        text = verb.format(
            quantity=amount(order.filled_quantity, base, locale), price=amount(average, quote, locale)
        )
        return (
            text
            + "\n"
            + _("Value {cost}, fee {fee}. Order {order_id}").format(
                cost=money(average * order.filled_quantity, quote, locale),
                fee=amount(order.fee, order.fee_asset or quote, locale),
                order_id=short(order),
            )
        )
    if order.status is OrderStatus.REJECTED:
        return _("❌ The order was rejected: {reason}").format(reason=reason_text(order.reject_reason))
    if order.status is OrderStatus.PENDING:
        return _(
            "⏳ The order was sent, but the exchange has not confirmed it yet. "
            "It is checked again automatically and you will get a message."
        )
    if order.status is OrderStatus.NEW:
        return _("📌 Order {order_id} is open: {summary}").format(
            order_id=short(order), summary=order_summary(order, locale)
        )
    if order.status is OrderStatus.PARTIALLY_FILLED:
        return _("🔸 Order {order_id} partially filled: {filled} of {quantity} at an average {price}").format(
            order_id=short(order),
            filled=amount(order.filled_quantity, base, locale),
            quantity=number(order.quantity, locale),
            price=amount(average, quote, locale),
        )
    return _cancelled(order, locale)


def _cancelled(order: Order, locale: str) -> str:
    base, _quote = base_quote(order.symbol)
    text = _("✖ Order {order_id} cancelled: filled {filled} of {quantity}.").format(
        order_id=short(order),
        filled=amount(order.filled_quantity, base, locale),
        quantity=number(order.quantity, locale),
    )
    if order.reject_reason:
        text += "\n" + _("Reason: {reason}").format(reason=reason_text(order.reject_reason))
    return text


def status_line(order: Order, locale: str) -> str:
    """Describe the status with how much is filled and at what average price."""
    filled, quantity = number(order.filled_quantity, locale), number(order.quantity, locale)
    name = order_status_name(order.status)
    if order.status is OrderStatus.FILLED and order.average_price is not None:
        _base, quote = base_quote(order.symbol)
        return _("{status} at an average {price}").format(
            status=name, price=amount(order.average_price, quote, locale)
        )
    if order.filled_quantity > ZERO and order.status is not OrderStatus.FILLED:
        return _("{status}, filled {filled} of {quantity}").format(
            status=name, filled=filled, quantity=quantity
        )
    return name


def share_note(share: Decimal, quantity: Decimal, locale: str) -> str:
    return "ℹ️ " + _("{share} of the available balance is {quantity}.").format(
        share=percent(share, locale, places=0 if share * 100 == int(share * 100) else 2),
        quantity=number(quantity, locale),
    )
