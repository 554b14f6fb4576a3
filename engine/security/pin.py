"""The trading PIN: what a valid PIN looks like, and its salted, slow hash.

A PIN is 4 to 12 ASCII digits. It is never stored: PATRIOT keeps the scrypt
hash (RFC 7914, from the standard library's OpenSSL binding) with its salt
and cost parameters, and the vault seals that hash under MASTER_KEY. A copy
of the database alone therefore gives an attacker nothing to search the
small PIN space against; with the master key as well, each guess still costs
one scrypt run (about 16 MiB and tens of milliseconds at the default cost).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from engine.common.secrets import Secret
from engine.errors import ValidationError

MIN_LENGTH = 4
MAX_LENGTH = 12
# ASCII digits only: str.isdigit() would also accept "１２３４" and "٣١".
_PIN_TEXT = re.compile(rf"[0-9]{{{MIN_LENGTH},{MAX_LENGTH}}}", re.ASCII)
SALT_BYTES = 16
HASH_BYTES = 32
DIGITS = "0123456789"


@dataclass(frozen=True)
class ScryptCost:
    """scrypt's cost parameters, stored with each hash so the defaults can grow later."""

    n: int = 2**14
    r: int = 8
    p: int = 1

    @property
    def memory_bytes(self) -> int:
        return 128 * self.r * self.n


@dataclass
class PinRecord:
    """A user's PIN hash and the state of the attempts to enter it."""

    user_id: uuid.UUID
    sealed_hash: str  # the scrypt hash (hex), sealed by the vault
    salt: bytes
    cost: ScryptCost
    created_at: datetime
    updated_at: datetime
    failed_attempts: int = 0
    locked_until: datetime | None = None
    # Until then guarded actions run without asking again (PIN_SESSION_SECONDS after a correct PIN).
    confirmed_until: datetime | None = None

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def is_confirmed(self, now: datetime) -> bool:
        return self.confirmed_until is not None and now < self.confirmed_until


def read_pin(text: str | None) -> Secret:
    """Return the typed PIN as a Secret; raise PIN_FORMAT (without the text) unless it is 4-12 digits."""
    cleaned = (text or "").strip()
    if _PIN_TEXT.fullmatch(cleaned) is None:
        raise ValidationError("PIN_FORMAT", minimum=MIN_LENGTH, maximum=MAX_LENGTH)
    return Secret(cleaned)


def check_strength(pin: Secret) -> None:
    """Raise PIN_TOO_SIMPLE for one repeated digit or a run such as 1234 or 9876."""
    digits = pin.reveal()
    if len(set(digits)) == 1 or digits in DIGITS or digits in DIGITS[::-1]:
        raise ValidationError("PIN_TOO_SIMPLE")


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_BYTES)


def derive(pin: Secret, salt: bytes, cost: ScryptCost) -> Secret:
    """Return the scrypt hash of the PIN as hex; CPU- and memory-bound, so run it off the event loop."""
    digest = hashlib.scrypt(
        pin.reveal().encode("ascii"),
        salt=salt,
        n=cost.n,
        r=cost.r,
        p=cost.p,
        maxmem=2 * cost.memory_bytes,
        dklen=HASH_BYTES,
    )
    return Secret(digest.hex())


def matches(candidate: Secret, stored: Secret) -> bool:
    """Compare two hashes in constant time."""
    return hmac.compare_digest(candidate.reveal().encode("ascii"), stored.reveal().encode("ascii"))
