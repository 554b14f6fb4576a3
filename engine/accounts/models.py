"""Exchange accounts a user trades through, and the API keys behind them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from engine.common.secrets import Secret


class Exchange(StrEnum):
    PAPER = "PAPER"
    BINANCE = "BINANCE"
    BYBIT = "BYBIT"
    OKX = "OKX"
    MEXC = "MEXC"


LIVE_EXCHANGES = (Exchange.BINANCE, Exchange.BYBIT, Exchange.OKX, Exchange.MEXC)


class KeyStatus(StrEnum):
    """Whether an account's API key worked at its last use or check."""

    NONE = "NONE"  # PAPER: no key
    VALID = "VALID"
    # The exchange rejected the key (revoked, expired, IP not allowed). Jobs
    # skip the account and trading on it is refused until the user re-checks it.
    INVALID = "INVALID"


@dataclass
class Account:
    """One exchange account of one user. PAPER accounts have no keys."""

    id: uuid.UUID
    user_id: uuid.UUID
    exchange: Exchange
    name: str
    is_testnet: bool
    is_active: bool
    is_default: bool
    created_at: datetime
    updated_at: datetime
    key_status: KeyStatus = KeyStatus.NONE
    # UPPER_SNAKE reason of the last rejection, e.g. AUTHENTICATION_FAILED.
    key_problem: str | None = None
    key_checked_at: datetime | None = None
    # Last characters of the API key ("…a1B2"), so the user can tell keys apart.
    key_hint: str | None = None
    # What the exchange reported at the last check; None where it does not tell.
    can_withdraw: bool | None = None
    removed_at: datetime | None = None

    @property
    def is_paper(self) -> bool:
        return self.exchange is Exchange.PAPER

    @property
    def is_usable(self) -> bool:
        """Active, not removed, and (for a live exchange) with a key that last worked."""
        return (
            self.is_active
            and self.removed_at is None
            and (self.is_paper or self.key_status is KeyStatus.VALID)
        )


@dataclass(frozen=True)
class ApiCredentials:
    """Decrypted keys of one account; every field masks itself in reprs and logs."""

    api_key: Secret
    secret: Secret
    passphrase: Secret | None = None


@dataclass(frozen=True)
class SealedCredentials:
    """Encrypted keys as stored: each field is a vault token, never plain text."""

    api_key: str
    secret: str
    passphrase: str | None = None


@dataclass(frozen=True)
class KeyPermissions:
    """Permissions an exchange reports for a key; None where it does not report them."""

    can_trade: bool | None = None
    can_withdraw: bool | None = None
    ip_restricted: bool | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True)
class KeyCheck:
    """The result of an authenticated balance call (and permission query) with a key.

    ``problem`` is None when the key works and may trade. Otherwise it is an
    UPPER_SNAKE code: AUTHENTICATION_FAILED, KEY_REJECTED (the exchange does
    not report whether the key, the IP or a permission is wrong), KEY_EXPIRED,
    IP_NOT_ALLOWED, PERMISSION_DENIED, WRONG_ENVIRONMENT (a demo key on the
    real exchange or the reverse), EXCHANGE_UNREACHABLE or EXCHANGE_ERROR.
    """

    problem: str | None
    permissions: KeyPermissions = field(default_factory=KeyPermissions)
    # Non-zero balances by asset (total), shown after a successful link.
    balances: dict[str, Decimal] = field(default_factory=dict)
    detail: str = ""  # the exchange's own words, for the log only

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def is_temporary(self) -> bool:
        return self.problem == "EXCHANGE_UNREACHABLE"

    @property
    def rejects_key(self) -> bool:
        """True when the key itself no longer works from this server."""
        return self.problem in KEY_REJECTIONS

    @property
    def disables_trading(self) -> bool:
        """True when the account must be flagged: the key is refused or may no longer trade."""
        return self.rejects_key or self.problem == "PERMISSION_DENIED"


# Problems that mean the key cannot be used from this server at all.
KEY_REJECTIONS = frozenset(
    {"AUTHENTICATION_FAILED", "KEY_REJECTED", "KEY_EXPIRED", "IP_NOT_ALLOWED", "WRONG_ENVIRONMENT"}
)
