"""Settings validation: a bad value stops start-up naming the variable."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import SettingsError, load_settings

CLEAN = [
    "BOT_TOKEN",
    "ADMIN_IDS",
    "DATABASE_URL",
    "DATABASE_SQLITE_DRIVER",
    "TELEGRAM_API_BASE",
    "LOG_LEVEL",
    "PAPER_STARTING_BALANCE",
]


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in CLEAN:
        monkeypatch.delenv(name, raising=False)


def test_defaults_load_without_any_variable() -> None:
    settings = load_settings()
    assert settings.telegram.bot_token is None
    assert settings.database.database_url == "sqlite+aiosqlite:///patriot.db"
    assert settings.database.database_sqlite_driver == "inline"
    assert settings.paper.starting_balance == Decimal("10000")
    assert settings.paper.price_source == "replay"


def test_admin_ids_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_IDS", "1, 22;333")
    assert load_settings().telegram.admin_ids == [1, 22, 333]


def test_env_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PAPER_STARTING_BALANCE=2500.50\nLOG_LEVEL=debug\n")
    settings = load_settings()
    assert settings.paper.starting_balance == Decimal("2500.50")
    assert settings.logging.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("ADMIN_IDS", "12,abc", "ADMIN_IDS"),
        ("BOT_TOKEN", "not-a-token", "BOT_TOKEN: expected the token from @BotFather"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL: expected sqlite+aiosqlite"),
        (
            "DATABASE_SQLITE_DRIVER",
            "pysqlite",
            "DATABASE_SQLITE_DRIVER: Input should be 'aiosqlite' or 'inline'",
        ),
        ("TELEGRAM_API_BASE", "ftp://x", "TELEGRAM_API_BASE: expected an http:// or https:// URL"),
        ("PAPER_STARTING_BALANCE", "-5", "PAPER_STARTING_BALANCE"),
        ("PAPER_REPLAY_SPEED", "0", "PAPER_REPLAY_SPEED"),
        ("PAPER_PRICE_SOURCE", "magic", "PAPER_PRICE_SOURCE"),
        (
            "PAPER_REPLAY_ANCHOR",
            "2026-01-01T00:00:00",
            "PAPER_REPLAY_ANCHOR: expected an ISO time with a zone",
        ),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL"),
        ("ORDER_CONFIRM_TIMEOUT_SECONDS", "1", "ORDER_CONFIRM_TIMEOUT_SECONDS"),
    ],
)
def test_invalid_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert expected in str(caught.value)


def test_secret_values_never_appear_in_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", "CANARY-SECRET-VALUE")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "CANARY" not in str(caught.value)


def test_run_without_token_exits_2_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run"]) == 2
    assert "BOT_TOKEN: missing" in capsys.readouterr().err


def test_invalid_setting_exits_2_before_anything_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ADMIN_IDS", "x")
    assert main(["db", "upgrade"]) == 2
    assert "ADMIN_IDS" in capsys.readouterr().err


def test_aiosqlite_driver_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_SQLITE_DRIVER", "aiosqlite")
    assert load_settings().database.database_sqlite_driver == "aiosqlite"


def test_invalid_sqlite_driver_exits_2_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_SQLITE_DRIVER", "threads")
    assert main(["db", "upgrade"]) == 2
    assert "DATABASE_SQLITE_DRIVER" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("DATABASE_URL", "sqlite+aiosqlite:////no/such/dir/p.db", "directory /no/such/dir does not exist"),
        ("TELEGRAM_API_BASE", "http://127.0.0.1:99999", "with a host"),
        ("TELEGRAM_API_BASE", "http://", "with a host"),
        ("WEBHOOK_URL", "https://", "with a host"),
    ],
)
def test_unusable_values_are_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert f"{name}: " in str(caught.value)
    assert expected in str(caught.value)


def test_env_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"LOG_LEVEL=INFO\nADMIN_IDS=\xff\n")
    with pytest.raises(SettingsError, match=r"\.env: not UTF-8"):
        load_settings()


def test_db_downgrade_and_upgrade(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    assert main(["db", "upgrade"]) == 0
    head = capsys.readouterr().out.split()[-1]

    assert main(["db", "downgrade", "0007"]) == 0
    assert capsys.readouterr().out.strip() == "Database is at revision 0007"
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out.split()[-1] == head


def test_db_downgrade_to_unknown_revision_names_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    assert main(["db", "upgrade"]) == 0
    head = capsys.readouterr().out.split()[-1]

    assert main(["db", "downgrade", "9999"]) == 2
    assert "Cannot migrate to 9999" in capsys.readouterr().err
    with sqlite3.connect(tmp_path / "p.db") as raw:
        assert raw.execute("SELECT version_num FROM alembic_version").fetchall() == [(head,)]


@pytest.mark.parametrize("revision", ["", "  ", "@", "base@", "@0007"])
def test_db_downgrade_to_blank_revision_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str], revision: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    assert main(["db", "upgrade"]) == 0
    head = capsys.readouterr().out.split()[-1]

    with pytest.raises(SystemExit) as exited:
        main(["db", "downgrade", revision])
    assert exited.value.code == 2
    assert "name a revision" in capsys.readouterr().err
    with sqlite3.connect(tmp_path / "p.db") as raw:
        assert raw.execute("SELECT version_num FROM alembic_version").fetchall() == [(head,)]
