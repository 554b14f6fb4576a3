"""The gateway of one live exchange account, over one reused ccxt client."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from engine.accounts.models import KEY_REJECTIONS, Exchange
from engine.common.clock import Clock
from engine.common.money import ZERO, ceil_to_step, floor_to_step, to_canonical
from engine.errors import ExchangeError, PermanentExchangeError, TemporaryExchangeError, ValidationError
from engine.exchanges.capabilities import capabilities_for
from engine.exchanges.ccxt.dialects import DIALECTS, STOP_LEG, TAKE_PROFIT_LEG
from engine.exchanges.ccxt.errors import translated_errors
from engine.exchanges.ccxt.lazy import ccxt
from engine.exchanges.ccxt.mapping import to_balances, to_exchange_order, to_order_book, to_ticker, to_trade
from engine.exchanges.ccxt.markets import MarketCatalog
from engine.exchanges.ccxt.precision import amount_text, price_text
from engine.exchanges.models import (
    BalanceEntry,
    Capabilities,
    ExchangeOrder,
    ExchangeOrderState,
    ExchangeTrade,
    OrderBook,
)
from engine.market.models import Market, Ticker
from engine.orders.models import OrderRequest, OrderSide, TimeInForce

logger = logging.getLogger(__name__)

T = TypeVar("T")
KeyRejected = Callable[[str], Awaitable[None]]

# A ticker fetched for the order preview is reused for the minimum-cost check
# of the market order that follows, instead of asking the exchange again.
TICKER_TTL = timedelta(seconds=3)
# How far beyond its stop an OCO stop-limit leg's limit price lies, as a fraction of the stop.
STOP_LIMIT_OFFSET = Decimal("0.005")


class CcxtGateway:
    """Implements ``ExchangeGateway`` for Binance, Bybit, OKX and MEXC spot accounts.

    ``on_key_rejected`` is awaited with the reason code when the exchange
    rejects the key itself (revoked, expired, IP not allowed), so that the
    account can be flagged. The error is still raised to the caller.
    """

    def __init__(
        self,
        exchange: Exchange,
        client: Any,
        *,
        account_id: uuid.UUID,
        testnet: bool,
        catalog: MarketCatalog,
        clock: Clock,
        secrets: Sequence[str] = (),
        on_key_rejected: KeyRejected | None = None,
        stop_limit_offset: Decimal = STOP_LIMIT_OFFSET,
    ) -> None:
        self.exchange = exchange
        self._dialect = DIALECTS[exchange]
        # What this gateway can place: an exchange whose pair is not built here reports no OCO,
        # so a bracket there chooses watched exits up front instead of failing over to them.
        listed = capabilities_for(exchange)
        oco = listed.oco and self._dialect.supports_oco
        self.capabilities: Capabilities = replace(
            listed,
            oco=oco,
            oco_stop_limit=stop_limit_offset if oco and self._dialect.oco_stop_is_limit else None,
            # Binance cancels the stop on a partial fill of the take-profit; OKX places the take-profit
            # only after it has cancelled the stop.
            oco_stop_survives_partial_fill=False,
        )
        self._stop_limit_offset = stop_limit_offset
        self._client = client
        self._account_id = account_id
        self._testnet = testnet
        self._catalog = catalog
        self._clock = clock
        self._secrets = tuple(secrets)
        self._on_key_rejected = on_key_rejected
        self._markets: dict[str, Market] = {}
        self._tickers: dict[str, Ticker] = {}

    async def _call(self, operation: Callable[[], Awaitable[T]]) -> T:
        try:
            with translated_errors(self.exchange, self._secrets):
                return await operation()
        except PermanentExchangeError as error:
            if error.reason in KEY_REJECTIONS and self._on_key_rejected is not None:
                logger.warning(
                    "Account %s: %s rejected the key: %s", self._account_id, self.exchange, error.reason
                )
                try:
                    await self._on_key_rejected(error.reason)
                except Exception:
                    logger.exception("Flagging the key of account %s failed", self._account_id)
            raise

    # ----- markets and prices ---------------------------------------------------

    async def load_markets(self, reload: bool = False) -> dict[str, Market]:
        self._markets = await self._call(
            lambda: self._catalog.markets(self._client, self.exchange, self._testnet, reload=reload)
        )
        return self._markets

    async def market(self, symbol: str) -> Market:
        markets = await self.load_markets()
        market = markets.get(symbol)
        if market is None:
            # The exchange lists thousands of symbols: the message names none.
            raise ValidationError("SYMBOL_UNKNOWN", value=symbol, known=[])
        return market

    async def fetch_ticker(self, symbol: str) -> Ticker:
        market = await self.market(symbol)
        cached = self._tickers.get(symbol)
        if cached is not None and self._clock.now() - cached.timestamp < TICKER_TTL:
            return cached
        raw = await self._call(lambda: self._client.fetch_ticker(symbol))
        # The exchange's own timestamp may lag; the cache ages from when it arrived.
        ticker = replace(
            to_ticker(raw, market, self._dialect.fields, now=self._clock.now()), timestamp=self._clock.now()
        )
        self._tickers[symbol] = ticker
        return ticker

    async def fetch_order_book(self, symbol: str, limit: int = 50) -> OrderBook:
        market = await self.market(symbol)
        raw = await self._call(lambda: self._client.fetch_order_book(symbol, limit))
        return to_order_book(raw, market, now=self._clock.now())

    async def fetch_balance(self) -> dict[str, BalanceEntry]:
        raw = await self._call(lambda: self._client.fetch_balance())
        return to_balances(raw, self._dialect.exact_balances(raw.get("info")))

    # ----- orders ---------------------------------------------------------------

    async def create_order(self, request: OrderRequest) -> ExchangeOrder:
        """Round, check minimums and send the order once; never retried here.

        Raises PermanentExchangeError ORDER_TYPE_UNSUPPORTED,
        REDUCE_ONLY_UNSUPPORTED, QUANTITY_BELOW_MIN or COST_BELOW_MIN before
        anything is sent.
        """
        if request.client_order_id is None:
            raise ValueError("every order needs a client_order_id before it is sent")
        self._check_supported(request)
        market = await self.market(request.symbol)
        sent = await self._rounded(request, market)
        arguments = await self._order_arguments(sent, market)

        logger.info(
            "Account %s: sending %s %s %s %s to %s (client order %s)",
            self._account_id,
            sent.type,
            sent.side,
            sent.quantity,
            sent.symbol,
            self.exchange,
            sent.client_order_id,
        )
        raw = await self._call(lambda: self._client.create_order(*arguments))
        order = to_exchange_order(
            raw,
            market,
            self._dialect.fields,
            now=self._clock.now(),
            is_trigger=self._dialect.is_trigger(sent.type),
            request=sent,
        )
        if raw.get("status") is None:
            # Bybit and OKX acknowledge with ids only, so the order is fetched once for its state.
            return await self._refreshed(order)
        return order

    async def create_oco(
        self, limit: OrderRequest, stop: OrderRequest
    ) -> tuple[ExchangeOrder, ExchangeOrder]:
        """Round both legs, check the minimums and send the pair once; never retried here.

        The stop leg rests as a stop-limit whose limit lies ``stop_limit_offset``
        (a fraction of the stop) beyond the stop, on the exchanges whose spot
        API has no market-priced stop for the pair (Binance). Raises
        PermanentExchangeError OCO_UNSUPPORTED where no pair is built.
        """
        if not self.capabilities.oco:
            raise PermanentExchangeError(
                f"{self.exchange} OCO orders are not supported by PATRIOT",
                reason="OCO_UNSUPPORTED",
                exchange=self.exchange.value,
            )
        if limit.client_order_id is None or stop.client_order_id is None:
            raise ValueError("every OCO leg needs a client_order_id before it is sent")
        market = await self.market(limit.symbol)
        limit = await self._rounded(limit, market)
        stop = await self._rounded(stop, market)
        stop_limit = self._stop_limit(market, stop)

        logger.info(
            "Account %s: sending OCO %s %s %s to %s, limit %s, stop %s/%s (client orders %s, %s)",
            self._account_id,
            limit.side,
            limit.quantity,
            limit.symbol,
            self.exchange,
            limit.price,
            stop.stop_price,
            stop_limit,
            limit.client_order_id,
            stop.client_order_id,
        )
        legs = await self._call(
            lambda: self._dialect.create_oco(
                self._client, market.symbol, limit, stop, to_canonical(stop_limit)
            )
        )
        return self._leg(legs, market, limit), self._leg(legs, market, stop)

    def sibling_leg_id(self, exchange_order_id: str) -> str | None:
        pair_leg = self._dialect.pair_leg_id(exchange_order_id)
        if pair_leg is None:
            return None
        algo_id, leg = pair_leg
        return f"{algo_id}:{STOP_LEG if leg == TAKE_PROFIT_LEG else TAKE_PROFIT_LEG}"

    def _stop_limit(self, market: Market, stop: OrderRequest) -> Decimal:
        """Return the stop leg's limit price: the stop moved by the offset away from the market, or less."""
        assert stop.stop_price is not None
        if stop.side is OrderSide.SELL:
            price = floor_to_step(stop.stop_price * (1 - self._stop_limit_offset), market.price_step)
            # Binance checks the minimum cost (NOTIONAL) at the limit price. A leg sized to just
            # meet it at the stop gets a limit nearer the stop, down to the stop itself.
            if market.min_cost > ZERO and price * stop.quantity < market.min_cost:
                price = min(ceil_to_step(market.min_cost / stop.quantity, market.price_step), stop.stop_price)
        else:
            price = ceil_to_step(stop.stop_price * (1 + self._stop_limit_offset), market.price_step)
        if price <= ZERO:
            raise PermanentExchangeError(
                f"the stop {stop.stop_price} leaves no limit price below it",
                reason="PRICE_STEP",
                symbol=market.symbol,
                step=market.price_step,
                value=stop.stop_price,
            )
        return price

    def _leg(self, legs: list[dict[str, Any]], market: Market, sent: OrderRequest) -> ExchangeOrder:
        """Build one leg's report, found by its client order id, with the request filling any gaps."""
        wanted = sent.client_order_id
        raw = next((leg for leg in legs if leg.get("clientOrderId") == wanted), None)
        if raw is None:
            # The caller treats the outcome as unknown and looks both legs up by their client order ids.
            raise TemporaryExchangeError(f"the OCO response lacks the leg {wanted}", reason="OCO_LEG_MISSING")
        is_trigger = self._dialect.separate_trigger_book
        now = self._clock.now()
        return to_exchange_order(
            raw, market, self._dialect.fields, now=now, is_trigger=is_trigger, request=sent
        )

    def _check_supported(self, request: OrderRequest) -> None:
        if request.type not in self.capabilities.order_types:
            raise PermanentExchangeError(
                f"{self.exchange} does not take {request.type} orders",
                reason="ORDER_TYPE_UNSUPPORTED",
                exchange=self.exchange.value,
                type=request.type.value,
            )
        if request.reduce_only and not self.capabilities.reduce_only:
            raise PermanentExchangeError(
                f"{self.exchange} spot has no reduce-only orders",
                reason="REDUCE_ONLY_UNSUPPORTED",
                exchange=self.exchange.value,
            )

    async def _rounded(self, request: OrderRequest, market: Market) -> OrderRequest:
        """Round to the market's precision with ccxt and refuse what is below the minimums."""
        symbol = market.symbol
        quantity = self._round_amount(market, request.quantity)
        price = self._round_price(market, request.price)
        stop = self._round_price(market, request.stop_price)

        if market.min_cost > 0:
            reference = price or stop or (await self.fetch_ticker(symbol)).last
            cost = quantity * reference
            if cost < market.min_cost:
                raise PermanentExchangeError(
                    f"{symbol} order worth {cost} is below the minimum {market.min_cost}",
                    reason="COST_BELOW_MIN",
                    symbol=symbol,
                    minimum=market.min_cost,
                    value=cost,
                    asset=market.quote,
                )
        return replace(request, quantity=quantity, price=price, stop_price=stop)

    def _round_price(self, market: Market, price: Decimal | None) -> Decimal | None:
        if price is None:
            return None
        try:
            return Decimal(price_text(self._client, market.symbol, price))
        except ccxt.InvalidOrder:  # the price rounds to zero
            raise PermanentExchangeError(
                f"{price} is below the {market.symbol} tick {market.price_step}",
                reason="PRICE_STEP",
                symbol=market.symbol,
                step=market.price_step,
                value=price,
            ) from None

    def _round_amount(self, market: Market, quantity: Decimal) -> Decimal:
        """Truncate to the step; refuse what rounds to zero or stays below the minimum."""
        try:
            rounded = Decimal(amount_text(self._client, market.symbol, quantity))
        except ccxt.InvalidOrder:  # the amount rounds down to zero
            rounded = Decimal(0)
        if rounded < market.min_amount:
            raise PermanentExchangeError(
                f"{quantity} {market.symbol} is below the minimum {market.min_amount}",
                reason="QUANTITY_BELOW_MIN",
                symbol=market.symbol,
                minimum=market.min_amount,
                value=quantity,
            )
        return rounded

    async def _order_arguments(self, request: OrderRequest, market: Market) -> tuple[Any, ...]:
        params: dict[str, Any] = {"clientOrderId": request.client_order_id}
        if request.stop_price is not None:
            params.update(self._dialect.trigger_params(request, _text(request.stop_price)))
        if request.type.needs_price and request.time_in_force is not TimeInForce.GTC:
            params["timeInForce"] = request.time_in_force.value
        if request.post_only:
            params["postOnly"] = True
        ccxt_type = "limit" if request.type.needs_price else "market"
        price = _text(request.price) if request.price is not None else None
        return (market.symbol, ccxt_type, request.side.value.lower(), _text(request.quantity), price, params)

    async def _refreshed(self, order: ExchangeOrder) -> ExchangeOrder:
        """Fetch an acknowledged order once for its state; keep the acknowledgement if that fails."""
        try:
            fetched = await self.fetch_order(
                order.symbol, exchange_order_id=order.exchange_order_id, is_trigger=order.is_trigger
            )
        except ExchangeError as error:
            logger.info(
                "Account %s: order %s acknowledged, state not read: %s",
                self._account_id,
                order.exchange_order_id,
                error,
            )
            return order
        return fetched if fetched is not None else order

    async def fetch_order(
        self,
        symbol: str,
        *,
        exchange_order_id: str | None = None,
        client_order_id: str | None = None,
        is_trigger: bool = False,
    ) -> ExchangeOrder | None:
        """Return the order, or None when the exchange does not know it.

        A lookup by client order id that finds nothing among regular orders also
        searches the trigger orders where the exchange keeps them apart, because
        the caller that resolves a lost response does not know which book the
        order is in.
        """
        if exchange_order_id is None and client_order_id is None:
            raise ValueError("fetch_order needs an exchange order id or a client order id")
        market = await self.market(symbol)
        pair_leg = self._dialect.pair_leg_id(exchange_order_id) if exchange_order_id is not None else None
        if pair_leg is not None:
            algo_id, leg = pair_leg
            algo = await self._find(symbol, algo_id, None, True)
            return await self._pair_leg(symbol, market, algo, leg) if algo is not None else None

        found = await self._find(symbol, exchange_order_id, client_order_id, is_trigger)
        if (
            found is None
            and client_order_id is not None
            and not is_trigger
            and self._dialect.separate_trigger_book
        ):
            is_trigger = True
            found = await self._find(symbol, exchange_order_id, client_order_id, is_trigger)
        if found is None:
            return None

        if is_trigger and self._dialect.pair_of(found):
            # Found by the client order id the pair carries: its take-profit leg's.
            return await self._pair_leg(symbol, market, found, TAKE_PROFIT_LEG)
        if is_trigger:
            fired = await self._call(lambda: self._dialect.triggered_order(self._client, symbol, found))
            if fired is not None:
                return self._order(fired, market, is_trigger=False)
        return self._order(found, market, is_trigger=is_trigger)

    async def _pair_leg(self, symbol: str, market: Market, algo: dict[str, Any], leg: str) -> ExchangeOrder:
        """One leg of a pair the exchange keeps as one order; a fired leg is the order it placed."""
        raw, is_trigger = await self._call(lambda: self._dialect.pair_leg(self._client, symbol, algo, leg))
        return self._order(raw, market, is_trigger=is_trigger)

    async def _find(
        self, symbol: str, order_id: str | None, client_order_id: str | None, is_trigger: bool
    ) -> dict[str, Any] | None:
        try:
            return await self._call(
                lambda: self._dialect.find_order(
                    self._client,
                    symbol,
                    order_id=order_id,
                    client_order_id=client_order_id,
                    is_trigger=is_trigger,
                )
            )
        except PermanentExchangeError as error:
            if error.reason == "ORDER_NOT_FOUND":
                return None
            raise

    async def cancel_order(
        self, symbol: str, exchange_order_id: str, *, is_trigger: bool = False
    ) -> ExchangeOrder:
        market = await self.market(symbol)
        pair_leg = self._dialect.pair_leg_id(exchange_order_id)
        # Cancelling either leg of a pair kept as one order cancels that order, so both legs.
        target_id = pair_leg[0] if pair_leg is not None else exchange_order_id
        params = {"trigger": True} if is_trigger or pair_leg is not None else {}
        logger.info(
            "Account %s: cancelling order %s on %s", self._account_id, exchange_order_id, self.exchange
        )
        raw = await self._call(lambda: self._client.cancel_order(target_id, symbol, params))
        if raw.get("status") is not None and raw.get("side") is not None and pair_leg is None:
            return self._order(raw, market, is_trigger=is_trigger)

        # Bybit and OKX return only ids for a cancel, so the order is read back.
        fetched = await self.fetch_order(symbol, exchange_order_id=exchange_order_id, is_trigger=is_trigger)
        if fetched is None:
            raise PermanentExchangeError(
                f"order {exchange_order_id} vanished after its cancel", reason="ORDER_NOT_FOUND"
            )
        if fetched.state is ExchangeOrderState.OPEN:
            # NOTE: the exchange accepted the cancel but still lists the order as
            # open. It is reported cancelled, and the order sync corrects any fill
            # that raced the cancel.
            return replace(fetched, state=ExchangeOrderState.CANCELED)
        return fetched

    async def edit_order(
        self,
        symbol: str,
        exchange_order_id: str,
        *,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> ExchangeOrder:
        if not self.capabilities.amend or self._dialect.pair_leg_id(exchange_order_id) is not None:
            raise PermanentExchangeError(
                f"{self.exchange} cannot amend orders in place",
                reason="AMEND_UNSUPPORTED",
                exchange=self.exchange.value,
            )
        market = await self.market(symbol)
        quantity_text = _text(self._round_amount(market, quantity)) if quantity is not None else None
        rounded_price, rounded_stop = self._round_price(market, price), self._round_price(market, stop_price)
        price_value = _text(rounded_price) if rounded_price is not None else None
        stop_value = _text(rounded_stop) if rounded_stop is not None else None
        await self._call(
            lambda: self._dialect.amend(
                self._client,
                symbol,
                exchange_order_id,
                quantity=quantity_text,
                price=price_value,
                stop_price=stop_value,
            )
        )
        is_trigger = stop_price is not None and self._dialect.separate_trigger_book
        fetched = await self.fetch_order(
            market.symbol, exchange_order_id=exchange_order_id, is_trigger=is_trigger
        )
        if fetched is None:
            raise PermanentExchangeError(
                f"order {exchange_order_id} vanished after its amend", reason="ORDER_NOT_FOUND"
            )
        return fetched

    async def fetch_open_orders(self, symbol: str | None = None) -> list[ExchangeOrder]:
        """Return regular and trigger orders that are still open, each once."""
        await self.load_markets()
        found: dict[str, ExchangeOrder] = {}
        for params, is_trigger in self._dialect.open_order_queries():
            raw_orders = await self._call(
                lambda params=params: self._client.fetch_open_orders(symbol, None, None, params)
            )
            for raw in raw_orders:
                market = self._markets.get(raw.get("symbol") or "")
                if is_trigger and self._dialect.pair_of(raw) and market is not None:
                    for leg in (TAKE_PROFIT_LEG, STOP_LEG):
                        order = await self._pair_leg(market.symbol, market, raw, leg)
                        found[order.exchange_order_id] = order
                    continue
                order = self._order(raw, market, is_trigger=is_trigger)
                found[order.exchange_order_id] = order
        return list(found.values())

    async def fetch_my_trades(self, symbol: str, since: datetime | None = None) -> list[ExchangeTrade]:
        market = await self.market(symbol)
        since_ms = int(since.timestamp() * 1000) if since is not None else None
        raw_trades = await self._call(lambda: self._client.fetch_my_trades(symbol, since_ms))
        now = self._clock.now()
        return [to_trade(trade, market, self._dialect.fields, now=now) for trade in raw_trades]

    def _order(self, raw: dict[str, Any], market: Market | None, *, is_trigger: bool) -> ExchangeOrder:
        is_trigger = is_trigger or self._dialect.marks_trigger(raw)
        now = self._clock.now()
        return to_exchange_order(raw, market, self._dialect.fields, now=now, is_trigger=is_trigger)

    async def close(self) -> None:
        await self._client.close()


def _text(value: Decimal) -> str:
    return format(value, "f")
