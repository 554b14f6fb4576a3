"""Checks of what a user types while linking an account: its name and the shape of its keys.

The shape check rejects only text that cannot be a key (a cut-off paste, a
word, the secret pasted as the key). The exchange decides whether a
well-formed key is valid. Error fields never carry the typed value, because
it may be a secret.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from engine.accounts.models import Exchange
from engine.common.secrets import Secret
from engine.errors import ValidationError

ACCOUNT_NAME_MAX = 32

# A PEM private key block: Binance and Bybit accept Ed25519 or RSA keys that
# the user generated, and then the "secret" is the private key itself.
_PEM_PRIVATE_KEY = re.compile(
    r"^-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----\s+[A-Za-z0-9+/=\s]+-----END (?:[A-Z]+ )?PRIVATE KEY-----$"
)


@dataclass(frozen=True)
class KeyShape:
    pattern: re.Pattern[str]
    # Length ("64", "1-64") and charset code (alnum, hex, uuid, printable) of a
    # valid value, which the bot puts in words for the message.
    length: str
    charset: str
    allows_pem: bool = False

    def matches(self, value: str) -> bool:
        if self.pattern.fullmatch(value):
            return True
        return self.allows_pem and _PEM_PRIVATE_KEY.fullmatch(value) is not None


def _shape(regex: str, length: str, charset: str, *, allows_pem: bool = False) -> KeyShape:
    return KeyShape(re.compile(regex), length, charset, allows_pem)


_ALNUM = "alnum"
_HEX = "hex"

# Sources: the exchanges' API key pages and documentation examples. Lengths
# are a little wider than what the exchanges issue today, so that a new batch
# of keys passes. The authenticated check decides the rest.
KEY_SHAPES: dict[Exchange, dict[str, KeyShape]] = {
    Exchange.BINANCE: {
        "api_key": _shape(r"[A-Za-z0-9]{64}", "64", _ALNUM),
        "secret": _shape(r"[A-Za-z0-9]{64}", "64", _ALNUM, allows_pem=True),
    },
    Exchange.BYBIT: {
        "api_key": _shape(r"[A-Za-z0-9]{16,32}", "18", _ALNUM),
        "secret": _shape(r"[A-Za-z0-9]{32,64}", "36", _ALNUM, allows_pem=True),
    },
    Exchange.OKX: {
        "api_key": _shape(
            r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
            "36",
            "uuid",
        ),
        "secret": _shape(r"[0-9A-Fa-f]{32}", "32", _HEX),
        # The passphrase is chosen by the user; only whitespace inside or an
        # absurd length shows it is not one.
        "passphrase": _shape(r"[!-~]{1,64}", "1-64", "printable"),
    },
    Exchange.MEXC: {
        "api_key": _shape(r"[A-Za-z0-9]{16,40}", "18", _ALNUM),
        "secret": _shape(r"[A-Za-z0-9]{32}", "32", _ALNUM),
    },
}


def needs_passphrase(exchange: Exchange) -> bool:
    return "passphrase" in KEY_SHAPES.get(exchange, {})


def parse_key_part(exchange: Exchange, part: str, text: str) -> Secret:
    """Trim pasted text and check it has the shape of the exchange's ``part``.

    ``part`` is ``api_key``, ``secret`` or ``passphrase``. Raises
    ValidationError API_KEY_MALFORMED naming the part and the expected
    length and characters, never the text.
    """
    shape = KEY_SHAPES[exchange][part]
    value = text.strip()
    if not shape.matches(value):
        raise ValidationError(
            "API_KEY_MALFORMED",
            exchange=exchange.value,
            part=part,
            length=shape.length,
            charset=shape.charset,
            got_length=len(value),
        )
    return Secret(value)


def validate_account_name(text: str) -> str:
    """Return the trimmed name, or raise ACCOUNT_NAME_INVALID (1-32 characters, no control characters)."""
    name = " ".join(text.split())
    has_control = any(unicodedata.category(char).startswith("C") for char in name)
    if not name or len(name) > ACCOUNT_NAME_MAX or has_control:
        raise ValidationError("ACCOUNT_NAME_INVALID", value=name[:40], maximum=ACCOUNT_NAME_MAX)
    return name
