"""The services a handler may use, built once by ``bot.app.build_services``."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiogram.utils.i18n import I18n

from bot.settings import Settings
from engine.admin.service import AdminService
from engine.common.clock import Clock
from engine.events import EventBus
from engine.exchanges.paper.exchange import PaperExchange
from engine.exchanges.registry import GatewayRegistry
from engine.market.ports import PriceFeed
from engine.orders.service import OrderService
from engine.orders.sync import OrderSync
from engine.orders.twap import TwapService
from engine.portfolio.service import PortfolioService
from engine.users.service import UserService
from storage.db import Database
from storage.uow import SqlUnitOfWorkFactory


@dataclass
class Services:
    settings: Settings
    clock: Clock
    database: Database
    uow: SqlUnitOfWorkFactory
    bus: EventBus
    prices: PriceFeed
    paper: PaperExchange
    gateways: GatewayRegistry
    users: UserService
    admin: AdminService
    orders: OrderService
    order_sync: OrderSync
    twaps: TwapService
    portfolio: PortfolioService
    i18n: I18n
    admin_ids: frozenset[int] = field(default_factory=frozenset)
