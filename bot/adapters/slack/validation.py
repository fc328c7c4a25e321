"""What a request to /slack/events must be before bolt reads it: signed by Slack, and
shaped as Slack sends it.

Slack's own requests always pass. Anything else is refused here, before bolt sees it:
401 when it is not signed (a malformed signature header or timestamp included), 400 with
what is wrong when it is signed but malformed (a bug upstream, a proxy that mangled it,
someone holding the signing secret) — never a 500 from deep inside a parser.

Why before bolt: bolt parses the body the moment it builds its request, before its own
signature check (slack_bolt/request/internals.py `parse_body`), so a hostile unsigned body
(100 000 nested `[`) would fail in there; its verifier reads the timestamp with `int()`
and decodes the body as UTF-8 (a 500 for `X-Slack-Request-Timestamp: abc` or a signed
non-UTF-8 body); and it logs the whole body of every request whose signature is wrong.
The signature is checked here on the raw bytes, as Slack computes it
(https://api.slack.com/authentication/verifying-requests-from-slack).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any
from urllib.parse import parse_qs, parse_qsl

from multidict import MultiMapping
from slack_bolt.request.internals import build_normalized_headers, extract_content_type

from bot import json_input

# Slack refuses requests older than five minutes; so do we (replays of old captures).
WINDOW_SECONDS = 60 * 5
# Parts that Slack always sends as JSON objects when present.
_OBJECTS = ("event", "view", "user", "team", "channel", "container", "state")
_COMMAND_FIELDS = ("team_id", "channel_id", "user_id")
_TIMESTAMP = "X-Slack-Request-Timestamp"
_SIGNATURE = "X-Slack-Signature"


def refusal(
    body: bytes, headers: MultiMapping[str], secret: str, now: float | None = None
) -> tuple[int, str] | None:
    """(status, reason) when the request must be refused, None when bolt may read it."""
    stamps, signatures = headers.getall(_TIMESTAMP, []), headers.getall(_SIGNATURE, [])
    if not stamps or not signatures:
        return 401, f"invalid request signature: {_TIMESTAMP} and {_SIGNATURE} are required"
    if len(stamps) > 1 or len(signatures) > 1:
        return 401, f"invalid request signature: send one {_TIMESTAMP} and one {_SIGNATURE}"
    stamp, signature = stamps[0], signatures[0]
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        return 401, f"invalid request signature: {_TIMESTAMP} must be a Unix time in seconds"
    if abs((time.time() if now is None else now) - int(stamp)) > WINDOW_SECONDS:
        return 401, "invalid request signature: the timestamp is more than 5 minutes away"
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    expected = ("v0=" + digest.hexdigest()).encode()
    if not hmac.compare_digest(expected, signature.encode("utf-8", "replace")):
        return 401, "invalid request signature"
    wrong = problem(body, headers)
    return (400, f"malformed Slack request: {wrong}") if wrong is not None else None


def problem(body: bytes, headers: MultiMapping[str]) -> str | None:
    """What is malformed in a request body, or None when its shape is Slack's.

    Looks at exactly what bolt will parse, the way it decides (the last Content-Type,
    `{` first, the last `payload` field).
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "the body is not UTF-8"
    content_type = extract_content_type(build_normalized_headers(headers))  # type: ignore[arg-type]
    if content_type == "application/json" or text.startswith("{"):
        return _object_problem(text, "the JSON body")
    if "payload" in text:
        payload = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
        if payload is not None:
            return _object_problem(payload, "`payload`")
    fields = parse_qs(text, keep_blank_values=True)
    if any("\x00" in value for values in fields.values() for value in values):
        return "a form field holds a NUL character, which cannot be stored"
    if "command" in fields:  # a slash command: who, where and in which workspace
        missing = [key for key in _COMMAND_FIELDS if not (fields.get(key) or [""])[0].strip()]
        if missing:
            return f"the slash command lacks {', '.join(missing)}"
    return None


def _object_problem(text: str, what: str) -> str | None:
    try:
        data: Any = json_input.parse(text, what)
    except json_input.NotJson as exc:
        return str(exc)
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
