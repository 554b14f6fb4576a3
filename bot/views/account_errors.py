"""Explanations of the error codes of accounts, keys and live exchanges.

Importing this module (the /accounts and /link handlers do) registers them
with ``bot.error_texts``, where a gateway error from any feature finds its
text by reason code.
"""

from __future__ import annotations

from typing import Any

from aiogram.utils.i18n import gettext as _

from bot.error_texts import explains
from bot.formatting import esc
from bot.views.accounts import exchange_name, problem_text
from engine.accounts.validation import ACCOUNT_NAME_MAX


def _exchange(fields: dict[str, Any]) -> str:
    """The exchange the error names; a stored reason code without its fields names none."""
    return str(fields.get("exchange") or _("The exchange"))


def _key_problem(code: str) -> Any:
    def explain(fields: dict[str, Any], locale: str) -> str:
        return problem_text(code, _exchange(fields))

    return explain


for _code in (
    "AUTHENTICATION_FAILED",
    "KEY_REJECTED",
    "KEY_EXPIRED",
    "IP_NOT_ALLOWED",
    "WRONG_ENVIRONMENT",
    "PERMISSION_DENIED",
    "ACCOUNT_SUSPENDED",
    "TESTNET_UNSUPPORTED",
):
    explains(_code)(_key_problem(_code))


@explains("API_KEY_MALFORMED")
def _key_malformed(fields: dict[str, Any], locale: str) -> str:
    part = {
        "api_key": _("API key"),
        "secret": _("API secret"),
        "passphrase": _("passphrase"),
    }.get(str(fields.get("part")), _("key"))
    charset = {
        "alnum": _("Latin letters and digits"),
        "hex": _("hexadecimal digits (0-9, A-F)"),
        "uuid": _("letters, digits and dashes like 1a2b3c4d-1a2b-1a2b-1a2b-1a2b3c4d5e6f"),
        "printable": _("printable characters without spaces"),
    }.get(str(fields.get("charset")), "")
    return _(
        "That does not look like a {exchange} {part}: it should be {length} characters, {charset}. "
        "Copy it again, without spaces inside, and send it."
    ).format(
        exchange=exchange_name(_exchange(fields)),
        part=part,
        length=esc(fields.get("length", "")),
        charset=charset,
    )


@explains("ACCOUNT_NAME_INVALID")
def _name_invalid(fields: dict[str, Any], locale: str) -> str:
    return _("An account name is 1 to {maximum} characters, without line breaks. Send another one.").format(
        maximum=ACCOUNT_NAME_MAX
    )


@explains("ACCOUNT_NAME_TAKEN")
def _name_taken(fields: dict[str, Any], locale: str) -> str:
    return _("You already have an account named “{value}”. Choose another name.").format(
        value=esc(fields.get("value", ""))
    )


@explains("ACCOUNT_INACTIVE")
def _account_inactive(fields: dict[str, Any], locale: str) -> str:
    return _("“{name}” is inactive. Activate it first.").format(name=esc(fields.get("name", "")))


@explains("PAPER_NOT_REMOVABLE")
def _paper_not_removable(fields: dict[str, Any], locale: str) -> str:
    return _(
        "The PAPER account cannot be removed: it keeps your practice balance and history, and it "
        "could not be created again. Deactivate it to hide it from your portfolio."
    )


@explains("NO_KEYS_TO_CHECK")
def _no_keys(fields: dict[str, Any], locale: str) -> str:
    return _("“{name}” has no API keys to check.").format(name=esc(fields.get("name", "")))


@explains("PASSPHRASE_REQUIRED")
def _passphrase_required(fields: dict[str, Any], locale: str) -> str:
    return _("{exchange} keys need their passphrase as well.").format(
        exchange=exchange_name(_exchange(fields))
    )


@explains("EXCHANGE_NOT_LINKABLE")
def _not_linkable(fields: dict[str, Any], locale: str) -> str:
    return _("The PAPER exchange needs no keys: your PAPER account exists already.")


@explains("KEY_INVALID")
def _key_invalid(fields: dict[str, Any], locale: str) -> str:
    return _(
        "The account “{name}” is paused because its exchange rejected the API key. Fix the key, then "
        "press “Re-check keys” in /accounts."
    ).format(name=esc(fields.get("account", "")))


@explains("KEY_MISSING")
def _key_missing(fields: dict[str, Any], locale: str) -> str:
    return _("This account has no API keys stored. Link it again with /link.")


@explains("VAULT_LOCKED")
def _vault_locked(fields: dict[str, Any], locale: str) -> str:
    return _(
        "The stored API keys cannot be read on this server right now (its master key changed). "
        "Nothing was sent. The error is in the server log for the operator."
    )


@explains("INVALID_ORDER")
def _invalid_order(fields: dict[str, Any], locale: str) -> str:
    return _("{exchange} rejected the order as invalid. Check the quantity and prices.").format(
        exchange=exchange_name(_exchange(fields))
    )


@explains("ORDER_NOT_FOUND")
def _order_not_found(fields: dict[str, Any], locale: str) -> str:
    return _("The exchange does not know this order: it may be filled, cancelled or expired already.")


@explains("AMEND_UNSUPPORTED")
def _amend_unsupported(fields: dict[str, Any], locale: str) -> str:
    return _("{exchange} cannot change an order in place. Cancel it and place a new one.").format(
        exchange=exchange_name(_exchange(fields))
    )


@explains("REDUCE_ONLY_UNSUPPORTED")
def _reduce_only_unsupported(fields: dict[str, Any], locale: str) -> str:
    return _("Spot orders on {exchange} cannot be reduce-only. Send the order without that flag.").format(
        exchange=exchange_name(_exchange(fields))
    )


@explains("NOT_SUPPORTED")
def _not_supported(fields: dict[str, Any], locale: str) -> str:
    return _("{exchange} does not support this request.").format(exchange=exchange_name(_exchange(fields)))


@explains("EXCHANGE_ERROR")
def _exchange_error(fields: dict[str, Any], locale: str) -> str:
    return _("{exchange} refused the request. Nothing was changed; try again later.").format(
        exchange=exchange_name(_exchange(fields))
    )
