"""Explanations of the error codes of order management, TWAP and order input."""

from __future__ import annotations

from typing import Any

from aiogram.utils.i18n import gettext as _

from bot.error_texts import explains
from bot.formatting import amount, esc, number, percent
from bot.texts import order_status_name
from bot.views.orders import order_type_name
from engine.orders.models import OrderStatus, OrderType


def _value(fields: dict[str, Any], limit: int = 40) -> str:
    return esc(str(fields.get("value", ""))[:limit])


@explains("PRICE_BELOW_TICK")
def _price_below_tick(fields: dict[str, Any], locale: str) -> str:
    return _("The price {value} is below the market's tick of {step}.").format(
        value=_value(fields), step=number(fields["step"], locale)
    )


@explains("CLIENT_ORDER_ID_INVALID")
def _client_id_invalid(fields: dict[str, Any], locale: str) -> str:
    return _(
        "“{value}” cannot be a client order id: use 1 to {max_length} Latin letters and digits, "
        "the format Binance, Bybit, OKX and MEXC all accept."
    ).format(value=_value(fields, 80), max_length=fields["max_length"])


@explains("ORDER_TYPE_UNSUPPORTED")
def _type_unsupported(fields: dict[str, Any], locale: str) -> str:
    order_type = fields.get("type")
    name = order_type_name(order_type) if isinstance(order_type, OrderType) else esc(order_type or "")
    return _("This exchange does not accept {type} orders.").format(type=name)


@explains("REDUCE_ONLY_UNSUPPORTED")
def _reduce_only_unsupported(fields: dict[str, Any], locale: str) -> str:
    return _("This exchange does not accept reduce-only orders. Leave out “reduce”.")


@explains("REDUCE_ONLY_WOULD_INCREASE")
def _reduce_only_increase(fields: dict[str, Any], locale: str) -> str:
    return _("A reduce-only buy has no short position to reduce on a spot account. Leave out “reduce”.")


@explains("POST_ONLY_NEEDS_LIMIT")
def _post_only_needs_limit(fields: dict[str, Any], locale: str) -> str:
    return _("Post-only needs an order with a limit price: limit, stop-limit or take-profit-limit.")


@explains("POST_ONLY_WITH_TIF")
def _post_only_with_tif(fields: dict[str, Any], locale: str) -> str:
    return _("A post-only order rests in the book, so it takes no IOC or FOK. Leave out “tif”.")


@explains("POST_ONLY_WOULD_TAKE")
def _post_only_would_take(fields: dict[str, Any], locale: str) -> str:
    return _(
        "The post-only order would have traded at once, so the exchange refused it. Move the price away."
    )


@explains("STOP_WOULD_TRIGGER")
def _stop_would_trigger(fields: dict[str, Any], locale: str) -> str:
    text = _(
        "The stop price would trigger at once. A stop buys above and sells below the market; "
        "a take-profit buys below and sells above it."
    )
    if "last" in fields:
        text += "\n" + _("Last price: {last}.").format(last=number(fields["last"], locale))
    return text


@explains("ORDER_NOT_FOUND")
def _order_not_found(fields: dict[str, Any], locale: str) -> str:
    if "value" not in fields:
        return _("The exchange no longer knows this order as open.")
    return _("No order {value} among your orders. /orders lists them with their ids.").format(
        value=f"<code>{_value(fields)}</code>"
    )


@explains("ORDER_ID_INVALID")
def _order_id_invalid(fields: dict[str, Any], locale: str) -> str:
    return _("“{value}” is not an order id. Use the 8 characters shown in /orders, e.g. 1a2b3c4d.").format(
        value=_value(fields)
    )


@explains("ORDER_ID_AMBIGUOUS")
def _order_id_ambiguous(fields: dict[str, Any], locale: str) -> str:
    matches = ", ".join(f"<code>{esc(match)}</code>" for match in fields.get("matches", []))
    return _("Several of your orders start with {value}: {matches}. Type more of the id.").format(
        value=f"<code>{_value(fields)}</code>", matches=matches
    )


def _status(fields: dict[str, Any]) -> str:
    status = fields.get("status")
    return order_status_name(status) if isinstance(status, OrderStatus) else esc(status or "")


@explains("ORDER_NOT_CANCELLABLE")
def _not_cancellable(fields: dict[str, Any], locale: str) -> str:
    if fields.get("status") is OrderStatus.PENDING:
        return _("The order is not confirmed by the exchange yet; it can be cancelled once it is.")
    return _("Order {order_id} is {status} and can no longer be cancelled.").format(
        order_id=f"<code>{esc(fields.get('order', ''))}</code>", status=_status(fields)
    )


@explains("ORDER_NOT_MODIFIABLE")
def _not_modifiable(fields: dict[str, Any], locale: str) -> str:
    return _("Order {order_id} is {status}: only open limit and trigger orders can be changed.").format(
        order_id=f"<code>{esc(fields.get('order', ''))}</code>", status=_status(fields)
    )


@explains("MODIFY_NOTHING")
def _modify_nothing(fields: dict[str, Any], locale: str) -> str:
    return _("Say what to change: price=…, qty=… or stop=…")


@explains("QUANTITY_BELOW_FILLED")
def _quantity_below_filled(fields: dict[str, Any], locale: str) -> str:
    if "filled" not in fields:
        return _("The new quantity must be larger than what is already filled.")
    return _("{filled} is already filled, so the new quantity must be larger; you asked for {value}.").format(
        filled=number(fields["filled"], locale), value=number(fields["value"], locale)
    )


