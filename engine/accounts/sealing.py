"""Encrypting an account's keys for storage, opening them for use, and re-encrypting them all."""

from __future__ import annotations

import logging

from engine.accounts.models import ApiCredentials, SealedCredentials
from engine.accounts.ports import SecretBox
from engine.common.clock import Clock
from engine.uow import UnitOfWorkFactory

logger = logging.getLogger(__name__)


def seal_credentials(box: SecretBox, credentials: ApiCredentials) -> SealedCredentials:
    return SealedCredentials(
        api_key=box.seal(credentials.api_key),
        secret=box.seal(credentials.secret),
        passphrase=box.seal(credentials.passphrase) if credentials.passphrase else None,
    )


def open_credentials(box: SecretBox, sealed: SealedCredentials) -> ApiCredentials:
    """Decrypt stored keys; raises VaultError when the master key does not match."""
    return ApiCredentials(
        api_key=box.open(sealed.api_key),
        secret=box.open(sealed.secret),
        passphrase=box.open(sealed.passphrase) if sealed.passphrase else None,
    )


def _reseal(box: SecretBox, sealed: SealedCredentials) -> SealedCredentials:
    return SealedCredentials(
        api_key=box.reseal(sealed.api_key),
        secret=box.reseal(sealed.secret),
        passphrase=box.reseal(sealed.passphrase) if sealed.passphrase else None,
    )


async def rotate_all(uow_factory: UnitOfWorkFactory, box: SecretBox, clock: Clock) -> int:
    """Re-encrypt every stored key under the vault's newest master key, in one transaction.

    Raises VaultError before anything is written when one token cannot be
    opened, so a rotation either completes or changes nothing. Returns the
    number of accounts whose keys were re-encrypted.
    """
    async with uow_factory() as uow:
        stored = await uow.credentials.list_all()
        resealed = [(account_id, _reseal(box, sealed)) for account_id, sealed in stored]
        for account_id, sealed in resealed:
            await uow.credentials.save(account_id, sealed, now=clock.now())
        await uow.commit()
    logger.info("Re-encrypted the keys of %d accounts under the newest master key", len(resealed))
    return len(resealed)


async def check_master_key(uow_factory: UnitOfWorkFactory, box: SecretBox) -> int:
    """Open every stored key once; raise VaultError at the first the master key cannot open.

    Run at start-up, so a changed MASTER_KEY stops the service with a clear
    message instead of failing each account later. Returns how many accounts
    have keys.
    """
    async with uow_factory(read_only=True) as uow:
        stored = await uow.credentials.list_all()
    for _, sealed in stored:
        open_credentials(box, sealed)
    return len(stored)
