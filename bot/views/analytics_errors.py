"""Explanations of the analytics' error codes: the value at fault and what is allowed."""

from __future__ import annotations

from typing import Any

from aiogram.utils.i18n import gettext as _

from bot.error_texts import explains
from bot.formatting import esc, number


def _value(fields: dict[str, Any]) -> str:
    return esc(str(fields.get("value", ""))[:40])


@explains("PERIOD_INVALID")
def _period_invalid(fields: dict[str, Any], locale: str) -> str:
    return _("“{value}” is not a period. Use one of: {allowed}.").format(
        value=_value(fields), allowed=esc(", ".join(fields.get("allowed", [])))
    )


@explains("BENCHMARK_INVALID")
def _benchmark_invalid(fields: dict[str, Any], locale: str) -> str:
    return _(
        "“{value}” cannot be a benchmark. Compare with: {allowed}, e.g. /performance 30D vs BTC."
    ).format(value=_value(fields), allowed=esc(", ".join(fields.get("allowed", []))))


@explains("CONFIDENCE_INVALID")
def _confidence_invalid(fields: dict[str, Any], locale: str) -> str:
    return _(
        "Confidence “{value}” is outside the allowed range {minimum}–{maximum}; write it like 0.95 or 99%."
    ).format(value=_value(fields), minimum=f"{fields['minimum']:.2f}", maximum=f"{fields['maximum']:.2f}")


@explains("HORIZON_INVALID")
def _horizon_invalid(fields: dict[str, Any], locale: str) -> str:
    return _(
        "Horizon “{value}” is not allowed: give a whole number of hours from {minimum} to {maximum}."
    ).format(value=_value(fields), minimum=fields["minimum"], maximum=fields["maximum"])


@explains("POSITION_FILTER_INVALID")
def _filter_invalid(fields: dict[str, Any], locale: str) -> str:
    return _("“{value}” is not a filter. Use account=NAME, symbol=BTC or min=100.").format(
        value=_value(fields)
    )


@explains("REBALANCE_TOO_FEW_ASSETS")
def _too_few(fields: dict[str, Any], locale: str) -> str:
    return _(
        "Rebalancing needs at least two assets with price history in the default account; it holds {count}."
    ).format(count=fields.get("count", 0))


@explains("SCENARIO_NAME_INVALID")
def _scenario_name(fields: dict[str, Any], locale: str) -> str:
    return _("“{value}” cannot be a scenario name: use 1 to 32 Latin letters, digits, _ or -.").format(
        value=_value(fields)
    )


@explains("SCENARIO_EMPTY")
def _scenario_empty(fields: dict[str, Any], locale: str) -> str:
    return _("A scenario needs at least one shock, e.g. BTC=-30 or *=-25.")


@explains("SCENARIO_SHOCK_INVALID")
def _scenario_shock(fields: dict[str, Any], locale: str) -> str:
    return _(
        "“{value}” is not a shock. Write ASSET=PERCENT with a percentage above {minimum} "
        "and at most {maximum}, e.g. BTC=-30."
    ).format(
        value=_value(fields),
        minimum=number(fields["minimum"], locale),
        maximum=number(fields["maximum"], locale),
    )


@explains("SCENARIO_EXISTS")
def _scenario_exists(fields: dict[str, Any], locale: str) -> str:
    return _("A scenario named {value} exists already. Delete it first or choose another name.").format(
        value=_value(fields)
    )


@explains("SCENARIO_NOT_FOUND")
def _scenario_missing(fields: dict[str, Any], locale: str) -> str:
    return _("There is no scenario named {value}. /scenarios lists them.").format(value=_value(fields))


@explains("SCENARIO_LIMIT")
def _scenario_limit(fields: dict[str, Any], locale: str) -> str:
    return _("There are {maximum} scenarios already, the most /risk shows. Delete one first.").format(
        maximum=fields.get("maximum", "")
    )
