"""Slack inbound: slash commands, button clicks, modal submissions, mentions and DMs.

A slack-bolt AsyncApp, reached two ways: POST /slack/events (HTTP mode), where bolt checks
each request's v0 signature and its timestamp (five minutes) before anything runs, and
answers 401 otherwise; and Socket Mode when SLACK_APP_TOKEN is set, a WebSocket the bot
opens itself (no public URL needed; https://api.slack.com/apis/socket-mode). One workspace
(SLACK_BOT_TOKEN) or several installed through OAuth (GET /slack/install, then
/slack/oauth_redirect; tokens in the database, see installations.py).

With `process_before_response` the handler runs before the HTTP answer, which
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
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.adapters.slack import PLATFORM, blocks
from bot.adapters.slack.installations import (
    DatabaseAuthorize,
    DatabaseInstallationStore,
    SlackTokens,
)
from bot.adapters.slack.oauth_state import SignedStateStore
from bot.adapters.slack.profiles import SlackProfiles
from bot.adapters.slack.sender import client
from bot.clock import Clock
from bot.core.dispatch import Dispatcher
from bot.core.events import ActionEvent, CommandEvent, Origin, PlatformUser
from bot.core.replies import Reply
from bot.i18n import Translator, pick_locale
from bot.settings import Settings

ANY = re.compile(r".+")
EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
# Only what the bot uses (config/slack/manifest.json asks for the same).
BOT_SCOPES = (
    "app_mentions:read",  # app_mention events: `@Ambassador join`
    "chat:write",  # posts, DMs (to a user id), edits, ephemeral answers
    "chat:write.public",  # post in a public channel the bot was not invited to
    "commands",  # /ambassador
    "im:history",  # message.im: commands typed in the DM with the bot
    "users:read",  # users.info: names, language, time zone
    "users:read.email",  # users.info: the email an Open Badge is issued to
)
# Events the manifest subscribes to (app_uninstalled/tokens_revoked: OAuth installs).
BOT_EVENTS = ("app_home_opened", "app_mention", "app_uninstalled", "message.im", "tokens_revoked")
_MENTION = re.compile(r"^\s*<@[A-Z0-9]+(?:\|[^>]*)?>\s*")


def _origin(team_id: str, channel_id: str, user_id: str = "") -> Origin:
    # Channel ids of DMs with the bot start with D (https://api.slack.com/docs/conversations-api);
    # from the App Home tab there is no channel: the conversation is the user's DM (their id).
    direct = channel_id.startswith("D") or (bool(user_id) and channel_id == user_id)
    return Origin(PLATFORM, team_id, channel_id, is_direct=direct)


async def _tell(api: AsyncWebClient, channel: str, user_id: str, answer: dict[str, Any]) -> None:
    """An "only for you" answer: ephemeral in a channel, a message in the DM with the bot."""
    if channel.startswith("D") or channel == user_id:
        await api.chat_postMessage(channel=user_id, **answer)
    elif channel:
        await api.chat_postEphemeral(channel=channel, user=user_id, **answer)


def _answer(replies: list[Reply]) -> dict[str, Any] | None:
    """The replies to show (forms open as modals instead) as one Slack message's arguments:
    the texts joined, the first card's blocks; None when there is nothing to show."""
    shown = [reply for reply in replies if reply.form is None]
    if not shown:
        return None
    card = next((reply.card for reply in shown if reply.card is not None), None)
    return blocks.message("\n\n".join(reply.text for reply in shown), card)


def _not_installed(settings: Settings) -> str:
    """What someone in a workspace without the app's token is told (language unknown there)."""
    link = f"{settings.base_url}{INSTALL_PATH}"
    return " / ".join(
        Translator(locale)("slack.not_installed", link=link) for locale in ("en", "fr")
    )


def _clicker(body: dict[str, Any]) -> tuple[str, str, str | None]:
    """Workspace, user id and handle of who clicked or submitted (interactivity payload)."""
    person = body.get("user") or {}
    team = str((body.get("team") or {}).get("id", "") or person.get("team_id", ""))
    return team, str(person.get("id", "")), person.get("name") or person.get("username")


