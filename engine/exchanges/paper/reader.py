"""The PAPER simulator's state and its read-only answers: prices, the synthetic book, balances, orders."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import islice

from engine.common.clock import Clock
from engine.errors import ValidationError
from engine.exchanges.models import BalanceEntry, ExchangeOrder, ExchangeTrade, OrderBook
from engine.exchanges.paper.execution import PaperTerms, level_price, level_size, synthetic_levels
from engine.exchanges.paper.ledger import PaperBalance
from engine.exchanges.paper.markets import PAPER_MARKETS
from engine.exchanges.paper.prices import price_path_for
from engine.exchanges.paper.records import to_exchange_order
from engine.market.models import Market, Ticker
from engine.market.ports import PriceFeed
from engine.orders.models import OrderSide
from engine.uow import UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True)
class PaperConfig:
    starting_balance: Decimal
    quote_asset: str = "USDT"
    slippage: Decimal = Decimal("0.0005")
    taker_fee: Decimal | None = None  # None: the market's own fee
    maker_fee: Decimal | None = None
    # Share of a recorded candle's volume one order (or one book level) can fill.
    volume_share: Decimal = Decimal("0.1")
    buy_fee_in_base: bool = False


class PaperReader:
    """What every PAPER account reads; ``PaperExchange`` adds placing, changing and matching orders."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        prices: PriceFeed,
        clock: Clock,
        config: PaperConfig,
        markets: dict[str, Market] | None = None,
    ) -> None:
        self._uow = uow_factory
        self._prices = prices
        self._path = price_path_for(prices)
        self._clock = clock
        self.config = config
        available = set(prices.symbols())
        self.markets = {
            symbol: market for symbol, market in (markets or PAPER_MARKETS).items() if symbol in available
        }
        self._locks: dict[uuid.UUID, asyncio.Lock] = {}

    def market(self, symbol: str) -> Market:
        market = self.markets.get(symbol)
        if market is None:
            raise ValidationError("SYMBOL_UNKNOWN", value=symbol, known=sorted(self.markets))
        return market

    def taker_fee(self, market: Market) -> Decimal:
        return self.config.taker_fee if self.config.taker_fee is not None else market.taker_fee

    def terms(self, market: Market) -> PaperTerms:
        config = self.config
        return PaperTerms(
            taker_fee=self.taker_fee(market),
            maker_fee=config.maker_fee if config.maker_fee is not None else market.maker_fee,
            slippage=config.slippage,
            buy_fee_in_base=config.buy_fee_in_base,
            volume_share=config.volume_share,
        )

    # ----- market data ---------------------------------------------------------------

    async def fetch_ticker(self, symbol: str) -> Ticker:
        """Return the feed's last price, with bid and ask where a market order would fill."""
        market = self.market(symbol)
        ticker = await self._prices.fetch_ticker(symbol)
        return Ticker(
            symbol=symbol,
            last=ticker.last,
            timestamp=ticker.timestamp,
            bid=self.execution_price(market, OrderSide.SELL, ticker.last),
            ask=self.execution_price(market, OrderSide.BUY, ticker.last),
        )

    async def fetch_order_book(self, symbol: str, limit: int) -> OrderBook:
        """Return the synthetic book that market orders fill against (see ``execution``)."""
        market = self.market(symbol)
        terms = self.terms(market)
        ticker = await self._prices.fetch_ticker(symbol)
        candle = self._path.current_candle(symbol, ticker.last, self._clock.now())
        size = level_size(market, candle.volume, terms)
        # A buyer meets the ask side of the book and a seller the bid side.
        asks = list(islice(synthetic_levels(market, OrderSide.BUY, ticker.last, terms, size), limit))
        bids = list(islice(synthetic_levels(market, OrderSide.SELL, ticker.last, terms, size), limit))
        return OrderBook(symbol=symbol, bids=tuple(bids), asks=tuple(asks), timestamp=ticker.timestamp)

    def execution_price(self, market: Market, side: OrderSide, last: Decimal) -> Decimal:
        """Return the best level a taker meets: slippage against the trader, rounded away from them."""
        return level_price(market, side, last, self.config.slippage, 1)

    def opening_balances(self) -> list[PaperBalance]:
        """Balances a new PAPER account starts with."""
        return [PaperBalance(asset=self.config.quote_asset, free=self.config.starting_balance)]

    async def fetch_balance(self, account_id: uuid.UUID) -> dict[str, BalanceEntry]:
        async with self._uow(read_only=True) as uow:
            return await self.balances_in(uow, account_id)

    async def balances_in(self, uow: UnitOfWork, account_id: uuid.UUID) -> dict[str, BalanceEntry]:
        """Read the account's balances in the caller's transaction."""
        balances = await uow.paper.get_balances(account_id)
        return {
            asset: BalanceEntry(asset=asset, free=balance.free, used=balance.locked)
            for asset, balance in balances.items()
        }

    async def fetch_balances(
        self, account_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, dict[str, BalanceEntry]]:
        """Return the balances of many accounts in one read (the risk scan values every user at once)."""
        async with self._uow(read_only=True) as uow:
            books = await uow.paper.get_balances_many(account_ids)
        entries: dict[uuid.UUID, dict[str, BalanceEntry]] = {}
        for index, (account_id, balances) in enumerate(books.items()):
            if index and index % 1000 == 0:
                await asyncio.sleep(0)  # a scan of many accounts gives the loop a turn
            entries[account_id] = {
                asset: BalanceEntry(asset, balance.free, balance.locked)
                for asset, balance in balances.items()
            }
        return entries

    # ----- queries -------------------------------------------------------------------

    async def fetch_order(
        self,
        account_id: uuid.UUID,
        *,
        exchange_order_id: str | None = None,
        client_order_id: str | None = None,
    ) -> ExchangeOrder | None:
        async with self._uow(read_only=True) as uow:
            order = await uow.paper.get_order(
                account_id, exchange_order_id=exchange_order_id, client_order_id=client_order_id
            )
        return to_exchange_order(order) if order else None

    async def fetch_open_orders(self, account_id: uuid.UUID, symbol: str | None) -> list[ExchangeOrder]:
        async with self._uow(read_only=True) as uow:
            orders = await uow.paper.list_open_orders(account_id, symbol)
        return [to_exchange_order(order) for order in orders]

    async def fetch_my_trades(
        self, account_id: uuid.UUID, symbol: str, since: datetime | None
    ) -> list[ExchangeTrade]:
        async with self._uow(read_only=True) as uow:
            return await uow.paper.list_trades(account_id, symbol, since)
