"""Slack inbound, HTTP mode, one workspace: slash commands, button clicks, modal submissions.

A slack-bolt AsyncApp is mounted at POST /slack/events. Bolt checks each request's v0
signature and its timestamp (five minutes) before anything runs, and answers 401
otherwise. With `process_before_response` the handler runs before the HTTP answer, which
carries the reply: the core's work is one short transaction, well inside Slack's three
seconds (https://api.slack.com/interactivity/slash-commands#responding_basic_receipt);
slower work (posts, DMs, card edits) is already in the outbox, sent after the answer.

Replies "only for you" are ephemeral; a form opens as a modal (views.open with the
click's trigger_id), whose submission comes back as the form's action.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot.adapters.slack import PLATFORM, blocks
from bot.adapters.slack.sender import client
from bot.core.dispatch import Dispatcher
from bot.core.events import ActionEvent, CommandEvent, Origin, PlatformUser
from bot.core.replies import Reply
from bot.i18n import Translator
from bot.settings import Settings

ANY = re.compile(r".+")
_MENTION = re.compile(r"^\s*<@[A-Z0-9]+(?:\|[^>]*)?>\s*")


def _origin(team_id: str, channel_id: str) -> Origin:
    # Channel ids of DMs with the bot start with D (https://api.slack.com/docs/conversations-api).
    return Origin(PLATFORM, team_id, channel_id, is_direct=channel_id.startswith("D"))


def _user(user_id: str, name: str | None = None) -> PlatformUser:
    return PlatformUser(id=user_id, name=(name or user_id)[:200])


def _answer(replies: list[Reply]) -> dict[str, Any] | None:
    """The replies to show (forms open as modals instead) as one Slack message's arguments:
    the texts joined, the first card's blocks; None when there is nothing to show."""
    shown = [reply for reply in replies if reply.form is None]
    if not shown:
        return None
    card = next((reply.card for reply in shown if reply.card is not None), None)
    return blocks.message("\n\n".join(reply.text for reply in shown), card)


def _clicker(body: dict[str, Any]) -> PlatformUser:
    """Who clicked or submitted, from an interactivity payload."""
    person = body.get("user") or {}
    return _user(str(person.get("id", "")), person.get("name") or person.get("username"))


class SlackAdapter:
    """The Slack endpoint and its handlers, on the shared dispatcher."""

    def __init__(self, settings: Settings, dispatcher: Dispatcher) -> None:
        self._settings = settings
        self._dispatcher = dispatcher
        self.app = AsyncApp(
            signing_secret=settings.slack_signing_secret,
            token=settings.slack_bot_token,
            client=client(settings.slack_bot_token, settings.slack_api_base_url),
            process_before_response=True,
        )
        self.app.command(ANY)(self._command)
        self.app.action(ANY)(self._action)
        self.app.view(ANY)(self._view)
        self.app.event("app_mention")(self._mention)
        self.app.event("message")(self._direct_message)

    def routes(self) -> list[web.AbstractRouteDef]:
        """POST /slack/events: slash commands, interactivity and events."""
        return [web.post("/slack/events", self.events)]

    async def events(self, request: web.Request) -> web.Response:
        """Hand the request to bolt (signature, ack, listeners) and return its answer."""
        bolt_response = await self.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    async def _open_forms(self, replies: list[Reply], trigger_id: str, channel: str) -> None:
        for reply in replies:
            if reply.form is not None and trigger_id:
                # Slack does not tell the clicker's language here: the workspace's default.
                t = Translator(self._settings.locale)
                view = blocks.modal(reply.form, t, private_metadata=channel)
                await self.app.client.views_open(trigger_id=trigger_id, view=view)
                return

    async def _command(self, ack: Any, command: dict[str, Any]) -> None:
        origin = _origin(str(command.get("team_id", "")), str(command.get("channel_id", "")))
        user = _user(str(command.get("user_id", "")), command.get("user_name"))
        event = CommandEvent(origin, user, str(command.get("text", "")))
        replies = await self._dispatcher.command(event)
        await self._open_forms(replies, str(command.get("trigger_id", "")), origin.conversation)
        answer = _answer(replies)
        await ack(response_type="ephemeral", **answer) if answer else await ack()

    async def _action(self, ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        action = (body.get("actions") or [{}])[0]
        channel = str((body.get("channel") or {}).get("id", ""))
        origin = _origin(str((body.get("team") or {}).get("id", "")), channel)
        user = _clicker(body)
        action_id = blocks.neutral_action_id(str(action.get("action_id", "")))
        event = ActionEvent(origin, user, action_id, str(action.get("value", "")))
        replies = await self._dispatcher.action(event)
        await self._open_forms(replies, str(body.get("trigger_id", "")), channel)
        answer = _answer(replies)
        if answer:
            await respond(replace_original=False, response_type="ephemeral", **answer)

    async def _mention(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        """`@Ambassador join` in a channel: a command; the answer is ephemeral to the asker."""
        text = _MENTION.sub("", str(event.get("text", "")), count=1)
        channel = str(event.get("channel", ""))
        answer = _answer(await self._event_command(body, event, text))
        if answer and channel:
            user = str(event.get("user", ""))
            await self.app.client.chat_postEphemeral(channel=channel, user=user, **answer)

    async def _direct_message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        """A message in the bot's DM (Messages tab): a command, answered in the same DM."""
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return  # edits, joins, the bot's own posts: not commands
        answer = _answer(await self._event_command(body, event, str(event.get("text", ""))))
        if answer:
            await self.app.client.chat_postMessage(channel=str(event.get("channel")), **answer)

    async def _event_command(
        self, body: dict[str, Any], event: dict[str, Any], text: str
    ) -> list[Reply]:
        # Slack resends an event it thinks was not received (X-Slack-Retry-Num): its
        # event_id makes the second delivery a no-op, on every replica
        # (https://api.slack.com/apis/events-api#retries).
        origin = _origin(str(body.get("team_id", "")), str(event.get("channel", "")))
        event_id = body.get("event_id")
        command = CommandEvent(
            origin,
            _user(str(event.get("user", ""))),
            text,
            event_id=str(event_id) if event_id else None,
        )
        return await self._dispatcher.command(command)

    async def _view(self, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        await ack()
        channel = str(view.get("private_metadata", ""))
        origin = _origin(str((body.get("team") or {}).get("id", "")), channel)
        user = _clicker(body)
        values = blocks.form_values(((view.get("state") or {}).get("values")) or {})
        event = ActionEvent(origin, user, str(view.get("callback_id", "")), json.dumps(values))
        answer = _answer(await self._dispatcher.action(event))
        if answer and channel:
            await self.app.client.chat_postEphemeral(channel=channel, user=user.id, **answer)
