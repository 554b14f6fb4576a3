"""Placing OCO pairs: a take-profit limit and a stop-market that share one quantity.

Used for a bracket's native exits on spot exchanges, where a stop and a
take-profit cannot both hold the same coins unless the exchange pairs them.
The pair is checked once, both legs are stored PENDING in one transaction
with their client order ids, then sent in one request; every answer goes
through ``OrderService.record`` like any order's.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from engine.accounts.models import Account
from engine.common.clock import Clock
from engine.errors import PermanentExchangeError, TemporaryExchangeError
from engine.exchanges.models import ExchangeOrder
from engine.exchanges.ports import ExchangeGateway, GatewayProvider
from engine.orders.models import BracketLink, Order, OrderRequest, OrderSide
from engine.orders.recording import pending_order, request_of
from engine.orders.validation import fit_to_market
from engine.uow import UnitOfWorkFactory
from engine.users.models import User

if TYPE_CHECKING:
    from engine.orders.service import OrderService

logger = logging.getLogger(__name__)


class OcoPlacement:
    def __init__(
        self, service: OrderService, uow_factory: UnitOfWorkFactory, gateways: GatewayProvider, clock: Clock
    ) -> None:
        self._service = service
        self._uow = uow_factory
        self._gateways = gateways
        self._clock = clock

    async def place(
        self,
        user: User,
        account: Account,
        limit: OrderRequest,
        stop: OrderRequest,
        links: tuple[BracketLink, BracketLink],
    ) -> tuple[Order, Order]:
        """Check, store and send the pair; return the limit leg and the stop leg.

        Both requests carry their client order ids. A lost response is resolved
        by looking each leg up (a leg still unknown stays PENDING). An exchange
        rejection rejects both legs and raises the PermanentExchangeError, so
        the caller can protect the position another way.
        """
        from engine.orders.service import blocking_denial

        gateway = await self._gateways.gateway_for(account)
        market = await gateway.market(limit.symbol)
        limit, _ = fit_to_market(limit, market)
        stop, _ = fit_to_market(stop, market)
        # A buy pair reserves the larger of its legs' costs, and a sell pair reserves one amount for both.
        checked = stop if limit.side is OrderSide.BUY else limit
        assessment = await self._service.assess(user, account, gateway, market, checked, check_trigger=False)
        denial = blocking_denial(assessment.report, protective=True)
        if denial is not None:
            raise denial

        legs = []
        for request, link in zip((limit, stop), links, strict=True):
            order = pending_order(user, account, request, self._clock, assessment.report)
            order.bracket_id, order.bracket_leg = link.bracket_id, link.leg
            legs.append(order)
        async with self._uow() as uow:
            for order in legs:
                await uow.orders.add(order)
            await uow.commit()
        logger.info(
            "OCO %s + %s PENDING for user %s: %s %s %s, limit %s, stop %s",
            legs[0].id,
            legs[1].id,
            user.telegram_id,
            limit.side,
            limit.quantity,
            limit.symbol,
            limit.price,
            stop.stop_price,
        )

        reports = await self._submit(gateway, legs[0], legs[1])
        for order, report in zip(legs, reports, strict=True):
            if report is not None:
                await self._service.record(order, report)
        return legs[0], legs[1]

    async def _submit(
        self, gateway: ExchangeGateway, limit: Order, stop: Order
    ) -> tuple[ExchangeOrder | None, ExchangeOrder | None]:
        try:
            return await gateway.create_oco(request_of(limit), request_of(stop))
        except TemporaryExchangeError as exc:
            logger.warning("OCO %s: outcome unknown after %s; looking its legs up", limit.id, exc)
        except PermanentExchangeError as exc:
            if exc.reason != "DUPLICATE_CLIENT_ORDER_ID":
                for order in (limit, stop):
                    await self._service.reject(order, exc.reason or str(exc))
                raise
        return await self._service.look_up(gateway, limit), await self._service.look_up(gateway, stop)
