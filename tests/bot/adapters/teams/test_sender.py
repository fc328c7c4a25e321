"""The Teams sender through the real outbox, against a fake Bot Connector on loopback:
posts with the bot's token and an Adaptive Card, updates in place, DMs to a person's 1:1
chat (opened first when needed, once), pacing per conversation without using attempts, a
429 storm delivered once, a removed bot and an unknown person parked with their reason."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.adapters.teams.connector import Connector
from bot.adapters.teams.sender import TeamsSender
from bot.adapters.teams.settings import TeamsSettings
from bot.core.replies import Button, Card, OutboundMessage
from bot.outbox.queue import Outbox
from bot.server import Runtime
from bot.settings import RateLimitSettings
from storage import teams_references, workspaces
from storage.models import OutboxMessage
from storage.teams_references import Reference
from tests.support.fake_connector import FakeConnector

TENANT = "56653e9d-2158-46ee-90d7-675c39642038"
CHANNEL = "19:general@thread.tacv2"
BOT = "28:aabdbd62-bc97-4afb-83ee-575594577de5"
ALICE_AAD, ALICE = "c5e99701-2a32-49c1-a660-4629ceeb8c61", "29:alice"


@pytest.fixture
async def teams(runtime: Runtime) -> AsyncIterator[FakeConnector]:
    fake = FakeConnector()
    await fake.start()
    credentials = TeamsSettings(
        app_id="6f1c7d3e-2b4a-4c5d-8e9f-0a1b2c3d4e5f",
        app_password="secret",
        tenant_id=TENANT,
        token_url=fake.token_url,
        extra_service_urls=(fake.service_url,),
    )
    connector = Connector(credentials)
    sender = TeamsSender(runtime.db_sessions, runtime.clock, connector, RateLimitSettings())
    runtime.sender.register_platform("teams", sender)
    async with runtime.db_sessions() as db, db.begin():
        now = runtime.clock.now()
        await teams_references.remember(
            db, Reference(TENANT, CHANNEL, fake.service_url, "channel", BOT), now
        )
        await teams_references.remember_member(db, TENANT, ALICE_AAD, ALICE, fake.service_url, now)
    yield fake
    await connector.close()
    await fake.close()
    fake.check_cards()


async def _post(runtime: Runtime, key: str, target: str, message: OutboundMessage) -> None:
    async with runtime.db_sessions() as db, db.begin():
        workspace = await workspaces.get_or_create(db, "teams", TENANT, runtime.clock.now())
        await Outbox(db, "teams", workspace.id, runtime.clock.now()).post(key, target, message)


async def _rows(runtime: Runtime) -> dict[str, OutboxMessage]:
    async with runtime.db_sessions() as db:
        return {r.idempotency_key: r for r in (await db.execute(select(OutboxMessage))).scalars()}


async def test_posts_updates_and_dms_reach_the_connector(
    runtime: Runtime, teams: FakeConnector
) -> None:
    card = Card(title="Join “Feedback”", buttons=(Button("Join", "signup.join", "K7"),))
    await _post(runtime, "card", CHANNEL, OutboundMessage("Join", card=card))
    await _post(runtime, "dm1", f"dm:{ALICE_AAD}", OutboundMessage("Welcome Alice"))
    await _post(runtime, "dm2", f"dm:{ALICE_AAD}", OutboundMessage("And again"))
    await runtime.sender.drain()
    async with runtime.db_sessions() as db, db.begin():
        workspace = await workspaces.get_or_create(db, "teams", TENANT, runtime.clock.now())
        outbox = Outbox(db, "teams", workspace.id, runtime.clock.now())
        await outbox.update("card:edit", "card", CHANNEL, OutboundMessage("Join (3)", card=card))
    await runtime.sender.drain()
    # One conversation's messages in order; another's are sent beside them.
    kinds = [(call.method, call.conversation) for call in teams.calls]
    assert [kind for kind in kinds if kind[1] == CHANNEL] == [
        ("send", CHANNEL),
        ("update", CHANNEL),
    ]
    [personal] = [call.conversation for call in teams.calls if call.method == "create"]
    assert [kind for kind in kinds if kind[1] == personal] == [
        ("create", personal),
        ("send", personal),
        ("send", personal),
    ], "the 1:1 chat is opened once, then reused"
    assert len(kinds) == 5
    [first] = [
        call for call in teams.calls if call.method == "send" and call.conversation == CHANNEL
    ]
    assert first.authorization == "Bearer fake-bot-token" and teams.tokens_issued == 1
    attachment = first.body["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    # The text is the notification's summary, not a second copy of the card above it.
    assert first.body["summary"] == "Join" and "text" not in first.body
    [create] = [call for call in teams.calls if call.method == "create"]
    assert create.body["members"] == [{"id": ALICE}] and create.body["tenantId"] == TENANT
    assert teams.calls[-1].activity_id == first.activity_id
    rows = await _rows(runtime)
    assert rows["card"].platform_message_id == f"{CHANNEL}|{first.activity_id}"
    assert {row.status for row in rows.values()} == {"sent"}


async def test_one_conversation_is_paced_without_using_attempts(
    runtime: Runtime, teams: FakeConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The per-conversation window reads the bot's clock, which follows real time: on a
    # loaded machine a slow first drain let the window move (10 sent where 8 were due).
    # Time stands still here but for the test's own advances.
    frozen = runtime.clock.real_now()
    monkeypatch.setattr(runtime.clock, "_wall", lambda: frozen)
    for n in range(10):
        await _post(runtime, f"c{n}", CHANNEL, OutboundMessage(f"Post {n}"))
    await runtime.sender.drain()
    assert len(teams.sent(CHANNEL)) == 7, "7 per second"
    rows = await _rows(runtime)
    assert rows["c7"].status == "pending" and rows["c7"].attempts == 0
    await runtime.clock.advance(1.0)
    await runtime.sender.drain()
    assert len(teams.sent(CHANNEL)) == 8, "8 per 2 seconds"
    await runtime.clock.advance(1.0)
    await runtime.sender.drain()
    assert [c.shown for c in teams.sent(CHANNEL)] == [f"Post {n}" for n in range(10)]


async def test_a_429_storm_delivers_every_message_once(
    runtime: Runtime, teams: FakeConnector
) -> None:
    teams.rate, teams.window, teams.retry_after = 3, 0.2, "1"
    teams.unavailable = 2
    for n in range(20):
        await _post(runtime, f"m{n}", CHANNEL, OutboundMessage(f"Message {n}"))
    for _ in range(60):
        await runtime.sender.drain()
        rows = await _rows(runtime)
        assert not any(row.status == "failed" for row in rows.values()), "none parked"
        if all(row.status == "sent" for row in rows.values()):
            break
        await runtime.clock.advance(2)
        await asyncio.sleep(0.1)  # the fake's window is in real time
    assert teams.rejected_429 > 0, "the storm happened"
    delivered = Counter(call.shown for call in teams.sent(CHANNEL))
    assert delivered == Counter(f"Message {n}" for n in range(20)), "each once, none lost"


async def test_a_removed_bot_and_an_unknown_person_are_parked_with_a_reason(
    runtime: Runtime, teams: FakeConnector
) -> None:
    teams.removed_from.add(CHANNEL)
    await _post(runtime, "gone", CHANNEL, OutboundMessage("Nobody will read this"))
    await _post(
        runtime, "stranger", "dm:00000000-0000-0000-0000-00000000dead", OutboundMessage("Hi")
    )
    await _post(runtime, "nowhere", "19:unknown@thread.tacv2", OutboundMessage("Hi"))
    await runtime.sender.drain()
    rows = await _rows(runtime)
    assert rows["gone"].status == "failed" and "BotNotInConversationRoster" in (
        rows["gone"].last_error or ""
    )
    assert rows["stranger"].status == "failed" and "never seen" in (
        rows["stranger"].last_error or ""
    )
    assert rows["nowhere"].status == "failed" and "no reference" in (
        rows["nowhere"].last_error or ""
    )
    assert teams.sent() == []


async def test_a_reply_in_a_channel_thread_names_the_thread_once(
    runtime: Runtime, teams: FakeConnector
) -> None:
    """Recorded traffic: every new post in a channel is its own conversation
    `19:…;messageid=<root>`; a reply to a message posted there goes to that thread, and the
    id never carries two `;messageid=` (it did after `challenge post` in a channel)."""
    thread = f"{CHANNEL};messageid=1700000000007"
    parent_target = {"in-thread": thread, "at-root": CHANNEL}
    async with runtime.db_sessions() as db, db.begin():
        now = runtime.clock.now()
        await teams_references.remember(
            db, Reference(TENANT, thread, teams.service_url, "channel", BOT), now
        )
    # A challenge posted in the thread, another at the channel's root, an answer to each.
    await _post(runtime, "in-thread", thread, OutboundMessage("Challenge A"))
    await _post(runtime, "at-root", CHANNEL, OutboundMessage("Challenge B"))
    await runtime.sender.drain()
    for parent in ("in-thread", "at-root"):
        answer = OutboundMessage("An answer", in_reply_to=parent)
        await _post(runtime, f"answer-{parent}", parent_target[parent], answer)
    await runtime.sender.drain()
    root_post = (await _rows(runtime))["at-root"].platform_message_id or ""
    sent = [call.conversation for call in teams.calls if call.method == "send"]
    root_id = root_post.partition("|")[2]
    # Each target's posts in order; different targets side by side.
    assert sorted(sent[:2]) == sorted([thread, CHANNEL])
    assert sorted(sent[2:]) == sorted([thread, f"{CHANNEL};messageid={root_id}"])
    assert all(conversation.count(";messageid=") <= 1 for conversation in sent)
