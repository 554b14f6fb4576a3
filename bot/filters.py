"""Custom filters."""

from __future__ import annotations

from typing import Any

from aiogram.filters import BaseFilter
from aiogram.types import Message

from bot.commands import is_registered

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


def is_command(text: str) -> bool:
    """Tell whether the text starts with a registered command, such as ``/buy`` or ``/cancel@bot``."""
    if not text.startswith("/"):
        return False
    words = text[1:].split(maxsplit=1)
    return bool(words) and is_registered(words[0].split("@")[0])


class NotACommand(BaseFilter):
    """Passes for any message but a registered command.

    Steps that read a secret use it: an API secret may start with "/", and
    such a message must reach the step (and be deleted), not the fallback.
    """

    async def __call__(self, message: Message, **kwargs: Any) -> bool:
        return not is_command(message.text or "")
