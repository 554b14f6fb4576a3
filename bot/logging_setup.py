"""Logging: one line per event, text or JSON, with known secrets masked.

Handlers never see a secret: ``RedactingFilter`` replaces every registered
secret value (bot token, master key, ...) in the formatted message and in
tracebacks before a line is written. Code must still never log secrets; this
is the second line of defence (aiohttp errors, for one, quote URLs that
contain the bot token).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

MASK = "***"
_MIN_SECRET_LENGTH = 6


class RedactingFilter(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()

    def add_secret(self, value: str | None) -> None:
        if value and len(value) >= _MIN_SECRET_LENGTH:
            self._secrets.add(value)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info:
            formatter = logging.Formatter()
            record.exc_text = self.redact(formatter.formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_text:
            entry["exception"] = record.exc_text
        elif record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


redactor = RedactingFilter()


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Send every log line to stderr through the redactor, replacing earlier handlers."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(redactor)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        formatter.converter = _utc_time_tuple
        handler.setFormatter(formatter)

    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    # aiogram logs one INFO line for every handled update; PATRIOT logs what
    # matters itself, so these are shown only at WARNING and above.
    logging.getLogger("aiogram.event").setLevel(max(logging.WARNING, root.level))
    # Alembic announces each of its plugins at INFO on every start.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # APScheduler logs two INFO lines for every job run, and order jobs run every
    # few seconds; a failing job is still logged at ERROR.
    logging.getLogger("apscheduler.executors.default").setLevel(max(logging.WARNING, root.level))


def _utc_time_tuple(seconds: float | None) -> tuple:  # type: ignore[type-arg]
    return datetime.fromtimestamp(seconds or 0, tz=UTC).timetuple()
