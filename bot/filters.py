"""Custom filters."""

from __future__ import annotations

from typing import Any

from aiogram.filters import BaseFilter
from aiogram.types import Message

# Filled by bot.app at start-up from the command registry and the catalogs:
# every translation of every main-menu label -> its command name.
MENU_LABELS: dict[str, str] = {}


class MenuButton(BaseFilter):
    """Matches the main-menu button of a command in any supported language."""

    def __init__(self, command: str) -> None:
        self.command = command

    async def __call__(self, message: Message, **kwargs: Any) -> bool:
        return message.text is not None and MENU_LABELS.get(message.text) == self.command


class IsAdmin(BaseFilter):
    """Passes only for Telegram ids listed in ADMIN_IDS."""

    async def __call__(self, event: Any, is_admin: bool = False, **kwargs: Any) -> bool:
        return is_admin
