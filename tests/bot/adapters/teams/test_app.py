"""Teams at the wire: activities shaped as Teams sends them (built from captured traffic,
golden/message_channel_mention_teamsnet.json), signed by a fake Bot Connector's key, to the
real app on loopback; what the bot sends goes to that fake connector. Tests here use no
Bot Framework class: the SDK underneath can change without touching them."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.clock import Clock
from bot.server import Runtime, build_app, create_runtime
from tests.conftest import make_settings
from tests.support.fake_connector import FakeConnector

GOLDEN = Path(__file__).parent / "golden"
APP_ID = "6f1c7d3e-2b4a-4c5d-8e9f-0a1b2c3d4e5f"
TENANT = "50612dbb-0237-4969-b378-8d42590f9c00"
BOT = "28:0b6fe6d1-fece-44f7-9a48-56465e2d5ab8"
CHANNEL = "19:6848757105754c8981c67612732d9aa7@thread.tacv2;messageid=1759881511856"
ANIM = "b15a9416-0ad3-4172-9210-7beb711d3f70"

Client = TestClient  # type: ignore[type-arg]


def _credentials(fake: FakeConnector) -> dict[str, str]:
    return {
        "MicrosoftAppId": APP_ID,
        "MicrosoftAppPassword": "secret",
        "MicrosoftAppTenantId": TENANT,
        "TEAMS_TOKEN_URL": fake.token_url,
        "TEAMS_OPENID_URL": fake.openid_url,
    }


@pytest.fixture
async def teams(database_url: str) -> AsyncIterator[tuple[Client, FakeConnector, Runtime]]:
    fake = FakeConnector()
    await fake.start()
    client, runtime = await _client_with(database_url, fake, **_credentials(fake))
    yield client, fake, runtime
    await client.close()
    await runtime.teams_connector.close()
    await runtime.engine.dispose()
    await fake.close()


def activity(fake: FakeConnector, who: str, text: str = "", **more: Any) -> dict[str, Any]:
    """A channel message from `who` (an AAD object id), as Teams sends it."""
    sample = json.loads((GOLDEN / "message_channel_mention_teamsnet.json").read_text())
    made = copy.deepcopy(sample)
    made["serviceUrl"] = fake.service_url
    made["from"] = {"id": f"29:{who}", "name": who[:8].capitalize(), "aadObjectId": who}
    made["text"] = f"<at>ridotest</at> {text}" if text else ""
    made["id"] = f"{who}-{text}"[:60]
    made.update(more)
    return made


async def _send(client: Client, fake: FakeConnector, body: Any, **headers: str) -> Any:
    signed = {"Authorization": fake.bearer(APP_ID), "Content-Type": "application/json", **headers}
    data = body if isinstance(body, str) else json.dumps(body)
    return await client.post("/api/messages", data=data, headers=signed)


async def _settle(runtime: Runtime) -> None:
    await runtime.inbox.drain()
    await runtime.sender.drain()


async def test_the_whole_sign_up_through_teams(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    started = await _send(client, fake, activity(fake, ANIM, "session start Feedback"))
    assert started.status == 202
    await _settle(runtime)
    card = fake.sent(CHANNEL)[0]
    assert card.authorization == "Bearer fake-bot-token"
    content = card.body["attachments"][0]["content"]
    join = next(a for e in content["body"] if e["type"] == "ActionSet" for a in e["actions"])
    assert join["data"]["action_id"] == "signup.join"
    # "Only for you" answers go to the animator's 1:1 chat, opened for it.
    created = [c for c in fake.calls if c.method == "create"]
    assert created and created[0].body["members"] == [{"id": f"29:{ANIM}"}]
    assert "is open" in fake.sent(created[0].conversation)[0].body["text"]

    learners = [f"0000000{n}-0000-4000-8000-000000000000" for n in range(3)]
    for learner in learners:
        click = activity(fake, learner, value=join["data"])
        assert (await _send(client, fake, click)).status == 202
    await _settle(runtime)
    await runtime.clock.advance(5)
    await _settle(runtime)
    updates = [c for c in fake.calls if c.method == "update" and c.conversation == CHANNEL]
    assert updates and "3" in json.dumps(updates[-1].body["attachments"][0]["content"])
    personal = {
        c.body["members"][0]["id"]: c.conversation for c in fake.calls if c.method == "create"
    }
    for learner in learners:
        texts = [call.body["text"] for call in fake.sent(personal[f"29:{learner}"])]
        assert any("Welcome aboard" in text for text in texts), "their answer, in their 1:1"

    closed = await _send(client, fake, activity(fake, ANIM, "session close"))
    assert closed.status == 202
    await _settle(runtime)
    summary = [c.body["text"] for c in fake.sent(CHANNEL)][1:]
    assert any("3 learners joined" in text for text in summary), "the summary, in the channel"


async def test_the_bot_added_to_a_team_says_hello_once_and_members_are_not_greeted(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    added = activity(fake, ANIM, type="conversationUpdate")
    added["membersAdded"] = [{"id": BOT}]
    for _ in range(2):  # Teams may send it again
        assert (await _send(client, fake, added)).status == 202
    people = activity(fake, ANIM, type="conversationUpdate")
    people["membersAdded"] = [{"id": "29:newcomer", "aadObjectId": "11111111-0000-4000-8000-0"}]
    assert (await _send(client, fake, people)).status == 202
    await _settle(runtime)
    welcomes = fake.sent(CHANNEL)
    assert len(welcomes) == 1 and "Ambassador" in welcomes[0].body["text"]


async def test_bad_requests_are_refused_and_change_nothing(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    genuine = activity(fake, ANIM, "session start Feedback")
    assert (await _send(client, fake, "{not json")).status == 400
    assert (await _send(client, fake, "[1, 2]")).status == 400
    assert (await _send(client, fake, {"no": "type"})).status == 400
    assert (await _send(client, fake, genuine, Authorization="")).status == 401
    other_url = fake.bearer(APP_ID, service_url="https://evil.example/")
    assert (await _send(client, fake, genuine, Authorization=other_url)).status == 401
    other_bot = fake.bearer("another-app")
    assert (await _send(client, fake, genuine, Authorization=other_bot)).status == 401
    assert await runtime.inbox.drain() == 0, "nothing was recorded"
    assert fake.calls == []


async def test_a_scheduled_post_reaches_the_channel_after_a_restart(database_url: str) -> None:
    fake = FakeConnector()
    await fake.start()
    settings = make_settings(database_url, AMBASSADOR_ADMINS=f"teams:{ANIM}", **_credentials(fake))
    try:
        morning = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
        first = create_runtime(settings, Clock(controllable=True, start=morning))
        app = build_app(first, start_sender=False)
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            text = "challenge post Share one win with the team at 2026-11-27 18:00"
            assert (await _send(client, fake, activity(fake, ANIM, text))).status == 202
            await first.inbox.drain()
            await first.sender.drain()
        answers = [call.body["text"] for call in fake.sent() if call.conversation != CHANNEL]
        assert any("#1" in answer for answer in answers), answers
        posted_before = len(fake.sent(CHANNEL))
        await first.teams_connector.close()
        await first.engine.dispose()

        # A new process: nothing in memory, only what the database kept.
        second = create_runtime(settings, Clock(controllable=True, start=morning))
        try:
            # 18:00 in Paris: the clock moved, what became due runs and is sent.
            await second.clock.set(datetime(2026, 11, 27, 17, 5, tzinfo=UTC))
            await second.sender.drain()
        finally:
            await second.teams_connector.close()
            await second.engine.dispose()
        posts = fake.sent(CHANNEL)[posted_before:]
        assert len(posts) == 1 and "Share one win" in posts[0].body["text"]
    finally:
        await fake.close()


async def _client_with(
    database_url: str, fake: FakeConnector, **env: str
) -> tuple[Client, Runtime]:
    settings = make_settings(database_url, AMBASSADOR_ADMINS=f"teams:{ANIM}", **env)
    runtime = create_runtime(settings, Clock(controllable=True))
    client = TestClient(TestServer(build_app(runtime, start_sender=False), host="127.0.0.1"))
    await client.start_server()
    return client, runtime


async def test_a_universal_action_is_answered_in_the_http_body(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, _runtime = teams
    invoke = activity(fake, ANIM, type="invoke", name="adaptiveCard/action")
    invoke["value"] = {
        "action": {"type": "Action.Execute", "data": {"action_id": "help.show", "value": "help"}},
        "trigger": "manual",
    }
    answer = await _send(client, fake, invoke)
    assert answer.status == 200
    body = await answer.json()
    assert (
        body["statusCode"] == 200 and body["type"] == "application/vnd.microsoft.activity.message"
    )
    assert "session" in body["value"].lower(), "the help text"


async def test_other_tenants_are_refused_when_a_list_is_set(database_url: str) -> None:
    fake = FakeConnector()
    await fake.start()
    client, runtime = await _client_with(
        database_url,
        fake,
        MicrosoftAppId=APP_ID,
        MicrosoftAppPassword="secret",
        MicrosoftAppTenantId=TENANT,
        TEAMS_OPENID_URL=fake.openid_url,
        TEAMS_ALLOWED_TENANTS="11111111-2222-3333-4444-555555555555",
    )
    try:
        refused = await _send(client, fake, activity(fake, ANIM, "help"))
        assert refused.status == 403
        assert await runtime.inbox.drain() == 0
    finally:
        await client.close()
        await runtime.engine.dispose()
        await fake.close()


async def test_keys_out_of_reach_refuse_the_request_as_unavailable(database_url: str) -> None:
    fake = FakeConnector()
    await fake.start()
    client, runtime = await _client_with(
        database_url,
        fake,
        MicrosoftAppId=APP_ID,
        MicrosoftAppPassword="secret",
        MicrosoftAppTenantId=TENANT,
        TEAMS_OPENID_URL="http://127.0.0.1:9/openid",
    )
    try:
        answer = await _send(client, fake, activity(fake, ANIM, "help"))
        assert answer.status == 503
        assert await runtime.inbox.drain() == 0
    finally:
        await client.close()
        await runtime.engine.dispose()
        await fake.close()


async def test_without_credentials_local_requests_work_and_the_log_says_so(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeConnector()
    await fake.start()
    with caplog.at_level("WARNING"):
        client, runtime = await _client_with(database_url, fake)
    try:
        assert any("teams_without_credentials" in r.getMessage() for r in caplog.records)
        hello = activity(fake, ANIM, "hello")
        answer = await client.post("/api/messages", json=hello)  # no token at all
        assert answer.status == 202
        await runtime.inbox.drain()
        await runtime.sender.drain()
        assert any("I help the learners" in call.body.get("text", "") for call in fake.sent())
        assert all(call.authorization == "" for call in fake.calls), "no token without credentials"
    finally:
        await client.close()
        await runtime.engine.dispose()
        await fake.close()
