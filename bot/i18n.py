"""Gettext catalogs compiled at start from ``locales/<lang>/LC_MESSAGES/*.po``.

No ``.mo`` file is kept in the tree: ``create_i18n`` compiles the catalogs
with Babel into a temporary directory, loads them into aiogram's I18n (which
reads them fully into memory) and removes the directory. An edited ``.po``
takes effect on the next start with no build step. Every ``.po`` file of a
language is merged into its one catalog, so each feature may keep its
messages in a file of its own.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n.middleware import I18nMiddleware
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from engine.users.models import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES, User
from engine.users.validation import language_from_telegram

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"


def compile_language(directory: Path, locale: str, target: Path) -> None:
    """Merge every ``.po`` file of one language into the ``.mo`` file ``target``."""
    merged = Catalog(locale=locale, domain=DOMAIN)
    for po_path in sorted(directory.glob("*.po")):
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        for message in catalog:
            if message.id and message.string and not message.fuzzy:
                if message.id in merged:
                    raise ValueError(f"{po_path}: msgid {message.id!r} is defined in two files")
                merged.add(message.id, message.string, context=message.context)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as handle:
        write_mo(handle, merged)


def create_i18n(path: Path = LOCALES_DIR) -> I18n:
    """Compile the catalogs under ``path`` and return an I18n holding them in memory."""
    with tempfile.TemporaryDirectory(prefix="patriot-locales-") as compiled:
        for language_dir in sorted(path.iterdir()):
            messages_dir = language_dir / "LC_MESSAGES"
            if messages_dir.is_dir() and any(messages_dir.glob("*.po")):
                target = Path(compiled) / language_dir.name / "LC_MESSAGES" / f"{DOMAIN}.mo"
                compile_language(messages_dir, language_dir.name, target)
        i18n = I18n(path=compiled, default_locale=DEFAULT_LANGUAGE, domain=DOMAIN)
    missing = set(SUPPORTED_LANGUAGES) - set(i18n.available_locales)
    if missing:
        raise RuntimeError(f"no catalogs for {sorted(missing)} under {path}")
    return i18n


class UserLanguageMiddleware(I18nMiddleware):
    """Pick the registered user's language, else Telegram's language_code."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user: User | None = data.get("user")
        if user is not None:
            return user.language
        telegram_user = data.get("event_from_user")
        return language_from_telegram(getattr(telegram_user, "language_code", None))


@contextmanager
def localized(i18n: I18n, language: str) -> Iterator[None]:
    """Make gettext work in ``language`` anywhere: handlers, error handlers, scheduled jobs."""
    with i18n.context(), i18n.use_locale(language):
        yield
