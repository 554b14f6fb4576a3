"""Composition root: builds the services, the bot and the dispatcher."""

from __future__ import annotations

import logging
from datetime import timedelta

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage

from bot import filters
from bot.commands import menu_labels
from bot.handlers import conversation, errors, fallback
from bot.handlers.admin import stats as admin_stats
from bot.handlers.admin import users as admin_users
from bot.handlers.user import cancel as cancel_orders
from bot.handlers.user import help as help_handlers
from bot.handlers.user import order_form, orders, portfolio, settings, slippage, start, trading, twap
from bot.i18n import UserLanguageMiddleware, create_i18n
from bot.logging_setup import redactor
from bot.middlewares.access import AccessGate
from bot.middlewares.context import UserContextLoader
from bot.middlewares.inflight import InFlightTracker
from bot.notifier import Notifier
from bot.services import Services
from bot.settings import Settings
from bot.twap_notices import TwapNotices
from engine.admin.service import AdminService
from engine.common.clock import Clock, SystemClock
from engine.events import EventBus
from engine.exchanges.paper.exchange import PaperConfig, PaperExchange
from engine.exchanges.registry import GatewayRegistry
from engine.market.live import LiveTickerFeed
from engine.market.ports import PriceFeed
from engine.market.replay import ReplayPriceFeed
from engine.orders.service import OrderService
from engine.orders.sync import OrderSync
from engine.orders.twap import TwapService
from engine.portfolio.service import PortfolioService
from engine.risk.pretrade import BalanceCheck, PreTradeChecker
from engine.users.service import UserService
from storage.db import Database
from storage.migrate import upgrade_to_head
from storage.uow import SqlUnitOfWorkFactory

logger = logging.getLogger(__name__)


def build_price_feed(settings: Settings, clock: Clock) -> PriceFeed:
    """Replay of recorded candles by default; live public tickers through ccxt when configured."""
    paper = settings.paper
    if paper.price_source == "live":
        return LiveTickerFeed(paper.live_exchange, clock)
    return ReplayPriceFeed(clock, speed=paper.replay_speed, anchor=paper.replay_anchor)


def build_services(
    settings: Settings, clock: Clock | None = None, prices: PriceFeed | None = None
) -> Services:
    """Wire storage, gateways and engine services; nothing touches the network yet."""
    clock = clock or SystemClock()
    database = Database(settings.database.database_url, busy_timeout_ms=settings.database.db_busy_timeout_ms)
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
    gateways = GatewayRegistry(paper)
    orders = OrderService(
        uow,
        gateways,
        bus,
        clock,
        PreTradeChecker([BalanceCheck()]),
        confirm_ttl=timedelta(seconds=settings.trading.order_confirm_timeout_seconds),
        lookup_attempts=settings.orders.lookup_attempts,
        lookup_delay_seconds=settings.orders.lookup_delay_seconds,
    )
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
        admin=AdminService(uow, clock),
        orders=orders,
        order_sync=build_order_sync(settings, uow, gateways, orders, clock, paper),
        twaps=TwapService(uow, orders, gateways, bus, clock),
        portfolio=PortfolioService(uow, gateways, clock),
        i18n=create_i18n(),
        admin_ids=frozenset(settings.telegram.admin_ids),
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
    """Bring the schema to the newest revision and load replay prices."""
    await upgrade_to_head(services.database)
    if isinstance(services.prices, ReplayPriceFeed):
        await services.prices.preload()


async def close_services(services: Services) -> None:
    await services.gateways.close()
    await services.prices.close()
    await services.database.dispose()


def build_bot(settings: Settings, session: BaseSession | None = None) -> Bot:
    """A Bot with HTML parse mode, talking to TELEGRAM_API_BASE unless a session is given."""
    token = settings.telegram.bot_token
    if token is None:
        raise ValueError("BOT_TOKEN is required to talk to Telegram")
    redactor.add_secret(token.get_secret_value())
    if session is None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram.telegram_api_base))
    return Bot(token=token.get_secret_value(), session=session, default=bot_defaults())


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
    dispatcher = Dispatcher(storage=storage or build_fsm_storage(services.settings))
    notifier = Notifier(bot, services.i18n, services.uow)
    notifier.subscribe(services.bus)
    TwapNotices(services, notifier).subscribe()
    dispatcher["services"] = services
    dispatcher["notifier"] = notifier
    tracker = InFlightTracker()
    dispatcher["inflight"] = tracker

    # Outermost of PATRIOT's middlewares, so shutdown waits for the whole handling.
    dispatcher.update.outer_middleware(tracker)
    # The user loader must run before the language middleware, which reads the
    # user's saved language; both are update-level so every event type gets them.
    dispatcher.update.outer_middleware(UserContextLoader(services.users, services.admin_ids, services.clock))
    UserLanguageMiddleware(services.i18n).setup(dispatcher)
    # The gate is an inner middleware: it runs after filters chose a handler, so
    # it can read that handler's access and permission flags.
    dispatcher.message.middleware(AccessGate())
    dispatcher.callback_query.middleware(AccessGate())

    filters.MENU_LABELS.clear()
    filters.MENU_LABELS.update(menu_labels(services.i18n))

    blueprints = [
        errors.router,
        conversation.router,
        start.router,
        admin_users.router,
        admin_stats.router,
        help_handlers.router,
        settings.router,
        slippage.router,
        trading.router,
        order_form.router,
        orders.router,
        cancel_orders.router,
        twap.router,
        portfolio.router,
        # Must stay last: it answers whatever no other router took.
        fallback.router,
    ]
    dispatcher.include_routers(*(blueprint.build() for blueprint in blueprints))
    return dispatcher
