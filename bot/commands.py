"""The one list of bot commands: it feeds /help, /admin, the main menu keyboard and setMyCommands.

A handler module registers its command here with ``register`` at import, so
a command cannot be handled without appearing in the help and the menu.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n.lazy_proxy import LazyProxy

from engine.users.models import SUPPORTED_LANGUAGES

logger = logging.getLogger(__name__)


class Audience(StrEnum):
    USER = "user"
    ADMIN = "admin"


@dataclass(frozen=True)
class CommandSpec:
    name: str
    description: LazyProxy  # one line, shown in Telegram's command menu (max 256 chars)
    audience: Audience = Audience.USER
    usage: LazyProxy | None = None  # argument forms shown by /help
    menu_label: LazyProxy | None = None  # button on the main menu keyboard
    order: int = 100


_REGISTRY: dict[str, CommandSpec] = {}


def register(spec: CommandSpec) -> CommandSpec:
    if spec.name in _REGISTRY:
        raise ValueError(f"command /{spec.name} is registered twice")
    _REGISTRY[spec.name] = spec
    return spec


def revision() -> int:
    """Return a number that changes whenever a command is registered (caches of the list key on it)."""
    return len(_REGISTRY)


def is_registered(name: str) -> bool:
    return name in _REGISTRY


def commands(audience: Audience | None = None) -> list[CommandSpec]:
    specs = [spec for spec in _REGISTRY.values() if audience is None or spec.audience is audience]
    return sorted(specs, key=lambda spec: (spec.order, spec.name))


def menu_commands() -> list[CommandSpec]:
    return [spec for spec in commands(Audience.USER) if spec.menu_label is not None]


def menu_labels(i18n: I18n) -> dict[str, str]:
    """Map every translation of every menu button label to its command name."""
    labels: dict[str, str] = {}
    with i18n.context():
        for spec in menu_commands():
            assert spec.menu_label is not None
            for language in SUPPORTED_LANGUAGES:
                with i18n.use_locale(language):
                    labels[str(spec.menu_label)] = spec.name
    return labels


def _bot_commands(audiences: tuple[Audience, ...], i18n: I18n, language: str) -> list[BotCommand]:
    with i18n.use_locale(language):
        return [
            BotCommand(command=spec.name, description=str(spec.description)[:256])
            for audience in audiences
            for spec in commands(audience)
        ]


async def publish_commands(bot: Bot, i18n: I18n, admin_ids: list[int]) -> None:
    """Set the command menu per language: users get user commands, each admin's chat gets all."""
    with i18n.context():
        for language in SUPPORTED_LANGUAGES:
            user_commands = _bot_commands((Audience.USER,), i18n, language)
            await bot.set_my_commands(user_commands, scope=BotCommandScopeDefault(), language_code=language)
        await bot.set_my_commands(
            _bot_commands((Audience.USER,), i18n, i18n.default_locale), scope=BotCommandScopeDefault()
        )
        for admin_id in admin_ids:
            await _publish_admin_commands(bot, i18n, admin_id)


async def _publish_admin_commands(bot: Bot, i18n: I18n, admin_id: int) -> None:
    scope = BotCommandScopeChat(chat_id=admin_id)
    try:
        for language in SUPPORTED_LANGUAGES:
            everything = _bot_commands((Audience.USER, Audience.ADMIN), i18n, language)
            await bot.set_my_commands(everything, scope=scope, language_code=language)
        await bot.set_my_commands(
            _bot_commands((Audience.USER, Audience.ADMIN), i18n, i18n.default_locale), scope=scope
        )
    except TelegramAPIError as exc:
        # Telegram refuses a chat scope until the admin has opened the bot once.
        logger.warning("Admin command menu for %s not set: %s", admin_id, exc)
