"""Settings from the environment and ``.env``, one class per area.

Each class reads its own variables; ``load_settings`` gathers them and turns
a validation failure into a ``SettingsError`` that names each bad variable and
what it expects, so start-up stops with a readable message.
"""

from __future__ import annotations

import importlib.util
import ipaddress
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

from storage.vault import MasterKeyError, parse_master_keys

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
        if value is None:
            return None
        parts = urlsplit(value)
        try:
            port_ok = parts.port is None or 0 < parts.port < 65536
        except ValueError:
            port_ok = False
        if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
            raise ValueError("expected an http:// or https:// URL with a host, e.g. https://api.telegram.org")
        return value.rstrip("/")


class DatabaseSettings(BaseSettings):
    model_config = _config()

    database_url: str = Field(default="sqlite+aiosqlite:///patriot.db")
    db_busy_timeout_ms: int = Field(default=5000, ge=0, le=600_000)
    # "inline" runs each statement on the event loop's thread (storage/sqlite_inline.py);
    # aiosqlite runs it in its worker thread. Ignored for PostgreSQL.
    database_sqlite_driver: Literal["aiosqlite", "inline"] = "inline"

    @field_validator("database_url")
    @classmethod
    def _check_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("expected sqlite+aiosqlite:///path.db or postgresql+asyncpg://user@host/db")
        database = make_url(value).database
        if value.startswith("sqlite") and database and database != ":memory:":
            directory = Path(database).parent
            if not directory.is_dir():
                raise ValueError(f"the database file's directory {directory} does not exist; create it first")
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

    @field_validator("unknown_after_seconds")
    @classmethod
    def _outlast_the_lookups(cls, value: float, info: ValidationInfo) -> float:
        # A sync pass during the order path's own lookups could reject an order whose create
        # response was lost but which the exchange filled.
        lookups = info.data.get("lookup_attempts", 1) * info.data.get("lookup_delay_seconds", 0.0)
        if value <= lookups:
            raise ValueError(
                "expected more than ORDER_LOOKUP_ATTEMPTS x ORDER_LOOKUP_DELAY_SECONDS = "
                f"{lookups:g} seconds, so the sync never gives up on an order still being looked up"
            )
        return value


class BracketSettings(BaseSettings):
    """Bracket orders: PAPER's kind of exits, and how often the bot checks every bracket."""

    model_config = _config()

    # native: OCO pairs rest on PAPER and protect while the bot is down; synthetic: the bot watches prices.
    paper_bracket_exits: Literal["native", "synthetic"] = "native"
    # Seconds between two passes over every active bracket (watched exits and self-healing).
    bracket_watch_interval_seconds: float = Field(default=2.0, ge=0.5, le=300)
    # Binance's OCO stop leg is a stop-limit: its limit lies this many percent beyond the stop.
    bracket_stop_limit_offset_percent: Decimal = Field(default=Decimal("0.5"), gt=0, le=10)


class TradingSettings(BaseSettings):
    model_config = _config()

    order_confirm_timeout_seconds: int = Field(default=60, ge=10, le=3600)


class AnalyticsSettings(BaseSettings):
    model_config = _config("ANALYTICS_")

    snapshot_interval_minutes: int = Field(default=60, ge=5, le=1440)
    lookback_days: int = Field(default=365, ge=30, le=3650)


class RiskSettings(BaseSettings):
    model_config = _config("RISK_")

    scan_interval_seconds: int = Field(default=60, ge=5, le=3600)
    var_lookback_days: int = Field(default=365, ge=30, le=730)
    report_check_seconds: int = Field(default=60, ge=10, le=3600)


class OutboxSettings(BaseSettings):
    model_config = _config("OUTBOX_")

    # Telegram allows about 30 messages a second to different chats and one a second to one chat.
    rate_per_second: float = Field(default=25.0, gt=0, le=1000)
    chat_interval_seconds: float = Field(default=1.0, ge=0, le=60)
    max_in_flight: int = Field(default=25, ge=1, le=200)
    max_attempts: int = Field(default=12, ge=1, le=100)
    retry_base_seconds: float = Field(default=2.0, gt=0, le=600)
    retry_max_seconds: float = Field(default=300.0, gt=0, le=86400)
    global_flood_chats: int = Field(default=3, ge=1, le=1000)
    broadcast_progress_seconds: int = Field(default=10, ge=1, le=3600)


