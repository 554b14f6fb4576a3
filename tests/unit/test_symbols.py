from __future__ import annotations

import pytest

from engine.errors import ValidationError
from engine.market.symbols import normalize_symbol


@pytest.mark.parametrize(
    ("text", "symbol"),
    [
        ("BTCUSDT", "BTC/USDT"),
        ("btcusdt", "BTC/USDT"),
        ("BTC/USDT", "BTC/USDT"),
        (" eth-usdt ", "ETH/USDT"),
        ("SOL_USDC", "SOL/USDC"),
        ("ETHBTC", "ETH/BTC"),
        ("1000PEPEUSDT", "1000PEPE/USDT"),
    ],
)
def test_symbol_forms_are_normalized(text: str, symbol: str) -> None:
    assert normalize_symbol(text) == symbol


@pytest.mark.parametrize("text", ["", "USDT", "BTC/", "BTC//USDT", "<b>", "BTC USDT", "A" * 60, "BTCXYZ"])
def test_bad_symbols_are_rejected(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalize_symbol(text)
    assert caught.value.code == "SYMBOL_INVALID"
