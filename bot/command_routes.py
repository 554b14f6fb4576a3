"""Commands and button presses go to their handler through a table lookup.

aiogram offers a message to every router in turn and checks each handler's
filters until one matches: about 20 routers and 50 filter checks for a
command registered near the end. ``RoutedDispatcher`` looks the update up in
tables built from the same routers at the first update, and calls the
handler that aiogram's walk would have chosen, through the same inner
middlewares and with the same handler data.

Commands: the table maps a command name to its handler where the walk's
choice is known in advance. That holds when the message has no conversation
state, its text is no main-menu label, and no handler before the command's
own could match it. ``_possible_commands`` reads the filters of those
earlier handlers (Command, StateFilter and MenuButton are understood; any
other filter may match anything). Every other message walks the routers as
before, and so does a command whose routers' own filters (the private-chat
filter, the admin filter) or whose Command filter (a mention of another bot)
reject it.

Button presses: a CallbackQueryFilter passes only for data that starts with
its class's prefix. So the table lists, per prefix and in the walk's order, the
handlers that may take such a press: those of the prefix's classes and those
with no callback data filter (the fallback). Each candidate's filters are
checked as the walk checks them, and the first that passes runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from aiogram import Dispatcher, Router
from aiogram.dispatcher.event.bases import UNHANDLED, SkipHandler
from aiogram.dispatcher.event.handler import FilterObject, HandlerObject
from aiogram.dispatcher.middlewares.manager import MiddlewareManager
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.filters.callback_data import CallbackData, CallbackQueryFilter
from aiogram.fsm.state import State
from aiogram.types import Message

from bot import filters

ANY = None  # _possible_commands: the handler may take any command


@dataclass(frozen=True)
class Route:
    """A handler, the routers above it (outermost first) and their inner middlewares."""

    handler: HandlerObject
    routers: tuple[Router, ...]
    middlewares: tuple[Any, ...]
    event: str = "message"

    @property
    def router(self) -> Router:
        return self.routers[-1]

    @cached_property
    def call(self) -> Callable[[Any, dict[str, Any]], Any]:
        """The handler wrapped in the inner middlewares, built once: the wrapper keeps no state."""
        return MiddlewareManager.wrap_middlewares(self.middlewares, self.handler.call)


@dataclass
class CommandTable:
    routes: dict[str, Route] = field(default_factory=dict)
    # Names that an earlier handler with other filters may take. Messages with them walk the routers.
    contested: set[str] = field(default_factory=set)


def build_command_table(root: Router) -> CommandTable:
    """Map each command name to the first handler that takes it, in aiogram's order."""
    table = CommandTable()
    for router in root.chain_tail:
        for handler in router.message.handlers:
            names = _possible_commands(handler)
            if names is ANY:
                return table  # this handler may take any command, so no later handler is certain
            if _plain_command(handler) is not None and _plain_chain(router):
                for name in names - table.contested:
                    table.routes.setdefault(name, _route(router, handler))
            else:
                table.contested |= names - table.routes.keys()
    return table


def _route(router: Router, handler: HandlerObject, event: str = "message") -> Route:
    routers = tuple(reversed(tuple(router.chain_head)))
    middlewares = tuple(m for outer in routers for m in outer.observers[event].middleware)
    return Route(handler, routers, middlewares, event)


def _plain_chain(router: Router, event: str = "message") -> bool:
    """Tell whether no router above the handler wraps these events in an outer middleware."""
    return all(len(outer.observers[event].outer_middleware) == 0 for outer in router.chain_head)


def _plain_command(handler: HandlerObject) -> Command | None:
    """Return the handler's one filter when it is a Command of plain "/name" strings, else None."""
    if not handler.filters or len(handler.filters) != 1:
        return None
    command = handler.filters[0].callback
    if type(command) is not Command or command.prefix != "/" or command.magic is not None:
        return None
    return command if _exact_names(command) else None


def _possible_commands(handler: HandlerObject) -> set[str] | None:
    """Return the command names the handler may take with no state and no menu label (ANY: any name)."""
    names: set[str] | None = ANY
    for item in handler.filters or ():
        allowed = _filter_commands(item)
        if allowed is not ANY:
            names = allowed if names is ANY else names & allowed
    return names


def _filter_commands(item: FilterObject) -> set[str] | None:
    check = item.callback
    if isinstance(check, filters.MenuButton):
        return set()  # the table is used only for text that is no menu label
    if isinstance(check, StateFilter | State):
        states = check.states if isinstance(check, StateFilter) else (check,)
        return ANY if _allows_no_state(states) else set()
    if isinstance(check, CommandStart):
        return {"start"}
    if isinstance(check, Command) and _exact_names(check):
        return set(check.commands)
    return ANY


def _exact_names(command: Command) -> bool:
    return not command.ignore_case and all(isinstance(name, str) for name in command.commands)


def _allows_no_state(states: Iterable[Any]) -> bool:
    """Tell whether a StateFilter of ``states`` may pass with no state (unknown kinds: it may)."""
    return not all(_named_state(state) for state in states)


