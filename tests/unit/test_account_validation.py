"""Shapes of pasted keys per exchange, and account names."""

from __future__ import annotations

import pytest

from engine.accounts.models import Exchange
from engine.accounts.validation import parse_key_part, validate_account_name
from engine.errors import ValidationError
from tests.bot.linking import KEYS

PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIF1pZmFrZWVkMjU1MTlrZXlmb3J0ZXN0c29ubHkx\n"
    "-----END PRIVATE KEY-----"
)


@pytest.mark.parametrize("exchange", ["BINANCE", "BYBIT", "OKX", "MEXC"])
def test_issued_key_shapes_are_accepted(exchange: str) -> None:
    keys = KEYS[exchange]
    assert parse_key_part(Exchange(exchange), "api_key", f" {keys.api_key}\n").reveal() == keys.api_key
    assert parse_key_part(Exchange(exchange), "secret", keys.secret).reveal() == keys.secret
    if keys.passphrase is not None:
        assert parse_key_part(Exchange(exchange), "passphrase", keys.passphrase).reveal() == keys.passphrase


@pytest.mark.parametrize(
    ("exchange", "part", "text"),
    [
        ("BINANCE", "api_key", "tooShort123"),
        ("BINANCE", "secret", KEYS["BINANCE"].secret[:-1] + "!"),
        ("BYBIT", "api_key", KEYS["BYBIT"].api_key + " extra"),
        ("OKX", "api_key", KEYS["OKX"].secret),  # the secret pasted as the key
        ("OKX", "secret", "XYZ" * 11 + "Q"),  # not hexadecimal
        ("OKX", "passphrase", "two words"),
        ("MEXC", "secret", KEYS["MEXC"].secret[:20]),
    ],
)
def test_malformed_keys_are_refused_without_their_text(exchange: str, part: str, text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_key_part(Exchange(exchange), part, text)
    assert caught.value.code == "API_KEY_MALFORMED"
    assert caught.value.fields["part"] == part
    assert text not in repr(caught.value.fields)


def test_pem_private_key_is_a_binance_secret() -> None:
    assert parse_key_part(Exchange.BINANCE, "secret", f"\n{PEM}\n").reveal() == PEM
    with pytest.raises(ValidationError):
        parse_key_part(Exchange.MEXC, "secret", PEM)


@pytest.mark.parametrize(("text", "name"), [("  Binance   main ", "Binance main"), ("Счёт №1", "Счёт №1")])
def test_account_names_are_trimmed(text: str, name: str) -> None:
    assert validate_account_name(text) == name


@pytest.mark.parametrize("text", ["", "   ", "x" * 33, "bell\x07"])
def test_bad_account_names_are_refused(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_account_name(text)
    assert caught.value.code == "ACCOUNT_NAME_INVALID"
