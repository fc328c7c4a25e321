"""The Slack requests that are only recorded and acknowledged, answered without bolt.

A slash command, a click on a Block Kit button (block_actions) and a modal's submission
(view_submission) are recorded in the inbox and acknowledged with an empty 200 (app.py's
listeners: the answer follows through the response_url, an ephemeral message or the DM;
an empty 200 closes a modal, https://api.slack.com/surfaces/modals#close_current_view).
Running bolt's whole dispatch for them (its middleware chain, a Web API client and a
context per request, every listener's matcher in turn) cost more CPU than the rest of the
ack together. Here they are recognised from the body validation.py already parsed and
signed-checked, authorized as bolt's authorize would, recorded and answered directly.

Recognised only where bolt would surely have run that very listener with that answer:
the listener order is bolt's (the command listener first: any body with `command` is a
command to bolt), an `ssl_check` is bolt's (SslCheck middleware), anything else goes to
bolt unchanged (events, url_verification, shortcuts, suggestions, view_closed, legacy
dialogs and attachment buttons, odd shapes). So does a request this path cannot
authorize: bolt checks it again and refuses it exactly as it always did (its
not-installed message through the response_url, or as the answer).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from multidict import MultiMapping
from slack_bolt.request.internals import extract_enterprise_id, extract_team_id
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import PLATFORM, validation
from bot.adapters.slack.installations import SlackTokens
from bot.inbox.journal import Journal

log = logging.getLogger(__name__)

# bolt's listener patterns in app.py (`.+`, matched with re.search as bolt does).
_ANY = re.compile(r".+")
_SIGNATURE = "X-Slack-Signature"

Authorized = Callable[[dict[str, Any]], Awaitable[bool]]


def kind_of(body: dict[str, Any]) -> str | None:
    """The inbox kind of a request bolt would hand to one of app.py's recording listeners
    (command, action, view), or None when bolt must see it (it may answer otherwise)."""
    if "ssl_check" in body:
        return None  # bolt's SslCheck answers it, whatever else it holds
    if "command" in body:
        # bolt's command matcher: `command` in the body, matched against `.+`.
        command = body["command"]
        ours = "type" not in body and isinstance(command, str) and _ANY.search(command)
        return "command" if ours else None
    kind = body.get("type")
    if kind == "block_actions":
        actions = body.get("actions")
        first = actions[0] if isinstance(actions, list) and actions else None
        action_id = first.get("action_id") if isinstance(first, dict) else None
        ours = isinstance(action_id, str) and _ANY.search(action_id)
        return "action" if ours else None
    if kind == "view_submission":
        view = body.get("view")
        callback = view.get("callback_id") if isinstance(view, dict) else None
        return "view" if isinstance(callback, str) and _ANY.search(callback) else None
    return None


def replay_key(headers: MultiMapping[str]) -> str:
    """The request's v0 signature, hashed: app.py's `replay_key`, from the one signature
    header validation.py checked."""
    return hashlib.sha256(headers[_SIGNATURE].encode()).hexdigest()


def kept(body: dict[str, Any]) -> dict[str, Any]:
    """What the inbox keeps of a request: all of it but Slack's (deprecated, unused)
    verification token (https://api.slack.com/authentication/verifying-requests-from-slack#verification_token_deprecation)."""
    return {key: value for key, value in body.items() if key != "token"}


class InstalledWorkspaces:
    """OAuth: bolt's authorize (installations.DatabaseAuthorize) lets a request through when
    its workspace has a bot token. The same lookup, through the same cache (SlackTokens:
    30 s, dropped at once when the workspace uninstalls or its tokens are revoked, and when
    it installs again)."""

    def __init__(self, tokens: SlackTokens) -> None:
        self._tokens = tokens

    async def __call__(self, body: dict[str, Any]) -> bool:
        """Whether bolt's authorize would find the request's workspace installed."""
        team, enterprise = extract_team_id(body), extract_enterprise_id(body)
        return await self._tokens.bot(team or "", enterprise or "") is not None


class ProvenToken:
    """One workspace (SLACK_BOT_TOKEN): bolt's SingleTeamAuthorization calls auth.test with
    the token once, keeps the first success for the process's life and refuses requests
    until then. Same here: until the token has answered auth.test once, bolt answers."""

    def __init__(self, api: AsyncWebClient) -> None:
        self._api = api
        self._proven = False
        self._lock = asyncio.Lock()

    async def __call__(self, body: dict[str, Any]) -> bool:
        """Whether the token has passed auth.test (called at most once at a time)."""
        if self._proven:
            return True
        async with self._lock:
            if not self._proven:
                await self._api.auth_test()  # raises SlackApiError when refused
                self._proven = True
        return True


class DirectAcks:
    """Records and acknowledges the recognised requests (`kind_of`) without bolt."""

    def __init__(self, journal: Journal, authorized: Authorized) -> None:
        self._journal = journal
        self._authorized = authorized

    async def answer(self, body: dict[str, Any], headers: MultiMapping[str]) -> web.Response | None:
        """The answer to a signed, parsed request (validation.check), or None when bolt
        must answer it (not recognised, or not authorized here)."""
        kind = kind_of(body)
        if kind is None:
            return None
        try:
            if not await self._authorized(body):
                return None
        except Exception:  # bolt tries again and answers as it always did
            log.warning("slack_direct_authorize_failed", exc_info=True)
            return None
        try:
            # A replay within the five-minute window carries the same signature: recorded
            # once, acknowledged alike (journal.py). A retry of Slack's (X-Slack-Retry-Num)
            # is a new signature, recorded again, as bolt's path did.
            await self._journal.record(PLATFORM, kind, kept(body), replay_key=replay_key(headers))
        except validation.UNREADABLE as exc:
            # bolt's listener error → app.error (validation.on_bolt_error): 400.
            status, reason = validation.unreadable(exc)
            error = json.dumps({"error": reason}).encode()
            return web.Response(status=status, body=error, content_type="application/json")
        except Exception:  # bolt's answer to a failed listener: 500, empty
            log.exception("slack_request_failed")
            return _empty(500)
        return _empty(200)  # bolt's ack()


def _empty(status: int) -> web.Response:
    """An empty answer exactly as bolt's aiohttp adapter sends an empty BoltResponse:
    Content-Type text/plain (no charset), Content-Length 0."""
    return web.Response(status=status, body=b"", content_type="text/plain")
