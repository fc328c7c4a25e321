"""The requests answered without bolt (bot/adapters/slack/recordable.py), at the wire: a
slash command, a click and a modal's submission recorded and acknowledged as bolt
acknowledged them; refused, replayed, unknown or malformed ones answered as before;
everything else still bolt's."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from sqlalchemy import select, text

from bot.adapters.slack.recordable import kind_of
from bot.server import Runtime
from storage.models import InboxEvent
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import (
    button_click,
    command,
    command_fields,
    event,
    interaction,
    json_headers,
    sign,
)
from tests.support.slack_wire import handle_recorded, install, slack_app

Client = TestClient  # type: ignore[type-arg]
TEAM = {"id": "T1", "domain": "acme"}
USER = {"id": "UANIM", "username": "anim", "name": "anim", "team_id": "T1"}


@pytest.fixture
async def slack(database_url: str) -> AsyncIterator[tuple[Client, FakeSlack, Runtime]]:
    async with slack_app(database_url) as app:
        yield app


@pytest.fixture
async def oauth(database_url: str) -> AsyncIterator[tuple[Client, FakeSlack, Runtime]]:
    async with slack_app(database_url, oauth=True) as app:
        yield app


async def _wire(response: ClientResponse) -> tuple[int, str | None, bytes]:
    """What the sender sees: the status, the Content-Type header as sent, the body."""
    return response.status, response.headers.get("Content-Type"), await response.read()


async def _post(client: Client, body: str, **headers: str) -> ClientResponse:
    return await client.post("/slack/events", data=body, headers={**sign(body), **headers})


async def _recorded(runtime: Runtime) -> list[tuple[str, dict[str, Any]]]:
    async with runtime.db_sessions() as db:
        rows = await db.execute(select(InboxEvent.kind, InboxEvent.payload).order_by(InboxEvent.id))
        return [(kind, payload) for kind, payload in rows.all()]


async def _bolts_ack(client: Client) -> tuple[int, str | None, bytes]:
    """bolt's answer when a listener calls ack() with nothing: a view_closed, which still
    goes through bolt (app.py acknowledges it only)."""
    closed = {"type": "view_closed", "team": TEAM, "user": USER, "view": {"callback_id": "x"}}
    return await _wire(await _post(client, interaction(closed)))


def _submission(callback: str = "challenge.form") -> dict[str, Any]:
    values = {"text": {"value": {"type": "plain_text_input", "value": "Share one win"}}}
    view = {"id": "V1", "type": "modal", "callback_id": callback, "private_metadata": "C1"}
    return {
        "type": "view_submission",
        "team": TEAM,
        "user": USER,
        "view": {**view, "state": {"values": values}},
    }


async def test_a_command_a_click_and_a_submission_are_recorded_and_acked_as_bolt_acked(
    slack: tuple[Client, FakeSlack, Runtime],
) -> None:
    client, fake, runtime = slack
    bolts = await _bolts_ack(client)
    assert bolts == (200, "text/plain", b"")
    assert await _recorded(runtime) == [], "a view_closed is only acknowledged"

    asked = command("UANIM", "session start Feedback", response_url=fake.response_url("s"))
    click = button_click("U3", {"action_id": "signup.join#1", "value": "1"}, "https://r/1")
    answers = [
        await _wire(await _post(client, asked)),
        await _wire(await _post(client, interaction(click))),
        await _wire(await _post(client, interaction(_submission()))),
    ]
    assert answers == [bolts, bolts, bolts]
    recorded = await _recorded(runtime)
    assert [kind for kind, _ in recorded] == ["command", "action", "view"]
    assert recorded[0][1]["text"] == "session start Feedback"
    assert recorded[1][1]["actions"][0]["action_id"] == "signup.join#1"
    assert recorded[2][1]["view"]["callback_id"] == "challenge.form"
    assert all("token" not in payload for _, payload in recorded), "Slack's legacy token"

    await handle_recorded(runtime)  # and the worker handles them as before
    [opened] = fake.responses["s"]
    assert "is open" in opened["text"]


async def test_unsigned_stale_or_forged_requests_are_401_on_both_paths(
    slack: tuple[Client, FakeSlack, Runtime],
) -> None:
    """bolt's own signature check is off: validation.py's is the only one, for the direct
    path and for what bolt reads (an event here)."""
    client, _, runtime = slack
    mention = event({"type": "app_mention", "user": "U1", "text": "<@UBOT> help", "ts": "1.2"})
    for body, content_type in (
        (command("U1", "join"), "application/x-www-form-urlencoded"),
        (interaction(_submission()), "application/x-www-form-urlencoded"),
        (mention, "application/json"),
    ):
        stale = {**sign(body, int(time.time()) - 301), "Content-Type": content_type}
        forged = {**sign(body), "X-Slack-Signature": "v0=" + "0" * 64, "Content-Type": content_type}
        for headers in (stale, forged, {"Content-Type": content_type}):
            response = await client.post("/slack/events", data=body, headers=headers)
            assert response.status == 401, (body[:30], headers)
            assert "invalid request signature" in (await response.json())["error"]
    assert await _recorded(runtime) == []


async def test_a_replay_or_a_retry_of_the_same_request_is_recorded_once_and_acked_alike(
    slack: tuple[Client, FakeSlack, Runtime],
) -> None:
    client, _, runtime = slack
    body = command("U1", "join")
    headers = sign(body)
    first = await _wire(await client.post("/slack/events", data=body, headers=headers))
    again = await client.post(
        "/slack/events", data=body, headers={**headers, "X-Slack-Retry-Num": "1"}
    )
    assert first == await _wire(again) == (200, "text/plain", b"")
    assert len(await _recorded(runtime)) == 1


async def test_what_bolt_answered_otherwise_still_goes_through_bolt(
    slack: tuple[Client, FakeSlack, Runtime],
) -> None:
    client, _, runtime = slack
    # Slack's SSL check (a form with ssl_check=1): bolt's SslCheck answers an empty 200.
    check = urlencode({"ssl_check": "1", "token": "legacy"})
    assert await _wire(await _post(client, check)) == (200, "text/plain", b"")
    # A block suggestion waits for options: bolt's listener gives none.
    suggestion = {"type": "block_suggestion", "team": TEAM, "user": USER, "action_id": "a"}
    answer = await _post(client, interaction(suggestion))
    assert answer.status == 200 and await answer.json() == {"options": []}
    # Slack's request URL check.
    challenge = json.dumps({"type": "url_verification", "challenge": "c-1", "token": "x"})
    answer = await client.post("/slack/events", data=challenge, headers=json_headers(challenge))
    assert answer.status == 200 and (await answer.json())["challenge"] == "c-1"
    assert await _recorded(runtime) == []


def test_only_what_bolt_would_record_is_recognised() -> None:
    assert kind_of(command_fields("U1", "join")) == "command"
    assert kind_of({**command_fields("U1", "x"), "command": ""}) is None, "bolt's `.+`"
    assert kind_of({"command": "/a", "type": "event_callback"}) is None
    assert kind_of({"ssl_check": "1", "command": "/a"}) is None
    assert kind_of({"type": "block_actions", "actions": [{"action_id": "a"}]}) == "action"
    assert kind_of({"type": "block_actions", "actions": []}) is None
    assert kind_of({"type": "block_actions", "actions": [{"action_id": 5}]}) is None
    assert kind_of({"type": "interactive_message", "actions": [{"name": "n"}]}) is None
    assert kind_of(_submission()) == "view"
    assert kind_of({"type": "view_submission", "view": {}}) is None
    assert kind_of({"type": "view_closed", "view": {"callback_id": "x"}}) is None
    assert kind_of({"type": "event_callback", "event": {"type": "app_mention"}}) is None


async def test_malformed_recordable_requests_are_4xx_never_500(
    slack: tuple[Client, FakeSlack, Runtime],
) -> None:
    client, _, runtime = slack
    cases: list[tuple[str, str]] = [
        (interaction({"type": "block_actions", "team": TEAM, "user": USER, "actions": []}), ""),
        (
            interaction({**_submission(), "view": {"callback_id": 5}}),
            "",
        ),
        (interaction({"type": "view_submission", "view": "x"}), "`view`"),
        ("command=%2Fambassador&text=join&team_id=T1", "lacks channel_id, user_id"),
        (command("U1", "share x\x00y"), "NUL"),
        ("payload=%7Bnot", "not JSON"),
    ]
    for body, says in cases:
        response = await _post(client, body)
        assert 400 <= response.status < 500, body
        assert says in (await response.json())["error"], body
    assert await _recorded(runtime) == []


async def test_a_command_that_mentions_payload_is_recorded(
    slack: tuple[Client, FakeSlack, Runtime],
) -> None:
    """bolt read a form whose text merely contains the word `payload` as empty (and
    answered 404, unhandled); it is read as its fields now."""
    client, _, runtime = slack
    assert (await _post(client, command("U1", "share my payload notes"))).status == 200
    [(kind, payload)] = await _recorded(runtime)
    assert kind == "command" and payload["text"] == "share my payload notes"


async def test_an_unknown_or_uninstalled_workspace_is_refused_as_bolt_refused_it(
    oauth: tuple[Client, FakeSlack, Runtime],
) -> None:
    """OAuth: a workspace without a token is told, in the response_url or as the answer
    (a modal has none), how to install the app; nothing is recorded. An uninstall takes
    effect at once, whatever the token cache held."""
    client, fake, runtime = oauth
    asked = command("U1", "join", team="T9", response_url=fake.response_url("ghost"))
    assert await _wire(await _post(client, asked)) == (200, "text/plain", b"")
    [told] = fake.responses["ghost"]
    assert "/slack/install" in told["text"]
    submitted = {**_submission(), "team": {"id": "T9"}, "user": {**USER, "team_id": "T9"}}
    status, _, said = await _wire(await _post(client, interaction(submitted)))
    assert status == 200 and b"/slack/install" in said
    assert await _recorded(runtime) == []

    await install(client, fake, "T1", "UBOSS")
    served = command("UBOSS", "help", response_url=fake.response_url("served"))
    assert await _wire(await _post(client, served)) == (200, "text/plain", b"")
    assert [kind for kind, _ in await _recorded(runtime)] == ["command"]
    gone = event({"type": "app_uninstalled", "event_ts": "1700000000.1"}, "EvU", team="T1")
    response = await client.post("/slack/events", data=gone, headers=json_headers(gone))
    assert response.status == 200
    late = command("UBOSS", "help", response_url=fake.response_url("late"))
    assert await _wire(await _post(client, late)) == (200, "text/plain", b"")
    [told] = fake.responses["late"]
    assert "/slack/install" in told["text"]
    assert len(await _recorded(runtime)) == 1, "nothing more recorded"


async def test_a_token_that_never_passed_auth_test_leaves_the_answer_to_bolt(
    slack: tuple[Client, FakeSlack, Runtime],
) -> None:
    """One workspace: bolt refuses every request until the token answers auth.test once
    (its SingleTeamAuthorization); so does the direct path, bolt answering."""
    client, fake, runtime = slack
    fake.revoke("T1")
    status, _, said = await _wire(await _post(client, command("U1", "join")))
    assert status == 200 and b"reinstall" in said, "bolt's not-installed message"
    assert await _recorded(runtime) == []


async def test_a_database_that_fails_to_record_is_a_500_as_with_bolt(
    slack: tuple[Client, FakeSlack, Runtime],
) -> None:
    """Slack retries what is not acknowledged: a request the inbox could not keep is
    answered 500 (bolt's answer to a failing listener), never acknowledged."""
    client, _, runtime = slack
    assert (await _post(client, command("U1", "join"))).status == 200
    async with runtime.engine.begin() as connection:  # the inbox out of reach…
        await connection.execute(text("ALTER TABLE inbox_event RENAME TO inbox_event_away"))
    try:
        failed = await _wire(await _post(client, command("U2", "join")))
    finally:  # …and back, as the next test (same PostgreSQL database) expects it
        async with runtime.engine.begin() as connection:
            await connection.execute(text("ALTER TABLE inbox_event_away RENAME TO inbox_event"))
    assert failed == (500, "text/plain", b"")
    assert len(await _recorded(runtime)) == 1
