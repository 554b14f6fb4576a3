"""Command messages go straight to their handler through one dictionary lookup.

aiogram offers a message to every router in turn and checks each handler's
filters until one matches: about 20 routers and 50 filter checks for a
command registered near the end. ``RoutedDispatcher`` looks the command name
up in a table built from the same routers, at the first update, and calls
the handler that aiogram's walk would have chosen, through the same inner
middlewares and with the same handler data.

The table only takes a command where the walk's answer is known in advance.
That holds when the message has no conversation state, its text is no main-menu label, and no
handler before the command's own could match it. ``_possible_commands`` reads
the filters of those earlier handlers (Command, StateFilter and MenuButton
are understood; any other filter may match anything). Every other message
walks the routers as before, and so does a command whose routers' own filters
(the private-chat filter, the admin filter) or whose Command filter (a mention
of another bot) reject it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aiogram import Dispatcher, Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.dispatcher.event.handler import FilterObject, HandlerObject
from aiogram.dispatcher.middlewares.manager import MiddlewareManager
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.types import Message

from bot import filters

ANY = None  # _possible_commands: the handler may take any command


@dataclass(frozen=True)
class CommandRoute:
    """One command's handler, the routers above it (outermost first) and their inner middlewares."""

    handler: HandlerObject
    routers: tuple[Router, ...]
    middlewares: tuple[Any, ...]

    @property
    def router(self) -> Router:
        return self.routers[-1]


@dataclass
class CommandTable:
    routes: dict[str, CommandRoute] = field(default_factory=dict)
    # Names an earlier handler with other filters may take: they always walk the routers.
    contested: set[str] = field(default_factory=set)


def build_command_table(root: Router) -> CommandTable:
    """Map each command name to the first handler that takes it, in aiogram's order."""
    table = CommandTable()
    for router in root.chain_tail:
        for handler in router.message.handlers:
            names = _possible_commands(handler)
            if names is ANY:
                return table  # this handler may take any command: nothing after it is certain
            if _plain_command(handler) is not None and _plain_chain(router):
                for name in names - table.contested:
                    table.routes.setdefault(name, _route(router, handler))
            else:
                table.contested |= names - table.routes.keys()
    return table


def _route(router: Router, handler: HandlerObject) -> CommandRoute:
    routers = tuple(reversed(tuple(router.chain_head)))
    middlewares = tuple(middleware for outer in routers for middleware in outer.message.middleware)
    return CommandRoute(handler, routers, middlewares)


def _plain_chain(router: Router) -> bool:
    """Tell whether no router above the handler wraps messages in an outer middleware."""
    return all(len(outer.message.outer_middleware) == 0 for outer in router.chain_head)


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
    if isinstance(check, StateFilter):
        return ANY if _allows_no_state(check.states) else set()
    if isinstance(check, CommandStart):
        return {"start"}
    if isinstance(check, Command) and _exact_names(check):
        return set(check.commands)
    return ANY


def _exact_names(command: Command) -> bool:
    return not command.ignore_case and all(isinstance(name, str) for name in command.commands)


def _allows_no_state(states: Iterable[Any]) -> bool:
    return any(state is None or state == "*" for state in states)


class RoutedDispatcher(Dispatcher):
    """A Dispatcher that sends command messages through the command table (module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._commands: CommandTable | None = None

    def command_table(self) -> CommandTable:
        # Built at the first update, once every router and middleware is in place.
        if self._commands is None:
            self._commands = build_command_table(self)
        return self._commands

    async def propagate_event(self, update_type: str, event: Any, **kwargs: Any) -> Any:
        if update_type == "message":
            name = _command_name(event, kwargs)
            route = self.command_table().routes.get(name) if name else None
            if route is not None:
                result = await self._run(name, route, event, kwargs)
                if result is not UNHANDLED:
                    return result
        return await super().propagate_event(update_type, event, **kwargs)

    async def _run(self, name: str, route: CommandRoute, message: Message, data: dict[str, Any]) -> Any:
        """Call the route's handler as aiogram's walk would; UNHANDLED when a filter rejects the message."""
        for router in route.routers:
            passed, data = await router.message.check_root_filters(message, **data)
            if not passed:
                return UNHANDLED
        data["event_router"] = route.router
        data["handler"] = route.handler
        passed, data = await route.handler.check(message, **data)
        if not passed or data["command"].command != name:
            return UNHANDLED
        # NOTE: a handler that raises SkipHandler here ends the update unhandled, where the
        # walk would try the next handler. No PATRIOT handler raises it.
        call = MiddlewareManager.wrap_middlewares(route.middlewares, route.handler.call)
        return await call(message, data)


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
