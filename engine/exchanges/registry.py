"""Hands out one reused gateway per account."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

from engine.accounts.models import Account
from engine.errors import PermanentExchangeError
from engine.exchanges.faults import wrap_for_tests
from engine.exchanges.paper.exchange import PaperExchange
from engine.exchanges.paper.gateway import PaperGateway
from engine.exchanges.ports import ExchangeGateway

logger = logging.getLogger(__name__)

LiveGatewayFactory = Callable[[Account], Awaitable[ExchangeGateway]]


class GatewayRegistry:
    """Caches gateways by account id and closes them all on shutdown."""

    def __init__(self, paper: PaperExchange, live_factory: LiveGatewayFactory | None = None) -> None:
        self.paper = paper
        self._live_factory = live_factory
        self._gateways: dict[uuid.UUID, ExchangeGateway] = {}

    async def gateway_for(self, account: Account) -> ExchangeGateway:
        cached = self._gateways.get(account.id)
        if cached is not None:
            return cached

        if account.is_paper:
            gateway: ExchangeGateway = PaperGateway(self.paper, account.id)
        elif self._live_factory is not None:
            gateway = await self._live_factory(account)
        else:
            raise PermanentExchangeError(
                f"no gateway for {account.exchange}", reason="EXCHANGE_NOT_CONFIGURED"
            )
        gateway = wrap_for_tests(gateway)
        self._gateways[account.id] = gateway
        return gateway

    async def forget(self, account_id: uuid.UUID) -> None:
        """Close and drop an account's gateway (after its keys change or it is removed)."""
        gateway = self._gateways.pop(account_id, None)
        if gateway is not None:
            await gateway.close()

    async def close(self) -> None:
        """Close every session at once: ccxt waits a quarter second per closed session."""
        gateways = list(self._gateways.items())
        self._gateways.clear()
        results = await asyncio.gather(*(gateway.close() for _, gateway in gateways), return_exceptions=True)
        for (account_id, _), result in zip(gateways, results, strict=True):
            if isinstance(result, Exception):
                logger.error("Closing the gateway of account %s failed", account_id, exc_info=result)
