"""``ccxt.async_support``, imported on first use.

Importing ccxt loads the classes of every exchange it supports: about 1.5 s
and 95 MB on a 2-core machine (``python -X importtime``). A bot whose users
trade only on PAPER never needs it, so start-up does not pay for it; the first
live gateway, key check or except clause that reads an attribute does.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _LazyModule:
    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attribute)


ccxt: Any = _LazyModule("ccxt.async_support")
