"""/slack/events refuses what Slack would never send before bolt reads it
(bot/adapters/slack/validation.py): 401 unless signed, 400 with the reason when signed
but malformed — odd timestamps, odd signatures, bytes that are not UTF-8, charsets, bodies
bolt would parse differently. Never a 500, nothing recorded."""

from __future__ import annotations

import json
import random
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import func, select

from bot.adapters.slack.validation import form_pairs
from storage.models import InboxEvent
from tests.support.doors import Doors, all_doors
from tests.support.random_shapes import random_shape
from tests.support.slack_requests import command, interaction, sign
from tests.support.slack_wire import handle_recorded

FORM = "application/x-www-form-urlencoded"


async def _recorded(doors: Doors) -> int:
    async with doors.runtime.db_sessions() as db:
        return (await db.execute(select(func.count()).select_from(InboxEvent))).scalar_one()


async def test_timestamps_that_are_not_unix_seconds_are_401(database_url: str) -> None:
    async with all_doors(database_url) as doors:
        body = command("U1", "join")
        now = int(time.time())
        for stamp in ("abc", "9" * 5000, "1e10", "-5", "１２３", f"{now}.5", f"{now:_}", ""):
            # Refused for its form, before any arithmetic (int() takes 1_000 and １２３).
            headers = {**sign(body), "X-Slack-Request-Timestamp": stamp}
            response = await doors.client.post("/slack/events", data=body, headers=headers)
            assert response.status == 401, stamp
            assert "Unix time in seconds" in (await response.json())["error"], stamp
        far = {**sign(body, now + 10**9)}
        response = await doors.client.post("/slack/events", data=body, headers=far)
        assert response.status == 401 and "5 minutes" in (await response.json())["error"]
        assert await _recorded(doors) == 0


async def test_missing_doubled_or_non_ascii_signature_headers_are_401(database_url: str) -> None:
    async with all_doors(database_url) as doors:
        body = command("U1", "join")
        good = sign(body)
        cases: list[list[tuple[str, str]]] = [
            [("Content-Type", FORM)],
            [
                ("Content-Type", FORM),
                ("X-Slack-Request-Timestamp", good["X-Slack-Request-Timestamp"]),
            ],
            [*good.items(), ("X-Slack-Signature", good["X-Slack-Signature"])],
            [*good.items(), ("X-Slack-Request-Timestamp", "abc")],
            [
                ("Content-Type", FORM),
                ("X-Slack-Request-Timestamp", good["X-Slack-Request-Timestamp"]),
                ("X-Slack-Signature", "v0=é" + "0" * 63),
            ],
        ]
        for headers in cases:
            response = await doors.client.post("/slack/events", data=body, headers=headers)
            assert response.status == 401, headers
            assert "invalid request signature" in (await response.json())["error"]
        assert await _recorded(doors) == 0


async def test_a_signed_body_that_is_not_utf8_is_400(database_url: str) -> None:
    async with all_doors(database_url) as doors:
        body = b"command=%2Fambassador&text=\xff\xfe&team_id=T1&channel_id=C1&user_id=U1"
        response = await doors.client.post("/slack/events", data=body, headers=sign(body))
        assert response.status == 400
        assert "not UTF-8" in (await response.json())["error"]
        unsigned = await doors.client.post(
            "/slack/events", data=body, headers={"Content-Type": FORM}
        )
        assert unsigned.status == 401
        assert await _recorded(doors) == 0


async def test_a_nul_in_a_signed_form_field_is_400(database_url: str) -> None:
    async with all_doors(database_url) as doors:
        body = command("U1", "share x\x00y")
        response = await doors.client.post("/slack/events", data=body, headers=sign(body))
        assert response.status == 400 and "NUL" in (await response.json())["error"]
        assert await _recorded(doors) == 0


