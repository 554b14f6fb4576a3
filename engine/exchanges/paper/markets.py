"""Trading rules of the PAPER exchange: Binance spot filters for the replayed pairs.

Tick size, step size and minimums of BTC, ETH, ADA and XRP come from ccxt's
recorded Binance market definitions (ccxt repository,
ts/src/test/static/markets/binance.json). Fees are Binance's base spot rate of
0.1 %; the PAPER settings may override them.
"""

from __future__ import annotations

from decimal import Decimal as D

from engine.market.models import Market

_FEE = D("0.001")


def _spot(symbol: str, price_step: str, amount_step: str, min_amount: str, max_amount: str) -> Market:
    base, quote = symbol.split("/")
    return Market(
        symbol=symbol,
        base=base,
        quote=quote,
        price_step=D(price_step),
        amount_step=D(amount_step),
        min_amount=D(min_amount),
        min_cost=D("5"),
        taker_fee=_FEE,
        maker_fee=_FEE,
        max_amount=D(max_amount),
    )


PAPER_MARKETS: dict[str, Market] = {
    market.symbol: market
    for market in (
        _spot("BTC/USDT", "0.01", "0.00001", "0.00001", "9000"),
        _spot("ETH/USDT", "0.01", "0.0001", "0.0001", "9000"),
        # NOTE: SOL/USDT is absent from ccxt's recorded Binance markets; these are
        # Binance's SOLUSDT filters as listed by its exchangeInfo (tick 0.01, step 0.001).
        _spot("SOL/USDT", "0.01", "0.001", "0.001", "90000"),
        _spot("XRP/USDT", "0.0001", "1", "1", "9222449"),
        _spot("ADA/USDT", "0.0001", "0.1", "0.1", "900000"),
    )
}