@explains("REPLACEMENT_FAILED")
def _replacement_failed(fields: dict[str, Any], locale: str) -> str:
    return _(
        "Order {order_id} was cancelled, but its replacement could not be placed ({cause}). "
        "Place a new order if you still want one."
    ).format(order_id=f"<code>{esc(fields.get('order', ''))}</code>", cause=esc(fields.get("cause", "")))


@explains("ACCOUNT_UNKNOWN")
def _account_unknown(fields: dict[str, Any], locale: str) -> str:
    known = ", ".join(esc(name) for name in fields.get("known", []))
    return _("You have no active account “{value}”. Your accounts: {known}.").format(
        value=_value(fields), known=known
    )


@explains("SHARE_TOO_SMALL")
def _share_too_small(fields: dict[str, Any], locale: str) -> str:
    return _(
        "{share} of your free {available} is less than the smallest {symbol} quantity, {minimum}."
    ).format(
        share=percent(fields["share"], locale, places=0),
        available=amount(fields["available"], fields["asset"], locale),
        symbol=esc(fields["symbol"]),
        minimum=number(fields["minimum"], locale),
    )


@explains("PERCENT_TOO_LARGE")
def _percent_too_large(fields: dict[str, Any], locale: str) -> str:
    return _("“{value}” is more than the whole balance. Use a share from 1% to 100%.").format(
        value=_value(fields)
    )


@explains("SIDE_INVALID")
def _side_invalid(fields: dict[str, Any], locale: str) -> str:
    return _("“{value}” is not a side. Write buy or sell.").format(value=_value(fields))


@explains("ORDER_TYPE_INVALID")
def _type_invalid(fields: dict[str, Any], locale: str) -> str:
    return _("“{value}” is not an order type. Use market, limit, stop, stop_limit, tp or tp_limit.").format(
        value=_value(fields)
    )


@explains("TIF_INVALID")
def _tif_invalid(fields: dict[str, Any], locale: str) -> str:
    return _("“{value}” is not a time in force. Use GTC, IOC or FOK.").format(value=_value(fields))


@explains("ORDER_OPTION_UNKNOWN")
def _option_unknown(fields: dict[str, Any], locale: str) -> str:
    return _(
        "“{value}” is not an order option. Use price=…, stop=…, tif=…, reduce, post, account=… or id=…"
    ).format(value=_value(fields))


@explains("ORDER_OPTION_REPEATED")
def _option_repeated(fields: dict[str, Any], locale: str) -> str:
    return _("The option {value} is given twice. Give it once.").format(value=_value(fields))


@explains("DATE_INVALID")
def _date_invalid(fields: dict[str, Any], locale: str) -> str:
    return _("“{value}” is not a date. Write it like 2026-01-31.").format(value=_value(fields))


@explains("DATE_RANGE_INVALID")
def _date_range_invalid(fields: dict[str, Any], locale: str) -> str:
    return _("The range ends ({until}) before it starts ({since}).").format(
        since=esc(fields["since"]), until=esc(fields["until"])
    )


@explains("TWAP_SLICES")
def _twap_slices(fields: dict[str, Any], locale: str) -> str:
    return _("A TWAP takes {minimum} to {maximum} slices; you asked for {value}.").format(
        minimum=fields["minimum"], maximum=fields["maximum"], value=fields["value"]
    )


@explains("TWAP_INTERVAL")
def _twap_interval(fields: dict[str, Any], locale: str) -> str:
    return _(
        "The interval between slices must be {minimum} s to {maximum} s; you asked for {value} s."
    ).format(minimum=fields["minimum"], maximum=fields["maximum"], value=fields["value"])


@explains("TWAP_SLICES_INVALID")
def _twap_slices_invalid(fields: dict[str, Any], locale: str) -> str:
    return _("“{value}” is not a number of slices. Write a whole number like 10.").format(
        value=_value(fields)
    )


@explains("TWAP_INTERVAL_INVALID")
def _twap_interval_invalid(fields: dict[str, Any], locale: str) -> str:
    return _(
        "“{value}” is not an interval. Write seconds like 90, or minutes and hours like 5m or 1h."
    ).format(value=_value(fields))


@explains("TWAP_INVALID")
def _twap_invalid(fields: dict[str, Any], locale: str) -> str:
    return _("Only a new market order can be split into a TWAP.")


@explains("TWAP_SLICE_TOO_SMALL")
def _twap_slice_too_small(fields: dict[str, Any], locale: str) -> str:
    return _(
        "The slices would be smaller than the smallest {symbol} order ({minimum}, worth at least {cost}). "
        "Use at most {most} slices."
    ).format(
        symbol=esc(fields["symbol"]),
        minimum=number(fields["minimum"], locale),
        cost=amount(fields["minimum_cost"], fields["asset"], locale),
        most=fields["most"],
    )


@explains("TWAP_NOT_ACTIVE")
def _twap_not_active(fields: dict[str, Any], locale: str) -> str:
    return _("This TWAP has already finished or was cancelled.")


@explains("MAX_SLIPPAGE_INVALID")
def _max_slippage_invalid(fields: dict[str, Any], locale: str) -> str:
    return _("The maximum slippage must be above 0 % and at most {maximum}; you sent {value}.").format(
        maximum=percent(fields["maximum"], locale, places=0), value=percent(fields["value"], locale)
    )


@explains("STOP_ALREADY_TRIGGERED")
def _stop_already_triggered(fields: dict[str, Any], locale: str) -> str:
    return _("The stop has already triggered, so its price can no longer change.")


@explains("DUPLICATE_CLIENT_ORDER_ID")
def _duplicate_client_order_id(fields: dict[str, Any], locale: str) -> str:
    return _(
        "The exchange already has an order with this client order id. Choose another id, or leave it out."
    )
