"""Composition root: builds the services, the bot and the dispatcher."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from aiogram import Bot, Dispatcher, F
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ChatType, ParseMode
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage

from bot import filters, risk_errors, security_errors  # noqa: F401  (they register error explanations)
from bot.bracket_notices import BracketNotices
from bot.broadcast import Broadcaster
from bot.command_routes import RoutedDispatcher
from bot.commands import menu_labels
from bot.delivery import TelegramSender
from bot.handlers import conversation, errors, fallback
from bot.handlers.admin import broadcast as admin_broadcast
from bot.handlers.admin import limits as admin_limits
from bot.handlers.admin import scenarios as admin_scenarios
from bot.handlers.admin import security as admin_security
from bot.handlers.admin import stats as admin_stats
from bot.handlers.admin import users as admin_users
from bot.handlers.user import (
    accounts,
    alerts,
    analytics,
    bracket_form,
    brackets,
    link,
    order_form,
    orders,
    pin,
    portfolio,
    risk_limits,
    settings,
    slippage,
    start,
    trading,
    twap,
)
from bot.handlers.user import cancel as cancel_orders
from bot.handlers.user import help as help_handlers
from bot.i18n import UserLanguageMiddleware, create_i18n
from bot.key_alerts import KeyAlerts
from bot.logging_setup import redactor
from bot.middlewares.context import UpdateContext
from bot.middlewares.gate import HandlerGate
from bot.middlewares.inflight import InFlightTracker
from bot.middlewares.requests import EndKeptRead, ReplyRetryMiddleware
from bot.middlewares.throttle import RateLimiter, RateLimits
from bot.notifier import Notifier
from bot.routing import awaitable_filter
from bot.services import Services
from bot.settings import Settings
from bot.twap_notices import TwapNotices
from bot.views import accounts as account_views
from bot.views.limits import RiskTexts
from engine.accounts.linking import LinkService
from engine.accounts.monitor import KeyMonitor
from engine.accounts.service import AccountService
from engine.admin.service import AdminService
from engine.analytics.bundle import AnalyticsServices
from engine.analytics.limits import VarLimitLookup
from engine.analytics.performance_service import PerformanceService
from engine.analytics.rebalance_service import RebalanceService
from engine.analytics.risk_service import RiskService, market_clock
from engine.analytics.scenarios import ScenarioService
from engine.brackets.keeper import BracketKeeper
from engine.brackets.models import ExitMode
from engine.brackets.service import BracketService
from engine.common.clock import Clock, SystemClock
from engine.common.secrets import Secret
from engine.events import EventBus
from engine.exchanges.ccxt.client import CcxtClientFactory
from engine.exchanges.ccxt.factory import LiveGatewayFactory
from engine.exchanges.ccxt.keycheck import CcxtKeyChecker
from engine.exchanges.ccxt.markets import MarketCatalog
from engine.exchanges.paper.exchange import PaperConfig, PaperExchange
from engine.exchanges.registry import GatewayRegistry
from engine.market.history import DailyHistory
from engine.market.ports import PriceFeed
from engine.market.replay import ReplayPriceFeed
from engine.notifications.dispatcher import DeliveryConfig, OutboxDispatcher
from engine.notifications.outbox import Outbox
from engine.notifications.reachability import Reachability
from engine.orders.service import OrderService
from engine.orders.sync import OrderSync
from engine.orders.twap import TwapService
from engine.portfolio.service import PortfolioService
from engine.risk.checks import risk_checks
from engine.risk.exposure import ExposureReader
from engine.risk.impact import RiskAssessor
from engine.risk.pretrade import BalanceCheck, PreTradeChecker
from engine.risk.reports import DailyReporter
from engine.risk.returns import ReturnsWindow
from engine.risk.scan import RiskScanner
from engine.risk.service import RiskSettingsService
from engine.security.pin import ScryptCost
from engine.security.service import PinPolicy, PinService
from engine.users.service import UserService
from storage.db import Database
from storage.migrate import upgrade_to_head
from storage.uow import KeptRead, SqlUnitOfWorkFactory
from storage.vault import KeyVault, load_master_keys

logger = logging.getLogger(__name__)


def build_price_feed(settings: Settings, clock: Clock) -> PriceFeed:
    """Replay of recorded candles by default; live public tickers through ccxt when configured."""
    paper = settings.paper
    if paper.price_source == "live":
        from engine.market.live import LiveTickerFeed  # imports ccxt, which only this source needs

        return LiveTickerFeed(paper.live_exchange, clock)
    return ReplayPriceFeed(clock, speed=paper.replay_speed, anchor=paper.replay_anchor)


def build_vault(settings: Settings) -> KeyVault:
    """Build the key vault from MASTER_KEY or MASTER_KEY_FILE; raise MasterKeyError naming the fix."""
    master_key = settings.vault.master_key
    keys = load_master_keys(
        Secret(master_key.get_secret_value()) if master_key is not None else None,
        settings.vault.master_key_file,
    )
    for key in keys:
        redactor.add_secret(key.reveal())
    return KeyVault(keys)


def build_services(
    settings: Settings,
    clock: Clock | None = None,
    prices: PriceFeed | None = None,
    vault: KeyVault | None = None,
    database: Database | None = None,
) -> Services:
    """Wire storage, gateways and engine services; nothing touches the network yet.

    ``database`` replaces the one DATABASE_URL names (the benchmarks compare SQLite drivers).
    """
    clock = clock or SystemClock()
    vault = vault or build_vault(settings)
    database = database or Database(
        settings.database.database_url,
        busy_timeout_ms=settings.database.db_busy_timeout_ms,
        sqlite_driver=settings.database.database_sqlite_driver,
    )
    uow = SqlUnitOfWorkFactory(database)
    bus = EventBus()
    prices = prices or build_price_feed(settings, clock)
    paper = PaperExchange(
        uow,
        prices,
        clock,
        PaperConfig(
            starting_balance=settings.paper.starting_balance,
            slippage=settings.paper.slippage,
            taker_fee=settings.paper.taker_fee,
            maker_fee=settings.paper_matching.maker_fee,
            volume_share=settings.paper_matching.fill_volume_share,
            buy_fee_in_base=settings.paper_matching.buy_fee_in_base,
        ),
    )

    exchanges = settings.exchanges
    clients = CcxtClientFactory(timeout_seconds=exchanges.timeout_seconds)
    catalog = MarketCatalog(clock, timedelta(minutes=exchanges.markets_ttl_minutes))
    live = LiveGatewayFactory(
        uow,
        vault,
        clients,
        catalog,
        bus,
        clock,
        register_secret=redactor.add_secret,
        stop_limit_offset=settings.brackets.bracket_stop_limit_offset_percent / 100,
    )
    gateways = GatewayRegistry(paper, live_factory=live)
    checker = CcxtKeyChecker(clients)
    key_monitor = KeyMonitor(uow, vault, checker, clock, bus, gateways)
    key_monitor.subscribe()

    exposures = ExposureReader(paper, gateways)
    returns = ReturnsWindow(
        DailyHistory(), market_clock(prices, clock), lookback_days=settings.risk.var_lookback_days
    )
    assessor = RiskAssessor(uow, exposures, gateways, returns, clock)
    orders = OrderService(
        uow,
        gateways,
        bus,
        clock,
        PreTradeChecker([BalanceCheck(), *risk_checks(assessor)], inputs=assessor),
        confirm_ttl=timedelta(seconds=settings.trading.order_confirm_timeout_seconds),
        lookup_attempts=settings.orders.lookup_attempts,
        lookup_delay_seconds=settings.orders.lookup_delay_seconds,
    )
    portfolio = PortfolioService(uow, gateways, clock, prices)
    admin = AdminService(uow, clock)
    i18n = create_i18n()
    outbox = Outbox(uow, clock)
    reachability = Reachability(uow, clock)
    notifier = Notifier(outbox, i18n, uow)
    notifier.subscribe(bus)
    texts = RiskTexts(i18n)
    risk_settings = RiskSettingsService(uow, clock)
    keeper = BracketKeeper(uow, gateways, orders, bus, clock)
    keeper.subscribe()
    return Services(
        settings=settings,
        clock=clock,
        database=database,
        uow=uow,
        bus=bus,
        prices=prices,
        paper=paper,
        gateways=gateways,
        users=UserService(uow, clock, paper.opening_balances()),
        admin=admin,
        orders=orders,
        order_sync=build_order_sync(settings, uow, gateways, orders, clock, paper),
        twaps=TwapService(uow, orders, gateways, bus, clock),
        portfolio=portfolio,
        analytics=build_analytics(
            settings, uow, clock, prices, gateways, orders, portfolio, admin, risk_settings
        ),
        risk=risk_settings,
        risk_scanner=RiskScanner(uow, exposures, returns, outbox, texts, clock),
        daily_reports=DailyReporter(uow, exposures, outbox, texts, clock),
        outbox=outbox,
        reachability=reachability,
        notifier=notifier,
        broadcaster=Broadcaster(uow, outbox, reachability, i18n, clock),
        i18n=i18n,
        vault=vault,
        exchange_clients=clients,
        accounts=AccountService(uow, clock, gateways),
        account_links=LinkService(uow, vault, checker, clock),
        key_monitor=key_monitor,
        pins=build_pins(settings, uow, vault, clock),
        brackets=BracketService(
            uow,
            orders,
            gateways,
            keeper,
            clock,
            paper_exits=ExitMode(settings.brackets.paper_bracket_exits.upper()),
        ),
        admin_ids=frozenset(settings.telegram.admin_ids),
    )


def build_pins(settings: Settings, uow: SqlUnitOfWorkFactory, vault: KeyVault, clock: Clock) -> PinService:
    """Create the PIN service with the policy from the PIN_* settings."""
    pin = settings.pin
    policy = PinPolicy(
        session=timedelta(seconds=pin.session_seconds),
        max_attempts=pin.max_attempts,
        lockout=timedelta(minutes=pin.lockout_minutes),
        cost=ScryptCost(n=2**pin.scrypt_cost),
    )
    return PinService(uow, vault, clock, policy)


def build_analytics(
    settings: Settings,
    uow: SqlUnitOfWorkFactory,
    clock: Clock,
    prices: PriceFeed,
    gateways: GatewayRegistry,
    orders: OrderService,
    portfolio: PortfolioService,
    admin: AdminService,
    limits: VarLimitLookup,
) -> AnalyticsServices:
    """Performance, risk, rebalancing and stress scenarios over the recorded daily history."""
    history = DailyHistory()
    market_now = market_clock(prices, clock)
    lookback = settings.analytics.lookback_days
    return AnalyticsServices(
        performance=PerformanceService(uow, portfolio, clock),
        risk=RiskService(uow, portfolio, history, market_now, limits, lookback_days=lookback),
        rebalancing=RebalanceService(
            uow,
            gateways,
            orders,
            history,
            market_now,
            clock,
            lookback_days=lookback,
            confirm_ttl=timedelta(seconds=settings.trading.order_confirm_timeout_seconds),
        ),
        scenarios=ScenarioService(uow, clock, admin),
    )


def build_order_sync(
    settings: Settings,
    uow: SqlUnitOfWorkFactory,
    gateways: GatewayRegistry,
    orders: OrderService,
    clock: Clock,
    paper: PaperExchange,
) -> OrderSync:
    order_settings = settings.orders
    return OrderSync(
        uow,
        gateways,
        orders,
        clock,
        paper=paper,
        interval=timedelta(seconds=order_settings.sync_interval_seconds),
        max_backoff=timedelta(seconds=order_settings.sync_max_backoff_seconds),
        misses_before_reject=order_settings.unknown_after_lookups,
        unknown_after=timedelta(seconds=order_settings.unknown_after_seconds),
    )


async def start_services(services: Services) -> None:
    """Mark the database as in use, bring its schema to the newest revision, and load what the bot keeps.

    That is the replay prices and the chats that blocked the bot. Raises DatabaseInUse
    while a downgrade runs on the file.
    """
    services.database.in_use.share()
    await upgrade_to_head(services.database)
    if isinstance(services.prices, ReplayPriceFeed):
        await services.prices.preload()
    await services.reachability.load()


async def close_services(services: Services) -> None:
    await services.gateways.close()
    await services.prices.close()
    await services.database.dispose()


def build_delivery(services: Services, bot: Bot) -> OutboxDispatcher:
    """Create the outbox dispatcher that sends through ``bot``, woken whenever a push is queued."""
    outbox = services.settings.outbox
    config = DeliveryConfig(
        rate_per_second=outbox.rate_per_second,
        chat_interval_seconds=outbox.chat_interval_seconds,
        max_in_flight=outbox.max_in_flight,
        max_attempts=outbox.max_attempts,
        retry_base_seconds=outbox.retry_base_seconds,
        retry_max_seconds=outbox.retry_max_seconds,
        global_flood_chats=outbox.global_flood_chats,
    )
    sender = TelegramSender(bot)
    delivery = OutboxDispatcher(services.uow, sender, services.reachability, services.clock, config)
    services.outbox.on_queued(delivery.wake)
    return delivery


def build_rate_limiter(services: Services) -> RateLimiter:
    """Create per-user rate limits from the settings on the monotonic clock."""
    limits = services.settings.rate_limit
    return RateLimiter(
        RateLimits(limits.commands_per_minute, limits.orders_per_minute, limits.order_gap_ms / 1000),
        time.monotonic,
    )


def build_bot(settings: Settings, session: BaseSession | None = None) -> Bot:
    """Create a Bot with HTML parse mode that talks to TELEGRAM_API_BASE unless a session is given."""
    token = settings.telegram.bot_token
    if token is None:
        raise ValueError("BOT_TOKEN is required to talk to Telegram")
    redactor.add_secret(token.get_secret_value())
    if session is None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram.telegram_api_base))
    return Bot(token=token.get_secret_value(), session=instrument_session(session), default=bot_defaults())


def instrument_session(session: BaseSession) -> BaseSession:
    """Add the request middlewares every PATRIOT bot session uses."""
    session.middleware(ReplyRetryMiddleware())
    session.middleware(EndKeptRead(KeptRead.end))
    return session


def bot_defaults() -> DefaultBotProperties:
    """Every message is HTML; values inside are escaped where the text is built."""
    return DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True)


def build_fsm_storage(settings: Settings) -> BaseStorage:
    redis_url = settings.storage.redis_url
    if redis_url is None:
        return MemoryStorage()
    from aiogram.fsm.storage.redis import RedisStorage

    redactor.add_secret(redis_url.get_secret_value())
    return RedisStorage.from_url(redis_url.get_secret_value())


def build_dispatcher(services: Services, bot: Bot, storage: BaseStorage | None = None) -> Dispatcher:
    """The Dispatcher with every router, middleware and service in its workflow data."""
    dispatcher = RoutedDispatcher(storage=storage or build_fsm_storage(services.settings))
    KeyAlerts(services, services.notifier).subscribe(services.bus)
    TwapNotices(services, services.notifier).subscribe()
    BracketNotices(services, services.notifier).subscribe()
    dispatcher["services"] = services
    dispatcher["notifier"] = services.notifier
    tracker = InFlightTracker()
    dispatcher["inflight"] = tracker

    # PATRIOT's one update-level middleware (in-flight count, user, language, leaving a
    # conversation). It runs after aiogram's FSM middleware, whose state it reads.
    dispatcher.update.outer_middleware(
        UpdateContext(
            tracker,
            services.users,
            services.i18n,
            services.admin_ids,
            services.clock,
            services.reachability,
            KeptRead(),
        )
    )
    # Error handlers run outside the update context: they get the language again here.
    dispatcher.errors.outer_middleware(UserLanguageMiddleware(services.i18n))
    # PATRIOT serves one trader per chat: group and channel updates are ignored.
    dispatcher.message.filter(awaitable_filter(F.chat.type == ChatType.PRIVATE))
    dispatcher.callback_query.filter(awaitable_filter(F.message.chat.type == ChatType.PRIVATE))
    # An inner middleware runs after the filters chose a handler, so the gate can read
    # that handler's flags: rate limit, then access, then the PIN (bot/middlewares/gate.py).
    gate = HandlerGate(build_rate_limiter(services), KeptRead())
    dispatcher.message.middleware(gate)
    dispatcher.callback_query.middleware(gate)

    filters.MENU_LABELS.clear()
    filters.MENU_LABELS.update(menu_labels(services.i18n))
    account_views.SERVER_ADDRESSES[:] = services.settings.exchanges.ip_whitelist

    blueprints = [
        errors.router,
        conversation.router,
        # Before the rest, so a message sent as a PIN never reaches another handler.
        pin.router,
        start.router,
        admin_users.router,
        admin_stats.router,
        admin_scenarios.router,
        admin_limits.router,
        admin_broadcast.router,
        admin_security.router,
        help_handlers.router,
        settings.router,
        slippage.router,
        trading.router,
        order_form.router,
        orders.router,
        cancel_orders.router,
        twap.router,
        brackets.router,
        bracket_form.router,
        portfolio.router,
        analytics.router,
        accounts.router,
        link.router,
        risk_limits.router,
        alerts.router,
        # Must stay last: it answers whatever no other router took.
        fallback.router,
    ]
    dispatcher.include_routers(*(blueprint.build() for blueprint in blueprints))
    return dispatcher
