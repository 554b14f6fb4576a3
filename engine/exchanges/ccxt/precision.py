"""Steps and rounding from ccxt market precision, exact in Decimal for every precision mode.

ccxt describes precision in one of two ways, chosen per exchange by
``precisionMode``: TICK_SIZE gives the step itself (0.01), DECIMAL_PLACES the
number of digits after the point (2). The four exchanges use TICK_SIZE in
ccxt 4.5, but market definitions recorded by older versions carry
DECIMAL_PLACES values, so both are handled. SIGNIFICANT_DIGITS has no fixed
step and is refused.
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from typing import Any

from engine.common.money import to_canonical
from engine.exchanges.ccxt.lazy import ccxt


def step_from_precision(value: Any, mode: int) -> Decimal | None:
    """Return the step (0.001) that a precision value means under ``mode``; None when absent."""
    if value is None:
        return None
    if mode == ccxt.TICK_SIZE:
        # ccxt parses the JSON number to a float. str() gives back the shortest
        # decimal text, which is the exchange's own tick for any real tick size.
        step = Decimal(str(value))
    elif mode == ccxt.DECIMAL_PLACES:
        places = Decimal(str(value))
        if places != places.to_integral_value():
            raise ValueError(f"DECIMAL_PLACES precision must be a whole number, got {value!r}")
        step = Decimal(1).scaleb(-int(places))
    else:
        raise ValueError(f"precision mode {mode} has no fixed step; only TICK_SIZE and DECIMAL_PLACES")
    if step <= 0:
        raise ValueError(f"precision {value!r} gives a step of {step}")
    return Decimal(to_canonical(step))


def amount_text(client: Any, symbol: str, amount: Decimal) -> str:
    """Round an amount down to the market's step with ccxt, returning exact text.

    ccxt's rounding changes the calling thread's decimal context (rounding
    and traps), so it runs inside a local context that is thrown away after.
    """
    with localcontext():
        return str(client.amount_to_precision(symbol, to_canonical(amount)))


def price_text(client: Any, symbol: str, price: Decimal) -> str:
    """Round a price to the nearest tick with ccxt (half up), returning exact text."""
    with localcontext():
        return str(client.price_to_precision(symbol, to_canonical(price)))


def decimal_from_number(value: Any, step: Decimal | None = None) -> Decimal | None:
    """Convert a number ccxt parsed to float back to Decimal, snapped to ``step`` when given.

    ``str(float)`` is the shortest text that reads back as the same float, so
    it equals the exchange's original text whenever that had at most 15
    significant digits. Quantizing to the market step removes any residue
    beyond that.
    """
    if value is None or value == "":
        return None
    number = Decimal(str(value))
    if not number.is_finite():
        return None
    if step is not None:
        number = number.quantize(step)
    return number
