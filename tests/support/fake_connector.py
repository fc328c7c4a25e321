"""A fake Bot Connector on loopback: what Teams' service URL answers to a bot, and what
login.botframework.com publishes (OpenID metadata and the key that signs requests).

Records `POST /v3/conversations` (a new 1:1 chat), `POST /v3/conversations/{id}/activities`
(and `…/activities/{activity}`, a reply), `PUT /v3/conversations/{id}/activities/{activity}`,
with the Authorization header each came with, and `GET /v3/conversations/{id}/pagedmembers`
(served from `rosters`, at most `page_cap` members a page, with continuation tokens) and
`GET /v3/conversations/{id}/members/{member}` (one of them).
Checks every message it received as Teams would render it (tests/support/adaptive_cards.py:
each Adaptive Card against the official schema of its version and Teams' rules):
`card_problems` lists what is off, and `check_cards` (called by the fixtures once a test
passed) fails on it. Checked afterwards, not on receipt, so that
the checking (tens of milliseconds a card) never slows the bot's sends in timed tests.
Serves a token endpoint for the client-credentials flow. Misbehaves on demand: 429 with
Retry-After beyond a rate per conversation or per tenant, a number of 503s, 403
BotNotInConversationRoster for conversations the bot was removed from, or a number of
posts accepted with 202 and no id (what Microsoft 365 Agents Playground answers).
`Call.shown` is what a reader of a sent activity sees: its text, or its card's texts.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.adaptive_cards import activity_problems

# One signing key for the whole test run (generating RSA keys is slow).
_SIGNING_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Call:
    """One accepted call."""

    method: str
    conversation: str
    body: dict[str, Any]
    authorization: str
    activity_id: str = ""

    @property
    def shown(self) -> str:
        """What Teams shows of this activity, line by line: its text, else the texts of its
        Adaptive Card (TextBlocks, facts, buttons)."""
        if self.body.get("text"):
            return str(self.body["text"])
        lines: list[str] = []
        for attachment in self.body.get("attachments") or []:
            _card_lines(attachment.get("content"), lines)
        return "\n".join(lines)


def _card_lines(element: Any, lines: list[str]) -> None:
    if isinstance(element, list):
        for item in element:
            _card_lines(item, lines)
    elif isinstance(element, dict):
        kind = element.get("type")
        if kind == "TextBlock":
            lines.append(str(element.get("text", "")))
        elif kind == "FactSet":
            lines += [f"{f.get('title')}: {f.get('value')}" for f in element.get("facts", [])]
        elif isinstance(kind, str) and kind.startswith("Action.") and element.get("title"):
            lines.append(str(element["title"]))
        for key in ("body", "items", "columns", "actions", "card"):
            _card_lines(element.get(key), lines)


@dataclass
class FakeConnector:
    """State and behaviour of the fake; `calls` is every accepted call, in order."""

    calls: list[Call] = field(default_factory=list)
    token: str = "fake-bot-token"
    tokens_issued: int = 0
    rate: int | None = None  # at most this many sends per conversation per `window` s
    window: float = 1.0
    tenant_rate: int | None = None  # at most this many calls per second in all (Teams: 50)
    _all: list[float] = field(default_factory=list)
    retry_after: str = "1"
    rejected_429: int = 0
    unavailable: int = 0  # answer the next N calls with 503
    without_id: int = 0  # accept the next N posts with 202 and no body (no activity id)
    removed_from: set[str] = field(default_factory=set)
    rosters: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    page_cap: int = 500
    _sent: dict[str, list[float]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    server: TestServer | None = None

    @property
    def service_url(self) -> str:
        """What activities carry as serviceUrl in the tests (with a trailing slash, as Teams)."""
        assert self.server is not None
        return str(self.server.make_url("/teams/"))

    @property
    def openid_url(self) -> str:
        """TEAMS_OPENID_URL in the tests."""
        assert self.server is not None
        return str(self.server.make_url("/openid"))

    def bearer(self, app_id: str, service_url: str | None = None, **claims: Any) -> str:
        """The Authorization header the Bot Connector sends with an activity for `app_id`."""
        now = int(time.time())
        payload = {
            "iss": "https://api.botframework.com",
            "aud": app_id,
            "exp": now + 3600,
            "nbf": now - 10,
            "serviceurl": service_url or self.service_url,
            **claims,
        }
        token = jwt.encode(payload, _SIGNING_KEY, algorithm="RS256", headers={"kid": "fake-1"})
        return f"Bearer {token}"

    @property
    def token_url(self) -> str:
        """TEAMS_TOKEN_URL in the tests."""
        assert self.server is not None
        return str(self.server.make_url("/token"))

    async def start(self) -> None:
        """Serve on a random loopback port."""
        app = web.Application()
        app.router.add_post("/token", self._token)
        app.router.add_get("/openid", self._openid)
        app.router.add_get("/keys", self._keys)
        app.router.add_post("/teams/v3/conversations", self._create)
        app.router.add_post("/teams/v3/conversations/{conversation}/activities", self._send)
        app.router.add_put(
            "/teams/v3/conversations/{conversation}/activities/{activity}", self._update
        )
        app.router.add_get(
            "/teams/v3/conversations/{conversation}/pagedmembers", self._paged_members
        )
        app.router.add_get("/teams/v3/conversations/{conversation}/members/{member}", self._member)
        # A reply to an activity (what botbuilder's send_activity does in a turn).
        app.router.add_post(
            "/teams/v3/conversations/{conversation}/activities/{activity}", self._send
        )
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()

    async def close(self) -> None:
        """Stop serving."""
        if self.server is not None:
            await self.server.close()

    @property
    def card_problems(self) -> list[str]:
        """What is off the Adaptive Card schema or Teams' rules in the messages received."""
        return [
            f"{call.method} to {call.conversation}: {problem}"
            for call in self.calls
            if call.method in ("send", "update")
            for problem in activity_problems(call.body)
        ]

    def check_cards(self) -> None:
        """Fail when a message the bot sent was off the Adaptive Card schema or Teams' rules."""
        problems = self.card_problems
        assert problems == [], "\n".join(problems[:20])

    def sent(self, conversation: str | None = None) -> list[Call]:
        """The activities posted (to one conversation, or all)."""
        return [
            call
            for call in self.calls
            if call.method == "send" and (conversation is None or call.conversation == conversation)
        ]

    async def _openid(self, _request: web.Request) -> web.Response:
        assert self.server is not None
        return web.json_response(
            {
                "issuer": "https://api.botframework.com",
                "jwks_uri": str(self.server.make_url("/keys")),
            }
        )

    async def _keys(self, _request: web.Request) -> web.Response:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(_SIGNING_KEY.public_key()))
        key = {**public, "kid": "fake-1", "use": "sig", "endorsements": ["msteams"]}
        return web.json_response({"keys": [key]})

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != "client_credentials" or not form.get("client_secret"):
            return web.json_response({"error": "invalid_client"}, status=401)
        self.tokens_issued += 1
        return web.json_response(
            {"token_type": "Bearer", "expires_in": 3600, "access_token": self.token}
        )

    def _refuse(self, conversation: str) -> web.Response | None:
        if self.unavailable > 0:
            self.unavailable -= 1
            return web.json_response({"error": {"code": "ServiceUnavailable"}}, status=503)
        if conversation.split(";")[0] in self.removed_from:
            return web.json_response(
                {"error": {"code": "BotNotInConversationRoster", "message": "removed"}},
                status=403,
            )
        now = time.monotonic()
        if self.tenant_rate is not None:
            self._all = [t for t in self._all if now - t < 1.0]
            if len(self._all) >= self.tenant_rate:
                self.rejected_429 += 1
                return web.json_response(
                    {"error": {"code": "TooManyRequests"}},
                    status=429,
                    headers={"Retry-After": self.retry_after},
                )
            self._all.append(now)
        if self.rate is not None:
            recent = [t for t in self._sent.get(conversation, []) if now - t < self.window]
            if len(recent) >= self.rate:
                self.rejected_429 += 1
                return web.json_response(
                    {"error": {"code": "TooManyRequests"}},
                    status=429,
                    headers={"Retry-After": self.retry_after},
                )
            self._sent[conversation] = [*recent, now]
        return None

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        conversation = f"a:personal-{next(self._ids)}"
        self.calls.append(
            Call("create", conversation, body, request.headers.get("Authorization", ""))
        )
        return web.json_response({"id": conversation})

    async def _send(self, request: web.Request) -> web.Response:
        conversation = request.match_info["conversation"]
        refused = self._refuse(conversation)
        if refused is not None:
            return refused
        body = await request.json()
        authorization = request.headers.get("Authorization", "")
        if self.without_id > 0:  # shown, but the bot is not told its id
            self.without_id -= 1
            self.calls.append(Call("send", conversation, body, authorization))
            return web.Response(status=202)
        activity_id = f"1:{next(self._ids)}"
        self.calls.append(Call("send", conversation, body, authorization, activity_id))
        return web.json_response({"id": activity_id})

    async def _update(self, request: web.Request) -> web.Response:
        conversation = request.match_info["conversation"]
        refused = self._refuse(conversation)
        if refused is not None:
            return refused
        body = await request.json()
        activity_id = request.match_info["activity"]
        self.calls.append(
            Call(
                "update", conversation, body, request.headers.get("Authorization", ""), activity_id
            )
        )
        return web.json_response({"id": activity_id})

    async def _paged_members(self, request: web.Request) -> web.Response:
        conversation = request.match_info["conversation"]
        refused = self._refuse(conversation)
        if refused is not None:
            return refused
        if conversation not in self.rosters:
            return web.json_response({"error": {"code": "ConversationNotFound"}}, status=404)
        size = min(int(request.query.get("pageSize", "500")), self.page_cap)
        start = int(request.query.get("continuationToken") or 0)
        members = self.rosters[conversation][start : start + size]
        self.calls.append(
            Call(
                "members",
                conversation,
                dict(request.query),
                request.headers.get("Authorization", ""),
            )
        )
        following = start + size
        page: dict[str, Any] = {"members": members}
        if following < len(self.rosters[conversation]):
            page["continuationToken"] = str(following)
        return web.json_response(page)

    async def _member(self, request: web.Request) -> web.Response:
        conversation = request.match_info["conversation"]
        refused = self._refuse(conversation)
        if refused is not None:
            return refused
        wanted = request.match_info["member"]
        self.calls.append(
            Call("member", conversation, {"id": wanted}, request.headers.get("Authorization", ""))
        )
        for member in self.rosters.get(conversation, []):
            if member.get("id") == wanted:
                return web.json_response(member)
        return web.json_response(
            {"error": {"code": "MemberNotFoundInConversation", "message": "no such member"}},
            status=404,
        )
