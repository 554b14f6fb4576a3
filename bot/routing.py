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
from aiogram.filters import Filter, StateFilter
from aiogram.fsm.state import State
from magic_filter import MagicFilter

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
            shared = [awaitable_filter(item) for item in self._filters]
            router.message.filter(*shared)
            router.callback_query.filter(*shared)
        # Decorators run bottom-up when stacked; replaying in recorded order
        # keeps aiogram's first-match-wins order the same as in the source.
        for registration in self._registrations:
            observer = getattr(router, registration.observer)
            filters = [awaitable_filter(item) for item in registration.filters]
            observer.register(registration.handler, *filters, **registration.options)
        return router


class MagicCheck(Filter):
    """A magic filter (``F.text``, ``F.chat.type == ...``) resolved against the event on the loop."""

    def __init__(self, magic: MagicFilter) -> None:
        self._magic = magic

    async def __call__(self, event: Any) -> Any:
        return self._magic.resolve(event)


def awaitable_filter(item: Any) -> Any:
    """Return a filter that aiogram awaits on the loop and that matches what ``item`` matches.

    aiogram 3 runs a filter that is not a coroutine function in a worker thread
    (``asyncio.to_thread``), and both a bare State and a magic filter are called
    synchronously: every update went through a thread and back once per such
    filter it was checked against, about 0.2 ms each on a 2-core machine.
    """
    if isinstance(item, State):
        return StateFilter(item)
    if isinstance(item, MagicFilter):
        return MagicCheck(item)
    return item
