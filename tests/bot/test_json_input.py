"""JSON from strangers (bot/json_input.py): refused with a reason, never a 500 — alone,
and at the three doors on the wire (Slack, Teams, the playground API)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from bot import json_input
from storage.models import InboxEvent, Member
from tests.support import teams_wire
from tests.support.doors import Doors, all_doors
from tests.support.playground import user
from tests.support.slack_requests import interaction, sign
from tests.support.slack_wire import handle_recorded

DEEP_ARRAY = "[" * 100_000
DEEP_OBJECT = '{"a":' * 100_000
# (body, what the refusal says)
HOSTILE: list[tuple[bytes, str]] = [
    (DEEP_ARRAY.encode(), "nested more than 64 levels"),
    (DEEP_OBJECT.encode(), "nested more than 64 levels"),
    (("[" * 65 + "]" * 65).encode(), "nested more than 64 levels"),
    (b'{"type": "message", "n": ' + b"1" * 5000 + b"}", "more than 4300 digits"),
    (b'{"type": "message", "n": NaN}', "NaN, which is not a JSON value"),
    (b'{"type": "message", "n": -Infinity}', "-Infinity, which is not a JSON value"),
    (b'{"type": "message", "text": "\\u0000"}', "NUL character"),
    (b'{"type": "message", "text": "\\ud800"}', "lone UTF-16 surrogate"),
    (b'{"type": "message", "\\udfff": 1}', "lone UTF-16 surrogate"),
    (b'{"type": "message", "text": "\xff\xfe"}', "not UTF-8"),
    (b"", "not JSON (RFC 8259): Expecting value at line 1 column 1"),
    (b'{"type": "message"', "not JSON (RFC 8259)"),
]


@pytest.mark.parametrize(("raw", "says"), HOSTILE)
def test_hostile_json_is_refused_with_a_reason(raw: bytes, says: str) -> None:
    with pytest.raises(json_input.NotJson) as refused:
        json_input.parse(raw, "the body")
    assert says in str(refused.value) and str(refused.value).startswith("the body ")


def test_ordinary_json_is_read_as_it_is() -> None:
    fine: Any = {"a": [1, 2.5, None, True, "é🎉"], "b": {"c": "x" * 10_000}}
    assert json_input.parse(json.dumps(fine, ensure_ascii=False).encode()) == fine
    assert json_input.parse("[" * 64 + "]" * 64) is not None, "64 levels are fine"
    assert json_input.parse('{"n": 1e999}') == {"n": float("inf")}, "an overflow is a float"


async def _nothing_recorded(doors: Doors) -> None:
    async with doors.runtime.db_sessions() as db:
        for table in (InboxEvent, Member):
            count = (await db.execute(select(func.count()).select_from(table))).scalar_one()
            assert count == 0, table


async def test_hostile_bodies_at_the_three_doors_are_4xx_and_change_nothing(
    database_url: str,
) -> None:
    async with all_doors(database_url) as doors:
        client = doors.client
        for raw, says in HOSTILE:
            # Slack: before the signature check (401), and signed (400 with the reason).
            for kind in ("application/json", "application/x-www-form-urlencoded"):
                headers = {"Content-Type": kind}
                unsigned = await client.post("/slack/events", data=raw, headers=headers)
                assert unsigned.status == 401, (raw[:20], kind)
            if raw.startswith(b"{"):  # bolt parses any body starting with `{` as JSON
                form = {"Content-Type": "application/x-www-form-urlencoded"}
                signed = await client.post("/slack/events", data=raw, headers={**sign(raw), **form})
                assert signed.status == 400 and says in (await signed.json())["error"], raw[:20]
            # Teams: before authentication.
            anonymous = await client.post(
                "/api/messages", data=raw, headers={"Content-Type": "application/json"}
            )
            assert anonymous.status == 400, raw[:20]
            assert says in (await anonymous.json())["error"]
            authenticated = await client.post(
                "/api/messages",
                data=raw,
                headers={
                    "Content-Type": "application/json",
                    "Authorization": doors.teams.bearer(teams_wire.APP_ID),
                },
            )
            assert authenticated.status == 400 and says in (await authenticated.json())["error"]
            # The playground's API.
            for path in ("/local/api/command", "/local/api/action", "/local/api/clock"):
                local = await client.post(
                    path, data=raw, headers={"Content-Type": "application/json"}
                )
                assert local.status == 400, (path, raw[:20])
                assert says in (await local.json())["error"]
        await handle_recorded(doors.runtime)
        await _nothing_recorded(doors)


async def test_nested_json_inside_a_signed_slack_form_payload_is_400(database_url: str) -> None:
    async with all_doors(database_url) as doors:
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        for body in (
            "payload=" + DEEP_ARRAY,
            "payload=" + DEEP_OBJECT,
            # bolt reads the last `payload`: the first one must not be the only one checked
            interaction({"type": "block_actions", "actions": []}) + "&payload=" + DEEP_ARRAY,
            interaction({"type": "block_actions", "n": float("nan")}),
        ):
            unsigned = await doors.client.post("/slack/events", data=body, headers=form)
            assert unsigned.status == 401
            signed = await doors.client.post(
                "/slack/events", data=body, headers={**sign(body), **form}
            )
            assert signed.status == 400, body[:40]
            assert "`payload`" in (await signed.json())["error"]
        await _nothing_recorded(doors)


async def test_content_types_and_empty_bodies_at_the_three_doors(database_url: str) -> None:
    async with all_doors(database_url) as doors:
        client = doors.client
        command = {"user": user("anim1"), "conversation": "general", "text": "help"}
        for kind in ("application/json; charset=utf-8", "APPLICATION/JSON", "text/plain", ""):
            headers = {"Content-Type": kind} if kind else {}
            answer = await client.post(
                "/local/api/command", data=json.dumps(command).encode(), headers=headers
            )
            assert answer.status < 500, kind
            empty = await client.post("/local/api/command", data=b"", headers=headers)
            if kind.lower().startswith("application/json"):
                assert empty.status == 400 and "not JSON" in (await empty.json())["error"]
            else:  # the playground takes JSON bodies only (no cross-site simple requests)
                assert empty.status == 415 and "application/json" in (await empty.json())["error"]
            teams = await client.post("/api/messages", data=b"", headers=headers)
            assert teams.status == 400
            slack = await client.post("/slack/events", data=b"", headers={**sign(""), **headers})
            assert 400 <= slack.status < 500, kind
        too_big = await client.post(
            "/api/messages", data=b" " * (1024 * 1024 + 1), headers={"Content-Type": "text/plain"}
        )
        assert too_big.status == 413 and "larger than" in (await too_big.json())["error"]
