"""A fake Slack on loopback: the Web API, OAuth's code exchange, and a Socket Mode WebSocket.

Answers chat.postMessage and chat.update the way Slack does (JSON, `ok`, `channel`, `ts`),
and can answer 429 with Retry-After beyond a rate, 5xx a number of times, or `ok: false`
with a given error for a channel — what the Slack sender must survive. Each bot token
belongs to one workspace (`tokens`); oauth.v2.access exchanges an install code for a
new one or refreshes a rotating one; apps.connections.open hands out the ws:// URL of a
Socket Mode connection served here, through which a test sends envelopes as Slack does.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class FakeSlack:
    """State and behaviour of the fake; `calls` is every accepted call, in order."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # time.monotonic() of each accepted call
    teams: list[str] = field(default_factory=list)  # whose token made each accepted call
    rejected_429: int = 0
    # At most this many accepted calls per `window` seconds; beyond it, 429.
    rate: int | None = None
    window: float = 1.0
    retry_after: str = "1"
    server_errors: int = 0  # answer the next N calls with 500
    errors_for: dict[str, str] = field(default_factory=dict)  # channel → `error`
    # Slack cannot download images (a bot address it cannot reach): a message or view with
    # an image block is refused as Slack refuses it; `refused` keeps what was refused.
    refuse_images: bool = False
    refused: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _accepted: list[float] = field(default_factory=list)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    token: str = "xoxb-test"
    # bot token → workspace; the default token is T1's.
    tokens: dict[str, str] = field(default_factory=lambda: {"xoxb-test": "T1"})
    client_id: str = "111.222"
    client_secret: str = "client-secret"
    app_token: str = "xapp-1-test"
    # install code → (workspace, installing user); a code works once, as on Slack.
    codes: dict[str, tuple[str, str]] = field(default_factory=dict)
    # workspace → its Enterprise Grid organization, given with its installs
    enterprises: dict[str, str] = field(default_factory=dict)
    rotate_expires_in: int | None = None  # set: installs give rotating tokens lasting this
    refreshes: int = 0
    _refresh_tokens: dict[str, str] = field(default_factory=dict)  # refresh token → team
    # response_url name → what was posted to it, and when (time.monotonic(), same order)
    responses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    response_times: dict[str, list[float]] = field(default_factory=dict)
    # user id → users.info's `user` object; anyone else gets a plain English profile.
    directory: dict[str, dict[str, Any]] = field(default_factory=dict)
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    socket_replies: dict[str, dict[str, Any]] = field(default_factory=dict)  # envelope → ack
    _socket_connected: asyncio.Event = field(default_factory=asyncio.Event)
    server: TestServer | None = None

    @property
    def base_url(self) -> str:
        """What SLACK_API_BASE_URL is set to, in the tests."""
        assert self.server is not None
        return str(self.server.make_url("/api/"))

    async def start(self, port: int | None = None) -> None:
        """Serve on a loopback port (a random one unless given)."""
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle)  # users.info is a GET
        app.router.add_post("/response/{id}", self._response_url)
        app.router.add_get("/socket", self._socket)
        self.server = TestServer(app, host="127.0.0.1", port=port)
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
        body = await request.json()
        if self.refuse_images and _image_at(body) is not None:
            self.refused.append(("response_url", body))
            return web.Response(status=400, text="invalid_blocks")
        self._record("response_url", body, "")
        self.responses.setdefault(request.match_info["id"], []).append(body)
        self.response_times.setdefault(request.match_info["id"], []).append(self.times[-1])
        return web.json_response({"ok": True})

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body: dict[str, Any] = (
            await request.json()
            if request.content_type == "application/json"
            else {**request.query, **(await request.post())}
        )
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if method == "oauth.v2.access":
            return self._oauth_access(request, body)
        if method == "apps.connections.open":
            if bearer != self.app_token:
                return web.json_response({"ok": False, "error": "invalid_auth"})
            assert self.server is not None
            url = str(self.server.make_url("/socket")).replace("http://", "ws://")
            return web.json_response({"ok": True, "url": url})
        team = self.tokens.get(bearer)
        if team is None:
            error = "token_revoked" if bearer.startswith("xoxb-") else "invalid_auth"
            return web.json_response({"ok": False, "error": error})
        if method == "auth.test":
            return web.json_response(
                {"ok": True, "team_id": team, "user_id": "UBOT", "bot_id": "BBOT", "team": "Acme"}
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
        if method == "conversations.open":
            self._record(method, body, team)
            users = sorted(str(body.get("users", "")).split(","))
            return web.json_response({"ok": True, "channel": {"id": "G" + "".join(users)}})
        if method == "users.info":
            self._record(method, body, team)
            return web.json_response({"ok": True, "user": self._person(str(body.get("user")))})
        image = _image_at(body) if self.refuse_images else None
        if image is not None:
            self.refused.append((method, body))
            failed = f"downloading image failed [json-pointer:{image}]"
            return web.json_response(
                {
                    "ok": False,
                    "error": "invalid_blocks",
                    "errors": [failed],
                    "response_metadata": {"messages": [f"[ERROR] {failed}"]},
                }
            )
        channel = str(body.get("channel", ""))
        if channel in self.errors_for:
            return web.json_response({"ok": False, "error": self.errors_for[channel]})
        self._accepted.append(now)
        self._record(method, body, team)
        ts = body.get("ts") or f"1700000000.{next(self._ts):06d}"
        return web.json_response({"ok": True, "channel": channel, "ts": ts})

    def _record(self, method: str, body: dict[str, Any], team: str) -> None:
        self.calls.append((method, body))
        self.times.append(time.monotonic())
        self.teams.append(team)

    def _person(self, user_id: str) -> dict[str, Any]:
        found = self.directory.get(user_id)
        if found is not None:
            return found
        return {
            "id": user_id,
            "name": user_id.lower(),
            "locale": "en-US",
            "tz": "Europe/London",
            "profile": {"display_name": "", "real_name": f"Person {user_id}"},
        }

    def _oauth_access(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        """oauth.v2.access: an install code, or a refresh token (token rotation)."""
        basic = request.headers.get("Authorization", "").removeprefix("Basic ")
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if basic != expected:
            return web.json_response({"ok": False, "error": "invalid_client_id"})
        if body.get("grant_type") == "refresh_token":
            team = self._refresh_tokens.pop(str(body.get("refresh_token")), None)
            if team is None:
                return web.json_response({"ok": False, "error": "invalid_refresh_token"})
            self.refreshes += 1
            return web.json_response({"ok": True, "token_type": "bot", **self._issue(team)})
        found = self.codes.pop(str(body.get("code")), None)
        if found is None:
            return web.json_response({"ok": False, "error": "invalid_code"})
        team, installer = found
        self._record("oauth.v2.access", {"team": team}, "")
        return web.json_response(
            {
                "ok": True,
                "app_id": "A1",
                "token_type": "bot",
                "scope": "commands,chat:write",
                "bot_user_id": "UBOT",
                "team": {"id": team, "name": f"Team {team}"},
                "enterprise": {"id": self.enterprises[team]} if team in self.enterprises else None,
                "is_enterprise_install": False,
                "authed_user": {"id": installer},
                **self._issue(team),
            }
        )

    def _issue(self, team: str) -> dict[str, Any]:
        token = f"xoxb-{team}-{uuid.uuid4().hex[:8]}"
        self.tokens[token] = team
        if self.rotate_expires_in is None:
            return {"access_token": token}
        refresh = f"xoxe-1-{uuid.uuid4().hex}"
        self._refresh_tokens[refresh] = team
        return {
            "access_token": token,
            "refresh_token": refresh,
            "expires_in": self.rotate_expires_in,
        }

    def revoke(self, team: str) -> None:
        """The workspace uninstalled the app: its tokens stop working."""
        self.tokens = {token: owner for token, owner in self.tokens.items() if owner != team}

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.sockets.append(socket)
        await socket.send_json({"type": "hello", "num_connections": 1})
        self._socket_connected.set()
        async for message in socket:
            if message.type == web.WSMsgType.TEXT:
                ack = json.loads(message.data)
                self.socket_replies[str(ack.get("envelope_id"))] = ack
        return socket

    async def socket_connected(self) -> None:
        """Wait until the bot has opened its Socket Mode connection."""
        await asyncio.wait_for(self._socket_connected.wait(), 10)

    async def push(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send an envelope over Socket Mode as Slack does; return the bot's ack."""
        envelope_id = uuid.uuid4().hex
        await self.sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        for _ in range(500):
            if envelope_id in self.socket_replies:
                return self.socket_replies.pop(envelope_id)
            await asyncio.sleep(0.01)
        raise AssertionError("no ack over Socket Mode within 5 s")


def _image_at(body: dict[str, Any]) -> str | None:
    """The JSON pointer of the first image block of a message's or a view's blocks (sent as
    JSON, or as a JSON string in a form), as Slack's error names it; None without one."""
    where, holder = "/blocks", body
    view = body.get("view")
    if view is not None:
        holder = json.loads(view) if isinstance(view, str) else view
        where = "/view/blocks"
    found = holder.get("blocks") if isinstance(holder, dict) else None
    blocks = json.loads(found) if isinstance(found, str) else found or []
    for n, block in enumerate(blocks):
        if isinstance(block, dict) and block.get("type") == "image":
            return f"{where}/{n}/image_url"
    return None