class RateLimitSettings(BaseSettings):
    model_config = _config("RATE_LIMIT_")

    commands_per_minute: int = Field(default=60, ge=1, le=10_000)
    orders_per_minute: int = Field(default=20, ge=1, le=10_000)
    order_gap_ms: int = Field(default=100, ge=0, le=60_000)


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

    @field_validator("redis_url")
    @classmethod
    def _require_redis_package(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and importlib.util.find_spec("redis") is None:
            raise ValueError("needs the redis package: pip install -e '.[redis]'")
        return value


class VaultSettings(BaseSettings):
    """The master key that encrypts exchange API keys (see storage/vault.py)."""

    model_config = _config()

    master_key: SecretStr | None = Field(default=None, description="Fernet keys, newest first")
    master_key_file: Path | None = None

    @field_validator("master_key")
    @classmethod
    def _check_key_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        try:
            parse_master_keys(value.get_secret_value())
        except MasterKeyError as exc:
            raise ValueError(str(exc).removeprefix("MASTER_KEY: ")) from None
        return value


class ExchangeSettings(BaseSettings):
    """Live exchange accounts: sessions, market cache, key checks."""

    model_config = _config("EXCHANGE_")

    # Public IP addresses of this server, shown to users for their keys' IP whitelist.
    ip_whitelist: Annotated[list[str], NoDecode] = Field(default_factory=list)
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    markets_ttl_minutes: int = Field(default=60, ge=1, le=24 * 60)
    key_check_interval_minutes: int = Field(default=60, ge=5, le=7 * 24 * 60)

    @field_validator("ip_whitelist", mode="before")
    @classmethod
    def _split_addresses(cls, value: object) -> object:
        if isinstance(value, str):
            return [part for part in value.replace(";", ",").replace(" ", ",").split(",") if part]
        return value

    @field_validator("ip_whitelist")
    @classmethod
    def _check_addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            try:
                ipaddress.ip_network(address, strict=False)
            except ValueError:
                raise ValueError(f"expected IP addresses separated by commas, got {address[:45]!r}") from None
        return value


class PinSettings(BaseSettings):
    """The trading PIN: how long a correct PIN counts, and the lockout after wrong ones."""

    model_config = _config("PIN_")

    # Seconds after a correct PIN during which guarded actions need no PIN. With 0, every one needs it.
    session_seconds: int = Field(default=300, ge=0, le=3600)
    # How long a PIN prompt waits for the answer before the action it guards is dropped.
    prompt_seconds: int = Field(default=120, ge=30, le=900)
    max_attempts: int = Field(default=5, ge=3, le=10)
    lockout_minutes: int = Field(default=30, ge=1, le=1440)
    # log2 of scrypt's N (memory and time grow with it): 14 is 16 MiB and tens of milliseconds per check.
    scrypt_cost: int = Field(default=14, ge=10, le=20)


def _vault_settings() -> VaultSettings:
    return VaultSettings(_env_file=None)  # type: ignore[call-arg]


def _exchange_settings() -> ExchangeSettings:
    return ExchangeSettings(_env_file=None)  # type: ignore[call-arg]


@dataclass(frozen=True)
class Settings:
    telegram: TelegramSettings
    database: DatabaseSettings
    paper: PaperSettings
    trading: TradingSettings
    logging: LoggingSettings
    storage: StorageSettings
    # Defaulted so code that builds Settings by hand (tests) need not list them.
    analytics: AnalyticsSettings = field(default_factory=lambda: AnalyticsSettings(_env_file=None))
    vault: VaultSettings = field(default_factory=_vault_settings)
    exchanges: ExchangeSettings = field(default_factory=_exchange_settings)
    risk: RiskSettings = field(default_factory=lambda: RiskSettings(_env_file=None))
    outbox: OutboxSettings = field(default_factory=lambda: OutboxSettings(_env_file=None))
    rate_limit: RateLimitSettings = field(default_factory=lambda: RateLimitSettings(_env_file=None))
    paper_matching: PaperMatchingSettings = field(
        default_factory=lambda: PaperMatchingSettings(_env_file=None)
    )
    orders: OrderSettings = field(default_factory=lambda: OrderSettings(_env_file=None))
    pin: PinSettings = field(default_factory=lambda: PinSettings(_env_file=None))
    brackets: BracketSettings = field(default_factory=lambda: BracketSettings(_env_file=None))


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
        "analytics": (AnalyticsSettings, "ANALYTICS_"),
        "vault": (VaultSettings, ""),
        "exchanges": (ExchangeSettings, "EXCHANGE_"),
        "risk": (RiskSettings, "RISK_"),
        "outbox": (OutboxSettings, "OUTBOX_"),
        "rate_limit": (RateLimitSettings, "RATE_LIMIT_"),
        "paper_matching": (PaperMatchingSettings, "PAPER_"),
        "orders": (OrderSettings, "ORDER_"),
        "pin": (PinSettings, "PIN_"),
        "brackets": (BracketSettings, ""),
    }
    values: dict[str, BaseSettings] = {}
    problems: list[str] = []
    for area, (settings_class, prefix) in classes.items():
        try:
            values[area] = settings_class(_env_file=env_file or ENV_FILE)  # type: ignore[call-arg]
        except ValidationError as exc:
            problems.extend(_describe(exc, prefix))
        except UnicodeDecodeError as exc:
            source = env_file or ENV_FILE
            raise SettingsError(f"Invalid settings:\n  - {source}: not UTF-8 text ({exc.reason})") from exc
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
