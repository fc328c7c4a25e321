"""Slack inbound: slash commands, button clicks, modal submissions, mentions and DMs.

A slack-bolt AsyncApp, reached two ways: POST /slack/events (HTTP mode), where
validation.py checks each request's v0 signature and its timestamp (five minutes) before
anything runs, and answers 401 otherwise (slash commands, clicks and modal submissions are
then recorded and acknowledged without bolt's dispatch: recordable.py); and Socket Mode
when SLACK_APP_TOKEN is set, a WebSocket the bot opens itself (no public URL needed;
https://api.slack.com/apis/socket-mode). One workspace
(SLACK_BOT_TOKEN) or several installed through OAuth (GET /slack/install, then
/slack/oauth_redirect; tokens in the database, see installations.py).

Slack wants every request acknowledged within 3 seconds
(https://api.slack.com/interactivity/slash-commands#responding_basic_receipt) and retries
events it thinks were lost. Each listener only records the request in the inbox (many
requests per commit, bot/inbox/journal.py) and acknowledges once it is durable: the ack
is as fast as the database's commit, whatever the work. The inbox worker then handles it
(handling.py) and answers through the response_url, an ephemeral message or a modal; a
crash after the ack only delays that (the worker picks the request up again).
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.adapters.slack import PLATFORM, validation
from bot.adapters.slack.handling import SlackHandling, approval, thread_reply
from bot.adapters.slack.installations import (
    DatabaseAuthorize,
    DatabaseInstallationStore,
    SlackTokens,
)
from bot.adapters.slack.manifest import bot_scopes
from bot.adapters.slack.oauth_state import SignedStateStore
from bot.adapters.slack.profiles import SlackProfiles
from bot.adapters.slack.recordable import DirectAcks, InstalledWorkspaces, ProvenToken, kept
from bot.adapters.slack.sender import client
from bot.adapters.slack.uninstall import SingleWorkspaceUninstall
from bot.clock import Clock
from bot.core.dispatch import Dispatcher
from bot.i18n import Translator
from bot.inbox.journal import Journal
from bot.settings import Settings

ANY = re.compile(r".+")
# Also an empty id: for what is only acknowledged.
ANYTHING = re.compile(r".*")
EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"


class NotInstalledIsNoError(logging.Filter):
    """bolt logs at ERROR every request from a workspace it finds no token for ("Although
    the app should be installed into this workspace, …"), then answers it with the
    not-installed message. With OAuth that is expected, not a fault to page anyone about:
    a workspace that uninstalled the app (its requests in flight, its old messages'
    buttons), one that never installed it. Lowered to WARNING; bolt's other errors stay."""

    LOGGER = "slack_bolt.AsyncMultiTeamsAuthorization"

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.ERROR and str(record.msg).startswith("Although the app"):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True

    @classmethod
    def install(cls) -> None:
        """On bolt's authorization logger, once per process."""
        logger = logging.getLogger(cls.LOGGER)
        if not any(isinstance(found, cls) for found in logger.filters):
            logger.addFilter(cls())


def replay_key(request: AsyncBoltRequest) -> str | None:
    """What makes a signed request the same one when it arrives again: its v0 signature
    (an HMAC of its timestamp and body, https://api.slack.com/authentication/verifying-requests-from-slack).
    None over Socket Mode (no signature: Slack's envelope ids and event ids dedupe there)."""
    values = request.headers.get("x-slack-signature") or []
    signature = values[0] if values else ""
    return hashlib.sha256(signature.encode()).hexdigest() if signature else None


def _refused(refusal: tuple[int, str]) -> web.Response:
    status, reason = refusal
    return web.json_response({"error": reason}, status=status)


def _not_installed(settings: Settings) -> str:
    """What someone in a workspace without the app's token is told (language unknown there)."""
    link = f"{settings.base_url}{INSTALL_PATH}"
    return " / ".join(
        Translator(locale)("slack.not_installed", link=link) for locale in ("en", "fr")
    )


class SlackAdapter:
    """The Slack endpoints and handlers, on the shared dispatcher."""

    def __init__(
        self,
        settings: Settings,
        dispatcher: Dispatcher,
        db_sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        journal: Journal,
        tokens: SlackTokens | None = None,
        uninstall: SingleWorkspaceUninstall | None = None,
    ) -> None:
        """`tokens` with OAuth (several workspaces), else `uninstall`: the single
        workspace's uninstall listener, whose reinstall observer the registry gives the
        dispatcher (bot/adapters/slack/platform.py)."""
        self._settings = settings
        self._journal = journal
        self._tokens = tokens
        slack = settings.slack
        api = client(slack.bot_token, slack.api_base_url)
        self._api = api
        self._clients: dict[str, AsyncWebClient] = {}
        self._session: aiohttp.ClientSession | None = None
        self._oauth: AsyncOAuthFlow | None = None
        if slack.oauth:
            assert tokens is not None, "OAuth needs the database's tokens"
            redirect = f"{settings.base_url}{REDIRECT_PATH}" if settings.public_url else None
            oauth = AsyncOAuthSettings(
                client_id=slack.client_id,
                client_secret=slack.client_secret,
                scopes=list(bot_scopes(settings.thread_replies)),
                redirect_uri=redirect,
                install_path=INSTALL_PATH,
                redirect_uri_path=REDIRECT_PATH,
                installation_store=DatabaseInstallationStore(db_sessions, clock, tokens),
                state_store=SignedStateStore(slack.state_secret, db_sessions, clock),
            )
            self.app = AsyncApp(
                signing_secret=slack.signing_secret,
                # Checked once, before bolt (validation.py): see `events`.
                request_verification_enabled=False,
                client=api,
                oauth_settings=oauth,
                # an AsyncAuthorize is accepted too: bolt keeps it as it is
                authorize=DatabaseAuthorize(tokens),  # type: ignore[arg-type]
                process_before_response=True,
                user_facing_authorize_error_message=_not_installed(settings),
            )
            self._oauth = self.app.oauth_flow
            NotInstalledIsNoError.install()
            # app_uninstalled and tokens_revoked delete that workspace's tokens.
            self.app.enable_token_revocation_listeners()
        else:
            self.app = AsyncApp(
                signing_secret=slack.signing_secret,
                request_verification_enabled=False,  # checked once, before bolt
                token=slack.bot_token,
                client=api,
                process_before_response=True,
            )
            # No token row to delete: the workspace is marked uninstalled (uninstall.py).
            assert uninstall is not None, "one workspace needs its uninstall listener"
            self.app.event("app_uninstalled")(uninstall.uninstalled)
            self.app.event("tokens_revoked")(uninstall.uninstalled)
        authorized = InstalledWorkspaces(tokens) if tokens is not None else ProvenToken(api)
        self._direct = DirectAcks(journal, authorized)
        self._profiles = SlackProfiles(db_sessions)
        self.handling = SlackHandling(settings, dispatcher, self._profiles, self._api_for)
        self._socket: AsyncSocketModeHandler | None = None
        if slack.socket_mode:
            # apps.connections.open goes through the same base URL as every other call.
            socket_api = AsyncWebClient(base_url=slack.api_base_url)
            self._socket = AsyncSocketModeHandler(self.app, slack.app_token, web_client=socket_api)
        self.app.error(validation.on_bolt_error)
        self.app.command(ANY)(self._record_command)
        self.app.action(ANY)(self._record_action)
        self.app.view(ANY)(self._record_view)
        self.app.event("app_mention")(self._record_event)
        self.app.event("app_home_opened")(self._record_event)
        self.app.event("message")(self._record_direct_message)
        self.app.event("reaction_added")(self._record_reaction)
        self.app.event("reaction_removed")(self._record_reaction)
        self._acknowledge_the_rest()

    def _acknowledge_the_rest(self) -> None:
        """What Slack may send that the bot does not use: answered 200 and dropped.

        bolt answers 404 to a request no listener takes, which Slack counts as a failure
        (events are retried, and an app failing most of them has its subscriptions turned
        off: https://api.slack.com/apis/events-api#failure_limits) and shows people as an
        error. The bot opens no legacy dialog, offers no shortcut or external select, and
        asks for no notice when a modal closes: such requests (an old message's, an
        app's earlier configuration's) are acknowledged, with no options where Slack
        waits for some. Registered last: the listeners above come first.
        """
        app = self.app

        async def ack_only(ack: Any) -> None:
            await ack()

        async def no_options(ack: Any) -> None:
            await ack(options=[])

        async def ignored(body: dict[str, Any]) -> None:
            return None

        app.shortcut(ANYTHING)(ack_only)  # global and message shortcuts
        app.view_closed(ANYTHING)(ack_only)
        app.block_suggestion(ANYTHING)(no_options)
        app.dialog_suggestion(ANYTHING)(no_options)
        app.event(ANYTHING)(ignored)  # any other event (member_joined_channel …)

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
        """Close the Socket Mode connection; stop directory lookups; end the HTTP session."""
        if self._socket is not None:
            await self._socket.close_async()
        await self._profiles.close()
        if self._session is not None:
            await self._session.close()

    async def events(self, request: web.Request) -> web.Response:
        """Refused first (validation.py): 401 unless signed by Slack, else 400 saying what
        is malformed. Then what is only recorded and acknowledged (a slash command, a
        click, a modal's submission) is answered directly (recordable.py); the rest goes
        to bolt (ack, listeners), with the body parsed once.

        The signature is checked here, once, for every request bolt sees over HTTP:
        bolt's own check (RequestVerification) is off. Socket Mode requests carry none
        (bolt skips them too), and the OAuth pages are not dispatched through bolt's
        middleware."""
        body = await request.read()
        read = validation.check(body, request.headers, self._settings.slack.signing_secret)
        if isinstance(read, tuple):
            return _refused(read)
        direct = await self._direct.answer(read, request.headers)
        if direct is not None:
            return direct
        try:
            bolt_response = await self.app.async_dispatch(validation.for_bolt(body, read, request))
        except validation.UNREADABLE as exc:
            return _refused(validation.unreadable(exc))
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

    async def _record(self, kind: str, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        # A signed request replayed within its five-minute window carries the same
        # signature: recorded once, it has one effect (the replays are acknowledged alike).
        await self._journal.record(PLATFORM, kind, kept(body), replay_key=replay_key(request))

    async def _record_command(
        self, ack: Any, command: dict[str, Any], request: AsyncBoltRequest
    ) -> None:
        await self._record("command", dict(command), request)
        await ack()  # the answer follows through the response_url

    async def _record_action(
        self, ack: Any, body: dict[str, Any], request: AsyncBoltRequest
    ) -> None:
        """A click on one of the bot's Block Kit buttons. bolt's action listener also takes
        legacy attachment buttons, dialog submissions and cancellations and workflow steps
        (https://api.slack.com/legacy/dialogs): the bot sends none of them, so they are
        acknowledged (a dialog closes) and dropped."""
        if body.get("type") == "block_actions":
            await self._record("action", body, request)
        await ack()

    async def _record_view(self, ack: Any, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        await self._record("view", body, request)
        await ack()  # closes the modal

    async def _record_event(
        self, body: dict[str, Any], event: dict[str, Any], request: AsyncBoltRequest
    ) -> None:
        if event.get("type") == "app_home_opened" and event.get("tab") != "home":
            return  # the Messages tab opened: nothing to draw
        await self._record("event", body, request)

    async def _record_direct_message(
        self, body: dict[str, Any], event: dict[str, Any], request: AsyncBoltRequest
    ) -> None:
        """What people type in their DM with the bot (Messages tab) is a command; what they
        write in a thread of a channel the bot is in may be a reply to a posted question
        (`thread_reply`), when the bot reads threads (AMBASSADOR_THREAD_REPLIES); any other
        message is acknowledged and dropped: never recorded, its text never stored."""
        if event.get("channel_type") == "im":
            if event.get("subtype") or event.get("bot_id"):
                return  # edits, joins, the bot's own posts
        elif not (self._settings.thread_replies and thread_reply(event)):
            return
        await self._record("event", body, request)

    async def _record_reaction(
        self, body: dict[str, Any], event: dict[str, Any], request: AsyncBoltRequest
    ) -> None:
        """An emoji added to a message or taken off it: maybe a like or a dislike of a posted
        contribution (the core decides); an emoji that is neither is not recorded."""
        item = event.get("item") or {}
        if not isinstance(item, dict) or item.get("type") != "message":
            return
        if approval(str(event.get("reaction", ""))) is None:
            return
        await self._record("event", body, request)

    def _http(self) -> aiohttp.ClientSession:
        """One HTTP session for the handling's calls (directory lookups, the App Home tab),
        made on first use in the running loop: slack_sdk opens one per call otherwise."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return self._session

    async def _api_for(self, team: str) -> AsyncWebClient | None:
        """The Web API client acting in `team` (its own token with OAuth)."""
        if self._tokens is None:
            if self._api.session is None or self._api.session.closed:
                self._api.session = self._http()
            return self._api
        token = await self._tokens.bot_token(team)
        if token is None:
            return None
        found = self._clients.get(token)
        if found is None or found.session is not self._session:
            found = self._clients[token] = client(
                token, self._settings.slack.api_base_url, self._http()
            )
        return found
