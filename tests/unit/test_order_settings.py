"""Settings of PAPER matching and order tracking: read from the environment, invalid values named."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("PAPER_FILL_VOLUME_SHARE", "PAPER_BUY_FEE_IN_BASE", "ORDER_SYNC_INTERVAL_SECONDS"):
        monkeypatch.delenv(name, raising=False)


def test_defaults() -> None:
    settings = load_settings()
    assert settings.paper_matching.fill_volume_share == Decimal("0.1")
    assert settings.paper_matching.buy_fee_in_base is False
    assert settings.orders.sync_interval_seconds == 15
    assert settings.orders.lookup_attempts == 4


def test_values_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPER_FILL_VOLUME_SHARE", "0.25")
    monkeypatch.setenv("PAPER_BUY_FEE_IN_BASE", "true")
    monkeypatch.setenv("ORDER_SYNC_INTERVAL_SECONDS", "30")
    settings = load_settings()
    assert settings.paper_matching.fill_volume_share == Decimal("0.25")
    assert settings.paper_matching.buy_fee_in_base is True
    assert settings.orders.sync_interval_seconds == 30


def test_invalid_share_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPER_FILL_VOLUME_SHARE", "0")
    with pytest.raises(SettingsError) as failed:
        load_settings()
    assert "PAPER_FILL_VOLUME_SHARE" in str(failed.value)


def test_unknown_after_must_outlast_the_lookups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDER_LOOKUP_ATTEMPTS", "4")
    monkeypatch.setenv("ORDER_LOOKUP_DELAY_SECONDS", "2")
    monkeypatch.setenv("ORDER_UNKNOWN_AFTER_SECONDS", "8")

    with pytest.raises(SettingsError) as failed:
        load_settings()

    assert "ORDER_UNKNOWN_AFTER_SECONDS" in str(failed.value)
    assert "= 8 seconds" in str(failed.value)
