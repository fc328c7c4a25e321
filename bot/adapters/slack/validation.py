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
(https://api.slack.com/authentication/verifying-requests-from-slack), and only here: bolt's
own check is off (app.py). The body is parsed here once, as bolt parses it, and handed on
(to recordable.py, or to bolt inside its request: `for_bolt`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from typing import Any
from urllib.parse import unquote

from aiohttp import web
from multidict import MultiMapping
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot import json_input, logs

log = logging.getLogger(__name__)

# Slack refuses requests older than five minutes; so do we (replays of old captures).
WINDOW_SECONDS = 60 * 5
# Parts that Slack always sends as JSON objects when present.
_OBJECTS = ("event", "view", "user", "team", "channel", "container", "state")
# Legacy dialogs echo the `state` string the dialog was opened with
# (https://api.slack.com/dialogs#submit): there it is a string, not block state.
_DIALOGS = ("dialog_submission", "dialog_cancellation", "dialog_suggestion")
# Parts bolt reads as strings (to route the request) when present.
_STRINGS = ("type", "command", "callback_id", "trigger_id", "response_url", "api_app_id")
# What bolt raises on a signed body of a shape nobody checked (a field of the wrong type):
# the sender's mistake, answered 400. A database or network failure is none of these.
UNREADABLE = (TypeError, AttributeError, KeyError, IndexError, ValueError)
_COMMAND_FIELDS = ("team_id", "channel_id", "user_id")
_TIMESTAMP = "X-Slack-Request-Timestamp"
_SIGNATURE = "X-Slack-Signature"


class Malformed(ValueError):
    """A signed body of a shape Slack never sends; its message says what is wrong."""


def refusal(
    body: bytes, headers: MultiMapping[str], secret: str, now: float | None = None
) -> tuple[int, str] | None:
    """(status, reason) when the request must be refused, None when bolt may read it."""
    read = check(body, headers, secret, now)
    return read if isinstance(read, tuple) else None


def check(
    body: bytes, headers: MultiMapping[str], secret: str, now: float | None = None
) -> tuple[int, str] | dict[str, Any]:
    """The request's body, parsed once as bolt parses it (`parse`), when it is signed by
    Slack and of Slack's shape; else (status, reason): 401 unsigned, 400 malformed."""
    unsigned = signature_refusal(body, headers, secret, now)
    if unsigned is not None:
        return unsigned
    try:
        return parse(body, headers)
    except Malformed as exc:
        return 400, f"malformed Slack request: {exc}"


def signature_refusal(
    body: bytes, headers: MultiMapping[str], secret: str, now: float | None = None
) -> tuple[int, str] | None:
    """(401, reason) unless the request carries one valid v0 signature of its timestamp and
    raw body, the timestamp within five minutes; None when it does."""
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
    return None


def problem(body: bytes, headers: MultiMapping[str]) -> str | None:
    """What is malformed in a request body, or None when its shape is Slack's."""
    try:
        parse(body, headers)
    except Malformed as exc:
        return str(exc)
    return None


def parse(body: bytes, headers: MultiMapping[str]) -> dict[str, Any]:
    """The body as bolt reads it (slack_bolt/request/internals.py `parse_body`: the last
    Content-Type, JSON when it says so or the body starts with `{`, else the last `payload`
    field's JSON, else the form's fields, the last of each), checked for Slack's shape;
    Malformed saying what is wrong otherwise.

    One difference: a form without a `payload` field whose text merely contains the word
    (`/ambassador share my payload notes`) is read as its fields; bolt read it as nothing.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("the body is not UTF-8") from None
    if not text:
        return {}
    types = headers.getall("Content-Type", [])
    content_type = types[-1].split(";")[0] if types else None
    if content_type == "application/json" or text.startswith("{"):
        return _object(text, "the JSON body")
    pairs = form_pairs(text)
    if "payload" in text:
        payload = dict(pairs).get("payload")
        if payload is not None:
            return _object(payload, "`payload`")
    if any("\x00" in value for _, value in pairs):
        raise Malformed("a form field holds a NUL character, which cannot be stored")
    fields = dict(pairs)
    if "command" in fields:  # a slash command: who, where and in which workspace
        missing = [key for key in _COMMAND_FIELDS if not fields.get(key, "").strip()]
        if missing:
            raise Malformed(f"the slash command lacks {', '.join(missing)}")
    return fields


def form_pairs(text: str) -> list[tuple[str, str]]:
    """urllib.parse.parse_qsl(text, keep_blank_values=True), the same pairs (what bolt
    reads a form with), at a third of its cost: only the parts holding `+` or `%` are
    unquoted (a slash command's dozen fields are mostly plain)."""
    pairs = []
    for piece in text.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        if "+" in name or "%" in name:
            name = unquote(name.replace("+", " "))
        if "+" in value or "%" in value:
            value = unquote(value.replace("+", " "))
        pairs.append((name, value))
    return pairs


def _object(text: str, what: str) -> dict[str, Any]:
    try:
        data: Any = json_input.parse(text, what)
    except json_input.NotJson as exc:
        raise Malformed(str(exc)) from None
    wrong = _object_problem(data, what)
    if wrong is not None:
        raise Malformed(wrong)
    return data


def _object_problem(data: Any, what: str) -> str | None:
    if not isinstance(data, dict):
        return f"{what} is not a JSON object"
    for key in _OBJECTS:
        if key == "state" and data.get("type") in _DIALOGS:
            if not isinstance(data.get(key), str | None):
                return f"`state` in {what} is not a string"
            continue
        if key in data and data[key] is not None and not isinstance(data[key], dict):
            return f"`{key}` in {what} is not an object"
    for key in _STRINGS:
        if key in data and data[key] is not None and not isinstance(data[key], str):
            return f"`{key}` in {what} is not a string"
    authorizations = data.get("authorizations")
    if authorizations is not None and not (
        isinstance(authorizations, list) and all(isinstance(a, dict) for a in authorizations)
    ):
        return f"`authorizations` in {what} is not a list of objects"
    actions = data.get("actions")
    if actions is not None and not (
        isinstance(actions, list) and all(isinstance(item, dict) for item in actions)
    ):
        return f"`actions` in {what} is not a list of objects"
    return None


def for_bolt(body: bytes, parsed: dict[str, Any], request: web.Request) -> AsyncBoltRequest:
    """bolt's request for a body `check` accepted, with the body `check` parsed: bolt would
    parse it again (AsyncBoltRequest parses a str body in HTTP mode), so it is built empty
    and given the parsed body and the context bolt derives from it (the same
    `build_async_context` its constructor calls). The raw text is decoded as UTF-8
    (checked), whatever charset the Content-Type names."""
    bolt_request = AsyncBoltRequest(
        body="",
        query=request.query_string,
        headers=request.headers,  # type: ignore[arg-type]  # as bolt's aiohttp adapter
    )
    bolt_request.raw_body = body.decode()
    bolt_request.body = parsed
    bolt_request.context = build_async_context(AsyncBoltContext({}), parsed)
    return bolt_request


def unreadable(exc: Exception) -> tuple[int, str]:
    """The answer to a signed request bolt could not read (one of UNREADABLE)."""
    log.warning("slack_request_unreadable", extra={"error": logs.describe(exc)})
    return 400, "malformed Slack request: a field has a type Slack never sends"


async def on_bolt_error(error: Exception) -> BoltResponse | None:
    """bolt's global error handler (`app.error`): what bolt could not read is the sender's
    mistake, 400; anything else stays bolt's 500 (Slack retries), logged with its type and
    frames only (bolt's own handler logs the error's message, which may quote the body)."""
    if isinstance(error, UNREADABLE):
        status, reason = unreadable(error)
        return BoltResponse(status=status, body={"error": reason})
    log.error("slack_request_failed", exc_info=error)
    return None
