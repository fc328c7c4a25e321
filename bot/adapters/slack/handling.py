"""What the bot does with a Slack request recorded in the inbox (after its ack).

The slash command, click, modal submission or event, exactly as Slack sent it, becomes a
neutral event for the core (a modal's submission is a form, `reaction_added` and
`reaction_removed` a reaction: `approval` says which emojis like and which dislike; a
person's message in a channel thread a `ThreadReply`: `thread_reply` says which, and only
with AMBASSADOR_THREAD_REPLIES=1; any other channel message is forgotten at once, its raw
request deleted: `Request.forget`);
the replies, each for the asker alone (bot/core/replies.py), are written to the outbox in
the core's transaction (replies.py) and go back the Slack way, one message each, in
order: to the response_url (ephemeral), or ephemeral in the channel, or in the DM with
the bot when there is no channel (the App Home tab); a form opens as a modal (views.open
with the request's trigger_id, valid 3 seconds). The App Home tab is published
(views.publish) at once: it is drawn afresh at each opening, nothing to keep.

A request handled twice (a crash before it was marked done) has one effect and one set of
replies: the core's transaction records `inbox-<id>` (or, for events, Slack's own
event_id, which also makes Slack's retries no-ops:
https://api.slack.com/apis/events-api#retries) with the replies' outbox rows, and marks the
request done in that same transaction (bot/inbox/request.py).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import PLATFORM, blocks, images, markup
from bot.adapters.slack.profiles import SlackProfiles
from bot.adapters.slack.replies import ReplyAddress, deliverer
from bot.core.dispatch import Dispatcher
from bot.core.events import (
    ActionEvent,
    CommandEvent,
    FormSubmission,
    InboundEvent,
    Origin,
    PlatformUser,
    Reaction,
    ThreadReply,
)
from bot.core.replies import Reply
from bot.i18n import pick_locale
from bot.inbox.request import Request
from bot.settings import Settings

log = logging.getLogger(__name__)

_MENTION = re.compile(r"^\s*<@[A-Z0-9]+(?:\|[^>]*)?>\s*")
# 👎: "not useful to me" (Slack's names for it: https://api.slack.com/events/reaction_added
# gives the emoji's name without colons, a skin tone after `::`).
DISLIKES = frozenset({"-1", "thumbsdown"})
# Emojis that say "no" in other ways: neither a like nor a dislike (a ❌ on a post may
# mean "wrong", "done", "off-topic"… — not "not useful to me").
NEITHER = frozenset({"x", "no_entry", "no_entry_sign", "disappointed"})


def approval(reaction: str) -> bool | None:
    """What a Slack emoji says of a post: True a like (👍 `+1`/`thumbsup`, ❤️ `heart`, and
    any other emoji, as the bot always took them), False a dislike (👎), None neither."""
    name = reaction.split("::")[0]
    if not name or name in NEITHER:
        return None
    return name not in DISLIKES


def thread_reply(event: dict[str, Any]) -> bool:
    """Whether a `message` event is a person's reply in a channel thread: in a channel or a
    private channel (message.channels, message.groups), in a thread (`thread_ts`, not the
    thread's own first message), written by a person (no `bot_id`; no subtype but
    `thread_broadcast`, a reply also sent to the channel: edits, deletions, joins and files
    are not replies), and not starting with a mention (that one is a command: the bot also
    receives it as `app_mention`).
    https://api.slack.com/events/message/message_replied explains `thread_ts`."""
    if event.get("type") != "message" or event.get("channel_type") not in ("channel", "group"):
        return False
    if event.get("bot_id") or event.get("subtype") not in (None, "thread_broadcast"):
        return False
    thread = str(event.get("thread_ts") or "")
    text = str(event.get("text") or "")
    return bool(thread) and thread != event.get("ts") and not _MENTION.match(text)


ApiFor = Callable[[str], Awaitable[AsyncWebClient | None]]
"""The Web API client acting in a workspace (None: the app is not installed there)."""


