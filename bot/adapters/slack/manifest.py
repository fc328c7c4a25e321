"""The Slack app: the scopes it asks for and the events it subscribes to, and its manifest
(https://api.slack.com/reference/manifests), for both values of AMBASSADOR_THREAD_REPLIES.

config/slack/manifest.json is the app that does not read channel threads (the default);
`ambassador-bot slack-manifest` prints it with this bot's address, and, with
AMBASSADOR_THREAD_REPLIES=1, with the two scopes and two events that bring the messages
of the channels the bot is in (tests/config/ holds both to the code).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

CONFIG = Path(__file__).resolve().parents[3] / "config" / "slack" / "manifest.json"
PLACEHOLDER_URL = "https://ambassador.example.org"

# Only what the bot uses, sorted as in the manifest.
BOT_SCOPES = (
    "app_mentions:read",  # app_mention events: `@Ambassador join`
    "chat:write",  # posts, DMs (to a user id), edits, ephemeral answers
    "chat:write.public",  # post in a public channel the bot was not invited to
    "commands",  # /ambassador
    "im:history",  # message.im: commands typed in the DM with the bot
    "mpim:write",  # conversations.open: a group DM introducing a mentor and a novice
    "reactions:read",  # reaction_added/_removed: an emoji on a posted answer or share
    "users:read",  # users.info: names, language, time zone
    "users:read.email",  # users.info: the email an Open Badge is issued to
)
# Events the manifest subscribes to (app_uninstalled/tokens_revoked: OAuth installs).
BOT_EVENTS = (
    "app_home_opened",
    "app_mention",
    "app_uninstalled",
    "message.im",
    "reaction_added",
    "reaction_removed",
    "tokens_revoked",
)
# Only with AMBASSADOR_THREAD_REPLIES=1: a channel's messages
# (https://api.slack.com/events/message.channels, message.groups for private channels), each
# event needing its scope. Slack then sends every message of the channels the bot is in;
# only a reply in a posted question's thread is kept (README, "Replies to questions").
THREAD_REPLY_SCOPES = (
    "channels:history",  # message.channels: replies in a question's thread (public channels)
    "groups:history",  # message.groups: replies in a question's thread (private channels)
)
THREAD_REPLY_EVENTS = ("message.channels", "message.groups")


class ManifestError(ValueError):
    """A value the manifest cannot be made with; the message says which."""


def bot_scopes(thread_replies: bool) -> tuple[str, ...]:
    """The scopes the app asks for (the manifest's and the OAuth install link's), in the
    manifest's order: BOT_SCOPES, plus those reading channel threads when asked for."""
    if not thread_replies:
        return BOT_SCOPES
    return tuple(sorted((*BOT_SCOPES, *THREAD_REPLY_SCOPES)))


def bot_events(thread_replies: bool) -> tuple[str, ...]:
    """The events the app subscribes to, in the manifest's order (sorted)."""
    if not thread_replies:
        return BOT_EVENTS
    return tuple(sorted((*BOT_EVENTS, *THREAD_REPLY_EVENTS)))


def manifest_for(
    thread_replies: bool, public_url: str = "", config: Path = CONFIG
) -> dict[str, Any]:
    """config/slack/manifest.json with the scopes and events for `thread_replies`, and the
    bot's public address in place of the placeholder when given (https:// only: Slack
    calls nothing else)."""
    text = config.read_text(encoding="utf-8")
    if public_url:
        address = urlparse(public_url)
        if address.scheme != "https" or not address.hostname:
            raise ManifestError(
                "PUBLIC_BASE_URL must be the bot's public https:// address, where Slack sends "
                f"its requests (got {public_url!r})"
            )
        text = text.replace(PLACEHOLDER_URL, public_url.rstrip("/"))
    manifest: dict[str, Any] = json.loads(text)
    manifest["oauth_config"]["scopes"]["bot"] = list(bot_scopes(thread_replies))
    manifest["settings"]["event_subscriptions"]["bot_events"] = list(bot_events(thread_replies))
    return manifest
