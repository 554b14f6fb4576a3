"""/portfolio: balances valued at current prices."""

from __future__ import annotations

from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import lazy_gettext as __

from bot.commands import CommandSpec, register
from bot.filters import MenuButton
from bot.replies import answer_long
from bot.routing import RouterBlueprint
from bot.services import Services
from bot.views.portfolio import portfolio_text
from engine.users.models import Permission, User

router = RouterBlueprint(__name__)

register(CommandSpec("portfolio", __("Balances and total equity"), menu_label=__("💼 Portfolio"), order=20))


@router.message(Command("portfolio"), flags={"permission": Permission.VIEW_PORTFOLIO})
@router.message(MenuButton("portfolio"), flags={"permission": Permission.VIEW_PORTFOLIO})
async def show_portfolio(message: Message, user: User, services: Services) -> None:
    summary = await services.portfolio.summary(user)
    await answer_long(message, portfolio_text(summary, user))
