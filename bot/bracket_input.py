"""Parsing the /bracket quick form.

``SYMBOL SIDE QTY entry=PRICE|market sl=PRICE tp=P1[,P2[,P3]] [split=50,30,20]
[breakeven] [exits=native|synthetic] [account=NAME]``. Options come in any
order. Bad values raise ValidationError or InvalidNumberError naming the
value; a missing part returns None so the handler shows the usage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from engine.brackets.models import MAX_TARGETS, ExitMode
from engine.brackets.plan import BracketRequest
from engine.common.money import parse_positive_decimal
from engine.errors import ValidationError
from engine.market.symbols import normalize_symbol
from engine.orders.models import OrderSide

SIDES = {"buy": OrderSide.BUY, "long": OrderSide.BUY, "sell": OrderSide.SELL, "short": OrderSide.SELL}
EXIT_MODES = {"native": ExitMode.NATIVE, "synthetic": ExitMode.SYNTHETIC}
_OPTION = re.compile(r"^([a-z]+)=(.*)$")
_KNOWN = ("entry", "sl", "tp", "split", "exits", "account")
_REQUIRED = ("entry", "sl", "tp")


@dataclass(frozen=True)
class BracketForm:
    request: BracketRequest
    account: str | None = None


def parse_side(text: str) -> OrderSide:
    side = SIDES.get(text.lower())
    if side is None:
        raise ValidationError("SIDE_INVALID", value=text[:20])
    return side


def parse_entry(text: str) -> Decimal | None:
    """``market`` (None) or a limit price."""
    if text.strip().lower() == "market":
        return None
    return parse_positive_decimal(text, field="price")


def parse_targets(text: str) -> tuple[Decimal, ...]:
    parts = [part for part in text.replace(";", ",").split(",") if part.strip()]
    if not 1 <= len(parts) <= MAX_TARGETS:
        raise ValidationError("BRACKET_TARGET_COUNT", value=len(parts), maximum=MAX_TARGETS)
    return tuple(parse_positive_decimal(part, field="price") for part in parts)


def parse_split(text: str) -> tuple[Decimal, ...]:
    """Percent shares such as ``50,30,20`` (a trailing % is allowed)."""
    parts = [part.strip().rstrip("%") for part in text.replace(";", ",").split(",") if part.strip()]
    if not parts:
        raise ValidationError("BRACKET_SPLIT_SUM", value=Decimal(0))
    return tuple(parse_positive_decimal(part, field="percent") for part in parts)


def parse_bracket_command(arguments: str | None) -> BracketForm | None:
    parts = (arguments or "").split()
    if len(parts) < 3:
        return None
    symbol, side, quantity = parts[:3]
    options = _options(parts[3:])
    if any(name not in options for name in _REQUIRED):
        return None
    exits = options.get("exits")
    if exits is not None and exits.lower() not in EXIT_MODES:
        raise ValidationError("BRACKET_EXITS_INVALID", value=exits[:20])
    request = BracketRequest(
        symbol=normalize_symbol(symbol),
        side=parse_side(side),
        quantity=parse_positive_decimal(quantity, field="quantity"),
        entry_price=parse_entry(options["entry"]),
        stop_price=parse_positive_decimal(options["sl"], field="stop_price"),
        targets=parse_targets(options["tp"]),
        split=parse_split(options["split"]) if "split" in options else None,
        breakeven="breakeven" in options,
        exit_mode=EXIT_MODES[exits.lower()] if exits is not None else None,
    )
    return BracketForm(request, options.get("account"))


def _options(tokens: list[str]) -> dict[str, str]:
    options: dict[str, str] = {}
    for token in tokens:
        lowered = token.lower()
        match = _OPTION.match(lowered)
        if lowered in ("breakeven", "be"):
            key, value = "breakeven", ""
        elif match is not None and match.group(1) in _KNOWN:
            key = match.group(1)
            value = token[len(key) + 1 :]  # keep the case of account names
        else:
            raise ValidationError("BRACKET_OPTION_UNKNOWN", value=token[:40])
        if key in options:
            raise ValidationError("ORDER_OPTION_REPEATED", value=key)
        options[key] = value
    return options