async def test_any_charset_in_the_content_type_reads_the_body_as_utf8(database_url: str) -> None:
    async with all_doors(database_url) as doors:
        body = command("UANIM", "help", response_url=doors.slack.response_url("h"))
        now = int(time.time())
        for n, charset in enumerate(("nope", "latin-1", "utf-16", "utf-8")):
            # A second apart each: four requests, not one replayed (same signature). The
            # clock is read once: read per request, a second turning between two of them
            # gave two the same stamp, and the second was rightly taken for a retry.
            stamp = now - n
            headers = {**sign(body, stamp), "Content-Type": f"{FORM}; charset={charset}"}
            response = await doors.client.post("/slack/events", data=body, headers=headers)
            assert response.status == 200, charset
        assert await _recorded(doors) == 4, "each recorded once, read as Slack sent it"


async def test_a_form_body_starting_with_a_brace_is_checked_as_bolt_reads_it(
    database_url: str,
) -> None:
    async with all_doors(database_url) as doors:
        # bolt parses any body starting with `{` as JSON, whatever its Content-Type.
        for body in ("{" + '"a":' * 5000, '{"event": "not an object"}'):
            headers = {**sign(body), "Content-Type": FORM}
            response = await doors.client.post("/slack/events", data=body, headers=headers)
            assert response.status == 400, body[:20]
            assert "the JSON body" in (await response.json())["error"]
        assert await _recorded(doors) == 0


_KEYS = (
    "type", "id", "user", "team", "channel", "event", "actions", "view", "state", "values",
    "text", "channel_type", "subtype", "tab", "item", "reaction", "container", "action_id",
    "value", "callback_id", "private_metadata", "enterprise", "authorizations",
    "is_enterprise_install", "api_app_id", "team_id", "user_id", "trigger_id",
    "response_url", "message", "ts", "bot_id", "block_id", "selected_option", "command",
)  # fmt: skip
_WORDS = (
    "block_actions", "view_submission", "view_closed", "event_callback", "message",
    "app_mention", "app_home_opened", "reaction_added", "reaction_removed", "shortcut",
    "block_suggestion",
    "url_verification", "home", "im", "app_uninstalled", "tokens_revoked", "signup.join#0",
    "/ambassador", "join", "U1", "T1", "C1", "",
)  # fmt: skip


def _shape(rng: random.Random) -> Any:
    return random_shape(rng, _KEYS, _WORDS)


async def test_signed_requests_of_any_shape_are_never_a_500(database_url: str) -> None:
    """Found by this very test: bolt reads `authorizations[0]`, `event.get`, `type` as a
    string… and answered 500 to a signed body of another shape."""
    rng = random.Random(7)  # the same requests on every run
    async with all_doors(database_url) as doors:
        for _ in range(300):
            body = _shape(rng)
            payload = body if isinstance(body, dict) else {"x": body}
            if rng.random() < 0.7:
                payload["type"] = rng.choice(_WORDS)
            if rng.random() < 0.5:
                payload.update(team={"id": "T1"}, user={"id": "U1"})
            way = rng.choice(["json", "payload", "form"])
            if way == "json":
                raw = json.dumps(payload)
                headers = {**sign(raw), "Content-Type": "application/json"}
            else:
                raw = (
                    interaction(payload)
                    if way == "payload"
                    else urlencode({key: str(value) for key, value in payload.items()})
                )
                headers = sign(raw)
            response = await doors.client.post("/slack/events", data=raw, headers=headers)
            assert response.status < 500, raw
        await handle_recorded(doors.runtime)
        async with doors.runtime.db_sessions() as db:
            failed = await db.execute(select(func.count()).where(InboxEvent.attempts > 0))
            assert failed.scalar_one() == 0, "whatever was accepted was handled"


def test_forms_are_read_into_the_same_fields_as_bolt_reads_them() -> None:
    """validation.form_pairs stands for urllib's parse_qsl (bolt's form reader): the same
    pairs for any text, escapes, `+`, blanks, stray `=` and `&`, bad escapes and all."""
    rng = random.Random(11)  # the same texts on every run
    alphabet = ["a", "b", "=", "&", "+", "%", "%2", "%41", "%ZZ", "%e9", "%C3%A9", " ", "é", ";"]
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        assert form_pairs(text) == parse_qsl(text, keep_blank_values=True), text
    assert form_pairs(command("U1", "join")) == parse_qsl(command("U1", "join"))
