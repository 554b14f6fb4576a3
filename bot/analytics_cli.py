"""``patriot analytics``: print the figures of a static portfolio from candle files as JSON."""

from __future__ import annotations

import argparse
import json
import math
import sys

from engine.analytics.params import parse_confidence, parse_horizon
from engine.analytics.static import analyze, price_file
from engine.errors import ValidationError
from engine.market.symbols import normalize_symbol

EXIT_USAGE = 2


def run_analytics(args: argparse.Namespace) -> int:
    try:
        files = [price_file(argument) for argument in args.prices]
        weights = _weights(args.weights) if args.weights else None
        confidence = parse_confidence(args.confidence)
        horizon = parse_horizon(args.horizon_hours)
        benchmark = normalize_symbol(args.benchmark) if args.benchmark else None
        if args.periods_per_year is not None and not (
            math.isfinite(args.periods_per_year) and args.periods_per_year > 0
        ):
            raise ValueError(f"--periods-per-year must be a positive number, got {args.periods_per_year}")
        result = analyze(
            files,
            weights,
            confidence=confidence,
            horizon_hours=horizon,
            periods_per_year=args.periods_per_year,
            benchmark=benchmark,
        )
    except ValidationError as exc:
        print(f"patriot analytics: {_describe(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except (OSError, ValueError) as exc:
        print(f"patriot analytics: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps(result, indent=2))
    return 0


def _weights(terms: list[str]) -> dict[str, float]:
    weights = {}
    for term in terms:
        symbol, separator, text = term.partition("=")
        try:
            weight = float(text)
        except ValueError:
            weight = math.nan
        if not separator or not math.isfinite(weight):
            raise ValueError(f"weight {term!r} is not SYMBOL=FRACTION, e.g. BTC/USDT=0.6")
        weights[normalize_symbol(symbol)] = weight
    return weights


def _describe(error: ValidationError) -> str:
    fields = error.fields
    if error.code == "CONFIDENCE_INVALID":
        return f"--confidence {fields['value']!r} is outside {fields['minimum']}-{fields['maximum']}"
    if error.code == "HORIZON_INVALID":
        return (
            f"--horizon-hours {fields['value']!r} is not a whole number of hours "
            f"from {fields['minimum']} to {fields['maximum']}"
        )
    if error.code == "SYMBOL_INVALID":
        return f"{fields['value']!r} is not a symbol like BTC/USDT or BTCUSDT"
    return f"{error.code} {fields}"
