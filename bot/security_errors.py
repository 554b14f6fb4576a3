"""Explanations of the trading PIN's error codes, and the reply to a wrong or locked PIN."""

from __future__ import annotations

from typing import Any

from aiogram.utils.i18n import gettext as _

from bot.error_texts import explains
from bot.pin_guard import lockout_text
from engine.security.service import PinAttempt, Verdict
from engine.users.models import User


@explains("PIN_FORMAT")
def _pin_format(fields: dict[str, Any], locale: str) -> str:
    return _("A PIN is {minimum} to {maximum} digits 0-9 and nothing else. Send it again.").format(
        minimum=fields.get("minimum", 4), maximum=fields.get("maximum", 12)
    )


@explains("PIN_TOO_SIMPLE")
def _pin_too_simple(fields: dict[str, Any], locale: str) -> str:
    return _("This PIN is too easy to guess (one repeated digit or a run like 1234). Choose another one.")


@explains("PIN_NOT_SET")
def _pin_not_set(fields: dict[str, Any], locale: str) -> str:
    return _("You have no PIN. Set one in /settings.")


@explains("PIN_ALREADY_SET")
def _pin_already_set(fields: dict[str, Any], locale: str) -> str:
    return _("You already have a PIN. Change it in /settings; that needs the current one.")


def attempt_text(attempt: PinAttempt, user: User) -> str:
    """Reply to a PIN that was not accepted: how many tries are left, or until when it is locked."""
    if attempt.verdict is Verdict.LOCKED:
        return lockout_text(attempt.locked_until, user)
    return _("❌ Wrong PIN. {left} attempts left before guarded actions are locked.").format(
        left=attempt.attempts_left
    )
