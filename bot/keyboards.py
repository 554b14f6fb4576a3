"""Keyboards built in the reader's language."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.callbacks import (
    DraftAction,
    LanguageChoice,
    RiskProfileChoice,
    SettingsAction,
    SkipEmail,
)
from bot.commands import menu_commands
from bot.texts import LANGUAGE_NAMES, risk_profile_name
from engine.users.models import SUPPORTED_LANGUAGES, RiskProfile

MENU_COLUMNS = 3


def main_menu() -> ReplyKeyboardMarkup:
    """The main menu: one button per command that has a menu label."""
    buttons = [KeyboardButton(text=str(spec.menu_label)) for spec in menu_commands()]
    rows = [buttons[i : i + MENU_COLUMNS] for i in range(0, len(buttons), MENU_COLUMNS)]
    return ReplyKeyboardMarkup(keyboard=rows, resize_keyboard=True, is_persistent=True)


def button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def risk_profiles(purpose: str, current: RiskProfile | None = None) -> InlineKeyboardMarkup:
    rows = []
    for profile in RiskProfile:
        label = risk_profile_name(profile)
        if profile is RiskProfile.MEDIUM:
            label = _("{profile} (default)").format(profile=label)
        if profile is current:
            label = "✓ " + label
        rows.append([button(label, RiskProfileChoice(profile=profile.value, purpose=purpose))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def skip_email() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[button(_("Skip"), SkipEmail())]])


def languages(current: str | None = None) -> InlineKeyboardMarkup:
    rows = []
    for language in SUPPORTED_LANGUAGES:
        label = LANGUAGE_NAMES[language]
        rows.append(
            [button(("✓ " if language == current else "") + label, LanguageChoice(language=language))]
        )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def settings_menu(has_email: bool) -> InlineKeyboardMarkup:
    rows = [
        [button(_("Language"), SettingsAction(action="language"))],
        [button(_("Risk profile"), SettingsAction(action="risk"))],
        [button(_("Email"), SettingsAction(action="email"))],
        [button(_("Time zone"), SettingsAction(action="timezone"))],
        [button(_("Risk limits"), SettingsAction(action="limits"))],
        [button(_("Maximum slippage"), SettingsAction(action="slippage"))],
        [button(_("Trading PIN"), SettingsAction(action="pin"))],
    ]
    if has_email:
        rows[2].append(button(_("Remove email"), SettingsAction(action="email_clear")))
    return InlineKeyboardMarkup(inline_keyboard=rows)


def confirm_draft(draft_id: uuid.UUID) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                button(_("✅ Confirm"), DraftAction(action="ok", draft=draft_id.hex)),
                button(_("✖ Cancel"), DraftAction(action="no", draft=draft_id.hex)),
            ]
        ]
    )


def pager(page: int, pages: int, make: Callable[[int], CallbackData]) -> list[InlineKeyboardButton]:
    """Previous/next buttons for a paginated list; ``make(page)`` builds each button's data."""
    row = []
    if page > 0:
        row.append(button("◀", make(page - 1)))
    if page + 1 < pages:
        row.append(button("▶", make(page + 1)))
    return row


MAX_PAGE = 100_000


def clamp_page(page: int) -> int:
    """Keep a page number from a button inside 0..MAX_PAGE (payloads can be forged)."""
    return min(max(page, 0), MAX_PAGE)
