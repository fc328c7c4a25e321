"""Slack as a platform (bot/adapters/platform.py): served only when configured (a bot
token or OAuth, and a signing secret or Socket Mode's app token); the one platform here
where the bot opens a conversation with several people (conversations.open). Its command,
`ambassador-bot slack-manifest`, prints the app's manifest for this bot."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.adapters.platform import Command, CommandError, Connection, Endpoint, Platform, Shared
from bot.adapters.slack import PLATFORM, manifest
from bot.adapters.slack.app import SlackAdapter
from bot.adapters.slack.installations import SlackTokens
from bot.adapters.slack.sender import SlackPacing, SlackSender, client
from bot.adapters.slack.uninstall import SingleWorkspaceUninstall
from bot.env_values import SettingsError, parse_bool
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


def _manifest_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", help="where to write the manifest (default: print it)")


def _manifest(args: argparse.Namespace) -> int:
    """Print (or write) the app manifest: this bot's address (PUBLIC_BASE_URL), and the
    scopes and events of AMBASSADOR_THREAD_REPLIES's value."""
    try:
        thread_replies = parse_bool(
            "AMBASSADOR_THREAD_REPLIES", os.environ.get("AMBASSADOR_THREAD_REPLIES", "0")
        )
        public_url = os.environ.get("PUBLIC_BASE_URL") or os.environ.get("AMBASSADOR_PUBLIC_URL")
        made = manifest.manifest_for(thread_replies, (public_url or "").strip())
    except (SettingsError, manifest.ManifestError) as exc:
        raise CommandError(str(exc)) from None
    text = json.dumps(made, indent=2, ensure_ascii=False) + "\n"
    if not args.output:
        sys.stdout.write(text)
        return 0
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    print(f"Slack app manifest: {output} (paste it in api.slack.com/apps > From a manifest)")
    return 0


MANIFEST = Command(
    name="slack-manifest",
    help="print the Slack app manifest for this bot (PUBLIC_BASE_URL, AMBASSADOR_THREAD_REPLIES)",
    description="Print config/slack/manifest.json with this bot's public address, asking "
    "for the scopes and events that read channel threads only with "
    "AMBASSADOR_THREAD_REPLIES=1.",
    arguments=_manifest_arguments,
    run=_manifest,
)
PLUGIN = Platform(
    name=PLATFORM, opens_groups=True, enabled=_enabled, connect=connect, commands=(MANIFEST,)
)
