"""A fake Slack Web API on loopback: records what it receives and misbehaves on demand.

Answers chat.postMessage and chat.update the way Slack does (JSON, `ok`, `channel`, `ts`),
and can answer 429 with Retry-After beyond a rate, 5xx a number of times, or `ok: false`
with a given error for a channel — what the Slack sender must survive.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class FakeSlack:
    """State and behaviour of the fake; `calls` is every accepted call, in order."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # time.monotonic() of each accepted call
    rejected_429: int = 0
    # At most this many accepted calls per `window` seconds; beyond it, 429.
    rate: int | None = None
    window: float = 1.0
    retry_after: str = "1"
    server_errors: int = 0  # answer the next N calls with 500
    errors_for: dict[str, str] = field(default_factory=dict)  # channel → `error`
    _accepted: list[float] = field(default_factory=list)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    token: str = "xoxb-test"
    server: TestServer | None = None

    @property
    def base_url(self) -> str:
        """What SLACK_API_BASE_URL is set to, in the tests."""
        assert self.server is not None
        return str(self.server.make_url("/api/"))

    async def start(self) -> None:
        """Serve on a random loopback port."""
        app = web.Application()
        app.router.add_post("/api/{method}", self._handle)
        app.router.add_post("/response/{id}", self._response_url)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()

    async def close(self) -> None:
        """Stop serving."""
        if self.server is not None:
            await self.server.close()

    def response_url(self, name: str = "1") -> str:
        """A response_url for interactivity payloads, served by this fake."""
        assert self.server is not None
        return str(self.server.make_url(f"/response/{name}"))

    async def _response_url(self, request: web.Request) -> web.Response:
        self.calls.append(("response_url", await request.json()))
        return web.json_response({"ok": True})

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method == "auth.test":
            return web.json_response(
                {"ok": True, "team_id": "T1", "user_id": "UBOT", "bot_id": "BBOT", "team": "Acme"}
            )
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        body: dict[str, Any] = (
            await request.json()
            if request.content_type == "application/json"
            else dict(await request.post())
        )
        if self.server_errors > 0:
            self.server_errors -= 1
            return web.Response(status=500, text="internal error")
        now = time.monotonic()
        self._accepted = [t for t in self._accepted if now - t < self.window]
        if self.rate is not None and len(self._accepted) >= self.rate:
            self.rejected_429 += 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": self.retry_after},
            )
        channel = str(body.get("channel", ""))
        if channel in self.errors_for:
            return web.json_response({"ok": False, "error": self.errors_for[channel]})
        self._accepted.append(now)
        self.calls.append((method, body))
        self.times.append(now)
        ts = body.get("ts") or f"1700000000.{next(self._ts):06d}"
        return web.json_response({"ok": True, "channel": channel, "ts": ts})
