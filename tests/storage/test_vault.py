"""The key vault: Fernet through MultiFernet, key rotation on real SQLite, master key sources."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from engine.accounts.models import SealedCredentials
from engine.accounts.sealing import check_master_key, open_credentials, rotate_all
from engine.common.clock import ManualClock
from engine.common.secrets import Secret
from engine.errors import VaultError
from engine.users.service import Registration, UserService
from storage.db import Database
from storage.migrate import upgrade_to_head
from storage.uow import SqlUnitOfWorkFactory
from storage.vault import (
    KeyVault,
    MasterKeyError,
    generate_master_key,
    load_master_keys,
    parse_master_keys,
    read_master_key_file,
)
from tests.conftest import START

OLD, NEW = generate_master_key(), generate_master_key()


def vault(*keys: str) -> KeyVault:
    return KeyVault([Secret(key) for key in keys])


def test_round_trip_gives_the_secret_back() -> None:
    box = vault(NEW)
    token = box.seal(Secret("api-secret-Ωmega"))
    assert "api-secret" not in token
    assert box.open(token).reveal() == "api-secret-Ωmega"


def test_same_secret_encrypts_differently_each_time() -> None:
    box = vault(NEW)
    assert box.seal(Secret("same")) != box.seal(Secret("same"))


def test_wrong_master_key_is_a_clear_error() -> None:
    token = vault(OLD).seal(Secret("secret"))
    with pytest.raises(VaultError) as caught:
        vault(NEW).open(token)
    message = str(caught.value)
    assert "cannot be decrypted" in message
    assert "MASTER_KEY=new,old" in message
    assert OLD not in message
    assert NEW not in message


def test_tampered_token_is_refused() -> None:
    box = vault(NEW)
    token = box.seal(Secret("secret"))
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(VaultError):
        box.open(tampered)


def test_rotation_with_two_keys() -> None:
    old_token = vault(OLD).seal(Secret("secret"))
    both = vault(NEW, OLD)
    assert both.open(old_token).reveal() == "secret", "old secrets stay readable during rotation"

    rotated = both.reseal(old_token)
    assert vault(NEW).open(rotated).reveal() == "secret"
    with pytest.raises(VaultError):
        vault(OLD).open(rotated)
    assert vault(NEW).open(both.seal(Secret("fresh"))).reveal() == "fresh", "new secrets use the newest key"


async def test_rotate_all_reencrypts_every_stored_key(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'vault.db'}")
    await upgrade_to_head(database)
    uow = SqlUnitOfWorkFactory(database)
    clock = ManualClock(START)
    user, _ = await UserService(uow, clock, []).register(
        Registration(telegram_id=1, username="rotor", first_name="R", language="en")
    )
    async with uow() as unit:
        paper = (await unit.accounts.list_for_user(user.id))[0]
        old = vault(OLD)
        sealed = SealedCredentials(old.seal(Secret("k1")), old.seal(Secret("s1")), old.seal(Secret("p1")))
        await unit.credentials.save(paper.id, sealed, now=clock.now())
        await unit.commit()

    assert await rotate_all(uow, vault(NEW, OLD), clock) == 1
    async with uow(read_only=True) as unit:
        stored = await unit.credentials.get(paper.id)
    assert stored is not None
    opened = open_credentials(vault(NEW), stored)
    assert (opened.api_key.reveal(), opened.secret.reveal(), opened.passphrase.reveal()) == ("k1", "s1", "p1")  # type: ignore[union-attr]
    await database.dispose()


async def test_rotation_and_start_without_the_old_key_fail(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'vault.db'}")
    await upgrade_to_head(database)
    uow = SqlUnitOfWorkFactory(database)
    clock = ManualClock(START)
    user, _ = await UserService(uow, clock, []).register(
        Registration(telegram_id=1, username="rotor", first_name="R", language="en")
    )
    async with uow() as unit:
        paper = (await unit.accounts.list_for_user(user.id))[0]
        sealed = SealedCredentials(vault(OLD).seal(Secret("k1")), vault(OLD).seal(Secret("s1")))
        await unit.credentials.save(paper.id, sealed, now=clock.now())
        await unit.commit()

    with pytest.raises(VaultError):
        await rotate_all(uow, vault(NEW), clock)
    async with uow(read_only=True) as unit:
        assert await unit.credentials.get(paper.id) == sealed

    # The start-up check finds the mismatch before any account is used.
    with pytest.raises(VaultError):
        await check_master_key(uow, vault(NEW))
    assert await check_master_key(uow, vault(NEW, OLD)) == 1
    await database.dispose()


def test_secret_masks_itself_everywhere() -> None:
    secret = Secret("hunter2-very-secret")
    assert repr(secret) == "Secret('***')"
    assert str(secret) == "***"
    assert f"{secret}" == "***"
    assert f"{secret:>20}" == "***"
    assert "hunter2" not in repr({"key": secret, "items": [secret]})
    assert secret.hint() == "…cret"
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    assert secret == Secret("hunter2-very-secret")
    assert secret != Secret("other")


def test_master_keys_are_parsed_newest_first() -> None:
    keys = parse_master_keys(f" {NEW} , {OLD}\n")
    assert [key.reveal() for key in keys] == [NEW, OLD]


@pytest.mark.parametrize("text", ["", "not-a-key", f"{NEW},short"])
def test_malformed_master_key_is_refused_without_echo(text: str) -> None:
    with pytest.raises(MasterKeyError) as caught:
        parse_master_keys(text)
    message = str(caught.value)
    assert message.startswith("MASTER_KEY:")
    assert "short" not in message
    assert "not-a-key" not in message


def test_missing_master_key_says_how_to_make_one() -> None:
    with pytest.raises(MasterKeyError) as caught:
        load_master_keys(None, None)
    assert "patriot keys generate" in str(caught.value)


def test_both_sources_at_once_are_refused(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyError, match="both set"):
        load_master_keys(Secret(NEW), tmp_path / "key")


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_key_file_must_be_private(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    path.write_text(NEW + "\n")
    path.chmod(0o644)
    with pytest.raises(MasterKeyError) as caught:
        read_master_key_file(path)
    assert "mode 0644" in str(caught.value)
    assert f"chmod 600 {path}" in str(caught.value)

    path.chmod(0o640)
    with pytest.raises(MasterKeyError, match="group or others"):
        read_master_key_file(path)

    path.chmod(0o600)
    assert [key.reveal() for key in read_master_key_file(path)] == [NEW]


def test_missing_key_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyError, match="MASTER_KEY_FILE: cannot read"):
        read_master_key_file(tmp_path / "absent.key")


def test_ephemeral_vault_works_only_in_its_process() -> None:
    first, second = KeyVault.with_ephemeral_key(), KeyVault.with_ephemeral_key()
    token = first.seal(Secret("chat"))
    assert first.ephemeral
    assert first.open(token).reveal() == "chat"
    with pytest.raises(VaultError):
        second.open(token)
