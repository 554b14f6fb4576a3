"""Port for a source of last prices."""

from __future__ import annotations

from typing import Protocol

from engine.market.models import Ticker


class PriceFeed(Protocol):
    def symbols(self) -> list[str]:
        """Unified symbols this feed can price."""
        ...

    async def fetch_ticker(self, symbol: str) -> Ticker: ...

    async def close(self) -> None: ...
