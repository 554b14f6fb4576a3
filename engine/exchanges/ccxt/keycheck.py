"""Checking a key before it is saved, and again on schedule: a balance call and a permission query."""

from __future__ import annotations

import logging

from engine.accounts.models import ApiCredentials, Exchange, KeyCheck, KeyPermissions
from engine.common.money import ZERO
from engine.errors import PermanentExchangeError, TemporaryExchangeError
from engine.exchanges.ccxt.client import CcxtClientFactory
from engine.exchanges.ccxt.errors import translated_errors
from engine.exchanges.ccxt.lazy import ccxt
from engine.exchanges.ccxt.mapping import to_balances
from engine.exchanges.ccxt.permissions import query_permissions

logger = logging.getLogger(__name__)

# Reasons that describe the key; any other permanent error is EXCHANGE_ERROR.
_KEY_REASONS = frozenset(
    {
        "AUTHENTICATION_FAILED",
        "KEY_REJECTED",
        "KEY_EXPIRED",
        "IP_NOT_ALLOWED",
        "WRONG_ENVIRONMENT",
        "PERMISSION_DENIED",
        "ACCOUNT_SUSPENDED",
        "TESTNET_UNSUPPORTED",
    }
)


class CcxtKeyChecker:
    """Implements the engine's ``KeyChecker`` with a fresh client per check.

    A fresh client matters on Binance: ccxt reports its -2015 rejection as a
    temporary ban once a client has signed a request successfully, so only a
    new client sees a revoked key as rejected.
    """

    def __init__(self, clients: CcxtClientFactory) -> None:
        self._clients = clients

    async def check(self, exchange: Exchange, credentials: ApiCredentials, *, testnet: bool) -> KeyCheck:
        secrets = [
            part.reveal()
            for part in (credentials.api_key, credentials.secret, credentials.passphrase)
            if part is not None
        ]
        try:
            client = self._clients.create(exchange, credentials, testnet=testnet)
        except PermanentExchangeError as error:
            return KeyCheck(problem=error.reason, detail=str(error))

        try:
            with translated_errors(exchange, secrets):
                balance = await client.fetch_balance()
                permissions = await self._permissions(exchange, client, testnet=testnet)
        except TemporaryExchangeError as error:
            return KeyCheck(problem="EXCHANGE_UNREACHABLE", detail=str(error))
        except PermanentExchangeError as error:
            problem = error.reason if error.reason in _KEY_REASONS else "EXCHANGE_ERROR"
            return KeyCheck(problem=problem, detail=str(error))
        finally:
            await client.close()

        balances = {
            asset: entry.total for asset, entry in to_balances(balance, {}).items() if entry.total > ZERO
        }
        if permissions.can_trade is False:
            return KeyCheck(problem="PERMISSION_DENIED", permissions=permissions, balances=balances)
        return KeyCheck(problem=None, permissions=permissions, balances=balances)

    async def _permissions(self, exchange: Exchange, client: object, *, testnet: bool) -> KeyPermissions:
        """Query permissions; a refused key or a network failure counts, anything else leaves them unknown."""
        try:
            return await query_permissions(exchange, client, testnet=testnet)
        except (ccxt.AuthenticationError, ccxt.NetworkError, ccxt.OperationFailed):
            raise  # classified by the caller like a failed balance call
        except ccxt.BaseError as error:
            logger.info("%s permission query failed, permissions unknown: %s", exchange, type(error).__name__)
            return KeyPermissions()
