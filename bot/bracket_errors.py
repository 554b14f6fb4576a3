"""Explanations of the error codes of bracket orders."""

from __future__ import annotations

from typing import Any

from aiogram.utils.i18n import gettext as _

from bot.error_texts import explains
from bot.formatting import amount, esc, number
from bot.views.brackets import status_name
from engine.brackets.models import BracketStatus


@explains("BRACKET_TARGET_COUNT")
def _target_count(fields: dict[str, Any], locale: str) -> str:
    return _("A bracket takes 1 to {maximum} targets, e.g. tp=44000,45000; you gave {value}.").format(
        maximum=fields["maximum"], value=fields["value"]
    )


@explains("BRACKET_SPLIT_COUNT")
def _split_count(fields: dict[str, Any], locale: str) -> str:
    return _(
        "Shares in the split: {value}; targets: {targets}. Give one share per target, e.g. split=50,50."
    ).format(value=fields["value"], targets=fields["targets"])


@explains("BRACKET_SPLIT_SUM")
def _split_sum(fields: dict[str, Any], locale: str) -> str:
    return _("The split's shares must be above 0 and add up to 100; they add up to {value}.").format(
        value=number(fields["value"], locale)
    )


@explains("BRACKET_STOP_SIDE")
def _stop_side(fields: dict[str, Any], locale: str) -> str:
    if fields.get("side") == "BUY":
        text = _("For a buy the stop-loss must be below the entry: stop {stop}, entry {entry}.")
    else:
        text = _("For a sell the stop-loss must be above the entry: stop {stop}, entry {entry}.")
    return text.format(stop=number(fields["stop"], locale), entry=number(fields["entry"], locale))


@explains("BRACKET_TARGET_SIDE")
def _target_side(fields: dict[str, Any], locale: str) -> str:
    if fields.get("side") == "BUY":
        text = _("For a buy every target must be above the entry: target {target} is {price}, entry {entry}.")
    else:
        text = _(
            "For a sell every target must be below the entry: target {target} is {price}, entry {entry}."
        )
    return text.format(
        target=fields["target"], price=number(fields["price"], locale), entry=number(fields["entry"], locale)
    )


@explains("BRACKET_TARGET_ORDER")
def _target_order(fields: dict[str, Any], locale: str) -> str:
    if fields.get("side") == "BUY":
        text = _(
            "List a buy's targets from the nearest up: target {target} ({price}) must be above {previous}."
        )
    else:
        text = _(
            "List a sell's targets from the nearest down: target {target} ({price}) must be below {previous}."
        )
    return text.format(
        target=fields["target"],
        price=number(fields["price"], locale),
        previous=number(fields["previous"], locale),
    )


@explains("BRACKET_TOO_SMALL")
def _too_small(fields: dict[str, Any], locale: str) -> str:
    return _(
        "{value} is too small for a bracket on {symbol}: each exit needs at least {minimum} "
        "and a value of {minimum_cost} at the stop. Raise the quantity."
    ).format(
        value=number(fields["value"], locale),
        symbol=esc(fields["symbol"]),
        minimum=number(fields["minimum"], locale),
        minimum_cost=amount(fields["minimum_cost"], fields["asset"], locale),
    )


@explains("BRACKET_SHORT_NEEDS_HOLDING")
def _short_needs_holding(fields: dict[str, Any], locale: str) -> str:
    return _(
        "A sell bracket on a spot account sells {asset} you hold and buys it back later; it cannot borrow. "
        "You hold {available} free and the bracket sells {value}."
    ).format(
        asset=esc(fields["asset"]),
        available=amount(fields["available"], fields["asset"], locale),
        value=number(fields["value"], locale),
    )


@explains("BRACKET_NATIVE_UNSUPPORTED")
def _native_unsupported(fields: dict[str, Any], locale: str) -> str:
    return _(
        "{exchange} has no OCO orders, so exits cannot rest on the exchange. Leave out exits=native: "
        "the bot then watches the prices itself."
    ).format(exchange=esc(fields["exchange"]))


@explains("BRACKET_NOT_CLOSABLE")
def _not_closable(fields: dict[str, Any], locale: str) -> str:
    status = fields.get("status")
    name = status_name(status) if isinstance(status, BracketStatus) else esc(status or "")
    return _("Bracket {bracket_id} is {status} and cannot be closed now.").format(
        bracket_id=f"<code>{esc(fields.get('bracket', ''))}</code>", status=name
    )


@explains("BRACKET_LEG")
def _bracket_leg(fields: dict[str, Any], locale: str) -> str:
    return _(
        "Order {order_id} is an exit of bracket {bracket_id}, which keeps it in step with the position. "
        "Close the bracket with /brackets instead."
    ).format(
        order_id=f"<code>{esc(fields.get('order', ''))}</code>",
        bracket_id=f"<code>{esc(fields.get('bracket', ''))}</code>",
    )


@explains("BRACKET_ENTRY")
def _bracket_entry(fields: dict[str, Any], locale: str) -> str:
    return _(
        "Order {order_id} is the entry of bracket {bracket_id}, whose exits are planned around it, "
        "so it cannot be changed. Cancel it with /cancel, which cancels the bracket, and start a new one."
    ).format(
        order_id=f"<code>{esc(fields.get('order', ''))}</code>",
        bracket_id=f"<code>{esc(fields.get('bracket', ''))}</code>",
    )


@explains("BRACKET_OPTION_UNKNOWN")
def _option_unknown(fields: dict[str, Any], locale: str) -> str:
    return _(
        "“{value}” is not a bracket option. Use entry=…, sl=…, tp=…, split=…, breakeven, exits=… or account=…"
    ).format(value=esc(str(fields.get("value", ""))[:40]))


@explains("BRACKET_EXITS_INVALID")
def _exits_invalid(fields: dict[str, Any], locale: str) -> str:
    return _("“{value}” is not a kind of exits. Write exits=native or exits=synthetic.").format(
        value=esc(str(fields.get("value", ""))[:20])
    )


@explains("OCO_UNSUPPORTED")
def _oco_unsupported(fields: dict[str, Any], locale: str) -> str:
    return _("PATRIOT cannot place OCO orders on this exchange yet")
