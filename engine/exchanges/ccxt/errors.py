"""ccxt exceptions turned into engine errors that show whether a retry can help.

Temporary (``TemporaryExchangeError``): the network failed, the request timed
out, the exchange throttled us, is down or under maintenance, the clock was
off, or the answer was unreadable. After one of these the outcome of an order
is unknown and the caller looks the order up by its client order id.

Permanent (``PermanentExchangeError`` with a ``reason`` code): the key was
rejected, a permission or funds are missing, the order or symbol is invalid,
the order does not exist. Sending the same request again cannot succeed.

ccxt's classes nest (RequestTimeout is a NetworkError, OrderNotFound and
DuplicateOrderId are InvalidOrders, PermissionDenied is an
AuthenticationError), so the except clauses below go from the most specific
class to the most general.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache

from engine.accounts.models import Exchange
from engine.common.secrets import MASK
from engine.errors import PermanentExchangeError, TemporaryExchangeError
from engine.exchanges.ccxt.lazy import ccxt

MAX_DETAIL = 300

# Exchange error codes that tell more than ccxt's class about a rejected key.
# Sources: ccxt's exception tables (4.5) and each exchange's error code list.
KEY_PROBLEM_CODES: dict[Exchange, dict[str, str]] = {
    Exchange.BINANCE: {
        # "Invalid API-key, IP, or permissions for action": Binance does not say which.
        "-2015": "KEY_REJECTED",
        "-2014": "AUTHENTICATION_FAILED",  # API-key format invalid
        "-2008": "AUTHENTICATION_FAILED",  # invalid Api-Key ID
        "-1022": "AUTHENTICATION_FAILED",  # signature not valid: wrong secret
        "-1002": "PERMISSION_DENIED",  # not authorized to execute this request
    },
    Exchange.BYBIT: {
        "10003": "AUTHENTICATION_FAILED",  # invalid api key
        "10004": "AUTHENTICATION_FAILED",  # invalid signature: wrong secret
        "10007": "AUTHENTICATION_FAILED",  # api key not found
        "10005": "PERMISSION_DENIED",  # permission denied for this api key
        "10010": "IP_NOT_ALLOWED",  # request ip mismatch
        "33004": "KEY_EXPIRED",  # api key expired
    },
    Exchange.OKX: {
        "50101": "WRONG_ENVIRONMENT",  # key does not match the environment (demo or live)
        "50105": "AUTHENTICATION_FAILED",  # passphrase incorrect
        "50110": "IP_NOT_ALLOWED",  # invalid IP
        "50111": "AUTHENTICATION_FAILED",  # invalid OK-ACCESS-KEY
        "50113": "AUTHENTICATION_FAILED",  # invalid signature: wrong secret
        "50114": "AUTHENTICATION_FAILED",  # invalid authorization
    },
    Exchange.MEXC: {
        "10072": "AUTHENTICATION_FAILED",  # invalid access key
        "700001": "AUTHENTICATION_FAILED",  # signature not valid (also an expired key)
        "700002": "AUTHENTICATION_FAILED",  # signature not valid: wrong secret
        "700006": "IP_NOT_ALLOWED",  # IP not on the white list
        "700007": "PERMISSION_DENIED",  # no permission for the endpoint
        "730706": "AUTHENTICATION_FAILED",  # API key does not exist
    },
}

# Codes ccxt leaves as a generic ExchangeError that mean "no such order".
ORDER_NOT_FOUND_CODES: dict[Exchange, frozenset[str]] = {
    Exchange.MEXC: frozenset({"-2013"}),  # {"code":-2013,"msg":"Order does not exist."}
}

_CODE_IN_TEXT = re.compile(r'"(?:code|retCode|ret_code)"\s*:\s*"?(-?\d+)')


def exchange_code(message: str) -> str | None:
    """Return the error code from the exchange's JSON body that ccxt puts in its message."""
    start, end = message.find("{"), message.rfind("}")
    if 0 <= start < end:
        try:
            body = json.loads(message[start : end + 1])
        except ValueError:
            body = None
        if isinstance(body, dict):
            for key in ("code", "retCode", "ret_code"):
                if body.get(key) not in (None, "", 0, "0"):
                    return str(body[key])
    match = _CODE_IN_TEXT.search(message)
    return match.group(1) if match else None


