"""Requests shaped and signed as Slack sends them (shared by the Slack tests and the bench).

Shapes: the golden samples in tests/bot/adapters/slack/golden (sources in its SOURCES.md).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def sign(body: str | bytes, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    """Slack's v0 request signature (https://api.slack.com/authentication/verifying-requests-from-slack),
    over the body's bytes (which may not be UTF-8)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    raw = body.encode() if isinstance(body, str) else body
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + raw, hashlib.sha256)
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
        "Content-Type": "application/x-www-form-urlencoded",
    }


def command_fields(
    user: str,
    text: str,
    channel: str = "C1",
    team: str = "T1",
    response_url: str = "https://hooks.slack.com/commands/T1/1/x",
) -> dict[str, str]:
    """A slash command's form fields (what Socket Mode carries as its payload)."""
    return {
        "token": "legacy",
        "team_id": team,
        "team_domain": "acme",
        "channel_id": channel,
        "channel_name": "training",
        "user_id": user,
        "user_name": user.lower(),
        "command": "/ambassador",
        "text": text,
        "response_url": response_url,
        "trigger_id": "1.2.3",
    }


def command(user: str, text: str, channel: str = "C1", team: str = "T1", **more: str) -> str:
    """A form-encoded `/ambassador <text>` request body."""
    return urlencode(command_fields(user, text, channel, team, **more))


def event_payload(event: dict[str, Any], event_id: str = "Ev1", team: str = "T1") -> dict[str, Any]:
    """An Events API callback, shaped like Slack's (golden sample event_app_mention_docs)."""
    return {
        "token": "legacy",
        "team_id": team,
        "api_app_id": "A1",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1700000000,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team,
                "user_id": "UBOT",
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
    }


def event(event: dict[str, Any], event_id: str = "Ev1", team: str = "T1") -> str:
    """The JSON body of an Events API callback."""
    return json.dumps(event_payload(event, event_id, team))


def interaction(payload: dict[str, Any]) -> str:
    """An interactivity request body: `payload=<JSON>`, form-encoded."""
    return urlencode({"payload": json.dumps(payload)})


def json_headers(body: str) -> dict[str, str]:
    """Signature headers for a JSON body (Events API)."""
    return {**sign(body), "Content-Type": "application/json"}


def button_click(
    user: str,
    action: dict[str, Any],
    response_url: str,
    channel: str = "C1",
    team: str = "T1",
    trigger_id: str = "1.2.4",
) -> dict[str, Any]:
    """A block_actions payload: `user` clicked the button `action` (its action_id and value)
    in `channel` (shape: the golden sample block_actions); `trigger_id` is what a modal the
    bot opens in answer names (views.open)."""
    return {
        "type": "block_actions",
        "team": {"id": team, "domain": "acme"},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team},
        "channel": {"id": channel, "name": "training"},
        "trigger_id": trigger_id,
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action["action_id"],
                "block_id": "b",
                "value": action["value"],
                "action_ts": "1700000000.1",
            }
        ],
    }
