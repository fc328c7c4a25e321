"""Slack as a platform (bot/adapters/platform.py): served only when configured (a bot
token or OAuth, and a signing secret or Socket Mode's app token); the one platform here
where the bot opens a conversation with several people (conversations.open)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.adapters.platform import Connection, Endpoint, Platform, Shared
from bot.adapters.slack import PLATFORM
from bot.adapters.slack.app import SlackAdapter
from bot.adapters.slack.installations import SlackTokens
from bot.adapters.slack.sender import SlackPacing, SlackSender, client
from bot.adapters.slack.uninstall import SingleWorkspaceUninstall
from bot.settings import Settings


def _enabled(settings: Settings) -> bool:
    return settings.slack.enabled


def connect(shared: Shared) -> Connection:
    """The sender (each workspace's token), and with one workspace the observer that
    notices a reinstall; the adapter (HTTP routes, Socket Mode) built per process."""
    settings = shared.settings
    tokens, token_for = _tokens(shared)
    uninstall = (
        None if settings.slack.oauth else SingleWorkspaceUninstall(shared.db_sessions, shared.clock)
    )

    def attach() -> Endpoint:
        adapter = SlackAdapter(
            settings,
            shared.dispatcher,
            shared.db_sessions,
            shared.clock,
            shared.journal,
            tokens,
            uninstall,
        )
        return Endpoint(
            routes=adapter.routes(),
            # A `worker` process handles what `serve --web-only` records.
            inbox=adapter.handling.process,
            start=adapter.start,  # Socket Mode, when configured
            stop=adapter.stop,
        )

    sender = SlackSender(
        token_for,
        settings.slack.api_base_url,
        SlackPacing.from_settings(settings.rate_limits, shared.clock),
    )
    observer = uninstall.still_installed if uninstall is not None else None
    return Connection(sender=sender, attach=attach, observer=observer, close=sender.close)


def _tokens(
    shared: Shared,
) -> tuple[SlackTokens | None, Callable[[str], Awaitable[str | None]]]:
    """Where the Slack sender finds a workspace's token: SLACK_BOT_TOKEN for any
    workspace, or (OAuth) each installed workspace's own, from the database."""
    slack = shared.settings.slack
    if not slack.oauth:
        token = slack.bot_token

        async def the_one(_team: str) -> str | None:
            return token

        return None, the_one
    api = client("", slack.api_base_url)
    tokens = SlackTokens(
        shared.db_sessions, shared.clock, api, slack.client_id, slack.client_secret, shared.sealer
    )
    return tokens, tokens.bot_token


PLUGIN = Platform(name=PLATFORM, opens_groups=True, enabled=_enabled, connect=connect)
