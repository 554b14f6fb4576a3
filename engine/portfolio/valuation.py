"""Valuing one account at current prices, falling back to its last stored valuation."""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

from engine.accounts.models import Account
from engine.common.money import ZERO
from engine.errors import ExchangeError, ValidationError
from engine.exchanges.models import BalanceEntry
from engine.exchanges.ports import ExchangeGateway, GatewayProvider
from engine.portfolio.models import (
    USD_STABLE,
    VALUATION_ASSET,
    AccountValuation,
    DerivativePosition,
    Holding,
    StoredValuation,
)
from engine.portfolio.ports import DerivativePositionSource

logger = logging.getLogger(__name__)


async def value_account(
    gateways: GatewayProvider,
    account: Account,
    last: StoredValuation | None,
    now: datetime,
    balances: dict[str, BalanceEntry] | None = None,
) -> AccountValuation:
    """Value the account's balances now; on ExchangeError return the last stored valuation instead.

    The fallback carries the error code and the time of the stored
    valuation (no holdings and no time if there is none), so the account
    is shown as unreachable and never silently dropped. ``balances`` already
    read (a PAPER account's, read with the rest of a summary) are not fetched again.
    """
    try:
        gateway = await gateways.gateway_for(account)
        if balances is None:
            balances = await gateway.fetch_balance()
        holdings = [
            await _value(gateway, asset, entry.free, entry.used)
            for asset, entry in sorted(balances.items())
            if entry.total != ZERO  # a negative balance is borrowed, and lowers the total
        ]
        derivatives = await _derivatives(gateway)
    except ExchangeError as exc:
        logger.warning("Valuing account %s failed (%s): %s", account.id, exc.code, exc)
        return AccountValuation(
            account=account,
            holdings=list(last.holdings) if last else [],
            valued_at=last.valued_at if last else None,
            error=exc.code,
        )
    holdings.sort(key=lambda h: h.value if h.value is not None else ZERO, reverse=True)
    return AccountValuation(account=account, holdings=holdings, valued_at=now, derivatives=derivatives)


async def _value(gateway: ExchangeGateway, asset: str, free: Decimal, locked: Decimal) -> Holding:
    total = free + locked
    if asset in USD_STABLE:
        return Holding(asset, free, locked, Decimal(1), total)
    try:
        ticker = await gateway.fetch_ticker(f"{asset}/{VALUATION_ASSET}")
    except ValidationError:
        return Holding(asset, free, locked, None, None)
    return Holding(asset, free, locked, ticker.last, total * ticker.last)


async def _derivatives(gateway: ExchangeGateway) -> list[DerivativePosition]:
    if not isinstance(gateway, DerivativePositionSource):
        return []
    positions = await gateway.fetch_positions()
    return [position for position in positions if position.contracts != ZERO]
