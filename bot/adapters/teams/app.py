"""Teams inbound: `POST /api/messages`, the Bot Framework messaging endpoint.

The body must be a JSON activity (400 otherwise, never a 500). With credentials
(MicrosoftAppId/MicrosoftAppPassword), its bearer token must be the Bot Connector's (401
otherwise; 503 when Bot Framework's keys cannot be fetched — never accepted). Without
credentials every activity is refused (401), unless TEAMS_ALLOW_UNAUTHENTICATED=1 asks for
local development (never inferred from where a request comes from: behind a proxy on the
same host every request comes from loopback); the start-up log then says so loudly. The
activity's serviceUrl must be one the bot may call (service_urls.py, 403 otherwise): the
bot's answers, and its token, go there. An optional tenant allow-list refuses other
tenants (403).

Teams wants an answer within seconds: the activity is recorded in the inbox and answered
202 at once; the inbox worker handles it and the replies go through the outbox
(https://learn.microsoft.com/microsoftteams/platform/bots/how-to/rate-limit); a typed
command still waiting after a moment gets a typing indicator (typing.py). Invokes
(Universal Actions, `adaptiveCard/action`) want their answer in the HTTP body: they are
handled at once, their replies sent through the outbox too.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import json_input
from bot.adapters.teams import PLATFORM, protocol
from bot.adapters.teams.auth import BotFrameworkAuth, IdentityUnavailable
from bot.adapters.teams.connector import Connector
from bot.adapters.teams.handling import (
    TeamsHandling,
    in_channel_unaddressed,
    maybe_thread_reply,
    tenant_of,
)
from bot.adapters.teams.service_urls import ServiceUrls
from bot.adapters.teams.typing import TypingIndicator
from bot.clock import Clock
from bot.core.dispatch import Dispatcher
from bot.inbox.journal import Journal
from bot.settings import Settings
from storage.sealing import Sealer

log = logging.getLogger(__name__)

MESSAGES_PATH = "/api/messages"


class TeamsAdapter:
    """The Teams endpoint, on the shared dispatcher and inbox."""

    def __init__(
        self,
        settings: Settings,
        dispatcher: Dispatcher,
        db_sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        journal: Journal,
        wake_outbox: Callable[[], None],
        connector: Connector,
        sealer: Sealer,
    ) -> None:
        teams = settings.teams
        self._settings = settings
        self._journal = journal
        self._auth = (
            BotFrameworkAuth(teams.app_id, teams.openid_url) if teams.authenticated else None
        )
        self.handling = TeamsHandling(
            settings, dispatcher, db_sessions, clock, wake_outbox, connector, sealer
        )
        self.typing = TypingIndicator(db_sessions, connector)
        self._service_urls = ServiceUrls(teams)
        if teams.allow_unauthenticated:
            log.warning(
                "teams_without_credentials",
                extra={
                    "meaning": "TEAMS_ALLOW_UNAUTHENTICATED=1: /api/messages accepts unsigned "
                    "activities from anyone who reaches it (local development only)"
                },
            )

    def routes(self) -> list[web.AbstractRouteDef]:
        """POST /api/messages."""
        return [web.post(MESSAGES_PATH, self.messages)]

    async def messages(self, request: web.Request) -> web.Response:
        """Check, record, answer 202 (invokes: handle and answer in the body)."""
        try:
            activity = json_input.parse(await request.read())
        except json_input.NotJson as exc:
            return _refused(400, str(exc))
        if not isinstance(activity, dict) or not isinstance(activity.get("type"), str):
            return _refused(400, "not a Bot Framework activity (a JSON object with a type)")
        if (problem := _shape_problem(activity)) is not None:
            return _refused(400, problem)
        if self._auth is not None:
            try:
                problem = await self._auth.problem(
                    request.headers.get("Authorization", ""), activity
                )
            except IdentityUnavailable:
                return _refused(503, "Bot Framework's keys cannot be fetched; try again")
            if problem is not None:
                return _refused(401, problem)
        elif not self._settings.teams.allow_unauthenticated:
            return _refused(
                401,
                "Teams is not set up on this bot (MicrosoftAppId and MicrosoftAppPassword; "
                "TEAMS_ALLOW_UNAUTHENTICATED=1 for local development)",
            )
        if not self._service_urls.trusted(str(activity.get("serviceUrl") or "")):
            return _refused(403, "the activity's serviceUrl is not a Teams service address")
        allowed = self._settings.teams.allowed_tenants
        if allowed and tenant_of(activity) not in allowed:
            return _refused(403, "this tenant may not use this bot")
        if activity["type"] == "invoke":
            return await self._invoke(activity)
        unaddressed = activity["type"] == "message" and in_channel_unaddressed(activity)
        if unaddressed and not (self._settings.thread_replies and maybe_thread_reply(activity)):
            # A channel message not for the bot (the RSC permission brings them: the package
            # asks for it only with AMBASSADOR_THREAD_REPLIES=1), and no thread reply the bot
            # reads: answered, never recorded (README, "Replies to questions").
            return web.Response(status=202)
        inbox_id = await self._journal.record(
            PLATFORM, "activity", activity, replay_key=replay_key(activity)
        )
        if inbox_id is None:
            return web.Response(status=202)  # delivered before (a Bot Connector retry)
        if activity["type"] == "message" and activity.get("value") is None and not unaddressed:
            self.typing.watch(inbox_id, tenant_of(activity), activity)  # a typed command
        return web.Response(status=202)

    async def _invoke(self, activity: dict[str, Any]) -> web.Response:
        value = activity.get("value")
        action = value.get("action") if isinstance(value, dict) else None
        data = action.get("data") if isinstance(action, dict) else None
        if activity.get("name") != "adaptiveCard/action" or not isinstance(data, dict):
            # What the Bot Framework answers for an invoke a bot does not handle (task/fetch,
            # composeExtension/*, config/fetch …): 501, so that Teams says it is unsupported
            # rather than waiting for a task module or a result that never comes.
            return web.Response(status=501)
        if (problem := protocol.problem_with(activity)) is not None:
            return _refused(400, problem)  # handled here, not by the worker: checked here
        await self.handling.remember(activity)
        message = {**activity, "type": "message", "value": data, "text": ""}
        # Delivered twice (a retry), the same invoke has one effect: the dispatcher records
        # this key with the effects. Without an id, nothing can tell a retry apart.
        event_id = f"invoke-{replay_key(activity) or uuid.uuid4().hex}"
        replies = await self.handling.run(message, event_id)
        text = "\n\n".join(reply.text for reply in replies if reply.form is None)
        await self.handling.deliver(message, [r for r in replies if r.form], event_id)
        return web.json_response(
            {
                "statusCode": 200,
                "type": "application/vnd.microsoft.activity.message",
                "value": text or "OK",
            }
        )


# The parts of an activity the bot reads, and the JSON type each must have when present.
_SHAPES: dict[str, type] = {
    "from": dict,
    "recipient": dict,
    "conversation": dict,
    "channelData": dict,
    "entities": list,
    "membersAdded": list,
    "reactionsAdded": list,
    "reactionsRemoved": list,
    "attachments": list,
    "text": str,
    "serviceUrl": str,
    "locale": str,
    "localTimezone": str,
}


def _shape_problem(activity: dict[str, Any]) -> str | None:
    """A quick look at the parts the bot reads (microseconds, on the ack path); the whole
    activity is checked against the Bot Framework schema by the worker (protocol.py)."""
    for name, kind in _SHAPES.items():
        value = activity.get(name)
        if value is not None and not isinstance(value, kind):
            return f"not a Bot Framework activity: `{name}` has the wrong shape"
    return None


def replay_key(activity: dict[str, Any]) -> str | None:
    """What makes an activity the same one when it arrives again: its conversation and its
    id (ids are unique within a conversation); hashed to a fixed length. None without id."""
    activity_id = activity.get("id")
    conversation = activity.get("conversation") or {}
    if not isinstance(activity_id, str) or not activity_id:
        return None
    where = str(conversation.get("id", ""))
    return hashlib.sha256(f"{where}\n{activity_id}".encode()).hexdigest()


def _refused(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)
