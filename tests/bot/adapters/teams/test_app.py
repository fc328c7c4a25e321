"""Teams at the wire: activities shaped as Teams sends them, signed by a fake Bot
Connector's key, to the real app on loopback; what the bot sends goes to that fake
connector (tests/support/teams_wire.py). No Bot Framework class is used here."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update

from bot.adapters.teams.platform import adapter_of, connector_of
from bot.clock import Clock
from bot.server import ENDPOINTS, Runtime, build_app, create_runtime
from storage import teams_references
from storage.models import InboxEvent, OutboxMessage
from storage.vocabulary import InboxStatus
from tests.conftest import make_settings
from tests.support.fake_connector import Call, FakeConnector
from tests.support.teams_wire import (
    ANIM,
    APP_ID,
    BOT,
    CHANNEL,
    CHANNEL_ROOT,
    TENANT,
    Client,
    activity,
    credentials,
    send,
    settle,
    teams_app,
)


async def test_the_whole_sign_up_through_teams(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    started = await send(client, fake, activity(fake, ANIM, "session start Feedback"))
    assert started.status == 202
    await settle(runtime)
    # The join card is the bot's own post: a new post in the channel, not a reply in the
    # thread of `session start` (whose answer, for everyone, would go there).
    card = fake.sent(CHANNEL_ROOT)[0]
    assert card.authorization == "Bearer fake-bot-token"
    content = card.body["attachments"][0]["content"]
    join = next(a for e in content["body"] if e["type"] == "ActionSet" for a in e["actions"])
    assert join["data"]["action_id"] == "signup.join"
    # "Only for you" answers go to the animator's 1:1 chat, opened for it.
    created = [c for c in fake.calls if c.method == "create"]
    assert created and created[0].body["members"] == [{"id": f"29:{ANIM}"}]
    assert "is open" in fake.sent(created[0].conversation)[0].shown

    learners = [f"0000000{n}-0000-4000-8000-000000000000" for n in range(3)]
    for learner in learners:
        click = activity(fake, learner, value=join["data"])
        assert (await send(client, fake, click)).status == 202
    await settle(runtime)
    await runtime.clock.advance(5)
    await settle(runtime)
    updates = [c for c in fake.calls if c.method == "update" and c.conversation == CHANNEL_ROOT]
    assert updates and "3" in json.dumps(updates[-1].body["attachments"][0]["content"])
    personal = {
        c.body["members"][0]["id"]: c.conversation for c in fake.calls if c.method == "create"
    }
    for learner in learners:
        texts = [call.shown for call in fake.sent(personal[f"29:{learner}"])]
        assert any("Welcome aboard" in text for text in texts), "their answer, in their 1:1"

    closed = await send(client, fake, activity(fake, ANIM, "session close"))
    assert closed.status == 202
    await settle(runtime)
    summary = [c.shown for c in fake.sent(CHANNEL_ROOT)][1:]
    assert any("3 learners joined" in text for text in summary), "the summary, in the channel"


async def test_the_bot_added_to_a_team_says_hello_once_and_members_are_not_greeted(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    added = activity(fake, ANIM, type="conversationUpdate")
    added["membersAdded"] = [{"id": BOT}]
    for _ in range(2):  # Teams may send it again
        assert (await send(client, fake, added)).status == 202
    people = activity(fake, ANIM, type="conversationUpdate")
    people["membersAdded"] = [{"id": "29:newcomer", "aadObjectId": "11111111-0000-4000-8000-0"}]
    assert (await send(client, fake, people)).status == 202
    await settle(runtime)
    welcomes = fake.sent(CHANNEL)
    assert len(welcomes) == 1 and "Ambassador" in welcomes[0].shown


async def test_bad_requests_are_refused_and_change_nothing(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    genuine = activity(fake, ANIM, "session start Feedback")
    assert (await send(client, fake, "{not json")).status == 400
    assert (await send(client, fake, "[1, 2]")).status == 400
    assert (await send(client, fake, {"no": "type"})).status == 400
    for wrong in ({"from": "rido"}, {"conversation": [1]}, {"entities": "none"}):
        shaped = await send(client, fake, {**genuine, **wrong})
        assert shaped.status == 400
        assert "wrong shape" in (await shaped.json())["error"]
    assert (await send(client, fake, genuine, Authorization="")).status == 401
    other_url = fake.bearer(APP_ID, service_url="https://evil.example/")
    assert (await send(client, fake, genuine, Authorization=other_url)).status == 401
    other_bot = fake.bearer("another-app")
    assert (await send(client, fake, genuine, Authorization=other_bot)).status == 401
    assert await runtime.inbox.drain() == 0, "nothing was recorded"
    assert fake.calls == []


async def test_an_activity_off_the_schema_is_recorded_then_dropped_without_retries(
    teams: tuple[Client, FakeConnector, Runtime], caplog: pytest.LogCaptureFixture
) -> None:
    client, fake, runtime = teams
    off_schema = {**activity(fake, ANIM, "session start Feedback"), "timestamp": "yesterday"}
    assert (await send(client, fake, off_schema)).status == 202  # its parts look right
    with caplog.at_level("WARNING"):
        await settle(runtime)
    assert any("teams_activity_refused" in r.getMessage() for r in caplog.records)
    assert fake.calls == [], "no session was opened, nothing was sent"
    async with runtime.db_sessions() as db:
        statuses = (await db.execute(select(InboxEvent.status))).scalars().all()
    assert statuses == ["done"], "handled once: nothing to retry"


async def test_a_scheduled_post_reaches_the_channel_after_a_restart(database_url: str) -> None:
    fake = FakeConnector()
    await fake.start()
    settings = make_settings(database_url, AMBASSADOR_ADMINS=f"teams:{ANIM}", **credentials(fake))
    try:
        morning = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
        first = create_runtime(settings, Clock(controllable=True, start=morning))
        app = build_app(first, start_sender=False)
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            text = "challenge post Share one win with the team at 2026-11-27 18:00"
            assert (await send(client, fake, activity(fake, ANIM, text))).status == 202
            await first.inbox.drain()
            await first.sender.drain()
        answers = [call.shown for call in fake.sent() if call.conversation != CHANNEL]
        assert any("#1" in answer for answer in answers), answers
        posted_before = len(fake.sent(CHANNEL_ROOT))
        await connector_of(first.platforms).close()
        await first.engine.dispose()

        # A new process: nothing in memory, only what the database kept.
        second = create_runtime(settings, Clock(controllable=True, start=morning))
        try:
            # 18:00 in Paris: the clock moved, what became due runs and is sent.
            await second.clock.set(datetime(2026, 11, 27, 17, 5, tzinfo=UTC))
            await second.sender.drain()
        finally:
            await connector_of(second.platforms).close()
            await second.engine.dispose()
        posts = fake.sent(CHANNEL_ROOT)[posted_before:]
        assert len(posts) == 1 and "Share one win" in posts[0].shown
        fake.check_cards()
    finally:
        await fake.close()


async def test_a_universal_action_is_answered_in_the_http_body(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    invoke = activity(fake, ANIM, type="invoke", name="adaptiveCard/action")
    invoke["value"] = {
        "action": {"type": "Action.Execute", "data": {"action_id": "help.show", "value": "help"}},
        "trigger": "manual",
    }
    answer = await send(client, fake, invoke)
    assert answer.status == 200
    body = await answer.json()
    assert (
        body["statusCode"] == 200 and body["type"] == "application/vnd.microsoft.activity.message"
    )
    assert "session" in body["value"].lower(), "the help text"
    async with runtime.db_sessions() as db:
        kept = await teams_references.conversation(db, TENANT, CHANNEL)
    assert kept is not None and kept.service_url == fake.service_url, "remembered for later"
    # Delivered again (same conversation and id), it is acknowledged with no second effect.
    again = await send(client, fake, invoke)
    assert again.status == 200 and (await again.json())["value"] == "OK"


def _credentials_with(**more: str) -> Callable[[FakeConnector], dict[str, str]]:
    return lambda fake: {**credentials(fake), **more}


async def test_other_tenants_are_refused_when_a_list_is_set(database_url: str) -> None:
    others = _credentials_with(TEAMS_ALLOWED_TENANTS="11111111-2222-3333-4444-555555555555")
    async with teams_app(database_url, others) as (client, fake, runtime):
        refused = await send(client, fake, activity(fake, ANIM, "help"))
        assert refused.status == 403
        assert await runtime.inbox.drain() == 0


async def test_keys_out_of_reach_refuse_the_request_as_unavailable(database_url: str) -> None:
    unreachable = _credentials_with(TEAMS_OPENID_URL="http://127.0.0.1:9/openid")
    async with teams_app(database_url, unreachable) as (client, fake, runtime):
        answer = await send(client, fake, activity(fake, ANIM, "help"))
        assert answer.status == 503
        assert await runtime.inbox.drain() == 0


async def test_without_credentials_every_activity_is_refused_unless_asked(
    database_url: str,
) -> None:
    # Not inferred from the peer: this request comes from loopback, as through a proxy.
    async with teams_app(database_url, lambda _fake: {}) as (client, fake, runtime):
        hello = activity(fake, ANIM, "hello")
        for headers in ({}, {"X-Forwarded-For": "127.0.0.1"}):
            answer = await client.post("/api/messages", json=hello, headers=headers)
            assert answer.status == 401
            assert "TEAMS_ALLOW_UNAUTHENTICATED" in (await answer.json())["error"]
        assert await runtime.inbox.drain() == 0 and fake.calls == []


async def test_without_credentials_when_asked_local_requests_work_and_the_log_says_so(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    asked = teams_app(database_url, lambda _fake: {"TEAMS_ALLOW_UNAUTHENTICATED": "1"})
    with caplog.at_level("WARNING"):
        async with asked as (client, fake, runtime):
            assert any("teams_without_credentials" in r.getMessage() for r in caplog.records)
            hello = activity(fake, ANIM, "hello")
            answer = await client.post("/api/messages", json=hello)  # no token at all
            assert answer.status == 202
            await settle(runtime)
            assert any("I help the learners" in c.shown for c in fake.sent())
            assert all(c.authorization == "" for c in fake.calls), "no token without credentials"


@pytest.mark.parametrize(
    "service_url",
    [
        "http://169.254.169.254/latest/meta-data",  # a cloud's metadata service
        "https://smba.trafficmanager.net.evil.example/amer/",
        "https://smba.trafficmanager.net@evil.example/amer/",
        "http://smba.trafficmanager.net/amer/",  # not HTTPS
        "https://evil.example/",
        "",
    ],
)
async def test_an_untrusted_service_url_is_refused_and_never_called(
    database_url: str, service_url: str
) -> None:
    async with teams_app(database_url) as (client, fake, runtime):
        made = activity(fake, ANIM, "help", serviceUrl=service_url)
        # The token is Microsoft's (the fake signs what it is asked), for that service URL.
        answer = await send(client, fake, made, Authorization=fake.bearer(APP_ID, service_url))
        # (no service URL at all: the token cannot match it either, 401 comes first)
        assert answer.status == (403 if service_url else 401), await answer.text()
        assert await runtime.inbox.drain() == 0 and fake.calls == []


def test_trusted_service_urls() -> None:
    from bot.adapters.teams.service_urls import ServiceUrls
    from bot.adapters.teams.settings import TeamsSettings

    signed = ServiceUrls(TeamsSettings(app_id="a", app_password="p", tenant_id="t"))
    for url in (
        "https://smba.trafficmanager.net/amer/",
        "https://smba.trafficmanager.net/amer-client-ss.msg/",
        "https://smba.infra.gcc.teams.microsoft.com/gcc",
        "https://smba.infra.dod.teams.microsoft.us/teams",
    ):
        assert signed.trusted(url), url
    assert not signed.trusted("http://127.0.0.1:3978/")
    local = ServiceUrls(TeamsSettings(allow_unauthenticated=True))
    assert local.trusted("http://127.0.0.1:56000/") and local.trusted("http://localhost:9/")
    assert not local.trusted("https://smba.trafficmanager.net/amer/")
    listed = ServiceUrls(
        TeamsSettings(
            app_id="a", app_password="p", tenant_id="t", extra_service_urls=("https://bf.corp/x",)
        )
    )
    assert listed.trusted("https://bf.corp/x/") and listed.trusted("https://bf.corp/x/v3")
    assert not listed.trusted("https://bf.corp/xy") and not listed.trusted("https://bf.corp/")


async def test_an_activity_delivered_three_times_has_one_effect(database_url: str) -> None:
    from sqlalchemy import func

    from storage.models import Contribution

    async with teams_app(database_url) as (client, fake, runtime):
        shared = activity(fake, ANIM, "share Ask one open question per meeting")
        for _ in range(3):  # the Bot Connector retries with the same id and a fresh token
            assert (await send(client, fake, shared)).status == 202
        await settle(runtime)
        async with runtime.db_sessions() as db:
            count = select(func.count()).select_from(Contribution)
            assert (await db.execute(count)).scalar_one() == 1
            inbox = select(func.count()).select_from(InboxEvent)
            assert (await db.execute(inbox)).scalar_one() == 1
        # The same id in another conversation is another activity.
        elsewhere = activity(fake, ANIM, "share Another tip")
        other_thread = f"{CHANNEL.split(';')[0]};messageid=1759881511999"
        elsewhere["conversation"] = {**elsewhere["conversation"], "id": other_thread}
        elsewhere["id"] = shared["id"]
        assert (await send(client, fake, elsewhere)).status == 202
        await settle(runtime)
        async with runtime.db_sessions() as db:
            assert (await db.execute(count)).scalar_one() == 2


@pytest.mark.parametrize(
    "name",
    ["task/fetch", "composeExtension/query", "config/fetch", "tab/fetch", "signin/verifyState"],
)
async def test_an_invoke_the_bot_does_not_handle_is_answered_501(
    database_url: str, name: str
) -> None:
    """As the Bot Framework's ActivityHandler answers an unhandled invoke: 501, not a 200
    that Teams would take for a task module or a result."""
    async with teams_app(database_url) as (client, fake, runtime):
        invoke = activity(fake, ANIM, type="invoke", name=name, value={"data": {}})
        answer = await send(client, fake, invoke)
        assert answer.status == 501
        assert await runtime.inbox.drain() == 0 and fake.calls == []


def _group_chat(fake: FakeConnector, who: str, text: str = "", **more: Any) -> dict[str, Any]:
    """A message in a group chat with the bot (no team, no channel), @mentioning it."""
    made = activity(fake, who, text, **more)
    made["conversation"] = {
        "id": "19:meeting-group-chat@thread.v2",
        "isGroup": True,
        "conversationType": "groupChat",
        "tenantId": TENANT,
    }
    made["channelData"] = {"tenant": {"id": TENANT}}
    return made


def _join_actions(call: Call) -> list[dict[str, Any]]:
    return [
        action
        for attachment in call.body.get("attachments") or []
        for element in attachment["content"]["body"]
        if element["type"] == "ActionSet"
        for action in element["actions"]
        if action.get("data", {}).get("action_id") == "signup.join"
    ]


@pytest.mark.parametrize("place", ["channel", "group chat"])
async def test_a_join_card_posted_without_an_id_is_posted_again_then_updated_in_place(
    teams: tuple[Client, FakeConnector, Runtime], place: str
) -> None:
    client, fake, runtime = teams
    build = activity if place == "channel" else _group_chat
    # What Microsoft 365 Agents Playground answers: 202, no id. The first two posts: the
    # animator's answer (the urgent lane goes first: shown, nothing edits it) and the card.
    fake.without_id = 2
    assert (await send(client, fake, build(fake, ANIM, "session start Feedback"))).status == 202
    await settle(runtime)
    answer, lost = fake.sent()[:2]
    assert answer.activity_id == "" and "is open" in answer.shown
    assert lost.activity_id == "" and _join_actions(lost), "the card, shown without an id"
    await runtime.clock.advance(5)  # the outbox posts the live card again, once
    await settle(runtime)
    cards = [c for c in fake.sent() if _join_actions(c)]
    assert len(cards) == 2 and cards[1].activity_id, "posted again, with an id this time"
    card = cards[1]

    learners = [f"1000000{n}-0000-4000-8000-000000000000" for n in range(4)]
    for learner in learners:
        click = build(fake, learner, value=_join_actions(card)[0]["data"])
        assert (await send(client, fake, click)).status == 202
        await settle(runtime)
        await runtime.clock.advance(3)
    await settle(runtime)
    assert (await send(client, fake, build(fake, ANIM, "session close"))).status == 202
    await settle(runtime)
    await runtime.clock.advance(3)
    await settle(runtime)

    updates = [c for c in fake.calls if c.method == "update"]
    assert updates and all(
        (u.conversation, u.activity_id) == (card.conversation, card.activity_id) for u in updates
    ), "every edit goes to the card that has an id"
    counts = [u.shown for u in updates]
    assert any("4 learners joined" in shown for shown in counts), counts
    assert "closed" in counts[-1] and not _join_actions(updates[-1]), "closed: no Join button"
    assert len(cards) == len([c for c in fake.sent() if _join_actions(c)]), "no other copy"


async def test_a_reply_is_committed_with_its_effects_and_sent_once_even_if_handled_again(
    teams: tuple[Client, FakeConnector, Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, fake, runtime = teams
    handling = adapter_of(client.server.app[ENDPOINTS]).handling

    async def dies(_activity: Any, replies: list[Any], _key: str) -> None:
        # Whatever is left to send after the core's commit is lost with the process.
        if replies:
            raise SystemError("the process died after the commit")

    monkeypatch.setattr(handling, "deliver", dies)
    assert (await send(client, fake, activity(fake, ANIM, "session start Feedback"))).status == 202
    await runtime.inbox.drain()
    async with runtime.db_sessions() as db:
        replies = (
            await db.execute(
                select(OutboxMessage).where(OutboxMessage.idempotency_key.like("teams:%:reply:%"))
            )
        ).scalars()
        [reply] = list(replies)
    assert reply.status == "pending", "committed with the session: nothing was left to send"
    # The worker dies before marking the activity done: it is handled again.
    async with runtime.db_sessions() as db, db.begin():
        await db.execute(update(InboxEvent).values(status=InboxStatus.PENDING))
    assert await runtime.inbox.drain() == 1
    await settle(runtime)
    created = [c for c in fake.calls if c.method == "create"]
    answers = [call.shown for call in fake.sent(created[0].conversation)]
    assert len([text for text in answers if "is open" in text]) == 1, "sent once"
