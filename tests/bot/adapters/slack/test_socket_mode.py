"""Socket Mode at the wire: the bot opens apps.connections.open on the fake Slack Web API,
connects to the ws:// URL it answers (served on loopback by the test), and handles the
envelopes Slack sends there — slash commands, clicks, events — acknowledging each one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.clock import Clock
from bot.server import Runtime, build_app, create_runtime
from storage.models import MembershipEvent
from tests.conftest import make_settings
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import button_click, command_fields, event_payload
from tests.support.slack_wire import handle_recorded

Client = TestClient  # type: ignore[type-arg]


@pytest.fixture
async def socket(database_url: str) -> AsyncIterator[tuple[Client, FakeSlack, Runtime]]:
    fake = FakeSlack()
    await fake.start()
    settings = make_settings(
        database_url,
        SLACK_BOT_TOKEN=fake.token,
        SLACK_APP_TOKEN=fake.app_token,
        SLACK_API_BASE_URL=fake.base_url,
        AMBASSADOR_ADMINS="slack:UANIM",
    )
    runtime = create_runtime(settings, Clock(controllable=True))
    client = TestClient(TestServer(build_app(runtime, start_sender=False), host="127.0.0.1"))
    await client.start_server()  # the app's start-up opens the Socket Mode connection
    await fake.socket_connected()
    yield client, fake, runtime
    await client.close()
    await runtime.engine.dispose()
    await fake.close()


async def _ask(fake: FakeSlack, runtime: Runtime, user: str, text: str) -> dict[str, Any]:
    """A slash command over the socket: acknowledged at once (no payload: the answer
    follows), then handled; its answer as posted to the response_url."""
    name = f"{user}-{len(fake.calls)}"
    ack = await fake.push(
        "slash_commands", command_fields(user, text, response_url=fake.response_url(name))
    )
    assert "payload" not in ack, "acknowledged before the work"
    await handle_recorded(runtime)
    [answer] = fake.responses[name]
    return answer


async def _joins(runtime: Runtime) -> int:
    async with runtime.db_sessions() as db:
        query = select(func.count()).select_from(MembershipEvent)
        return int((await db.execute(query.where(MembershipEvent.kind == "joined"))).scalar_one())


async def test_commands_clicks_and_events_arrive_over_socket_mode(
    socket: tuple[Client, FakeSlack, Runtime],
) -> None:
    client, fake, runtime = socket
    # No signing secret: nothing is served over HTTP for Slack.
    assert (await client.post("/slack/events", data="x")).status in (404, 405)

    answer = await _ask(fake, runtime, "UANIM", "session start Feedback")
    assert "is open" in answer["text"] and answer["response_type"] == "ephemeral"
    await runtime.sender.drain()
    card = next(body for method, body in fake.calls if method == "chat.postMessage")
    join = next(b for b in card["blocks"] if b["type"] == "actions")["elements"][0]

    assert "Welcome aboard" in (await _ask(fake, runtime, "U1", "join"))["text"]

    click = button_click("U2", join, fake.response_url("click"))
    await fake.push("interactive", click)
    await handle_recorded(runtime)
    told = [b["text"] for m, b in fake.calls if m == "response_url"]
    assert told and "Welcome aboard" in told[-1]

    mention = {
        "type": "app_mention",
        "user": "U3",
        "text": "<@UBOT> join",
        "ts": "1700000001.000100",
        "channel": "C1",
        "event_ts": "1700000001.000100",
    }
    await fake.push("events_api", event_payload(mention, "EvSock1"))
    await fake.push("events_api", event_payload(mention, "EvSock1"))  # Slack's retry
    await handle_recorded(runtime)
    assert await _joins(runtime) == 3
    ephemeral = [b for m, b in fake.calls if m == "chat.postEphemeral"]
    assert len(ephemeral) == 1 and ephemeral[0]["user"] == "U3"
