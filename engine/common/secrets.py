"""A string that keeps itself out of logs, reprs, f-strings and pickles."""

from __future__ import annotations

import hmac
from typing import Any, NoReturn

MASK = "***"


class Secret:
    """An API key, secret, passphrase or master key.

    ``repr``, ``str`` and ``format`` show only ``***``, so a secret that
    reaches a log line, an exception message or a test snapshot by mistake
    stays masked. ``reveal()`` returns the value for the one place that needs
    it (signing a request, encrypting it). Pickling is refused, so a secret
    cannot slip into a cache or an FSM storage in plain text.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"Secret needs a str, got {type(value).__name__}")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def hint(self, visible: int = 4) -> str:
        """Return the last ``visible`` characters after an ellipsis, for telling keys apart."""
        if len(self._value) <= visible * 2:
            return "…"
        return "…" + self._value[-visible:]

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __format__(self, format_spec: str) -> str:
        return MASK

    def __len__(self) -> int:
        return len(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled; store it encrypted")

    def __getstate__(self) -> Any:
        raise TypeError("a Secret cannot be pickled; store it encrypted")
