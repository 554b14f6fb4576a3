"""The accounts a user trades through, and order sizes taken from their balances."""

from __future__ import annotations

import uuid
from decimal import Decimal

from engine.accounts.models import Account
from engine.common.money import ZERO, floor_to_step
from engine.errors import NotFoundError, ValidationError
from engine.exchanges.ports import GatewayProvider
from engine.orders.models import OrderSide
from engine.uow import UnitOfWorkFactory
from engine.users.models import User


class TradingAccounts:
    def __init__(self, uow_factory: UnitOfWorkFactory, gateways: GatewayProvider) -> None:
        self._uow = uow_factory
        self._gateways = gateways

    async def get(self, user: User, account_id: uuid.UUID | None) -> Account:
        """Return the user's active account with that id, or their default account."""
        async with self._uow(read_only=True) as uow:
            if account_id is None:
                account = await uow.accounts.get_default(user.id)
            else:
                account = await uow.accounts.get_for_user(user.id, account_id)
        if account is None or not account.is_active:
            raise NotFoundError("account")
        return account

    async def active(self, user: User) -> list[Account]:
        async with self._uow(read_only=True) as uow:
            return [account for account in await uow.accounts.list_for_user(user.id) if account.is_active]

    async def find(self, user: User, reference: str) -> Account:
        """Return the user's active account named ``reference`` (any case) or whose id starts with it."""
        wanted = reference.strip().lower()
        accounts = await self.active(user)
        for account in accounts:
            if account.name.lower() == wanted or (len(wanted) >= 8 and account.id.hex.startswith(wanted)):
                return account
        raise ValidationError("ACCOUNT_UNKNOWN", value=reference[:40], known=[a.name for a in accounts])

    async def quantity_for_share(
        self,
        user: User,
        account_id: uuid.UUID | None,
        symbol: str,
        side: OrderSide,
        share: Decimal,
        price: Decimal | None = None,
    ) -> Decimal:
        """Compute the quantity that uses ``share`` of the available balance, rounded down to the step.

        A buy spends the quote asset at ``price`` (else the current ask) with
        the taker fee on top. A sell gives up that share of the base asset.
        Raises SHARE_TOO_SMALL when the result is below the market's minimum.
        """
        account = await self.get(user, account_id)
        gateway = await self._gateways.gateway_for(account)
        market = await gateway.market(symbol)
        balances = await gateway.fetch_balance()
        asset = market.base if side is OrderSide.SELL else market.quote
        entry = balances.get(asset)
        available = entry.free if entry is not None else ZERO

        if side is OrderSide.SELL:
            quantity = available * share
        else:
            if price is None:
                ticker = await gateway.fetch_ticker(symbol)
                price = ticker.ask or ticker.last
            quantity = available * share / (price * (1 + market.taker_fee))
        quantity = floor_to_step(quantity, market.amount_step)
        if quantity < market.min_amount:
            raise ValidationError(
                "SHARE_TOO_SMALL",
                share=share,
                available=available,
                asset=asset,
                minimum=market.min_amount,
                symbol=market.symbol,
            )
        return quantity

    async def net_holding(self, user: User, account_id: uuid.UUID, asset: str) -> Decimal:
        """Net ``asset`` the account received through PATRIOT's fills, after fees paid in it."""
        account = await self.get(user, account_id)
        async with self._uow(read_only=True) as uow:
            return await uow.orders.get_holding(account.id, asset)
