"""Inline keyboards of order management: confirmation, lists, details, TWAP and the guided form."""

from __future__ import annotations

import re
import uuid
from datetime import date

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.callbacks import (
    BracketAction,
    CancelAll,
    DraftAction,
    OrderAction,
    OrderFormChoice,
    OrdersPage,
    TwapCancel,
    TwapSetup,
    TwapStart,
)
from bot.keyboards import button, pager
from bot.order_input import STATUS_FILTERS, ListFilter
from bot.views.orders import order_type_name
from engine.accounts.models import Account
from engine.market.symbols import compact_symbol, normalize_symbol
from engine.orders.models import Order, OrderSide, OrderType
from engine.orders.previews import OrderPreview
from engine.orders.state import CANCELLABLE, MODIFIABLE

TWAP_SLICE_CHOICES = (3, 5, 10, 20)
TWAP_INTERVAL_CHOICES = (30, 60, 300, 900)
SHARE_CHOICES = ("10%", "25%", "50%", "100%")


def draft_keyboard(preview: OrderPreview) -> InlineKeyboardMarkup:
    """Confirm and Cancel, and a TWAP offer when a market order's impact is above the user's limit."""
    draft_hex = preview.draft.id.hex
    rows = [
        [
            button(_("✅ Confirm"), DraftAction(action="ok", draft=draft_hex)),
            button(_("✖ Cancel"), DraftAction(action="no", draft=draft_hex)),
        ]
    ]
    impact, limit = preview.impact, preview.max_slippage
    if impact is not None and limit is not None and impact.exceeds(limit) and preview.modifies is None:
        rows.append([button(_("🧩 Split into a TWAP"), TwapSetup(draft=draft_hex, slices=0, interval=0))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def twap_slices(draft_hex: str) -> InlineKeyboardMarkup:
    row = [
        button(str(slices), TwapSetup(draft=draft_hex, slices=slices, interval=0))
        for slices in TWAP_SLICE_CHOICES
    ]
    return InlineKeyboardMarkup(inline_keyboard=[row, [_cancel_draft(draft_hex)]])


def twap_intervals(draft_hex: str, slices: int) -> InlineKeyboardMarkup:
    row = [
        button(interval_label(seconds), TwapSetup(draft=draft_hex, slices=slices, interval=seconds))
        for seconds in TWAP_INTERVAL_CHOICES
    ]
    return InlineKeyboardMarkup(inline_keyboard=[row, [_cancel_draft(draft_hex)]])


def twap_start(draft_hex: str, slices: int, interval: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                button(_("▶ Start the TWAP"), TwapStart(draft=draft_hex, slices=slices, interval=interval)),
                _cancel_draft(draft_hex),
            ]
        ]
    )


