"""Validation of what a user types during registration and in settings."""

from __future__ import annotations

import re
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from engine.errors import ValidationError
from engine.users.models import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_]{3,50}$")
# A practical address check: one @, a dot in the domain, no spaces. Delivery
# is what proves an address; this only catches typing mistakes.
EMAIL_PATTERN = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,24}$")
MAX_EMAIL_LENGTH = 254


def is_valid_username(candidate: str | None) -> bool:
    return bool(candidate) and USERNAME_PATTERN.fullmatch(candidate or "") is not None


def validate_username(candidate: str) -> str:
    """Return the username unchanged, or raise USERNAME_INVALID."""
    text = candidate.strip()
    if not is_valid_username(text):
        raise ValidationError("USERNAME_INVALID", value=candidate)
    return text


def validate_email(candidate: str) -> str:
    """Return the trimmed, lower-cased address, or raise EMAIL_INVALID."""
    text = candidate.strip()
    if len(text) > MAX_EMAIL_LENGTH or EMAIL_PATTERN.fullmatch(text) is None:
        raise ValidationError("EMAIL_INVALID", value=candidate)
    return text.lower()


def language_from_telegram(language_code: str | None) -> str:
    """Map Telegram's IETF language tag (``ru``, ``ru-RU``, ``en-GB``) to a supported language."""
    if not language_code:
        return DEFAULT_LANGUAGE
    primary = language_code.split("-")[0].lower()
    return primary if primary in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE


def validate_language(candidate: str) -> str:
    if candidate not in SUPPORTED_LANGUAGES:
        raise ValidationError("LANGUAGE_UNSUPPORTED", value=candidate)
    return candidate


def validate_timezone(candidate: str) -> str:
    """Return the canonical IANA zone name (``europe/moscow`` -> ``Europe/Moscow``)."""
    text = candidate.strip()
    if "/" not in text and text.upper() != "UTC":
        raise ValidationError("TIMEZONE_INVALID", value=candidate)
    name = "UTC" if text.upper() == "UTC" else _zones_by_lower_name().get(text.lower())
    if name is None:
        raise ValidationError("TIMEZONE_INVALID", value=candidate)
    try:
        ZoneInfo(name)
    except ZoneInfoNotFoundError as exc:
        raise ValidationError("TIMEZONE_INVALID", value=candidate) from exc
    return name


@lru_cache(maxsize=1)
def _zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}
