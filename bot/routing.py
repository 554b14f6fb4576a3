"""Handler modules declare their handlers on a blueprint; each Dispatcher gets fresh routers.

An aiogram Router can belong to one parent only, while tests (and a process
that rebuilds its dispatcher) need several dispatchers over the same handler
modules. A blueprint records the decorator calls and replays them onto a new
Router each time ``build`` is called.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiogram import Router

Handler = Callable[..., Any]


@dataclass(frozen=True)
class _Registration:
    observer: str
    handler: Handler
    filters: tuple[Any, ...]
    options: dict[str, Any]


class RouterBlueprint:
    def __init__(self, name: str, *, filters: tuple[Any, ...] = ()) -> None:
        """``filters`` apply to every message and callback query handler of the router."""
        self.name = name
        self._filters = filters
        self._registrations: list[_Registration] = []

    def _decorator(
        self, observer: str, filters: tuple[Any, ...], options: dict[str, Any]
    ) -> Callable[[Handler], Handler]:
        def record(handler: Handler) -> Handler:
            self._registrations.append(_Registration(observer, handler, filters, options))
            return handler

        return record

    def message(self, *filters: Any, **options: Any) -> Callable[[Handler], Handler]:
        return self._decorator("message", filters, options)

    def callback_query(self, *filters: Any, **options: Any) -> Callable[[Handler], Handler]:
        return self._decorator("callback_query", filters, options)

    def errors(self, *filters: Any, **options: Any) -> Callable[[Handler], Handler]:
        return self._decorator("errors", filters, options)

    def build(self) -> Router:
        router = Router(name=self.name)
        if self._filters:
            router.message.filter(*self._filters)
            router.callback_query.filter(*self._filters)
        # Decorators run bottom-up when stacked; replaying in recorded order
        # keeps aiogram's first-match-wins order the same as in the source.
        for registration in self._registrations:
            observer = getattr(router, registration.observer)
            observer.register(registration.handler, *registration.filters, **registration.options)
        return router
