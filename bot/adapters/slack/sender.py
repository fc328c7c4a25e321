"""Delivers outbox messages to Slack with slack_sdk's AsyncWebClient.

Every client is built from one setting, SLACK_API_BASE_URL (default Slack's own), so the
bot can run against a test double or a Slack-compatible proxy. Rate limits: slack_sdk's
AsyncRateLimitErrorRetryHandler waits Retry-After and retries a few times; past that, the
outbox reschedules the message after Retry-After (https://api.slack.com/apis/rate-limits).
Errors no retry can cure (channel_not_found, not_in_channel, a disabled user…) park the
message with that reason instead of retrying forever; a message whose image Slack could
not fetch is sent again without it (images.py) rather than parked.

Pacing keeps the bot under those limits in the first place: posts go at most about one
per second per channel (a later one waits in the outbox, other channels go on), and a
workspace-wide rate of posts that the sender keeps by sleeping, so that a fan-out of
DMs flows at that rate; edits (chat.update, a Tier 3 method) are paced per workspace and,
while they wait, coalesce into the newest.

A message's platform id is "<channel>:<ts>", what chat.update and thread replies need.

The replies to a person's own request (bot/adapters/slack/replies.py) are outbox messages
too, each carrying its Slack call: a modal (views.open), an answer at the request's
response_url, an ephemeral message or a DM. They are answers, not posts: no channel or
workspace pacing (Slack limits a response_url to 5 uses, chat.postEphemeral and
views.open are Tier 4), only Slack's own 429s.

One HTTP session is shared by every call (slack_sdk opens a new one per call otherwise:
a TCP connection and its set-up each time); `close` ends it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.adapters.slack import blocks, images, replies
from bot.clock import Clock
from bot.core.replies import OutboundMessage
from bot.outbox import targets
from bot.outbox.delivery import NotNow, PermanentFailure, RetryLater
from bot.outbox.pacing import Pacer, Reservations
from bot.settings import RateLimitSettings

DEFAULT_API_BASE_URL = "https://slack.com/api/"
# Slack's error codes that no retry can cure (https://api.slack.com/methods/chat.postMessage).
PERMANENT = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "user_disabled",
        "user_not_found",
        "account_inactive",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "no_permission",
        "missing_scope",
        "restricted_action",
        "msg_too_long",
        "invalid_blocks",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
        # views.open after the trigger_id's 3 seconds, or with one already used
        "expired_trigger_id",
        "exchanged_trigger_id",
        "invalid_trigger_id",
    }
)
RATE_LIMIT_RETRIES = 2
MAX_SLEEP_SECONDS = 2.0


def client(
    token: str,
    base_url: str = DEFAULT_API_BASE_URL,
    session: aiohttp.ClientSession | None = None,
) -> AsyncWebClient:
    """An AsyncWebClient for `token` against `base_url`, with the rate-limit retry handler
    (on `session` when given, else a new HTTP session per call, slack_sdk's default)."""
    made = AsyncWebClient(token=token, base_url=base_url, session=session)
    made.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES))
    return made


def _channel_and_ts(platform_id: str) -> tuple[str, str]:
    channel, _, ts = platform_id.partition(":")
    if not channel or not ts:
        raise PermanentFailure(f"not a Slack message id: {platform_id!r}")
    return channel, ts


@dataclass(frozen=True)
class SlackPacing:
    """The three paces of the Slack sender (see the module's docstring)."""

    per_channel: Pacer
    posts_per_workspace: Pacer
    edits_per_workspace: Pacer

    @classmethod
    def from_settings(cls, limits: RateLimitSettings, clock: Clock) -> SlackPacing:
        """Per-channel and edit pacing follow the outbox's clock (a waiting message is
        rescheduled on it); the workspace's post rate is kept in real time."""

        def on_clock() -> float:
            return clock.now().timestamp()

        return cls(
            per_channel=Pacer(
                limits.slack_per_conversation_per_second, limits.slack_channel_burst, on_clock
            ),
            posts_per_workspace=Pacer(limits.slack_workspace_posts_per_minute / 60.0),
            edits_per_workspace=Pacer(
                limits.slack_workspace_edits_per_minute / 60.0, limits.slack_edit_burst, on_clock
            ),
        )


