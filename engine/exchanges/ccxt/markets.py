"""Market rules from ccxt market definitions, cached per exchange and environment."""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from engine.accounts.models import Exchange
from engine.common.clock import Clock
from engine.common.money import ZERO
from engine.exchanges.ccxt.precision import decimal_from_number, step_from_precision
from engine.market.models import Market

logger = logging.getLogger(__name__)

DEFAULT_FEE = Decimal("0.001")


def market_from_ccxt(raw: dict[str, Any], precision_mode: int) -> Market | None:
    """Return the engine's view of a ccxt market, or None when it lacks precision (abridged entries)."""
    precision = raw.get("precision") or {}
    price_step = step_from_precision(precision.get("price"), precision_mode)
    amount_step = step_from_precision(precision.get("amount"), precision_mode)
    if price_step is None or amount_step is None:
        return None

    limits = raw.get("limits") or {}
    amount_limits = limits.get("amount") or {}
    cost_limits = limits.get("cost") or {}
    min_amount = decimal_from_number(amount_limits.get("min")) or amount_step
    contract_size = decimal_from_number(raw.get("contractSize"))
    return Market(
        symbol=raw["symbol"],
        base=raw["base"],
        quote=raw["quote"],
        price_step=price_step,
        amount_step=amount_step,
        min_amount=max(min_amount, amount_step),
        min_cost=decimal_from_number(cost_limits.get("min")) or ZERO,
        taker_fee=_fee(raw.get("taker")),
        maker_fee=_fee(raw.get("maker")),
        max_amount=decimal_from_number(amount_limits.get("max")),
        is_spot=bool(raw.get("spot")),
        is_contract=bool(raw.get("contract")),
        contract_size=contract_size if raw.get("contract") else None,
    )


def _fee(value: Any) -> Decimal:
    fee = decimal_from_number(value)
    return fee if fee is not None else DEFAULT_FEE


@dataclass
class _Entry:
    raw: dict[str, Any]
    currencies: dict[str, Any] | None
    markets: dict[str, Market]
    loaded_at: datetime


class MarketCatalog:
    """Market definitions shared by every account on the same exchange and environment.

    The first gateway that needs them loads them through its own client; later
    gateways get a copy with ``set_markets`` instead of downloading them again.
    After ``ttl`` the next caller reloads them, so new listings and changed
    tick sizes arrive without a restart.
    """

    def __init__(self, clock: Clock, ttl: timedelta) -> None:
        self._clock = clock
        self._ttl = ttl
        self._entries: dict[tuple[Exchange, bool], _Entry] = {}
        self._locks: dict[tuple[Exchange, bool], asyncio.Lock] = {}
        # The load each client has, so that a client gets new definitions once after a reload.
        self._applied: weakref.WeakKeyDictionary[Any, datetime] = weakref.WeakKeyDictionary()

    async def markets(
        self, client: Any, exchange: Exchange, testnet: bool, *, reload: bool = False
    ) -> dict[str, Market]:
        """Return the markets, loading them with ``client`` when missing, expired or ``reload``."""
        key = (exchange, testnet)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            entry = self._entries.get(key)
            expired = entry is not None and self._clock.now() - entry.loaded_at >= self._ttl
            if reload or expired or entry is None:
                entry = await self._load(client, exchange, testnet, download=reload or expired)
                self._entries[key] = entry
                self._applied[client] = entry.loaded_at
            elif self._applied.get(client) != entry.loaded_at:
                client.set_markets(entry.raw, entry.currencies)
                self._applied[client] = entry.loaded_at
        return entry.markets

    async def _load(self, client: Any, exchange: Exchange, testnet: bool, *, download: bool) -> _Entry:
        # A client may arrive with markets already set (tests set recorded ones);
        # those are used for the first load, and a reload always downloads.
        if client.markets and not download:
            raw = client.markets
        else:
            raw = await client.load_markets(reload=True)
        markets = {}
        unusable = 0
        for symbol, definition in raw.items():
            try:
                market = market_from_ccxt(definition, client.precisionMode)
            except (ValueError, KeyError, ArithmeticError):
                market = None
            if market is None:
                unusable += 1  # no usable precision: the symbol cannot be traded through PATRIOT
                continue
            markets[symbol] = market
        logger.info(
            "Loaded %d %s markets (%s), skipped %d without usable precision",
            len(markets),
            exchange,
            "testnet" if testnet else "live",
            unusable,
        )
        return _Entry(raw, client.currencies, markets, self._clock.now())

    def forget(self) -> None:
        self._entries.clear()
