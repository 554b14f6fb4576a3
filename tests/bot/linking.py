"""Keys of the right shape for each exchange, and a driver for the /link conversation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiogram.methods import TelegramMethod

from tests.harness import BotHarness, button_data


@dataclass(frozen=True)
class ExchangeKeys:
    api_key: str
    secret: str
    passphrase: str | None = None


KEYS = {
    "BINANCE": ExchangeKeys("bnKey0" + "A1b2C3d4" * 7 + "zz", "bnSec0" + "E5f6G7h8" * 7 + "yy"),
    "BYBIT": ExchangeKeys("BybitKey1234567890", "BybitSecret" + "x1Y2z3" * 4 + "Q"),
    "OKX": ExchangeKeys(
        "1a2b3c4d-1a2b-1a2b-1a2b-1a2b3c4d5e6f", "0123456789ABCDEF0123456789ABCDEF", "Pa$$w0rd!"
    ),
    "MEXC": ExchangeKeys("mx0vglABCDEFGHIJKL", "45d0b3c26f2644f19bfb98b07741b2f5"),
}


async def link_account(
    harness: BotHarness,
    user_id: int,
    exchange: str,
    *,
    name: str = "Main",
    keys: ExchangeKeys | None = None,
    testnet: bool = False,
) -> list[TelegramMethod[Any]]:
    """Run /link to the end; return every request the bot made on the way."""
    keys = keys or KEYS[exchange]
    made = list(await harness.send(user_id, "/link"))
    made += await harness.press(user_id, button_data(made, f"lx:{exchange}"))
    made += await harness.send(user_id, name)
    made += await harness.send(user_id, keys.api_key)
    made += await harness.send(user_id, keys.secret)
    if keys.passphrase is not None:
        made += await harness.send(user_id, keys.passphrase)
    if exchange != "MEXC":
        made += await harness.press(user_id, "lk:testnet" if testnet else "lk:real")
    return made