class SlackSender:
    """Posts and edits messages on Slack (the outbox's PlatformSender for "slack")."""

    def __init__(
        self,
        token_for: Callable[[str], Awaitable[str | None]],
        base_url: str,
        pacing: SlackPacing | None = None,
    ) -> None:
        self._token_for = token_for
        self._base_url = base_url
        self._pacing = pacing or SlackPacing.from_settings(RateLimitSettings(), Clock())
        self._clients: dict[str, AsyncWebClient] = {}
        self._groups: dict[tuple[str, str], str] = {}
        self._session: aiohttp.ClientSession | None = None
        self._workspace_slots = Reservations(self._pacing.posts_per_workspace, MAX_SLEEP_SECONDS)

    def _http(self) -> aiohttp.ClientSession:
        """The one HTTP session of every call (made on first use, in the running loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return self._session

    async def close(self) -> None:
        """End the shared HTTP session (after the outbox sender stopped)."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _client(self, workspace: str) -> AsyncWebClient:
        token = await self._token_for(workspace)
        if not token:
            raise PermanentFailure(f"no Slack token for workspace {workspace}")
        found = self._clients.get(token)
        if found is None or found.session is not self._session:
            found = self._clients[token] = client(token, self._base_url, self._http())
        return found

    async def post(
        self, workspace: str, target: str, message: OutboundMessage, *, key: str = ""
    ) -> str:
        """chat.postMessage to a channel, to a user id for a DM (the app's Messages tab), or
        to the group DM of several people (conversations.open, once per group); a reply
        to a request by the call it carries."""
        call = message.extra.get(replies.CALL)
        if isinstance(call, dict):
            await self._reply(workspace, call)
            return ""  # an answer to one person: nothing edits it or replies under it
        people = targets.group_members(target)
        channel = (
            await self._group_channel(workspace, people)
            if people is not None
            else target.removeprefix("dm:")
        )
        arguments = blocks.message(message.text, message.card)
        if message.in_reply_to:
            _, arguments["thread_ts"] = _channel_and_ts(message.in_reply_to)
        pacing = self._pacing
        if (wait := pacing.per_channel.delay((workspace, channel))) > 0:
            raise NotNow(wait)
        # A short wait is slept (a fan-out flows at the workspace's rate); a long one gives
        # the message back to the outbox with its slot kept (pacing.Reservations), so no
        # batch outlives its lease and a backlog is not re-read at every slot.
        await self._workspace_slots.take(workspace, key)
        pacing.per_channel.take((workspace, channel))
        response = await self._call(workspace, "chat_postMessage", channel=channel, **arguments)
        return f"{response['channel']}:{response['ts']}"

    async def _reply(self, workspace: str, call: dict[str, Any]) -> None:
        """One reply's Slack call (bot/adapters/slack/replies.py)."""
        via = call.get("via")
        message = dict(call.get("message") or {})
        if via == "views.open":
            await self._call(
                workspace, "views_open", trigger_id=call.get("trigger_id"), view=call.get("view")
            )
        elif via == "response_url":
            await self._respond(str(call.get("url", "")), message)
        elif via == "ephemeral":
            await self._call(
                workspace,
                "chat_postEphemeral",
                channel=call.get("channel"),
                user=call.get("user"),
                **message,
            )
        elif via == "dm":
            await self._call(workspace, "chat_postMessage", channel=call.get("channel"), **message)
        else:
            raise PermanentFailure(f"not a Slack reply: {via!r}")

    async def _respond(self, url: str, message: dict[str, Any]) -> None:
        """An ephemeral answer at a response_url; again without its images when Slack
        refuses them. A response_url past its 30 minutes or 5 uses answers 404: parked."""
        hook = AsyncWebhookClient(url, session=self._http())
        try:
            sent = await hook.send(response_type="ephemeral", replace_original=False, **message)
            if sent.status_code != 200 and images.present(message) and images.refused(sent.body):
                images.note("response_url")
                sent = await hook.send(
                    response_type="ephemeral", replace_original=False, **images.without(message)
                )
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise RetryLater(f"slack response_url unreachable: {type(exc).__name__}") from None
        if sent.status_code == 429:
            retry_after = sent.headers.get("Retry-After") or sent.headers.get("retry-after")
            raise RetryLater("slack ratelimited", _seconds(retry_after), throttled=True)
        if sent.status_code >= 500:
            raise RetryLater(f"slack response_url {sent.status_code}")
        if sent.status_code != 200:
            raise PermanentFailure(f"slack response_url {sent.status_code}: {sent.body[:100]}")

    async def _group_channel(self, workspace: str, people: list[str]) -> str:
        """The group DM of `people` and the bot (Slack returns the same one each time)."""
        key = (workspace, ",".join(sorted(people)))
        found = self._groups.get(key)
        if found is None:
            response = await self._call(workspace, "conversations_open", users=",".join(people))
            channel = response.get("channel")
            if not isinstance(channel, dict) or not channel.get("id"):
                raise RetryLater("slack conversations.open: no channel")
            found = self._groups[key] = str(channel["id"])
        return found

    async def update(
        self, workspace: str, target: str, message_id: str, message: OutboundMessage
    ) -> None:
        """chat.update of the message posted as `message_id`."""
        channel, ts = _channel_and_ts(message_id)
        arguments = blocks.message(message.text, message.card)
        if (wait := self._pacing.edits_per_workspace.delay(workspace)) > 0:
            raise NotNow(wait)
        self._pacing.edits_per_workspace.take(workspace)
        await self._call(workspace, "chat_update", channel=channel, ts=ts, **arguments)

    async def _call(self, workspace: str, method: str, **arguments: Any) -> dict[str, object]:
        api = await self._client(workspace)
        try:
            response = await getattr(api, method)(**arguments)
        except SlackApiError as exc:
            status = exc.response.status_code
            data = exc.response.data  # a dict, or the text of a non-JSON answer (a 5xx page)
            if status != 429 and images.present(arguments) and images.refused(data):
                # Slack could not fetch an image: the message goes without it, not lost.
                images.note(method)
                return await self._call(workspace, method, **images.without(arguments))
            error = str(data.get("error", "")) if isinstance(data, dict) else ""
            if status == 429:
                retry_after = exc.response.headers.get("Retry-After") or exc.response.headers.get(
                    "retry-after"
                )
                raise RetryLater(
                    "slack ratelimited", _seconds(retry_after), throttled=True
                ) from None
            if error in PERMANENT:
                raise PermanentFailure(f"slack: {error}") from None
            raise RetryLater(f"slack {status}: {error or 'error'}") from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise RetryLater(f"slack unreachable: {type(exc).__name__}") from None
        return dict(response.data) if isinstance(response.data, dict) else {}


def _seconds(value: object) -> float | None:
    try:
        return float(str(value))
    except (TypeError, ValueError):
        return None