def twap_cancel(*twap_ids: uuid.UUID) -> InlineKeyboardMarkup:
    """Build one Stop button per TWAP, labelled with the short id when there are several."""
    rows = []
    for twap_id in twap_ids:
        label = _("⏹ Stop the TWAP")
        if len(twap_ids) > 1:
            label += f" {twap_id.hex[:8]}"
        rows.append([button(label, TwapCancel(twap=twap_id.hex))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def interval_label(seconds: int) -> str:
    if seconds % 60:
        return _("{count} s").format(count=seconds)
    return _("{count} min").format(count=seconds // 60)


def _cancel_draft(draft_hex: str) -> InlineKeyboardButton:
    return button(_("✖ Cancel"), DraftAction(action="no", draft=draft_hex))


# ----- /orders -----------------------------------------------------------------------------


def page_data(where: ListFilter, page: int, account_hex: str = "") -> OrdersPage:
    return OrdersPage(
        page=page,
        status=where.status,
        side=where.side.value if where.side else "",
        symbol=compact_symbol(where.symbol) if where.symbol else "",
        account=account_hex,
        since=where.since.strftime("%Y%m%d") if where.since else "",
        until=where.until.strftime("%Y%m%d") if where.until else "",
    )


def filter_from_page(data: OrdersPage) -> ListFilter:
    """Rebuild the filter a page button carries (the account is resolved by the handler)."""
    return ListFilter(
        status=data.status if data.status in STATUS_FILTERS else "open",
        symbol=normalize_symbol(data.symbol) if data.symbol else None,
        side=OrderSide(data.side) if data.side in ("BUY", "SELL") else None,
        since=_day(data.since),
        until=_day(data.until),
    )


def _day(text: str) -> date | None:
    """Read a YYYYMMDD date from a button; a forged or impossible one is no date."""
    if not re.fullmatch(r"[0-9]{8}", text, re.ASCII):
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def orders_keyboard(
    orders: list[Order], where: ListFilter, page: int, pages: int, account_hex: str
) -> InlineKeyboardMarkup:
    rows = []
    for order in orders:
        row = [button(f"🔎 {order.short_id}", OrderAction(action="d", order=order.id.hex))]
        if order.bracket_id is not None:
            # A bracket's legs change only with the bracket; its entry may still be cancelled.
            row.append(button("🎯", BracketAction(action="d", bracket=order.bracket_id.hex)))
        elif order.status in MODIFIABLE and order.type is not OrderType.MARKET:
            row.append(button("✏️", OrderAction(action="m", order=order.id.hex)))
        if order.status in CANCELLABLE and order.bracket_leg in (None, "entry"):
            row.append(button("✖", OrderAction(action="c", order=order.id.hex)))
        rows.append(row)
    navigation = pager(page, pages, lambda target: page_data(where, target, account_hex))
    if navigation:
        rows.append(navigation)
    if where.status == "open" and orders:
        symbol = compact_symbol(where.symbol) if where.symbol else ""
        rows.append([button(_("✖ Cancel all open"), CancelAll(symbol=symbol, confirmed=0))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def order_keyboard(order: Order) -> InlineKeyboardMarkup:
    """Modify and Cancel under an order's details while the order allows them; a leg links to its bracket."""
    row = []
    if order.bracket_id is not None:
        row.append(button(_("🎯 Bracket"), BracketAction(action="d", bracket=order.bracket_id.hex)))
    elif order.status in MODIFIABLE and order.type is not OrderType.MARKET:
        row.append(button(_("✏️ Modify"), OrderAction(action="m", order=order.id.hex)))
    if order.status in CANCELLABLE and order.bracket_leg in (None, "entry"):
        row.append(button(_("✖ Cancel order"), OrderAction(action="c", order=order.id.hex)))
    return InlineKeyboardMarkup(inline_keyboard=[row] if row else [])


def modify_fields(order: Order) -> InlineKeyboardMarkup:
    row = []
    if order.type.needs_price:
        row.append(button(_("Price"), OrderAction(action="mp", order=order.id.hex)))
    row.append(button(_("Quantity"), OrderAction(action="mq", order=order.id.hex)))
    if order.type.needs_stop_price:
        row.append(button(_("Stop price"), OrderAction(action="ms", order=order.id.hex)))
    return InlineKeyboardMarkup(inline_keyboard=[row])


def cancel_all_confirm(symbol: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[button(_("✖ Yes, cancel them"), CancelAll(symbol=symbol, confirmed=1))]]
    )


# ----- the guided /order form --------------------------------------------------------------


def choices(step: str, options: list[tuple[str, str]], columns: int = 3) -> InlineKeyboardMarkup:
    buttons = [button(label, OrderFormChoice(step=step, value=value)) for label, value in options]
    return InlineKeyboardMarkup(
        inline_keyboard=[buttons[i : i + columns] for i in range(0, len(buttons), columns)]
    )


def account_choices(accounts: list[Account]) -> InlineKeyboardMarkup:
    options = [(f"{account.name} ({account.exchange.value})", account.id.hex[:8]) for account in accounts]
    return choices("account", options, columns=1)


def side_choices() -> InlineKeyboardMarkup:
    return choices("side", [(_("🟢 Buy"), "BUY"), (_("🔴 Sell"), "SELL")], columns=2)


def type_choices(types: frozenset[OrderType]) -> InlineKeyboardMarkup:
    options = [
        (order_type_name(order_type), order_type.value) for order_type in OrderType if order_type in types
    ]
    return choices("type", options, columns=2)


def share_choices() -> InlineKeyboardMarkup:
    return choices("quantity", [(share, share) for share in SHARE_CHOICES], columns=4)


def tif_choices() -> InlineKeyboardMarkup:
    options = [
        (_("GTC — until cancelled"), "GTC"),
        (_("IOC — fill now, cancel the rest"), "IOC"),
        (_("FOK — all now or nothing"), "FOK"),
        (_("Post-only — maker only"), "POST"),
    ]
    return choices("tif", options, columns=1)
