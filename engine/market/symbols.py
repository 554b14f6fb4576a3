"""Symbol parsing: users type BTCUSDT, btc/usdt or BTC-USDT; the engine uses BTC/USDT."""

from __future__ import annotations

import re

from engine.errors import ValidationError

# Quote assets tried, longest first, when a symbol comes without a separator.
KNOWN_QUOTES = ("FDUSD", "USDT", "USDC", "TUSD", "BUSD", "EUR", "TRY", "BTC", "ETH", "BNB")
_SEPARATED = re.compile(r"^([A-Z0-9]{1,20})[/\-_:]([A-Z0-9]{1,20})$")
_JOINED = re.compile(r"^[A-Z0-9]{2,40}$")


def normalize_symbol(text: str) -> str:
    """Return the unified ``BASE/QUOTE`` form, or raise SYMBOL_INVALID naming the input."""
    cleaned = text.strip().upper()
    separated = _SEPARATED.match(cleaned)
    if separated:
        return f"{separated.group(1)}/{separated.group(2)}"

    if _JOINED.match(cleaned):
        for quote in KNOWN_QUOTES:
            base = cleaned[: -len(quote)]
            if cleaned.endswith(quote) and base:
                return f"{base}/{quote}"

    raise ValidationError("SYMBOL_INVALID", value=text)


def compact_symbol(symbol: str) -> str:
    """Return the exchange-style form without separator (``BTC/USDT`` -> ``BTCUSDT``)."""
    return symbol.replace("/", "")
