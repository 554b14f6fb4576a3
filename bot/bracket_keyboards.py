"""Inline keyboards of brackets: confirmation, a bracket's buttons, the list, and the guided form."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.callbacks import BracketAction, BracketDraftAction, BracketFormChoice
from bot.keyboards import button
from engine.brackets.models import Bracket
from engine.brackets.state import CLOSABLE

# Offered splits for 2 and 3 targets, nearest target first (percent).
SPLIT_CHOICES = {2: ("50,50", "70,30", "30,70"), 3: ("50,30,20", "34,33,33", "60,20,20")}


def confirm(draft_hex: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                button(_("✅ Confirm"), BracketDraftAction(action="ok", draft=draft_hex)),
                button(_("✖ Cancel"), BracketDraftAction(action="no", draft=draft_hex)),
            ]
        ]
    )


def bracket_buttons(bracket: Bracket) -> InlineKeyboardMarkup:
    row = [button(_("🔄 Refresh"), BracketAction(action="d", bracket=bracket.id.hex))]
    if bracket.status in CLOSABLE:
        row.append(button(_("✖ Close bracket"), BracketAction(action="c", bracket=bracket.id.hex)))
    return InlineKeyboardMarkup(inline_keyboard=[row])


def close_confirm(bracket: Bracket) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[button(_("✖ Yes, close it"), BracketAction(action="cy", bracket=bracket.id.hex))]]
    )


def list_buttons(brackets: list[Bracket]) -> InlineKeyboardMarkup:
    rows = []
    for bracket in brackets:
        row = [button(f"🔎 {bracket.short_id}", BracketAction(action="d", bracket=bracket.id.hex))]
        if bracket.status in CLOSABLE:
            row.append(button("✖", BracketAction(action="c", bracket=bracket.id.hex)))
        rows.append(row)
    return InlineKeyboardMarkup(inline_keyboard=rows)


def choices(step: str, options: list[tuple[str, str]], columns: int = 3) -> InlineKeyboardMarkup:
    buttons = [button(label, BracketFormChoice(step=step, value=value)) for label, value in options]
    return InlineKeyboardMarkup(
        inline_keyboard=[buttons[i : i + columns] for i in range(0, len(buttons), columns)]
    )


def split_choices(targets: int) -> InlineKeyboardMarkup:
    options = [(split.replace(",", " / "), split) for split in SPLIT_CHOICES.get(targets, ())]
    return choices("split", options, columns=3)


def yes_no(step: str) -> InlineKeyboardMarkup:
    return choices(step, [(_("Yes"), "yes"), (_("No"), "no")], columns=2)


def exit_choices() -> InlineKeyboardMarkup:
    return choices(
        "exits", [(_("On the exchange (OCO)"), "native"), (_("Watched by the bot"), "synthetic")], columns=1
    )
