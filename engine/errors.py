"""Engine error types.

Each error carries an UPPER_SNAKE ``code`` and the fields a message needs, so
the bot builds a localized text from them. Exchange errors say whether a retry
can help (``TemporaryExchangeError``) or not (``PermanentExchangeError``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any


class PatriotError(Exception):
    """Base class of the errors the engine raises on purpose."""

    code = "PATRIOT_ERROR"

    def __init__(self, message: str = "", **fields: Any) -> None:
        super().__init__(message or self.code)
        self.fields = fields


class InvalidNumberError(PatriotError):
    """A number typed by the user is not acceptable; ``reason`` says why."""

    code = "INVALID_NUMBER"

    def __init__(self, field: str, text: str, reason: str) -> None:
        super().__init__(f"invalid {field}: {reason}", field=field, text=text, reason=reason)
        self.field = field
        self.text = text
        self.reason = reason


class ValidationError(PatriotError):
    """Input that names a thing that does not exist or breaks a market rule."""

    code = "VALIDATION_ERROR"

    def __init__(self, code: str, **fields: Any) -> None:
        super().__init__(code, **fields)
        self.code = code


class NotFoundError(PatriotError):
    """The id does not exist or does not belong to the caller (never said which)."""

    code = "NOT_FOUND"


class PermissionDeniedError(PatriotError):
    """The user's status or permissions do not allow the action."""

    code = "PERMISSION_DENIED"


class IllegalTransitionError(PatriotError):
    """A state machine was asked for a transition its table does not contain."""

    code = "ILLEGAL_TRANSITION"

    def __init__(self, machine: str, current: str, target: str) -> None:
        super().__init__(f"{machine}: {current} -> {target} is not allowed")
        self.machine = machine
        self.current = current
        self.target = target


class RiskDenied(PatriotError):
    """A pre-trade check failed: the limit, the value the order would reach, and what would pass."""

    def __init__(
        self,
        code: str,
        *,
        limit_name: str,
        limit: Decimal,
        value: Decimal,
        max_passing: Decimal | None,
        asset: str = "",
    ) -> None:
        super().__init__(code)
        self.code = code
        self.limit_name = limit_name
        self.limit = limit
        self.value = value
        self.max_passing = max_passing
        self.asset = asset


class ExchangeError(PatriotError):
    """Base of errors that come from an exchange gateway."""

    code = "EXCHANGE_ERROR"


class TemporaryExchangeError(ExchangeError):
    """Network failure, timeout, rate limit or maintenance: the call may succeed later.

    After this error on order creation the order's fate is unknown, so it is
    looked up by client_order_id and never simply sent again.
    """

    code = "EXCHANGE_UNAVAILABLE"

    def __init__(self, message: str = "", *, reason: str = "", **fields: Any) -> None:
        super().__init__(message, **fields)
        # What failed, for logs and metrics: TIMEOUT, RATE_LIMITED, NETWORK_ERROR, ...
        self.reason = reason


class PermanentExchangeError(ExchangeError):
    """Authentication, permission, funds or invalid-order errors: retrying will not help."""

    code = "EXCHANGE_REJECTED"

    def __init__(self, message: str = "", *, reason: str = "", **fields: Any) -> None:
        super().__init__(message, **fields)
        self.reason = reason or message


class VaultError(PatriotError):
    """A stored secret cannot be decrypted: no configured master key opens it.

    The message names what to do (restore the previous MASTER_KEY, listing it
    after the new one) and never contains the key or the secret.
    """

    code = "VAULT_LOCKED"
