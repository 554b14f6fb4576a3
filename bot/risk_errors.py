"""Explanations of the risk engine's error codes (pre-trade denials, limit and alert settings)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiogram.utils.i18n import gettext as _

from bot.error_texts import explains
from bot.formatting import esc, number
from bot.views.limits import limit_label, limit_value
from engine.common.money import ZERO
from engine.risk.limits import LimitName


def _denial(fields: dict[str, Any], locale: str) -> str:
    name = LimitName(fields["limit_name"])
    text = _(
        "Your {limit_name} limit would be broken: this order brings it to {value}, the limit is {limit}."
    ).format(
        limit_name=limit_label(name),
        value=limit_value(name, fields["value"], locale),
        limit=limit_value(name, fields["limit"], locale),
    )
    largest: Decimal | None = fields.get("max_passing")
    if largest is None:
        return text
    if largest <= ZERO:
        return (
            text
            + "\n"
            + _("No order that adds risk passes now. Orders that reduce a position are always allowed.")
        )
    return (
        text
        + "\n"
        + _("The largest quantity that would pass: {quantity} {asset}.").format(
            quantity=number(largest, locale), asset=esc(fields.get("asset", ""))
        )
    )


@explains("POSITION_SIZE_LIMIT_EXCEEDED")
def _position_size(fields: dict[str, Any], locale: str) -> str:
    return _denial(fields, locale)


@explains("RISK_LIMIT_EXCEEDED")
def _risk_limit(fields: dict[str, Any], locale: str) -> str:
    return _denial(fields, locale)


@explains("LIMIT_UNKNOWN")
def _limit_unknown(fields: dict[str, Any], locale: str) -> str:
    return _("“{value}” is not a limit. Use one of: {known}.").format(
        value=esc(str(fields.get("value", ""))[:40]), known=", ".join(fields.get("known", []))
    )


@explains("LIMIT_OUT_OF_RANGE")
def _limit_out_of_range(fields: dict[str, Any], locale: str) -> str:
    return _("{value} is out of range for {limit}: use a value from {minimum} to {maximum}.").format(
        value=esc(str(fields.get("value", ""))[:40]),
        limit=esc(fields.get("limit", "")),
        minimum=number(fields["minimum"], locale),
        maximum=number(fields["maximum"], locale),
    )


@explains("LIMIT_ABOVE_PROFILE")
def _limit_above_profile(fields: dict[str, Any], locale: str) -> str:
    name = LimitName(fields["limit"])
    return _(
        "You can only tighten a limit: {limit_name} may be at most {maximum} on your risk profile."
    ).format(limit_name=limit_label(name), maximum=limit_value(name, fields["maximum"], locale))


@explains("QUIET_HOURS_INVALID")
def _quiet_hours_invalid(fields: dict[str, Any], locale: str) -> str:
    return _("“{value}” is not a time range. Send it like 22:00-07:00, or off.").format(
        value=esc(str(fields.get("value", ""))[:40])
    )


@explains("REPORT_TIME_INVALID")
def _report_time_invalid(fields: dict[str, Any], locale: str) -> str:
    return _("“{value}” is not a time of day. Send it like 20:00.").format(
        value=esc(str(fields.get("value", ""))[:40])
    )
