"""Message formatting: HTML escaping, numbers in the reader's locale, long-text splitting."""

from __future__ import annotations

import html
import re
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime
from babel.numbers import (
    NumberPattern,
    get_decimal_precision,
    get_decimal_symbol,
    get_group_symbol,
    parse_pattern,
)

from engine.common.money import strip_zeros

TELEGRAM_TEXT_LIMIT = 4096
DISPLAY_PRECISION = 60
# Babel's exact pattern "#,##0.##################" allows 18 fraction digits, and a longer
# fraction widens it, so no digit is lost.
EXACT_PLACES = 18
_TAG = re.compile(r"<(/?)([a-zA-Z-]+)([^>]*)>")


# Explicit bidirectional controls (embeddings, overrides, isolates, marks). An
# unclosed one in a quoted value would reverse the rest of the line it is in.
_BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def esc(value: object) -> str:
    """Escape any user- or exchange-supplied value for HTML parse mode, dropping bidi controls."""
    return html.escape(_BIDI_CONTROLS.sub("", str(value)), quote=False)


def number(value: Decimal, locale: str, places: int | None = None) -> str:
    """Format a Decimal with the locale's grouping; exact unless ``places`` rounds it for display."""
    if value.is_infinite():
        # Risk figures of positions with no equity behind them; no Decimal context rounds them.
        return "-∞" if value < 0 else "∞"
    # Babel quantizes in the current context; 28 digits would fail on long values.
    with localcontext() as context:
        context.prec = DISPLAY_PRECISION
        if places is not None:
            value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
            return _render(value, places, places, locale)
        exact = strip_zeros(value)
        return _render(exact, 0, max(EXACT_PLACES, get_decimal_precision(exact)), locale)


def _render(value: Decimal, min_places: int, max_places: int, locale: str) -> str:
    """Lay out ``value`` as Babel's NumberPattern.apply does for "#,##0.0#" patterns (Babel 2.19).

    Babel looks up the locale's symbols and walks the pattern on every call,
    about 30 µs a number, and a /portfolio reply shows 25 numbers.
    tests/bot/test_formatting.py checks the output against Babel's.
    """
    if not value.is_finite():
        pattern = _babel_pattern(min_places, max_places)
        return pattern.apply(value, _locale(locale), decimal_quantization=False)
    decimal_symbol, group_symbol = _symbols(locale)
    sign = "-" if value.is_signed() else ""
    rounded = abs(value).normalize().quantize(Decimal(1).scaleb(-max_places))
    whole, _, fraction = f"{rounded:f}".partition(".")
    if len(whole) > 3:
        whole = f"{int(whole):,}".replace(",", group_symbol)
    fraction = (fraction or "0").ljust(min_places, "0")
    if max_places == 0 or (min_places == 0 and int(fraction) == 0):
        return sign + whole
    fraction = fraction[:min_places] + fraction[min_places:].rstrip("0")
    return sign + whole + decimal_symbol + fraction


@lru_cache(maxsize=32)
def _symbols(name: str) -> tuple[str, str]:
    """Return the locale's decimal and group symbols."""
    locale = _locale(name)
    return get_decimal_symbol(locale), get_group_symbol(locale)


@lru_cache(maxsize=32)
def _locale(name: str) -> Locale:
    return Locale.parse(name)


@lru_cache(maxsize=32)
def _babel_pattern(min_places: int, max_places: int) -> NumberPattern:
    """Return the Babel pattern that ``_render`` lays out by hand (for NaN; ``number`` shows infinities)."""
    fraction = "0" * min_places + "#" * (max_places - min_places)
    return parse_pattern("#,##0." + fraction if fraction else "#,##0")


def money(value: Decimal, asset: str, locale: str) -> str:
    """Format an amount of a fiat-like asset, rounded to cents for display (``1,234.56 USDT``)."""
    return f"{number(value, locale, places=2)} {esc(asset)}"


def amount(value: Decimal, asset: str, locale: str) -> str:
    """Format a quantity with all its digits (``0.00123 BTC``)."""
    return f"{number(value, locale)} {esc(asset)}"


def percent(fraction: Decimal, locale: str, places: int = 2) -> str:
    return f"{number(fraction * 100, locale, places=places)} %"


def moment(value: datetime, timezone: str, locale: str) -> str:
    """Format a timestamp in the user's time zone, e.g. ``2026-12-04 21:05 (Europe/Moscow)``."""
    local = value.astimezone(ZoneInfo(timezone))
    return f"{format_datetime(local, 'yyyy-MM-dd HH:mm', locale=locale)} ({esc(timezone)})"


def split_message(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """Split HTML text into parts of at most ``limit`` characters.

    Parts break between lines where possible and inside a line only when the
    line alone is too long. A tag still open at a break is closed at the end
    of the part and opened again at the start of the next, and no tag or
    character entity is ever cut in two.
    """
    if len(text) <= limit:
        return [text]
    splitter = _Splitter(limit)
    for line in text.split("\n"):
        splitter.add_line(line)
    return splitter.finish()


class _Splitter:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.current = ""
        self.open_tags: list[tuple[str, str]] = []  # (name, full opening tag)

    def closing(self) -> str:
        return "".join(f"</{name}>" for name, _ in reversed(self.open_tags))

    def flush(self) -> None:
        body = self.current.rstrip("\n")
        if body.strip():
            self.parts.append(body + self.closing())
        self.current = "".join(tag for _, tag in self.open_tags)

    def add_line(self, line: str) -> None:
        tokens = [*_tokens(line), "\n"]
        line_closing = _closing_after(tokens, self.open_tags)
        if len(self.current) + len(line) + 1 + len(line_closing) <= self.limit:
            self._append(tokens)
            return
        self.flush()
        for token in tokens:
            if len(self.current) + len(token) + len(_closing_after([token], self.open_tags)) > self.limit:
                self.flush()
            self._append([token])

    def _append(self, tokens: list[str]) -> None:
        for token in tokens:
            self.current += token
            _track_tag(token, self.open_tags)

    def finish(self) -> list[str]:
        body = self.current.rstrip("\n")
        if body.strip():
            self.parts.append(body)
        return self.parts


def _closing_after(tokens: list[str], open_tags: list[tuple[str, str]]) -> str:
    tags = list(open_tags)
    for token in tokens:
        _track_tag(token, tags)
    return "".join(f"</{name}>" for name, _ in reversed(tags))


def _tokens(text: str) -> list[str]:
    """Split a line into tags, entities, words with their trailing spaces, and single characters."""
    return re.findall(r"<[^>]*>|&[#a-zA-Z0-9]+;|[^<& ]{1,256} *| +|[<&]", text)


def _track_tag(token: str, open_tags: list[tuple[str, str]]) -> None:
    match = _TAG.fullmatch(token)
    if match is None:
        return
    closing, name = match.group(1), match.group(2).lower()
    if not closing:
        open_tags.append((name, token))
        return
    for index in range(len(open_tags) - 1, -1, -1):
        if open_tags[index][0] == name:
            del open_tags[index]
            break
