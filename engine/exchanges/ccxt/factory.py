"""Building the gateway of a live account: its stored keys, decrypted, behind one ccxt client."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal

from engine.accounts.events import EXCHANGE_KEY_REJECTED
from engine.accounts.models import Account, KeyStatus
from engine.accounts.ports import SecretBox
from engine.accounts.sealing import open_credentials
from engine.common.clock import Clock
from engine.errors import PermanentExchangeError, VaultError
from engine.events import Event, EventBus
from engine.exchanges.ccxt.client import CcxtClientFactory
from engine.exchanges.ccxt.gateway import STOP_LIMIT_OFFSET, CcxtGateway
from engine.exchanges.ccxt.markets import MarketCatalog
from engine.uow import UnitOfWorkFactory

logger = logging.getLogger(__name__)


class LiveGatewayFactory:
    """The ``live_factory`` of ``GatewayRegistry``, which caches what it builds per account.

    ``register_secret`` receives every decrypted key, secret and passphrase,
    so the log redactor can mask them should an error message ever quote one.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        box: SecretBox,
        clients: CcxtClientFactory,
        catalog: MarketCatalog,
        bus: EventBus,
        clock: Clock,
        *,
        register_secret: Callable[[str], None] | None = None,
        stop_limit_offset: Decimal = STOP_LIMIT_OFFSET,
    ) -> None:
        self._uow = uow_factory
        self._box = box
        self._clients = clients
        self._catalog = catalog
        self._bus = bus
        self._clock = clock
        self._register_secret = register_secret
        self._stop_limit_offset = stop_limit_offset

    async def __call__(self, account: Account) -> CcxtGateway:
        async with self._uow(read_only=True) as uow:
            current = await uow.accounts.get(account.id)
            sealed = await uow.credentials.get(account.id)
        if current is None or current.removed_at is not None or sealed is None:
            raise PermanentExchangeError(f"account {account.id} has no keys", reason="KEY_MISSING")
        if current.key_status is KeyStatus.INVALID:
            raise PermanentExchangeError(
                f"account {account.id} is paused: its key was rejected",
                reason="KEY_INVALID",
                account=current.name,
                problem=current.key_problem or "",
            )

        try:
            credentials = open_credentials(self._box, sealed)
        except VaultError as error:
            logger.error("Keys of account %s cannot be decrypted: %s", account.id, error)
            raise PermanentExchangeError(str(error), reason="VAULT_LOCKED") from error
        secrets = [
            part.reveal()
            for part in (credentials.api_key, credentials.secret, credentials.passphrase)
            if part is not None
        ]
        if self._register_secret is not None:
            for secret in secrets:
                self._register_secret(secret)

        client = self._clients.create(current.exchange, credentials, testnet=current.is_testnet)
        logger.info("Opened a %s session for account %s", current.exchange, account.id)

        async def key_rejected(reason: str) -> None:
            await self._bus.publish(
                Event(
                    name=EXCHANGE_KEY_REJECTED,
                    user_id=current.user_id,
                    occurred_at=self._clock.now(),
                    payload={"account_id": current.id, "reason": reason},
                )
            )

        return CcxtGateway(
            current.exchange,
            client,
            account_id=current.id,
            testnet=current.is_testnet,
            catalog=self._catalog,
            clock=self._clock,
            secrets=secrets,
            on_key_rejected=key_rejected,
            stop_limit_offset=self._stop_limit_offset,
        )
