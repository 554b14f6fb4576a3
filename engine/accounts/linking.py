"""Linking an exchange account: check the keys with the exchange, then store them encrypted."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from engine.accounts.models import Account, ApiCredentials, Exchange, KeyCheck, KeyStatus
from engine.accounts.ports import KeyChecker, SecretBox
from engine.accounts.sealing import seal_credentials
from engine.accounts.service import check_name_free, require_account_management
from engine.accounts.validation import needs_passphrase, validate_account_name
from engine.common.clock import Clock
from engine.common.ids import new_id
from engine.errors import ValidationError
from engine.exchanges.capabilities import has_testnet
from engine.uow import UnitOfWorkFactory
from engine.users.models import User

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LinkRequest:
    exchange: Exchange
    name: str
    credentials: ApiCredentials
    testnet: bool


class LinkService:
    def __init__(
        self, uow_factory: UnitOfWorkFactory, box: SecretBox, checker: KeyChecker, clock: Clock
    ) -> None:
        self._uow = uow_factory
        self._box = box
        self._checker = checker
        self._clock = clock

    async def validate_name(self, user: User, text: str) -> str:
        """Return the cleaned name, or raise ACCOUNT_NAME_INVALID / ACCOUNT_NAME_TAKEN."""
        require_account_management(user)
        name = validate_account_name(text)
        async with self._uow(read_only=True) as uow:
            await check_name_free(uow, user, name)
        return name

    async def link(self, user: User, request: LinkRequest) -> tuple[KeyCheck, Account | None]:
        """Check the keys (an authenticated balance call) and store them only when they work.

        Returns the check and the new account, or the check and None when the
        keys failed it; nothing is stored then.
        """
        require_account_management(user)
        _validate_request(request)
        check = await self._checker.check(request.exchange, request.credentials, testnet=request.testnet)
        if not check.ok:
            logger.info(
                "User %s: %s key check failed with %s: %s",
                user.telegram_id,
                request.exchange,
                check.problem,
                check.detail,
            )
            return check, None
        return check, await self._save(user, request, check)

    async def _save(self, user: User, request: LinkRequest, check: KeyCheck) -> Account:
        now = self._clock.now()
        sealed = seal_credentials(self._box, request.credentials)
        account = Account(
            id=new_id(),
            user_id=user.id,
            exchange=request.exchange,
            name=validate_account_name(request.name),
            is_testnet=request.testnet,
            is_active=True,
            is_default=False,
            created_at=now,
            updated_at=now,
            key_status=KeyStatus.VALID,
            key_checked_at=now,
            key_hint=request.credentials.api_key.hint(),
            can_withdraw=check.permissions.can_withdraw,
        )
        async with self._uow() as uow:
            # Checked again: the name may have been taken while the keys were checked.
            await check_name_free(uow, user, account.name)
            await uow.accounts.add(account)
            await uow.credentials.save(account.id, sealed, now=now)
            await uow.commit()
        logger.info(
            "User %s linked %s account %s (testnet %s, can withdraw %s)",
            user.telegram_id,
            account.exchange,
            account.id,
            account.is_testnet,
            account.can_withdraw,
        )
        return account


def _validate_request(request: LinkRequest) -> None:
    if request.exchange is Exchange.PAPER:
        raise ValidationError("EXCHANGE_NOT_LINKABLE", exchange=request.exchange.value)
    if request.testnet and not has_testnet(request.exchange):
        raise ValidationError("TESTNET_UNSUPPORTED", exchange=request.exchange.value)
    if needs_passphrase(request.exchange) and request.credentials.passphrase is None:
        raise ValidationError("PASSPHRASE_REQUIRED", exchange=request.exchange.value)
