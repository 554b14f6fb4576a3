"""Localized explanations of engine errors: a code and a plain sentence with the fix.

Each explanation is built from the error's fields (the value, the limit, what
would pass). Feature modules add their codes with ``explains``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram.utils.i18n import gettext as _

from bot.formatting import amount, esc, number
from engine.errors import (
    InvalidNumberError,
    NotFoundError,
    PatriotError,
    PermanentExchangeError,
    PermissionDeniedError,
    RiskDenied,
    TemporaryExchangeError,
)

Explainer = Callable[[dict[str, Any], str], str]
_EXPLAINERS: dict[str, Explainer] = {}


def explains(code: str) -> Callable[[Explainer], Explainer]:
    def decorate(function: Explainer) -> Explainer:
        _EXPLAINERS[code] = function
        return function

    return decorate


def describe_error(error: PatriotError, locale: str) -> str:
    """Return ``⚠️ CODE`` and the explanation, ready for HTML parse mode."""
    code, text = _explain(error, locale)
    return f"⚠️ <b>{esc(code)}</b>\n{text}"


def _explain(error: PatriotError, locale: str) -> tuple[str, str]:
    if isinstance(error, InvalidNumberError):
        return error.code, _invalid_number(error)
    if isinstance(error, RiskDenied):
        return error.code, _risk_denied(error, locale)
    if isinstance(error, TemporaryExchangeError):
        return error.code, _("The exchange did not answer. Nothing was lost; try again in a minute.")
    if isinstance(error, PermanentExchangeError):
        explainer = _EXPLAINERS.get(error.reason)
        if explainer is not None:
            return error.reason, explainer(error.fields, locale)
        return error.code, _("The exchange rejected the request: {reason}").format(reason=esc(error.reason))
    if isinstance(error, NotFoundError):
        return error.code, _("Not found. Check the id, or open the list again.")
    if isinstance(error, PermissionDeniedError):
        return error.code, _("Your account is not allowed to do this.")

    explainer = _EXPLAINERS.get(error.code)
    if explainer is not None:
        return error.code, explainer(error.fields, locale)
    return error.code, _("The request could not be completed.")


def explain_reason(reason: str | None, locale: str) -> str:
    """Return the localized explanation of a stored rejection reason code, or the escaped reason itself.

    A code whose explanation names the error's values is shown as the code.
    """
    if not reason:
        return "-"
    explainer = _EXPLAINERS.get(reason)
    if explainer is not None:
        try:
            return explainer({}, locale)
        except KeyError:
            # Only the code was stored; this explanation needs the error's values (PRICE_STEP, ...).
            pass
    return esc(reason)


def field_name(field: str) -> str:
    return {
        "quantity": _("quantity"),
        "price": _("price"),
        "stop_price": _("stop price"),
        "amount": _("amount"),
        "percent": _("percentage"),
        "max_slippage": _("maximum slippage"),
    }.get(field, field)


def _invalid_number(error: InvalidNumberError) -> str:
    name, value = field_name(error.field), esc(error.text[:40])
    reasons = {
        "not_a_number": _("“{value}” is not a number. Write the {name} like 0.01."),
        "not_positive": _("The {name} must be greater than zero, got “{value}”."),
        "too_large": _("“{value}” is too large for a {name}."),
        "too_many_decimals": _("“{value}” has too many decimal places (at most 18)."),
        "comma": _("“{value}”: use a dot as the decimal separator, e.g. 0.5."),
    }
    template = reasons.get(error.reason, _("“{value}” is not a valid {name}."))
    return template.format(name=name, value=value)


def _risk_denied(error: RiskDenied, locale: str) -> str:
    if error.code == "INSUFFICIENT_BALANCE":
        text = _("Not enough {asset}: the order needs {required}, you have {available} free.").format(
            asset=esc(error.asset),
            required=amount(error.value, error.asset, locale),
            available=amount(error.limit, error.asset, locale),
        )
        if error.max_passing:
            text += "\n" + _("The largest quantity that would pass: {quantity}.").format(
                quantity=number(error.max_passing, locale)
            )
        return text
    explainer = _EXPLAINERS.get(error.code)
    if explainer is not None:
        return explainer(vars(error), locale)
    return _("Risk limit {limit_name}: the order would reach {value}, the limit is {limit}.").format(
        limit_name=esc(error.limit_name),
        value=number(error.value, locale),
        limit=number(error.limit, locale),
    )


@explains("SYMBOL_INVALID")
def _symbol_invalid(fields: dict[str, Any], locale: str) -> str:
    return _("“{value}” is not a trading pair. Write it like BTCUSDT or BTC/USDT.").format(
        value=esc(str(fields.get("value", ""))[:40])
    )


@explains("SYMBOL_UNKNOWN")
def _symbol_unknown(fields: dict[str, Any], locale: str) -> str:
    known = ", ".join(esc(s.replace("/", "")) for s in fields.get("known", []))
    text = _("{value} is not traded on this exchange.").format(value=esc(str(fields.get("value", ""))[:40]))
    if known:
        text += "\n" + _("Available: {symbols}.").format(symbols=known)
    return text


@explains("QUANTITY_STEP")
def _quantity_step(fields: dict[str, Any], locale: str) -> str:
    return _("{symbol} quantities go in steps of {step}; {value} is not a multiple of it.").format(
        symbol=esc(fields["symbol"]),
        step=number(fields["step"], locale),
        value=number(fields["value"], locale),
    )


@explains("QUANTITY_BELOW_MIN")
def _quantity_below_min(fields: dict[str, Any], locale: str) -> str:
    return _("The smallest {symbol} quantity is {minimum}; you asked for {value}.").format(
        symbol=esc(fields["symbol"]),
        minimum=number(fields["minimum"], locale),
        value=number(fields["value"], locale),
    )


@explains("QUANTITY_ABOVE_MAX")
def _quantity_above_max(fields: dict[str, Any], locale: str) -> str:
    return _("The largest {symbol} quantity is {maximum}; you asked for {value}.").format(
        symbol=esc(fields["symbol"]),
        maximum=number(fields["maximum"], locale),
        value=number(fields["value"], locale),
    )


@explains("PRICE_STEP")
def _price_step(fields: dict[str, Any], locale: str) -> str:
    return _("{symbol} prices go in steps of {step}; {value} is not a multiple of it.").format(
        symbol=esc(fields["symbol"]),
        step=number(fields["step"], locale),
        value=number(fields["value"], locale),
    )


@explains("COST_BELOW_MIN")
def _cost_below_min(fields: dict[str, Any], locale: str) -> str:
    return _("The order is worth {value}; the smallest {symbol} order is worth {minimum}.").format(
        value=amount(fields["value"], fields["asset"], locale),
        symbol=esc(fields["symbol"]),
        minimum=amount(fields["minimum"], fields["asset"], locale),
    )


@explains("PRICE_NOT_ALLOWED")
def _price_not_allowed(fields: dict[str, Any], locale: str) -> str:
    return _("A market order takes no price. Leave the price out, or place a limit order.")


@explains("PRICE_REQUIRED")
def _price_required(fields: dict[str, Any], locale: str) -> str:
    return _("This order type needs a price.")


@explains("STOP_PRICE_REQUIRED")
def _stop_required(fields: dict[str, Any], locale: str) -> str:
    return _("This order type needs a stop price.")


@explains("STOP_PRICE_NOT_ALLOWED")
def _stop_not_allowed(fields: dict[str, Any], locale: str) -> str:
    return _("This order type takes no stop price.")


@explains("DRAFT_EXPIRED")
def _draft_expired(fields: dict[str, Any], locale: str) -> str:
    return _("This confirmation has expired and nothing was sent. Place the order again.")


@explains("DRAFT_CLOSED")
def _draft_closed(fields: dict[str, Any], locale: str) -> str:
    return _("This order was already confirmed or cancelled.")


@explains("CLIENT_ORDER_ID_TAKEN")
def _client_id_taken(fields: dict[str, Any], locale: str) -> str:
    return _("The client order id {value} is already used by another order.").format(
        value=esc(fields.get("value", ""))
    )


@explains("USERNAME_INVALID")
def _username_invalid(fields: dict[str, Any], locale: str) -> str:
    return _("“{value}” cannot be a username: use 3 to 50 Latin letters, digits or _.").format(
        value=esc(str(fields.get("value", ""))[:60])
    )


@explains("USERNAME_TAKEN")
def _username_taken(fields: dict[str, Any], locale: str) -> str:
    return _("The username {value} is taken. Choose another one.").format(value=esc(fields.get("value", "")))


@explains("EMAIL_INVALID")
def _email_invalid(fields: dict[str, Any], locale: str) -> str:
    return _("“{value}” is not an email address. Send one like name@example.com.").format(
        value=esc(str(fields.get("value", ""))[:80])
    )


@explains("TIMEZONE_INVALID")
def _timezone_invalid(fields: dict[str, Any], locale: str) -> str:
    return _("“{value}” is not a time zone. Send a name like Europe/Moscow or UTC.").format(
        value=esc(str(fields.get("value", ""))[:64])
    )


@explains("INSUFFICIENT_FUNDS")
def _insufficient_funds(fields: dict[str, Any], locale: str) -> str:
    return _("The exchange reports insufficient funds for this order.")


@explains("INSUFFICIENT_BALANCE")
def _insufficient_balance(fields: dict[str, Any], locale: str) -> str:
    # Stored codes only: a RiskDenied with its amounts is explained by _risk_denied.
    return _("The free balance is not enough for this order.")


@explains("ORDER_TYPE_UNSUPPORTED")
def _type_unsupported(fields: dict[str, Any], locale: str) -> str:
    return _("This exchange does not accept this order type.")


@explains("EXCHANGE_NOT_CONFIGURED")
def _exchange_not_configured(fields: dict[str, Any], locale: str) -> str:
    return _("Trading on this exchange is not available on this server.")
