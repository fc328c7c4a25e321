"""The shape of a Slack request, checked before bolt reads it.

Slack's own requests always pass; a request that does not (a bug upstream, a proxy that
mangled it, someone holding the signing secret) gets 400 with what is wrong, or 401 when
it is not signed either — never a 500 from deep inside a parser.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

# Parts that Slack always sends as JSON objects when present.
_OBJECTS = ("event", "view", "user", "team", "channel", "container", "state")
_COMMAND_FIELDS = ("team_id", "channel_id", "user_id")


def problem(body: bytes, content_type: str) -> str | None:
    """What is malformed in a request body, or None when its shape is Slack's."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "the body is not UTF-8"
    if content_type.startswith("application/json"):
        return _object_problem(text, "the JSON body")
    fields = parse_qs(text, keep_blank_values=True)
    if "payload" in fields:
        return _object_problem(fields["payload"][0], "`payload`")
    if "command" in fields:  # a slash command: who, where and in which workspace
        missing = [key for key in _COMMAND_FIELDS if not (fields.get(key) or [""])[0].strip()]
        if missing:
            return f"the slash command lacks {', '.join(missing)}"
    return None


def _object_problem(text: str, what: str) -> str | None:
    try:
        data: Any = json.loads(text)
    except ValueError:
        return f"{what} is not JSON"
    if not isinstance(data, dict):
        return f"{what} is not a JSON object"
    for key in _OBJECTS:
        if key in data and data[key] is not None and not isinstance(data[key], dict):
            return f"`{key}` in {what} is not an object"
    actions = data.get("actions")
    if actions is not None and not (
        isinstance(actions, list) and all(isinstance(item, dict) for item in actions)
    ):
        return f"`actions` in {what} is not a list of objects"
    return None
