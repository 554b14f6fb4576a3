"""The services a handler may use, built once by ``bot.app.build_services``."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiogram.utils.i18n import I18n

from bot.broadcast import Broadcaster
from bot.notifier import Notifier
from bot.settings import Settings
from engine.accounts.linking import LinkService
from engine.accounts.monitor import KeyMonitor
from engine.accounts.service import AccountService
from engine.admin.service import AdminService
from engine.analytics.bundle import AnalyticsServices
from engine.brackets.service import BracketService
from engine.common.clock import Clock
from engine.events import EventBus
from engine.exchanges.ccxt.client import CcxtClientFactory
from engine.exchanges.paper.exchange import PaperExchange
from engine.exchanges.registry import GatewayRegistry
from engine.market.ports import PriceFeed
from engine.notifications.outbox import Outbox
from engine.notifications.reachability import Reachability
from engine.orders.service import OrderService
from engine.orders.sync import OrderSync
from engine.orders.twap import TwapService
from engine.portfolio.service import PortfolioService
from engine.risk.reports import DailyReporter
from engine.risk.scan import RiskScanner
from engine.risk.service import RiskSettingsService
from engine.security.service import PinService
from engine.users.service import UserService
from storage.db import Database
from storage.uow import SqlUnitOfWorkFactory
from storage.vault import KeyVault


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
    analytics: AnalyticsServices
    risk: RiskSettingsService
    risk_scanner: RiskScanner
    daily_reports: DailyReporter
    outbox: Outbox
    reachability: Reachability
    notifier: Notifier
    broadcaster: Broadcaster
    i18n: I18n
    vault: KeyVault
    exchange_clients: CcxtClientFactory
    accounts: AccountService
    account_links: LinkService
    key_monitor: KeyMonitor
    pins: PinService
    brackets: BracketService
    admin_ids: frozenset[int] = field(default_factory=frozenset)
