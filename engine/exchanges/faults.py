"""Test hook: exchange faults injected into the real process, for the end-to-end fault suite.

With ``PATRIOT_TEST_HOOKS=1`` and ``PATRIOT_TEST_EXCHANGE_FAULTS`` set, every
gateway the registry hands out is wrapped, and each ``create_order`` call
takes the next fault from that comma-separated list (an empty entry or the
end of the list means no fault):

- ``timeout_after_submit``: the order is placed, then the answer is lost;
- ``not_found_after_create``: as above, and the next lookups find nothing;
- ``server_error`` (HTTP 5xx), ``rate_limited`` (HTTP 429): nothing is placed, the outcome is unknown;
- ``insufficient_funds``, ``key_revoked``: the exchange refuses the order.

Nothing changes when the variables are not set; production never sets them.
With faults set, or a crash point that only the PENDING-first path passes,
PAPER orders take that path of a live exchange (see ``wrap_for_tests``).
"""

from __future__ import annotations

import logging
import os
from collections import deque
from typing import Any

from engine.common.crash_points import POINT_VARIABLE, hooks_enabled
from engine.errors import PermanentExchangeError, TemporaryExchangeError
from engine.exchanges.models import ExchangeOrder
from engine.exchanges.ports import ExchangeGateway
from engine.orders.models import OrderRequest

logger = logging.getLogger(__name__)

FAULTS_VARIABLE = "PATRIOT_TEST_EXCHANGE_FAULTS"
# Lookups that find nothing after a ``not_found_after_create``.
HIDDEN_LOOKUPS = 2

# Crash points that PAPER's one-transaction path passes. With one of these named
# and no faults, PAPER keeps that path, so the restart tests cover it too.
ONE_TRANSACTION_POINTS = frozenset({"order_before_persist", "order_before_commit", "order_recorded"})

_queue: deque[str] | None = None


def wrap_for_tests(gateway: ExchangeGateway) -> ExchangeGateway:
    """Return the gateway, wrapped in the fault injector when the test hooks need it.

    With PATRIOT_TEST_HOOKS=1 and exchange faults set, or a crash point outside
    ``ONE_TRANSACTION_POINTS`` (one that only the PENDING-first path or a
    bracket passes), the wrapper hides PAPER's one-transaction
    ``create_order_atomically``. PAPER orders then take the PENDING-first path
    of a live exchange, whose steps the faults and those crash points exercise.
    """
    if not hooks_enabled():
        return gateway
    faults = os.environ.get(FAULTS_VARIABLE)
    point = os.environ.get(POINT_VARIABLE)
    if not faults and (not point or point in ONE_TRANSACTION_POINTS):
        return gateway
    return FaultInjectingGateway(gateway, _faults())  # type: ignore[return-value]


def _faults() -> deque[str]:
    global _queue
    if _queue is None:
        text = os.environ.get(FAULTS_VARIABLE, "")
        _queue = deque(part.strip() for part in text.split(","))
        if text:
            logger.warning("Test hooks are on: exchange faults %s", text)
    return _queue


class FaultInjectingGateway:
    """Passes every call to the wrapped gateway; ``create_order`` fails as the next queued fault says."""

    def __init__(self, inner: ExchangeGateway, queue: deque[str]) -> None:
        self._inner = inner
        self._queue = queue
        self._hidden: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        if name == "create_order_atomically":
            raise AttributeError(name)  # so isinstance(..., AtomicOrderGateway) is False
        return getattr(self._inner, name)

    async def create_order(self, request: OrderRequest) -> ExchangeOrder:
        fault = self._queue.popleft() if self._queue else ""
        if fault:
            logger.warning("Test hook: %s on create_order %s", fault, request.client_order_id)
        if fault == "server_error":
            raise TemporaryExchangeError("HTTP 503 Service Unavailable", reason="EXCHANGE_UNAVAILABLE")
        if fault == "rate_limited":
            raise TemporaryExchangeError("HTTP 429 Too Many Requests", reason="RATE_LIMITED")
        if fault == "insufficient_funds":
            raise PermanentExchangeError("insufficient balance", reason="INSUFFICIENT_FUNDS")
        if fault == "key_revoked":
            raise PermanentExchangeError("API key revoked", reason="KEY_REJECTED")

        report = await self._inner.create_order(request)
        if fault == "not_found_after_create":
            self._hidden[request.client_order_id or ""] = HIDDEN_LOOKUPS
        if fault in ("timeout_after_submit", "not_found_after_create"):
            raise TemporaryExchangeError(
                "read timed out after the exchange accepted the order", reason="TIMEOUT"
            )
        return report

    async def fetch_order(
        self,
        symbol: str,
        *,
        exchange_order_id: str | None = None,
        client_order_id: str | None = None,
        is_trigger: bool = False,
    ) -> ExchangeOrder | None:
        hidden = self._hidden.get(client_order_id or "", 0)
        if hidden:
            self._hidden[client_order_id or ""] = hidden - 1
            return None
        return await self._inner.fetch_order(
            symbol,
            exchange_order_id=exchange_order_id,
            client_order_id=client_order_id,
            is_trigger=is_trigger,
        )
