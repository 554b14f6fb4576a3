"""Permissions each exchange reports for an API key: trading, withdrawals, IP whitelist, expiry.

Endpoints: Binance GET /sapi/v1/account/apiRestrictions (not on the spot
testnet), Bybit GET /v5/user/query-api, OKX GET /api/v5/account/config. MEXC
has no such endpoint, so its keys are checked by the balance call alone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from engine.accounts.models import Exchange, KeyPermissions


async def query_permissions(exchange: Exchange, client: Any, *, testnet: bool) -> KeyPermissions:
    """Ask the exchange what the key may do; fields stay None where it does not report them."""
    if exchange is Exchange.BINANCE and not testnet:
        return binance_permissions(await client.sapi_get_account_apirestrictions())
    if exchange is Exchange.BYBIT:
        return bybit_permissions(await client.private_get_v5_user_query_api())
    if exchange is Exchange.OKX:
        return okx_permissions(await client.private_get_account_config())
    return KeyPermissions()


def binance_permissions(response: dict[str, Any]) -> KeyPermissions:
    return KeyPermissions(
        can_trade=bool(response.get("enableSpotAndMarginTrading")),
        can_withdraw=bool(response.get("enableWithdrawals")),
        ip_restricted=bool(response.get("ipRestrict")),
    )


def bybit_permissions(response: dict[str, Any]) -> KeyPermissions:
    result = response.get("result") or {}
    permissions = result.get("permissions") or {}
    read_only = str(result.get("readOnly", "0")) == "1"
    ips = [ip for ip in result.get("ips") or [] if ip]
    return KeyPermissions(
        can_trade=not read_only and "SpotTrade" in (permissions.get("Spot") or []),
        can_withdraw="Withdraw" in (permissions.get("Wallet") or []),
        ip_restricted=bool(ips) and ips != ["*"],
        expires_at=_iso_time(result.get("expiredAt")),
    )


def okx_permissions(response: dict[str, Any]) -> KeyPermissions:
    data = response.get("data") or [{}]
    config = data[0] if isinstance(data[0], dict) else {}
    granted = {part.strip() for part in str(config.get("perm", "")).split(",")}
    return KeyPermissions(
        can_trade="trade" in granted,
        can_withdraw="withdraw" in granted,
        ip_restricted=bool(str(config.get("ip", "")).strip()),
    )


def _iso_time(text: Any) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
