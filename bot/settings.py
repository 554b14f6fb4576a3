"""Settings from the environment and ``.env``, one class per area.

Each class reads its own variables; ``load_settings`` gathers them and turns
a validation failure into a ``SettingsError`` that names each bad variable and
what it expects, so start-up stops with a readable message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_FILE = ".env"


def _config(prefix: str = "") -> SettingsConfigDict:
    # env_ignore_empty: "NAME=" in .env means "not set", so optional settings stay None.
    return SettingsConfigDict(
        env_prefix=prefix, env_file=ENV_FILE, extra="ignore", case_sensitive=False, env_ignore_empty=True
    )


class TelegramSettings(BaseSettings):
    model_config = _config()

    bot_token: SecretStr | None = Field(default=None, description="Bot token from @BotFather")
    telegram_api_base: str = Field(default="https://api.telegram.org", description="Bot API server URL")
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    polling_timeout_seconds: int = Field(default=30, ge=1, le=60)

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_admin_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.replace(";", ",").split(",")]
            return [part for part in parts if part]
        return value

    @field_validator("bot_token")
    @classmethod
    def _check_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        token = value.get_secret_value()
        bot_id, _, secret = token.partition(":")
        if not bot_id.isdigit() or len(secret) < 20:
            raise ValueError("expected the token from @BotFather, shaped like 123456:ABC-DEF...")
        return value

    @field_validator("telegram_api_base", "webhook_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None if value == "" else value
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return value.rstrip("/")


class DatabaseSettings(BaseSettings):
    model_config = _config()

    database_url: str = Field(default="sqlite+aiosqlite:///patriot.db")
    db_busy_timeout_ms: int = Field(default=5000, ge=0, le=600_000)

    @field_validator("database_url")
    @classmethod
    def _check_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("expected sqlite+aiosqlite:///path.db or postgresql+asyncpg://user@host/db")
        return value


class PaperSettings(BaseSettings):
    model_config = _config("PAPER_")

    starting_balance: Decimal = Field(default=Decimal("10000"), gt=0, max_digits=20)
    price_source: Literal["replay", "live"] = "replay"
    replay_speed: float = Field(default=1.0, gt=0, le=10_000)
    replay_anchor: datetime = Field(default=datetime.fromisoformat("2026-01-01T00:00:00+00:00"))
    live_exchange: Literal["binance", "bybit", "okx", "mexc"] = "binance"
    slippage: Decimal = Field(default=Decimal("0.0005"), ge=0, lt=Decimal("0.1"))
    taker_fee: Decimal | None = Field(default=None, ge=0, lt=Decimal("0.05"))

    @field_validator("replay_anchor")
    @classmethod
    def _require_time_zone(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("expected an ISO time with a zone, e.g. 2026-01-01T00:00:00+00:00")
        return value


class PaperMatchingSettings(BaseSettings):
    """PAPER matching: liquidity per candle, maker fee, fees in the bought asset, run interval."""

    model_config = _config("PAPER_")

    fill_volume_share: Decimal = Field(default=Decimal("0.1"), gt=0, le=1)
    maker_fee: Decimal | None = Field(default=None, ge=0, lt=Decimal("0.05"))
    buy_fee_in_base: bool = False
    match_interval_seconds: float = Field(default=5.0, ge=0.5, le=3600)


class OrderSettings(BaseSettings):
    """Order tracking, reconciliation with the exchanges, and TWAP execution."""

    model_config = _config("ORDER_")

    sync_interval_seconds: float = Field(default=15.0, ge=1, le=3600)
    sync_max_backoff_seconds: float = Field(default=600.0, ge=1, le=86_400)
    lookup_attempts: int = Field(default=4, ge=1, le=20)
    lookup_delay_seconds: float = Field(default=1.0, ge=0, le=60)
    unknown_after_lookups: int = Field(default=5, ge=1, le=1000)
    unknown_after_seconds: float = Field(default=300.0, ge=0, le=86_400)
    twap_check_seconds: float = Field(default=5.0, ge=1, le=600)


class TradingSettings(BaseSettings):
    model_config = _config()

    order_confirm_timeout_seconds: int = Field(default=60, ge=10, le=3600)


class LoggingSettings(BaseSettings):
    model_config = _config()

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class StorageSettings(BaseSettings):
    model_config = _config()

    redis_url: SecretStr | None = Field(default=None, description="Redis URL for FSM storage")


@dataclass(frozen=True)
class Settings:
    telegram: TelegramSettings
    database: DatabaseSettings
    paper: PaperSettings
    trading: TradingSettings
    logging: LoggingSettings
    storage: StorageSettings
    paper_matching: PaperMatchingSettings
    orders: OrderSettings


class SettingsError(Exception):
    """Invalid configuration; the message lists each variable and what it expects."""


def load_settings(env_file: Path | None = None) -> Settings:
    """Read every settings class; raise SettingsError naming each invalid variable."""
    classes = {
        "telegram": (TelegramSettings, ""),
        "database": (DatabaseSettings, ""),
        "paper": (PaperSettings, "PAPER_"),
        "trading": (TradingSettings, ""),
        "logging": (LoggingSettings, ""),
        "storage": (StorageSettings, ""),
        "paper_matching": (PaperMatchingSettings, "PAPER_"),
        "orders": (OrderSettings, "ORDER_"),
    }
    values: dict[str, BaseSettings] = {}
    problems: list[str] = []
    for area, (settings_class, prefix) in classes.items():
        try:
            values[area] = settings_class(_env_file=env_file or ENV_FILE)  # type: ignore[call-arg]
        except ValidationError as exc:
            problems.extend(_describe(exc, prefix))
    if problems:
        raise SettingsError("Invalid settings:\n" + "\n".join(f"  - {line}" for line in problems))
    return Settings(**values)  # type: ignore[arg-type]


def _describe(error: ValidationError, prefix: str) -> list[str]:
    lines = []
    for item in error.errors(include_url=False, include_input=False):
        name = (prefix + str(item["loc"][0])).upper() if item["loc"] else prefix.rstrip("_")
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"{name}: {message}")
    return lines