def _named_state(state: Any) -> bool:
    """Tell whether ``state`` is one named state, which no state never equals."""
    name = state.state if isinstance(state, State) else state
    return isinstance(name, str) and name != "*"


@dataclass
class CallbackTable:
    """For each callback data prefix, the handlers that may take a press, in aiogram's order."""

    separator: str | None = None  # None when the classes differ in separator: every press walks
    by_prefix: dict[str, tuple[Route, ...]] = field(default_factory=dict)
    # Handlers with no callback data filter: they may take any press, so every list has them.
    unprefixed: tuple[Route, ...] = ()

    def candidates(self, data: str | None) -> tuple[Route, ...] | None:
        if self.separator is None or data is None:
            return None
        prefix = data.partition(self.separator)[0]
        return self.by_prefix.get(prefix, self.unprefixed)


def build_callback_table(root: Router) -> CallbackTable:
    """Group the callback query handlers by the prefix of their callback data class."""
    entries: list[tuple[str | None, Route]] = []
    separators: set[str] = set()
    for router in root.chain_tail:
        if not _plain_chain(router, "callback_query"):
            return CallbackTable()
        for handler in router.callback_query.handlers:
            data_class = _callback_data_class(handler)
            if data_class is not None:
                separators.add(data_class.__separator__)
            prefix = data_class.__prefix__ if data_class is not None else None
            entries.append((prefix, _route(router, handler, "callback_query")))
    if len(separators) > 1:
        return CallbackTable()
    prefixes = {prefix for prefix, _ in entries if prefix is not None}
    return CallbackTable(
        separator=separators.pop() if separators else ":",
        by_prefix={
            prefix: tuple(route for own, route in entries if own in (prefix, None)) for prefix in prefixes
        },
        unprefixed=tuple(route for own, route in entries if own is None),
    )


def _callback_data_class(handler: HandlerObject) -> type[CallbackData] | None:
    """Return the CallbackData class a handler's filters require, or None when none does."""
    for item in handler.filters or ():
        if isinstance(item.callback, CallbackQueryFilter):
            return item.callback.callback_data
    return None


class RoutedDispatcher(Dispatcher):
    """A Dispatcher that routes commands and button presses through tables (module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._commands: CommandTable | None = None
        self._callbacks: CallbackTable | None = None

    # Both tables are built at the first update, once every router and middleware is in place.
    def command_table(self) -> CommandTable:
        if self._commands is None:
            self._commands = build_command_table(self)
        return self._commands

    def callback_table(self) -> CallbackTable:
        if self._callbacks is None:
            self._callbacks = build_callback_table(self)
        return self._callbacks

    async def propagate_event(self, update_type: str, event: Any, **kwargs: Any) -> Any:
        if update_type == "message":
            name = _command_name(event, kwargs)
            route = self.command_table().routes.get(name) if name else None
            if route is not None:
                result = await self._run_command(name, route, event, kwargs)
                if result is not UNHANDLED:
                    return result
        elif update_type == "callback_query":
            candidates = self.callback_table().candidates(event.data)
            if candidates is not None:
                return await self._run_first(candidates, event, kwargs)
        return await super().propagate_event(update_type, event, **kwargs)

    async def _run_command(self, name: str, route: Route, message: Message, data: dict[str, Any]) -> Any:
        """Call the route's handler as aiogram's walk would, or return UNHANDLED when a filter rejects it."""
        found = await _matches(route, message, data)
        if found is None or found["command"].command != name:
            return UNHANDLED
        # NOTE: a handler that raises SkipHandler here ends the update unhandled, where the
        # walk would try the next handler. No PATRIOT handler raises it.
        return await _call(route, message, found)

    async def _run_first(self, candidates: tuple[Route, ...], event: Any, data: dict[str, Any]) -> Any:
        """Call the first candidate whose filters pass, as the walk does over every handler."""
        for route in candidates:
            found = await _matches(route, event, data)
            if found is None:
                continue
            try:
                return await _call(route, event, found)
            except SkipHandler:
                continue
        return UNHANDLED


async def _matches(route: Route, event: Any, data: dict[str, Any]) -> dict[str, Any] | None:
    """Return the handler data when the filters of the route's routers and handler pass, else None."""
    for router in route.routers:
        passed, data = await router.observers[route.event].check_root_filters(event, **data)
        if not passed:
            return None
    data["event_router"] = route.router
    data["handler"] = route.handler
    passed, data = await route.handler.check(event, **data)
    return data if passed else None


def _call(route: Route, event: Any, data: dict[str, Any]) -> Any:
    return route.call(event, data)


def _command_name(message: Message, data: dict[str, Any]) -> str | None:
    """Return the command a message with no conversation state starts with, else None."""
    text = message.text or message.caption
    if not text or text[0] != "/" or data.get("raw_state") is not None:
        return None
    if message.text in filters.MENU_LABELS:
        return None
    match = _COMMAND_NAME.match(text)
    return match.group(1) if match else None


# The command word as aiogram's Command filter splits it: "/name@bot args" -> "name".
_COMMAND_NAME = re.compile(r"/([^\s@]*)")
