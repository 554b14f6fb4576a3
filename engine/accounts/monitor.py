"""Watching linked keys: flag an account whose key stops working, and re-check keys on request.

A key is found dead in two ways: a gateway call is refused because of it
(the gateway publishes EXCHANGE_KEY_REJECTED), or the scheduled check finds
it refused. Either way the account is flagged INVALID once, the user is notified
once (ACCOUNT_KEY_INVALID, which the bot turns into a message), its session is
closed, and jobs skip it until the user re-checks the key.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from engine.accounts.events import ACCOUNT_KEY_INVALID, EXCHANGE_KEY_REJECTED
from engine.accounts.models import Account, KeyCheck, KeyStatus
from engine.accounts.ports import KeyChecker, SecretBox
from engine.accounts.sealing import open_credentials
from engine.accounts.service import load_owned, require_account_management
from engine.common.clock import Clock
from engine.errors import NotFoundError, ValidationError, VaultError
from engine.events import Event, EventBus
from engine.exchanges.registry import GatewayRegistry
from engine.uow import UnitOfWorkFactory
from engine.users.models import User

logger = logging.getLogger(__name__)

# Scheduled checks run a few at a time: each opens its own connections.
CHECK_CONCURRENCY = 4


class KeyMonitor:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        box: SecretBox,
        checker: KeyChecker,
        clock: Clock,
        bus: EventBus,
        gateways: GatewayRegistry,
    ) -> None:
        self._uow = uow_factory
        self._box = box
        self._checker = checker
        self._clock = clock
        self._bus = bus
        self._gateways = gateways

    def subscribe(self) -> None:
        self._bus.subscribe(EXCHANGE_KEY_REJECTED, self._on_key_rejected)

    async def _on_key_rejected(self, event: Event) -> None:
        await self.flag_invalid(event.payload["account_id"], event.payload["reason"])

    async def recheck(self, user: User, account_id: uuid.UUID) -> tuple[Account, KeyCheck]:
        """Check the stored key now and record the result; a flagged account is usable again if it passes.

        A network failure changes nothing. Raises ValidationError
        NO_KEYS_TO_CHECK for the PAPER account.
        """
        require_account_management(user)
        async with self._uow(read_only=True) as uow:
            account = await load_owned(uow, user, account_id)
            sealed = await uow.credentials.get(account.id)
        if account.is_paper or sealed is None:
            raise ValidationError("NO_KEYS_TO_CHECK", name=account.name)

        check = await self._checker.check(
            account.exchange, open_credentials(self._box, sealed), testnet=account.is_testnet
        )
        if check.is_temporary:
            return account, check
        await self._gateways.forget(account.id)
        updated = await self._record(account.id, check)
        logger.info(
            "User %s re-checked the key of account %s: %s",
            user.telegram_id,
            account.id,
            check.problem or "OK",
        )
        return updated or account, check

    async def check_all(self) -> int:
        """Check every active live account whose key last worked; return how many were flagged."""
        async with self._uow(read_only=True) as uow:
            accounts = [a for a in await uow.accounts.list_live() if a.key_status is KeyStatus.VALID]
        limit = asyncio.Semaphore(CHECK_CONCURRENCY)

        async def check_one(account: Account) -> bool:
            async with limit:
                return await self._scheduled_check(account)

        flagged = sum(await asyncio.gather(*(check_one(account) for account in accounts)))
        logger.info("Checked the keys of %d accounts, %d flagged", len(accounts), flagged)
        return flagged

    async def _scheduled_check(self, account: Account) -> bool:
        async with self._uow(read_only=True) as uow:
            sealed = await uow.credentials.get(account.id)
        if sealed is None:
            return False
        try:
            credentials = open_credentials(self._box, sealed)
        except VaultError as error:
            logger.error("Keys of account %s cannot be decrypted: %s", account.id, error)
            return False

        check = await self._checker.check(account.exchange, credentials, testnet=account.is_testnet)
        if check.is_temporary:
            logger.info("Key check of account %s postponed: %s", account.id, check.detail)
            return False
        if check.disables_trading:
            return await self.flag_invalid(account.id, check.problem or "AUTHENTICATION_FAILED")
        await self._record(account.id, check)
        return False

    async def flag_invalid(self, account_id: uuid.UUID, reason: str) -> bool:
        """Mark the key INVALID and tell the user, once: a second call for the same key does nothing."""
        now = self._clock.now()
        async with self._uow() as uow:
            account = await uow.accounts.get(account_id)
            if account is None or account.key_status is not KeyStatus.VALID:
                return False
            account.key_status = KeyStatus.INVALID
            account.key_problem = reason
            account.key_checked_at = now
            account.updated_at = now
            await uow.accounts.update(account)
            await uow.commit()

        logger.warning(
            "Account %s of user %s flagged: its key was rejected (%s)", account.id, account.user_id, reason
        )
        await self._gateways.forget(account.id)
        await self._bus.publish(
            Event(
                name=ACCOUNT_KEY_INVALID,
                user_id=account.user_id,
                occurred_at=now,
                payload={"account_id": account.id, "reason": reason},
            )
        )
        return True

    async def _record(self, account_id: uuid.UUID, check: KeyCheck) -> Account | None:
        """Store the outcome of a definite check: VALID when the key works, INVALID when it is refused."""
        now = self._clock.now()
        async with self._uow() as uow:
            account = await uow.accounts.get(account_id)
            if account is None:
                raise NotFoundError("account")
            if check.ok:
                account.key_status, account.key_problem = KeyStatus.VALID, None
            elif check.disables_trading:
                account.key_status, account.key_problem = KeyStatus.INVALID, check.problem
            account.key_checked_at = now
            if check.permissions.can_withdraw is not None:
                account.can_withdraw = check.permissions.can_withdraw
            account.updated_at = now
            await uow.accounts.update(account)
            await uow.commit()
        return account
