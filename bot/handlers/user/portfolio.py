"""/portfolio and /positions."""

from __future__ import annotations

from decimal import Decimal

from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import lazy_gettext as __

from bot.commands import CommandSpec, register
from bot.filters import MenuButton
from bot.replies import answer_long
from bot.routing import RouterBlueprint
from bot.services import Services
from bot.views.portfolio import portfolio_text
from bot.views.positions import positions_text
from engine.common.money import parse_decimal
from engine.errors import ValidationError
from engine.market.symbols import normalize_symbol
from engine.portfolio.service import PositionFilter
from engine.users.models import Permission, User

router = RouterBlueprint(__name__)

register(CommandSpec("portfolio", __("Balances and total equity"), menu_label=__("💼 Portfolio"), order=20))
register(
    CommandSpec(
        "positions",
        __("Open positions with entry, mark price and PnL"),
        usage=__("/positions [account=NAME] [symbol=BTC] [min=100]"),
        menu_label=__("📈 Positions"),
        order=21,
    )
)


# reads_first: the summary's read comes before any network call, so it continues the user load's
# transaction (bot/middlewares/gate.py).
@router.message(Command("portfolio"), flags={"permission": Permission.VIEW_PORTFOLIO, "reads_first": True})
@router.message(MenuButton("portfolio"), flags={"permission": Permission.VIEW_PORTFOLIO, "reads_first": True})
async def show_portfolio(message: Message, user: User, services: Services) -> None:
    summary = await services.portfolio.summary(user)
    await answer_long(message, portfolio_text(summary, user))


@router.message(Command("positions"), flags={"permission": Permission.VIEW_PORTFOLIO})
@router.message(MenuButton("positions"), flags={"permission": Permission.VIEW_PORTFOLIO})
async def show_positions(
    message: Message, user: User, services: Services, command: CommandObject | None = None
) -> None:
    criteria = parse_position_filter(command.args if command else None)
    positions = await services.portfolio.positions(user, criteria)
    await answer_long(message, positions_text(positions, user, filtered=criteria != PositionFilter()))


def parse_position_filter(arguments: str | None) -> PositionFilter:
    """Read ``account=NAME``, ``symbol=BTC`` (or a bare symbol) and ``min=VALUE`` in any order.

    Raises ValidationError POSITION_FILTER_INVALID naming the term it cannot read.
    """
    account = symbol = None
    minimum: Decimal | None = None
    for term in (arguments or "").split():
        key, separator, value = term.partition("=")
        key = key.lower() if separator else "symbol"
        value = value if separator else term
        if key == "account" and value:
            account = value
        elif key == "symbol" and value:
            symbol = _filter_symbol(value, term)
        elif key == "min" and value:
            minimum = parse_decimal(value, field="amount")
        else:
            raise ValidationError("POSITION_FILTER_INVALID", value=term)
    return PositionFilter(account=account, symbol=symbol, min_value=minimum)


def _filter_symbol(value: str, term: str) -> str:
    cleaned = value.strip().upper()
    if cleaned.isascii() and cleaned.isalnum() and len(cleaned) <= 10 and not cleaned.endswith("USDT"):
        return cleaned  # a base asset such as BTC
    try:
        return normalize_symbol(value)
    except ValidationError:
        raise ValidationError("POSITION_FILTER_INVALID", value=term) from None