def key_problem(exchange: Exchange, error: ccxt.BaseError) -> str | None:
    """Name what is wrong with the key, or None when the error is not about the key."""
    code = exchange_code(str(error))
    by_code = KEY_PROBLEM_CODES.get(exchange, {}).get(code or "")
    if by_code is not None:
        return by_code
    if isinstance(error, ccxt.AccountSuspended):
        return "ACCOUNT_SUSPENDED"
    if isinstance(error, ccxt.PermissionDenied):
        return "PERMISSION_DENIED"
    if isinstance(error, ccxt.AuthenticationError):
        return "AUTHENTICATION_FAILED"
    return None


def redact(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


def _detail(exchange: Exchange, error: BaseException, secrets: Sequence[str]) -> str:
    return f"{exchange} {type(error).__name__}: {redact(str(error), secrets)[:MAX_DETAIL]}"


ReasonTable = tuple[tuple[type[BaseException], str], ...]


@cache
def _reason_tables() -> tuple[ReasonTable, ReasonTable]:
    """Return ccxt's classes in the order they are tried (subclasses first), temporary then permanent.

    Built on first use, so importing this module does not import ccxt.
    """
    temporary = (
        (ccxt.RequestTimeout, "TIMEOUT"),
        (ccxt.RateLimitExceeded, "RATE_LIMITED"),
        (ccxt.DDoSProtection, "RATE_LIMITED"),
        (ccxt.InvalidNonce, "CLOCK_SKEW"),
        (ccxt.ExchangeNotAvailable, "EXCHANGE_UNAVAILABLE"),  # OnMaintenance too
        (ccxt.NetworkError, "NETWORK_ERROR"),
        (ccxt.OperationFailed, "BAD_RESPONSE"),  # BadResponse, NullResponse, CancelPending
    )
    permanent = (
        (ccxt.InsufficientFunds, "INSUFFICIENT_FUNDS"),
        (ccxt.DuplicateOrderId, "DUPLICATE_CLIENT_ORDER_ID"),
        (ccxt.OrderNotFound, "ORDER_NOT_FOUND"),
        (ccxt.InvalidOrder, "INVALID_ORDER"),
        (ccxt.BadSymbol, "SYMBOL_UNKNOWN"),
        (ccxt.NotSupported, "NOT_SUPPORTED"),
    )
    return temporary, permanent


@contextmanager
def translated_errors(exchange: Exchange, secrets: Sequence[str] = ()) -> Iterator[None]:
    """Raise engine errors in place of ccxt's; ``secrets`` are masked in the messages.

    ccxt's message quotes the exchange's answer, and some exchanges echo the
    API key in it. The secrets are masked in the ccxt exception too, because it
    stays chained as ``__cause__`` and a logged traceback prints it.
    """
    try:
        yield
    except ccxt.BaseError as error:
        error.args = tuple(redact(arg, secrets) if isinstance(arg, str) else arg for arg in error.args)
        translated = translate(exchange, error, secrets)
        if translated is None:
            raise
        raise translated from error


def translate(
    exchange: Exchange, error: ccxt.BaseError, secrets: Sequence[str] = ()
) -> TemporaryExchangeError | PermanentExchangeError | None:
    """Return the engine error for a ccxt exception, or None for one that is no exchange answer."""
    detail = _detail(exchange, error, secrets)
    temporary, permanent = _reason_tables()
    for cls, reason in temporary:
        if isinstance(error, cls):
            return TemporaryExchangeError(detail, reason=reason)
    if isinstance(error, ccxt.AuthenticationError):  # PermissionDenied and AccountSuspended too
        reason = key_problem(exchange, error) or "AUTHENTICATION_FAILED"
    else:
        reason = next((reason for cls, reason in permanent if isinstance(error, cls)), "")
    if not reason and isinstance(error, ccxt.ExchangeError):
        # MEXC reports a rejected key, an IP or a missing order as a plain
        # error, and only its code identifies which.
        if exchange_code(str(error)) in ORDER_NOT_FOUND_CODES.get(exchange, frozenset()):
            reason = "ORDER_NOT_FOUND"
        else:
            reason = key_problem(exchange, error) or "EXCHANGE_ERROR"
    if not reason:
        return None
    return PermanentExchangeError(detail, reason=reason, exchange=exchange.value)
