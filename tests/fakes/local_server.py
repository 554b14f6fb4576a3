"""Serves a fake venue over real HTTP on 127.0.0.1, so ccxt's own ``fetch`` runs too.

``FakeExchangeHttp.install`` replaces ccxt's lowest method; this server keeps
it, which also runs the code that logs requests (and would log their
headers, API key included). ``LocalExchangeServer.install`` points a client's
REST URLs at the server and leaves everything else as it is.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from tests.fakes.ccxt_http import RECORDED_PRECISION_MODES, FakeExchangeHttp, Request, recorded_markets

LOOPBACK = "127.0.0.1"


class LocalExchangeServer:
    def __init__(self, http: FakeExchangeHttp) -> None:
        self.http = http
        self._runner: web.AppRunner | None = None
        self.base = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, LOOPBACK, 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://{LOOPBACK}:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def install(self, client: Any) -> None:
        """Send the client's REST calls here; recorded markets are set as with the in-process fake."""
        client.enableRateLimit = False
        client.urls["api"] = _rebased(client.urls["api"], self.base)
        mode = RECORDED_PRECISION_MODES.get(client.id)
        if mode is not None:
            client.precisionMode = mode
        client.set_markets(recorded_markets(client.id))
        self.http.clients.append(client)

    async def _handle(self, incoming: web.Request) -> web.Response:
        body = await incoming.text()
        request = Request(incoming.method, str(incoming.url), dict(incoming.headers), body or None)
        self.http.requests.append(request)
        for route in self.http.routes:
            if route.method == request.method and route.path.search(request.path):
                if isinstance(route.handler, BaseException):
                    return web.Response(status=500, text="fake failure")
                status, reply = route.handler(request)
                return web.Response(status=status, text=json.dumps(reply), content_type="application/json")
        return web.Response(status=404, text=f"no fake route answers {request.method} {request.path}")


def _rebased(value: Any, base: str) -> Any:
    if isinstance(value, dict):
        return {key: _rebased(item, base) for key, item in value.items()}
    if isinstance(value, str) and value.startswith("http"):
        parts = urlsplit(value)
        return base + parts.path
    return value
