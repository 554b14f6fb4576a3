"""/help and /menu: the command list from the registry."""

from __future__ import annotations

from functools import lru_cache

from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot import keyboards
from bot.commands import Audience, CommandSpec, commands, register, revision
from bot.filters import MenuButton
from bot.formatting import esc
from bot.middlewares.access import PUBLIC
from bot.routing import RouterBlueprint

router = RouterBlueprint(__name__)

register(CommandSpec("help", __("List the commands"), menu_label=__("❓ Help"), order=90))
register(CommandSpec("menu", __("Show the main menu"), order=91))


def help_text(audience: Audience) -> str:
    """Return the command list of ``audience`` in the current language."""
    return _help_text(audience, get_i18n().current_locale, revision())


# The list changes only when a command is registered (``revision``). Building it translates
# and escapes every description, which took a fifth of the CPU time of a /help.
@lru_cache(maxsize=16)
def _help_text(audience: Audience, _locale: str, _revision: int) -> str:
    lines = []
    for spec in commands(audience):
        line = f"/{spec.name} — {esc(spec.description)}"
        if spec.usage is not None:
            line += f"\n    <code>{esc(spec.usage)}</code>"
        lines.append(line)
    return "\n".join(lines)


@router.message(Command("help"), flags={"access": PUBLIC})
@router.message(MenuButton("help"), flags={"access": PUBLIC})
async def show_help(message: Message) -> None:
    await message.answer(
        _("<b>Commands</b>")
        + "\n"
        + help_text(Audience.USER)
        + "\n\n"
        + _("Numbers use a dot as the decimal separator: 0.5, not 0,5."),
    )


@router.message(Command("menu"))
async def show_menu(message: Message) -> None:
    await message.answer(_("Main menu"), reply_markup=keyboards.main_menu())