class SlackAdapter:
    """The Slack endpoints and handlers, on the shared dispatcher."""

    def __init__(
        self,
        settings: Settings,
        dispatcher: Dispatcher,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        tokens: SlackTokens | None = None,
    ) -> None:
        self._settings = settings
        self._dispatcher = dispatcher
        slack = settings.slack
        api = client(slack.bot_token, slack.api_base_url)
        self._oauth: AsyncOAuthFlow | None = None
        if slack.oauth:
            assert tokens is not None, "OAuth needs the database's tokens"
            redirect = f"{settings.base_url}{REDIRECT_PATH}" if settings.public_url else None
            oauth = AsyncOAuthSettings(
                client_id=slack.client_id,
                client_secret=slack.client_secret,
                scopes=list(BOT_SCOPES),
                redirect_uri=redirect,
                install_path=INSTALL_PATH,
                redirect_uri_path=REDIRECT_PATH,
                installation_store=DatabaseInstallationStore(sessions, clock, tokens),
                state_store=SignedStateStore(slack.state_secret, sessions, clock),
            )
            self.app = AsyncApp(
                signing_secret=slack.signing_secret,
                client=api,
                oauth_settings=oauth,
                # an AsyncAuthorize is accepted too: bolt keeps it as it is
                authorize=DatabaseAuthorize(tokens),  # type: ignore[arg-type]
                process_before_response=True,
                user_facing_authorize_error_message=_not_installed(settings),
            )
            self._oauth = self.app.oauth_flow
            # app_uninstalled and tokens_revoked delete that workspace's tokens.
            self.app.enable_token_revocation_listeners()
        else:
            self.app = AsyncApp(
                signing_secret=slack.signing_secret,
                token=slack.bot_token,
                client=api,
                process_before_response=True,
            )
        self._profiles = SlackProfiles(sessions)
        self._socket: AsyncSocketModeHandler | None = None
        if slack.socket_mode:
            # apps.connections.open goes through the same base URL as every other call.
            socket_api = AsyncWebClient(base_url=slack.api_base_url)
            self._socket = AsyncSocketModeHandler(self.app, slack.app_token, web_client=socket_api)
        self.app.command(ANY)(self._command)
        self.app.action(ANY)(self._action)
        self.app.view(ANY)(self._view)
        self.app.event("app_mention")(self._mention)
        self.app.event("app_home_opened")(self._home)
        self.app.event("message")(self._direct_message)

    def routes(self) -> list[web.AbstractRouteDef]:
        """POST /slack/events (slash commands, interactivity, events); with OAuth, the
        install page and the redirect Slack sends the installer back to."""
        found: list[web.AbstractRouteDef] = []
        if self._settings.slack.signing_secret:
            found.append(web.post(EVENTS_PATH, self.events))
        if self._oauth is not None:
            found += [web.get(INSTALL_PATH, self.install), web.get(REDIRECT_PATH, self.redirect)]
        return found

    async def start(self) -> None:
        """Open the Socket Mode connection, when configured (it reconnects by itself)."""
        if self._socket is not None:
            await self._socket.connect_async()

    async def stop(self) -> None:
        """Close the Socket Mode connection; stop directory lookups."""
        if self._socket is not None:
            await self._socket.close_async()
        await self._profiles.close()

    async def events(self, request: web.Request) -> web.Response:
        """Hand the request to bolt (signature, ack, listeners) and return its answer."""
        bolt_response = await self.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    async def install(self, request: web.Request) -> web.Response:
        """The "Add to Slack" page (a fresh, signed state in a cookie and in the link)."""
        assert self._oauth is not None
        response = await self._oauth.handle_installation(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def redirect(self, request: web.Request) -> web.Response:
        """Slack's redirect after the installer approved: exchange the code, keep the token."""
        assert self._oauth is not None
        response = await self._oauth.handle_callback(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    def _who(
        self, team: str, user_id: str, handle: str | None, api: AsyncWebClient
    ) -> PlatformUser:
        """The person behind a request (directory name and language once looked up)."""
        return self._profiles.user(team, user_id, handle)

    async def _run(self, event: CommandEvent | ActionEvent, api: AsyncWebClient) -> list[Reply]:
        """The core's replies; then, once the person surely exists, a directory lookup."""
        if isinstance(event, CommandEvent):
            replies = await self._dispatcher.command(event)
        else:
            replies = await self._dispatcher.action(event)
        self._profiles.refresh_later(event.origin.workspace, event.user.id, api)
        return replies

    async def _open_forms(
        self,
        api: AsyncWebClient,
        replies: list[Reply],
        trigger_id: str,
        channel: str,
        user: PlatformUser,
    ) -> None:
        for reply in replies:
            if reply.form is not None and trigger_id:
                # The modal's own buttons in the person's Slack language, when known.
                t = Translator(pick_locale(user.locale, self._settings.locale))
                view = blocks.modal(reply.form, t, private_metadata=channel)
                await api.views_open(trigger_id=trigger_id, view=view)
                return

    async def _command(self, ack: Any, command: dict[str, Any], client: AsyncWebClient) -> None:
        team = str(command.get("team_id", ""))
        origin = _origin(team, str(command.get("channel_id", "")))
        user = self._who(team, str(command.get("user_id", "")), command.get("user_name"), client)
        event = CommandEvent(origin, user, str(command.get("text", "")))
        replies = await self._run(event, client)
        trigger = str(command.get("trigger_id", ""))
        await self._open_forms(client, replies, trigger, origin.conversation, user)
        answer = _answer(replies)
        await ack(response_type="ephemeral", **answer) if answer else await ack()

    async def _action(
        self, ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient
    ) -> None:
        await ack()
        action = (body.get("actions") or [{}])[0]
        team, user_id, handle = _clicker(body)
        user = self._who(team, user_id, handle, client)
        # A click in the App Home tab comes with no channel and no response_url.
        channel = str((body.get("channel") or {}).get("id", "")) or user.id
        origin = _origin(team, channel, user.id)
        action_id = blocks.neutral_action_id(str(action.get("action_id", "")))
        event = ActionEvent(origin, user, action_id, str(action.get("value", "")))
        replies = await self._run(event, client)
        await self._open_forms(client, replies, str(body.get("trigger_id", "")), channel, user)
        answer = _answer(replies)
        if answer and body.get("response_url"):
            await respond(replace_original=False, response_type="ephemeral", **answer)
        elif answer:
            await _tell(client, channel, user.id, answer)

    async def _mention(
        self, body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """`@Ambassador join` in a channel: a command; the answer is ephemeral to the asker."""
        text = _MENTION.sub("", str(event.get("text", "")), count=1)
        channel = str(event.get("channel", ""))
        answer = _answer(await self._event_command(body, event, text, client))
        if answer and channel:
            user = str(event.get("user", ""))
            await client.chat_postEphemeral(channel=channel, user=user, **answer)

    async def _direct_message(
        self, body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """A message in the bot's DM (Messages tab): a command, answered in the same DM."""
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return  # edits, joins, the bot's own posts: not commands
        text = str(event.get("text", ""))
        answer = _answer(await self._event_command(body, event, text, client))
        if answer:
            await client.chat_postMessage(channel=str(event.get("channel")), **answer)

    async def _event_command(
        self, body: dict[str, Any], event: dict[str, Any], text: str, api: AsyncWebClient
    ) -> list[Reply]:
        # Slack resends an event it thinks was not received (X-Slack-Retry-Num): its
        # event_id makes the second delivery a no-op, on every replica
        # (https://api.slack.com/apis/events-api#retries).
        team = str(body.get("team_id", ""))
        origin = _origin(team, str(event.get("channel", "")))
        event_id = body.get("event_id")
        command = CommandEvent(
            origin,
            self._who(team, str(event.get("user", "")), None, api),
            text,
            event_id=str(event_id) if event_id else None,
        )
        return await self._run(command, api)

    async def _home(
        self, body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """The App Home tab, drawn afresh each time it is opened (the `home` command)."""
        if event.get("tab") != "home":
            return  # the Messages tab
        user_id, team = str(event.get("user", "")), str(body.get("team_id", ""))
        origin = _origin(team, user_id, user_id)
        user = self._who(team, user_id, None, client)
        replies = await self._run(CommandEvent(origin, user, "home"), client)
        await client.views_publish(user_id=user_id, view=blocks.home(replies))

    async def _view(
        self, ack: Any, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        team, user_id, handle = _clicker(body)
        user = self._who(team, user_id, handle, client)
        channel = str(view.get("private_metadata", "")) or user.id
        origin = _origin(team, channel, user.id)
        values = blocks.form_values(((view.get("state") or {}).get("values")) or {})
        event = ActionEvent(origin, user, str(view.get("callback_id", "")), json.dumps(values))
        answer = _answer(await self._run(event, client))
        if answer:
            await _tell(client, channel, user.id, answer)
