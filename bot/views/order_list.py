"""Texts of /orders: the list, one order's details, and the report of a batch of operations."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.error_texts import describe_error
from bot.formatting import amount, esc, moment, number
from bot.order_input import ListFilter
from bot.views.orders import base_quote, order_summary, order_type_name, reason_text, short, status_line
from engine.accounts.models import Account
from engine.common.money import ZERO
from engine.orders.changes import BatchOutcome
from engine.orders.models import Order, OrderSide
from engine.users.models import User


def filter_title(where: ListFilter) -> str:
    names = {
        "open": _("open only"),
        "pending": _("pending only"),
        "filled": _("filled only"),
        "cancelled": _("cancelled only"),
        "canceled": _("cancelled only"),
        "rejected": _("rejected only"),
        "all": _("all statuses"),
    }
    parts = [names[where.status]]
    if where.symbol:
        parts.append(esc(where.symbol))
    if where.side is not None:
        parts.append(_("buys") if where.side is OrderSide.BUY else _("sells"))
    if where.account:
        parts.append(_("account {name}").format(name=esc(where.account)))
    if where.since:
        parts.append(_("from {date}").format(date=where.since.isoformat()))
    if where.until:
        parts.append(_("to {date}").format(date=where.until.isoformat()))
    return ", ".join(parts)


def orders_page(orders: list[Order], where: ListFilter, page: int, pages: int, user: User) -> str:
    locale = user.language
    header = _("📋 <b>Orders</b> ({filter}) — page {page} of {pages}").format(
        filter=filter_title(where), page=page + 1, pages=max(pages, 1)
    )
    if not orders:
        return header + "\n" + _("No orders match. /orders all shows every order.")
    lines = [header]
    for order in orders:
        lines.append("")
        lines.append(f"{short(order)} {order_summary(order, locale)}")
        lines.append(
            "    " + status_line(order, locale) + " · " + moment(order.created_at, user.timezone, locale)
        )
    return "\n".join(lines)


def order_details(order: Order, account: Account | None, user: User) -> str:
    locale = user.language
    base, quote = base_quote(order.symbol)
    lines = [
        _("🔎 <b>Order {order_id}</b>").format(order_id=short(order)),
        order_summary(order, locale),
        _("Type: {type}, time in force {tif}").format(
            type=order_type_name(order.type), tif=order.time_in_force.value
        ),
        _("Status: {status}").format(status=status_line(order, locale)),
        _("Account: {name}").format(name=esc(account.name) if account else "-"),
        _("Id: {id}").format(id=f"<code>{order.id.hex}</code>"),
        _("Client order id: {value}").format(value=f"<code>{esc(order.client_order_id)}</code>"),
    ]
    if order.exchange_order_id:
        exchange_id = f"<code>{esc(order.exchange_order_id)}</code>"
        if order.is_trigger:
            exchange_id += " " + _("(trigger order)")
        lines.append(_("Exchange order id: {value}").format(value=exchange_id))
    if order.average_price is not None and order.filled_quantity > ZERO:
        lines.append(_("Average price: {price}").format(price=amount(order.average_price, quote, locale)))
    lines.append(_("Fees: {fee}").format(fee=amount(order.fee, order.fee_asset or quote, locale)))
    if order.reject_reason:
        lines.append(_("Reason: {reason}").format(reason=reason_text(order.reject_reason)))
    if order.replaces_order_id:
        lines.append(
            _("Replaces order {order_id}").format(order_id=f"<code>{order.replaces_order_id.hex[:8]}</code>")
        )
    lines.append(_("Created: {time}").format(time=moment(order.created_at, user.timezone, locale)))
    lines.append(_("Updated: {time}").format(time=moment(order.updated_at, user.timezone, locale)))
    lines.extend(_fill_lines(order, user, base, quote))
    lines.extend(_check_lines(order, locale))
    return "\n".join(lines)


def _fill_lines(order: Order, user: User, base: str, quote: str) -> list[str]:
    if not order.fills:
        return [_("No fills yet.")]
    lines = [_("<b>Fills</b>")]
    for fill in order.fills:
        role = _("maker") if fill.is_maker else _("taker")
        lines.append(
            "  "
            + _("{quantity} at {price}, fee {fee} ({role}), {time}").format(
                quantity=amount(fill.quantity, base, user.language),
                price=amount(fill.price, quote, user.language),
                fee=amount(fill.fee, fill.fee_asset, user.language),
                role=role,
                time=moment(fill.executed_at, user.timezone, user.language),
            )
        )
    return lines


def _check_lines(order: Order, locale: str) -> list[str]:
    if not order.checks:
        return []
    names = {"balance": _("balance")}
    figure_names = {"available": _("free"), "required": _("needed")}
    lines = [_("<b>Pre-trade checks</b>")]
    for check in order.checks:
        mark = "✅" if check.passed else "❌"
        figures = ", ".join(
            f"{figure_names.get(name, esc(name))} {number(value, locale)}"
            for name, value in sorted(check.figures.items())
        )
        lines.append(
            f"  {mark} {names.get(check.name, esc(check.name))}" + (f": {figures}" if figures else "")
        )
    return lines


def batch_report(outcomes: list[BatchOutcome], locale: str) -> str:
    """List each operation of a batch: what succeeded, and why each failure failed."""
    if not outcomes:
        return _("There are no open orders to cancel.")
    succeeded = sum(outcome.ok for outcome in outcomes)
    lines = [_("Done: {ok} of {total} succeeded.").format(ok=succeeded, total=len(outcomes))]
    for outcome in outcomes:
        if outcome.ok and outcome.order is not None:
            lines.append(
                "✅ "
                + _("{order_id}: {status}").format(
                    order_id=short(outcome.order), status=status_line(outcome.order, locale)
                )
            )
        elif outcome.error is not None:
            reason = describe_error(outcome.error, locale).replace("\n", " — ").replace("⚠️ ", "")
            lines.append(f"❌ <code>{esc(outcome.label)}</code>: {reason}")
    return "\n".join(lines)
