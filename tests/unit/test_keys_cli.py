"""``patriot keys generate|rotate``, the master key at start-up, and the exchange settings."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.chat import _chat_vault
from bot.cli import main
from bot.settings import SettingsError, load_settings
from engine.accounts.models import SealedCredentials
from engine.common.clock import ManualClock
from engine.common.secrets import Secret
from engine.users.service import Registration, UserService
from storage.db import Database
from storage.migrate import upgrade_to_head
from storage.uow import SqlUnitOfWorkFactory
from storage.vault import KeyVault, generate_master_key
from tests.conftest import START, TEST_TOKEN

CLEAN = ["MASTER_KEY", "MASTER_KEY_FILE", "BOT_TOKEN", "DATABASE_URL", "EXCHANGE_IP_WHITELIST", "ADMIN_IDS"]


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in CLEAN:
        monkeypatch.delenv(name, raising=False)


def test_generate_prints_a_fernet_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "generate"]) == 0
    captured = capsys.readouterr()
    key = captured.out.strip()
    Fernet(key.encode())  # raises when it is not a key
    assert "MASTER_KEY" in captured.err
    assert key not in captured.err


def test_run_refuses_to_start_without_a_master_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BOT_TOKEN", TEST_TOKEN)
    assert main(["run"]) == 2
    error = capsys.readouterr().err
    assert "MASTER_KEY: missing" in error
    assert "patriot keys generate" in error


def test_run_refuses_a_readable_key_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "master.key"
    path.write_text(generate_master_key())
    path.chmod(0o644)
    monkeypatch.setenv("BOT_TOKEN", TEST_TOKEN)
    monkeypatch.setenv("MASTER_KEY_FILE", str(path))
    assert main(["run"]) == 2
    assert "accessible to group or others" in capsys.readouterr().err


def test_malformed_master_key_names_the_setting_without_echo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASTER_KEY", "CANARY-not-a-key")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "MASTER_KEY: key 1 of 1 is not a Fernet key" in str(caught.value)
    assert "CANARY" not in str(caught.value)


async def seed_secret(database_url: str, key: str) -> SealedCredentials:
    database = Database(database_url)
    await upgrade_to_head(database)
    uow = SqlUnitOfWorkFactory(database)
    clock = ManualClock(START)
    user, _ = await UserService(uow, clock, []).register(
        Registration(telegram_id=9, username="cli", first_name="C", language="en")
    )
    box = KeyVault([Secret(key)])
    sealed = SealedCredentials(box.seal(Secret("k")), box.seal(Secret("s")))
    async with uow() as unit:
        account = (await unit.accounts.list_for_user(user.id))[0]
        await unit.credentials.save(account.id, sealed, now=clock.now())
        await unit.commit()
    await database.dispose()
    return sealed


async def stored(database_url: str) -> list[SealedCredentials]:
    database = Database(database_url)
    async with SqlUnitOfWorkFactory(database)(read_only=True) as unit:
        rows = [sealed for _, sealed in await unit.credentials.list_all()]
    await database.dispose()
    return rows


def test_rotate_reencrypts_under_the_newest_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    old, new = generate_master_key(), generate_master_key()
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    asyncio.run(seed_secret(url, old))
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("MASTER_KEY", f"{new},{old}")

    assert main(["keys", "rotate"]) == 0
    assert "of 1 accounts" in capsys.readouterr().out
    [rotated] = asyncio.run(stored(url))
    assert KeyVault([Secret(new)]).open(rotated.secret).reveal() == "s"


def test_rotate_with_the_wrong_key_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    sealed = asyncio.run(seed_secret(url, generate_master_key()))
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("MASTER_KEY", generate_master_key())

    assert main(["keys", "rotate"]) == 1
    assert "nothing was changed" in capsys.readouterr().err
    assert asyncio.run(stored(url)) == [sealed]


def test_chat_without_master_key_warns(capsys: pytest.CaptureFixture[str]) -> None:
    vault = _chat_vault(load_settings())
    assert vault.ephemeral
    assert "cannot be read in a later session" in capsys.readouterr().out


def test_chat_with_a_master_key_uses_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key = generate_master_key()
    monkeypatch.setenv("MASTER_KEY", key)
    vault = _chat_vault(load_settings())
    assert not vault.ephemeral
    assert KeyVault([Secret(key)]).open(vault.seal(Secret("x"))).reveal() == "x"
    assert capsys.readouterr().out == ""


def test_ip_whitelist_is_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXCHANGE_IP_WHITELIST", "203.0.113.7, 2001:db8::1")
    assert load_settings().exchanges.ip_whitelist == ["203.0.113.7", "2001:db8::1"]


def test_invalid_ip_whitelist_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXCHANGE_IP_WHITELIST", "203.0.113.7,not-an-ip")
    with pytest.raises(SettingsError, match="EXCHANGE_IP_WHITELIST"):
        load_settings()