def origin_of(team_id: str, channel_id: str, user_id: str = "") -> Origin:
    """Where a request comes from. DM channel ids start with D
    (https://api.slack.com/docs/conversations-api); from the App Home tab there is no
    channel: the conversation is then the user's DM (their id)."""
    direct = channel_id.startswith("D") or (bool(user_id) and channel_id == user_id)
    return Origin(PLATFORM, team_id, channel_id, is_direct=direct)


def clicker_of(body: dict[str, Any]) -> tuple[str, str, str | None]:
    """Workspace, user id and handle of who clicked or submitted (interactivity payload)."""
    person = body.get("user") or {}
    team = str((body.get("team") or {}).get("id", "") or person.get("team_id", ""))
    return team, str(person.get("id", "")), person.get("name") or person.get("username")


class SlackHandling:
    """Turns recorded Slack requests into core events and the replies into Slack calls."""

    def __init__(
        self,
        settings: Settings,
        dispatcher: Dispatcher,
        profiles: SlackProfiles,
        api_for: ApiFor,
    ) -> None:
        self._settings = settings
        self._dispatcher = dispatcher
        self._profiles = profiles
        self._api_for = api_for

    async def process(self, kind: str, payload: dict[str, Any], request: Request) -> None:
        """Handle one recorded request (the inbox worker's processor for Slack)."""
        team = _team_of(kind, payload)
        api = await self._api_for(team)
        if api is None:
            log.warning("slack_not_installed", extra={"workspace": team, "kind": kind})
            if kind == "event" and _in_channel(payload.get("event") or {}):
                request.forget()  # a channel's message: nothing of it is kept
            return  # uninstalled since: nobody to answer, nothing to do
        handler = {
            "command": self._command,
            "action": self._action,
            "view": self._view,
            "event": self._event,
        }.get(kind)
        if handler is None:
            log.error("slack_unknown_inbox_kind", extra={"kind": kind})
            return
        await handler(payload, request, api)

    async def _run(
        self,
        event: InboundEvent,
        api: AsyncWebClient,
        address: ReplyAddress | None = None,
        request: Request | None = None,
    ) -> list[Reply]:
        """The core's replies (with an address: written to the outbox with the effects, the
        request marked done with them, and none returned); then, the person surely existing
        now, a directory lookup."""
        deliver = None
        if address is not None:
            deliver = deliverer(address)
            if request is not None:
                deliver = request.finishing(deliver)
        replies = await self._dispatcher.handle(event, deliver=deliver)
        self._profiles.refresh_later(event.origin.workspace, event.user.id, api)
        return replies

    def _address(
        self, inbox_id: int, user: PlatformUser, channel: str, body: dict[str, Any]
    ) -> ReplyAddress:
        """Where the replies to a request go: its response_url and trigger_id, from `body`
        when it carries them (a slash command, a click), its channel, the asker."""
        return ReplyAddress(
            inbox_id=inbox_id,
            user_id=user.id,
            channel=channel,
            response_url=str(body.get("response_url") or ""),
            trigger_id=str(body.get("trigger_id") or ""),
            locale=pick_locale(user.locale, self._settings.locale),
        )

    async def _command(
        self, command: dict[str, Any], request: Request, api: AsyncWebClient
    ) -> None:
        inbox_id = request.id
        team = str(command.get("team_id", ""))
        channel = str(command.get("channel_id", ""))
        user = self._profiles.user(team, str(command.get("user_id", "")), command.get("user_name"))
        # Slack's markup (should_escape): people, channels, links → the core's neutral text.
        text = markup.to_neutral(str(command.get("text", "")))
        event = CommandEvent(origin_of(team, channel), user, text, f"inbox-{inbox_id}")
        await self._run(event, api, self._address(inbox_id, user, channel, command), request)

    async def _action(self, body: dict[str, Any], request: Request, api: AsyncWebClient) -> None:
        inbox_id = request.id
        action = (body.get("actions") or [{}])[0]
        team, user_id, handle = clicker_of(body)
        user = self._profiles.user(team, user_id, handle)
        # A click in the App Home tab comes with no channel and no response_url.
        channel = str((body.get("channel") or {}).get("id", "")) or user.id
        action_id = blocks.neutral_action_id(str(action.get("action_id", "")))
        value = str(action.get("value", ""))
        key = f"inbox-{inbox_id}"
        event = ActionEvent(origin_of(team, channel, user.id), user, action_id, value, key)
        await self._run(event, api, self._address(inbox_id, user, channel, body), request)

    async def _view(self, body: dict[str, Any], request: Request, api: AsyncWebClient) -> None:
        inbox_id = request.id
        view = body.get("view") or {}
        team, user_id, handle = clicker_of(body)
        user = self._profiles.user(team, user_id, handle)
        channel = str(view.get("private_metadata", "")) or user.id
        values = blocks.form_values(((view.get("state") or {}).get("values")) or {})
        callback = str(view.get("callback_id", ""))
        origin = origin_of(team, channel, user.id)
        key = f"inbox-{inbox_id}"
        event = FormSubmission(origin, user, callback, json.dumps(values), key)
        # A modal's submission has no response_url (and opens no other modal): answers go
        # ephemeral, or to the DM.
        await self._run(event, api, self._address(inbox_id, user, channel, {}), request)

    async def _event(self, body: dict[str, Any], request: Request, api: AsyncWebClient) -> None:
        inbox_id = request.id
        event = body.get("event") or {}
        kind = event.get("type")
        team = str(body.get("team_id", ""))
        user_id = str(event.get("user", ""))
        user = self._profiles.user(team, user_id)
        event_id = str(body.get("event_id") or "") or None
        if kind == "app_home_opened":
            # The App Home tab, drawn afresh each time it is opened (the `home` command).
            home = CommandEvent(origin_of(team, user_id, user_id), user, "home")
            view = blocks.home(await self._run(home, api))
            await images.sending(api.views_publish, user_id=user_id, view=view)
            return
        if kind in ("reaction_added", "reaction_removed"):
            approving = approval(str(event.get("reaction", "")))
            if approving is None:
                return
            item = event.get("item") or {}
            channel = str(item.get("channel", ""))
            message = f"{channel}:{item.get('ts', '')}"
            removed = kind == "reaction_removed"
            reacted = Reaction(
                origin_of(team, channel), user, message, event_id, approving, removed
            )
            await self._run(reacted, api)  # silent: the post's like count is the answer
            return
        channel = str(event.get("channel", ""))
        text = str(event.get("text", ""))
        if _in_channel(event):
            if self._settings.thread_replies and thread_reply(event):
                # A reply in a question's thread, maybe: the core decides; it answers with a
                # card in the thread, not to the person (like a reaction, silent).
                parent = f"{channel}:{event.get('thread_ts', '')}"
                replied = ThreadReply(
                    origin_of(team, channel), user, parent, markup.to_neutral(text), event_id
                )
                if await self._dispatcher.is_reply(replied):
                    await self._run(replied, api)
                    return
            # Conversation in a channel the bot is in, not a reply to a question (or threads
            # are not read): nothing of it is kept, its raw request neither (README,
            # "Replies to questions"); no directory lookup of its writer.
            request.forget()
            return
        if kind == "app_mention":
            text = _MENTION.sub("", text, count=1)
        command = CommandEvent(origin_of(team, channel), user, markup.to_neutral(text), event_id)
        # `@Ambassador join` in a channel: ephemeral to the asker; a message in the DM with
        # the bot: answered in that DM. Without a channel there is nowhere to answer.
        address = self._address(inbox_id, user, channel, {}) if channel else None
        await self._run(command, api, address, request)


def _in_channel(event: dict[str, Any]) -> bool:
    """Whether an event is a message written anywhere but the DM with the bot."""
    return event.get("type") == "message" and event.get("channel_type") != "im"


def _team_of(kind: str, payload: dict[str, Any]) -> str:
    if kind in ("command", "event"):
        return str(payload.get("team_id", ""))
    return clicker_of(payload)[0]
