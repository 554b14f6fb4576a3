"""Answers ccxt's HTTP requests in the process and records them; nothing leaves the machine.

``FakeExchangeHttp.install(client)`` replaces the client's low-level
``fetch`` (the one method that would open a connection). Everything above it
is ccxt's real code: request building, signing, and ccxt's own error handling,
which the fake runs on each answer exactly as the real ``fetch`` does. Routes
answer by method and path; a request no route answers fails the test.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ccxt.base.decimal_to_precision import DECIMAL_PLACES

DATA = Path(__file__).resolve().parent.parent / "data" / "ccxt"

# The recorded Binance market definitions come from a ccxt version that counted
# precision in decimal places; the others are tick sizes, as ccxt uses today.
RECORDED_PRECISION_MODES = {"binance": DECIMAL_PLACES}


@dataclass
class Request:
    method: str
    url: str
    headers: dict[str, str]
    body: str | None

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.url).query, keep_blank_values=True))

    def form(self) -> dict[str, str]:
        """Parameters from the query string and an urlencoded or JSON body."""
        params = self.query
        if self.body:
            if self.body.lstrip().startswith(("{", "[")):
                parsed = json.loads(self.body)
                if isinstance(parsed, list):
                    parsed = parsed[0]
                params.update({key: value for key, value in parsed.items()})
            else:
                params.update(dict(parse_qsl(self.body, keep_blank_values=True)))
        return params


Reply = tuple[int, Any]
Handler = Callable[[Request], Reply]


@dataclass
class Route:
    method: str
    path: re.Pattern[str]
    handler: Handler | BaseException
    times: int | None = None  # None: any number of times


@dataclass
class FakeExchangeHttp:
    requests: list[Request] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    clients: list[Any] = field(default_factory=list)
    # Recorded market definitions are set on new clients when true.
    recorded_markets: bool = True
    # Raised for a request no route answers, after recording it; None fails the test instead.
    unanswered: BaseException | None = None

    def answer(
        self, method: str, path: str, reply: Handler | Reply | BaseException, *, times: int | None = None
    ) -> None:
        """Answer ``method path`` (a regular expression on the URL path); later routes win."""
        handler: Handler | BaseException
        if isinstance(reply, tuple):
            status, body = reply
            handler = lambda request, status=status, body=body: (status, body)  # noqa: E731
        else:
            handler = reply
        self.routes.insert(0, Route(method.upper(), re.compile(path + "$"), handler, times))

    def install(self, client: Any) -> None:
        client.enableRateLimit = False
        client.timeout_on_exit = 0  # no connection to drain on close
        if self.recorded_markets:
            mode = RECORDED_PRECISION_MODES.get(client.id)
            if mode is not None:
                client.precisionMode = mode
            client.set_markets(recorded_markets(client.id))

        async def fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
            # The headers the real fetch would send: the request's and the client's own.
            sent_headers = dict(client.prepare_request_headers(headers))
            return self._respond(client, Request(method.upper(), url, sent_headers, body))

        client.fetch = fetch
        self.clients.append(client)

    def _respond(self, client: Any, request: Request) -> Any:
        self.requests.append(request)
        for route in self.routes:
            if route.method == request.method and route.path.search(request.path):
                if route.times is not None:
                    if route.times == 0:
                        continue
                    route.times -= 1
                if isinstance(route.handler, BaseException):
                    raise route.handler
                status, body = route.handler(request)
                text = body if isinstance(body, str) else json.dumps(body)
                parsed = client.parse_json(text)
                # What ccxt's own fetch does with an answer: its error mapping first.
                client.handle_errors(
                    status, "", request.url, request.method, {}, text, parsed, {}, request.body
                )
                client.handle_http_status_code(status, "", request.url, request.method, text)
                return parsed
        if self.unanswered is not None:
            raise self.unanswered
        raise AssertionError(f"no fake route answers {request.method} {request.url}")

    def sent(self, method: str, path: str) -> list[Request]:
        pattern = re.compile(path + "$")
        return [r for r in self.requests if r.method == method.upper() and pattern.search(r.path)]


# Keys ccxt 4.5 gives every market that the older recorded snapshots lack; ccxt
# reads some of them (Binance's order parser reads "inverse") and sets them to
# None for spot markets.
UNIFIED_MARKET_KEYS = (
    "settle",
    "settleId",
    "linear",
    "inverse",
    "contractSize",
    "expiry",
    "expiryDatetime",
    "strike",
    "optionType",
    "created",
    "subType",
    "feeSide",
    "lowercaseId",
    "index",
    "marginModes",
)


def recorded_markets(exchange_id: str) -> dict[str, Any]:
    markets = json.loads((DATA / "markets" / f"{exchange_id}.json").read_text(encoding="utf-8"))
    for market in markets.values():
        for key in UNIFIED_MARKET_KEYS:
            market.setdefault(key, None)
    return markets


def recorded_requests(exchange_id: str) -> dict[str, Any]:
    return json.loads((DATA / "request" / f"{exchange_id}.json").read_text(encoding="utf-8"))
