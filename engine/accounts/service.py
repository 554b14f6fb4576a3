"""Managing a user's exchange accounts: list, rename, activate, default, remove.

Every method takes the acting user and an account id and works only on that
user's accounts. Any other id is "not found", whether or not it exists.
"""

from __future__ import annotations

import logging
import uuid

from engine.accounts.models import Account, Exchange
from engine.accounts.validation import validate_account_name
from engine.common.clock import Clock
from engine.errors import NotFoundError, PermissionDeniedError, ValidationError
from engine.exchanges.registry import GatewayRegistry
from engine.uow import UnitOfWork, UnitOfWorkFactory
from engine.users.models import Permission, User

logger = logging.getLogger(__name__)


def require_account_management(user: User) -> None:
    if not user.can(Permission.MANAGE_ACCOUNTS):
        raise PermissionDeniedError("manage_accounts")


async def load_owned(uow: UnitOfWork, user: User, account_id: uuid.UUID) -> Account:
    account = await uow.accounts.get_for_user(user.id, account_id)
    if account is None:
        raise NotFoundError("account")
    return account


async def check_name_free(
    uow: UnitOfWork, user: User, name: str, *, except_id: uuid.UUID | None = None
) -> None:
    """Raise ACCOUNT_NAME_TAKEN when another of the user's accounts has the name (ignoring case)."""
    for account in await uow.accounts.list_for_user(user.id):
        if account.id != except_id and account.name.casefold() == name.casefold():
            raise ValidationError("ACCOUNT_NAME_TAKEN", value=name)


class AccountService:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock, gateways: GatewayRegistry) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._gateways = gateways

    async def list_accounts(
        self, user: User, *, exchange: Exchange | None = None, active: bool | None = None
    ) -> list[Account]:
        """Return the user's accounts (never removed ones), optionally of one exchange or activity."""
        async with self._uow(read_only=True) as uow:
            accounts = await uow.accounts.list_for_user(user.id)
        return [
            account
            for account in accounts
            if (exchange is None or account.exchange is exchange)
            and (active is None or account.is_active is active)
        ]

    async def get(self, user: User, account_id: uuid.UUID) -> Account:
        async with self._uow(read_only=True) as uow:
            return await load_owned(uow, user, account_id)

    async def rename(self, user: User, account_id: uuid.UUID, text: str) -> Account:
        require_account_management(user)
        name = validate_account_name(text)
        async with self._uow() as uow:
            account = await load_owned(uow, user, account_id)
            await check_name_free(uow, user, name, except_id=account.id)
            account.name = name
            account.updated_at = self._clock.now()
            await uow.accounts.update(account)
            await uow.commit()
        logger.info("User %s renamed account %s", user.telegram_id, account.id)
        return account

    async def set_active(self, user: User, account_id: uuid.UUID, active: bool) -> Account:
        """Activate or deactivate; a deactivated account is no longer the default and its session closes."""
        require_account_management(user)
        async with self._uow() as uow:
            account = await load_owned(uow, user, account_id)
            account.is_active = active
            if not active:
                account.is_default = False
            account.updated_at = self._clock.now()
            await uow.accounts.update(account)
            await uow.commit()
        if not active:
            await self._gateways.forget(account.id)
        logger.info(
            "User %s %s account %s", user.telegram_id, "activated" if active else "deactivated", account.id
        )
        return account

    async def set_default(self, user: User, account_id: uuid.UUID) -> Account:
        """Make the account the one orders go to when none is named; it must be active."""
        require_account_management(user)
        now = self._clock.now()
        async with self._uow() as uow:
            chosen = await load_owned(uow, user, account_id)
            if not chosen.is_active:
                raise ValidationError("ACCOUNT_INACTIVE", name=chosen.name)
            for account in await uow.accounts.list_for_user(user.id):
                should_be_default = account.id == chosen.id
                if account.is_default != should_be_default:
                    account.is_default = should_be_default
                    account.updated_at = now
                    await uow.accounts.update(account)
            await uow.commit()
        chosen.is_default = True
        logger.info("User %s made account %s the default", user.telegram_id, chosen.id)
        return chosen

    async def remove(self, user: User, account_id: uuid.UUID) -> Account:
        """Erase the account's encrypted keys and hide it; its order history stays.

        The PAPER account cannot be removed: it contains the practice balance and
        history that registration created, and nothing could create it again.
        It can be deactivated instead (ValidationError PAPER_NOT_REMOVABLE).
        """
        require_account_management(user)
        async with self._uow() as uow:
            account = await load_owned(uow, user, account_id)
            if account.is_paper:
                raise ValidationError("PAPER_NOT_REMOVABLE", name=account.name)
            erased = await uow.credentials.delete(account.id)
            account.removed_at = self._clock.now()
            account.is_active = False
            account.is_default = False
            account.updated_at = account.removed_at
            await uow.accounts.update(account)
            await uow.commit()
        await self._gateways.forget(account.id)
        logger.info(
            "User %s removed account %s (%s keys erased: %s)",
            user.telegram_id,
            account.id,
            account.exchange,
            erased,
        )
        return account
