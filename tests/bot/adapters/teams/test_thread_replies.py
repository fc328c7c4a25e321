"""Issue 19 on Teams, at the wire: with AMBASSADOR_THREAD_REPLIES=1, a channel reply in
the thread of a posted question (the public teams.net channel reply's shape, without the
bot's @mention: what the RSC permission ChannelMessage.Read.Group brings) is recorded as a
reply, with a compact card in that thread; the asker's own replies, threads of other posts
and top-level posts without the mention are not, and nothing of them is kept — not their
raw activity, the conversation's reference, their writer's Teams id, nor a log line with
their text; a reply that @mentions the bot stays a command; the asker marks it with the
card's "This helped". Off (the default), such activities are answered and never recorded,
and replies go by `reply`."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.server import Runtime
from storage.models import Contribution, InboxEvent, ReplayKey, TeamsConversation, TeamsMember
from tests.support.fake_connector import FakeConnector
from tests.support.teams_wire import (
    ANIM,
    CHANNEL_ROOT,
    Client,
    activity,
    credentials,
    send,
    settle,
    teams_app,
)

BOB = "b0b00000-0000-4000-8000-000000000002"
CHLOE = "c410e000-0000-4000-8000-000000000003"


def _reading_threads(fake: FakeConnector) -> dict[str, str]:
    return {**credentials(fake), "AMBASSADOR_THREAD_REPLIES": "1"}


@pytest.fixture
async def teams(database_url: str) -> AsyncIterator[tuple[Client, FakeConnector, Runtime]]:
    """The bot reading channel threads (AMBASSADOR_THREAD_REPLIES=1)."""
    async with teams_app(database_url, _reading_threads) as wired:
        yield wired


def _channel_reply(fake: FakeConnector, who: str, text: str, root: str) -> dict[str, Any]:
    """A reply in the thread of the post `root`, not @mentioning the bot."""
    made = activity(fake, who)
    made["text"] = text
    made["entities"] = [e for e in made["entities"] if e.get("type") != "mention"]
    made["conversation"] = {**made["conversation"], "id": f"{CHANNEL_ROOT};messageid={root}"}
    return made


def _elements(element: Any) -> list[dict[str, Any]]:
    """Every object of an Adaptive Card, depth first."""
    found: list[dict[str, Any]] = []
    if isinstance(element, dict):
        found.append(element)
        for value in element.values():
            found += _elements(value)
    elif isinstance(element, list):
        for value in element:
            found += _elements(value)
    return found


async def _replies(runtime: Runtime) -> list[tuple[str, bool]]:
    async with runtime.db_sessions() as db:
        rows = await db.execute(
            select(Contribution.text, Contribution.helped_at)
            .where(Contribution.kind == "reply")
            .order_by(Contribution.id)
        )
        return [(text, helped is not None) for text, helped in rows.all()]


async def test_a_channel_reply_to_a_question_is_a_reply_with_a_card_in_its_thread(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    await send(client, fake, activity(fake, ANIM, "share question How do you say no kindly?"))
    await settle(runtime)
    question = next(c for c in fake.sent(CHANNEL_ROOT) if "Question from" in c.shown)
    root = question.activity_id
    before = len(fake.calls)
    reply = _channel_reply(fake, BOB, "Say why first, then no", root)
    for _ in range(2):  # a redelivery (the same activity id): one effect
        assert (await send(client, fake, reply)).status == 202
    await send(client, fake, _channel_reply(fake, ANIM, "Thanks!", root))  # the asker's
    await send(client, fake, _channel_reply(fake, CHLOE, "Elsewhere", "1759881599999"))
    top = _channel_reply(fake, CHLOE, "A new post", "x")
    top["conversation"]["id"] = f"{CHANNEL_ROOT};messageid={top['id']}"
    await send(client, fake, top)  # a top-level post without the mention: nothing
    await settle(runtime)
    assert await _replies(runtime) == [("Say why first, then no", False)]
    new = fake.calls[before:]
    cards = [c for c in new if c.method == "send"]
    assert len(cards) == 1, [c.shown for c in cards]  # no answer to anyone but the card
    [card] = cards
    assert card.conversation == f"{CHANNEL_ROOT};messageid={root}"
    assert "reply counts as contribution #" in card.shown
    assert "Say why first" not in card.shown

    # With the bot's @mention, a message in the thread is a command, as ever.
    mentioned = activity(fake, CHLOE, "me")
    mentioned["conversation"] = {
        **mentioned["conversation"],
        "id": f"{CHANNEL_ROOT};messageid={root}",
    }
    await send(client, fake, mentioned)
    await settle(runtime)
    assert len(await _replies(runtime)) == 1

    # The asker clicks the card's "This helped" (a card submit, in the channel).
    submit = next(e for e in _elements(card.body) if e.get("type") == "Action.Submit")
    click = activity(fake, ANIM, value=submit["data"])
    await send(client, fake, click)
    await settle(runtime)
    assert await _replies(runtime) == [("Say why first, then no", True)]


async def _inbox(runtime: Runtime) -> list[str]:
    """Every raw activity the inbox holds, as text."""
    async with runtime.db_sessions() as db:
        payloads = (await db.execute(select(InboxEvent.payload))).scalars().all()
    return [json.dumps(payload, ensure_ascii=False) for payload in payloads]


def _logged(records: list[logging.LogRecord]) -> str:
    """Everything the log records say, their extra fields included (the bot's handling was
    heard: a check on nothing would pass)."""
    assert any(record.getMessage() == "event_handled" for record in records)
    return "\n".join(
        f"{record.getMessage()} {' '.join(str(value) for value in vars(record).values())}"
        for record in records
    )


async def _traces(runtime: Runtime) -> tuple[set[str], set[str], list[str]]:
    """The conversations and people the bot remembers, and its events' replay keys (the
    journal's `request:` keys, opaque hashes that stop a retry being recorded again, are
    kept `dedupe_days` for every activity recorded)."""
    async with runtime.db_sessions() as db:
        conversations = set((await db.execute(select(TeamsConversation.conversation_id))).scalars())
        people = set((await db.execute(select(TeamsMember.aad_object_id))).scalars())
        keys = list((await db.execute(select(ReplayKey.key))).scalars())
    return conversations, people, [k for k in keys if not k.startswith("request:")]


async def _posted_question(client: Client, fake: FakeConnector, runtime: Runtime) -> str:
    await send(client, fake, activity(fake, ANIM, "share question How do you say no kindly?"))
    await settle(runtime)
    question = next(c for c in fake.sent(CHANNEL_ROOT) if "Question from" in c.shown)
    return str(question.activity_id)


async def test_a_channel_message_that_is_no_reply_leaves_nothing_behind(
    teams: tuple[Client, FakeConnector, Runtime], caplog: pytest.LogCaptureFixture
) -> None:
    client, fake, runtime = teams
    root = await _posted_question(client, fake, runtime)
    caplog.set_level(logging.DEBUG)
    before = await _traces(runtime)
    other = "1759881599999"
    asker = _channel_reply(fake, ANIM, "Thanks ASKER-SECRET", root)
    elsewhere = _channel_reply(fake, CHLOE, "Lunch OTHER-THREAD?", other)
    top = _channel_reply(fake, CHLOE, "A NEW-POST", "x")
    top["conversation"]["id"] = f"{CHANNEL_ROOT};messageid={top['id']}"
    for sent in (asker, elsewhere, top):
        assert (await send(client, fake, sent)).status == 202
    await settle(runtime)
    kept = await _inbox(runtime)
    for secret in ("ASKER-SECRET", "OTHER-THREAD", "NEW-POST"):
        assert not [p for p in kept if secret in p], secret
    # Nor the thread's reference, nor Chloé's Teams id, nor a replay key of theirs.
    assert await _traces(runtime) == before
    assert f"{CHANNEL_ROOT};messageid={other}" not in before[0]

    reply = _channel_reply(fake, BOB, "Say WHY-FIRST then no", root)
    assert (await send(client, fake, reply)).status == 202
    await settle(runtime)
    assert [p for p in await _inbox(runtime) if "WHY-FIRST" in p], "a reply is kept as today"
    conversations, people, _ = await _traces(runtime)
    assert BOB in people and f"{CHANNEL_ROOT};messageid={root}" in conversations
    assert await _replies(runtime) == [("Say WHY-FIRST then no", False)]
    logged = _logged(caplog.records)
    for secret in ("ASKER-SECRET", "OTHER-THREAD", "NEW-POST"):
        assert secret not in logged, secret


async def test_threads_are_not_read_by_default_and_reply_still_works(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with teams_app(database_url) as (client, fake, runtime):
        assert not runtime.settings.thread_replies
        root = await _posted_question(client, fake, runtime)
        caplog.set_level(logging.DEBUG)
        before, traces = await _inbox(runtime), await _traces(runtime)
        reply = _channel_reply(fake, BOB, "Say NOT-READ first", root)
        assert (await send(client, fake, reply)).status == 202
        await settle(runtime)
        assert await _inbox(runtime) == before, "answered, never recorded"
        assert await _traces(runtime) == traces
        assert await _replies(runtime) == []
        # Replying by command (the bot @mentioned in the thread) works as ever.
        async with runtime.db_sessions() as db:
            question = (
                await db.execute(select(Contribution.id).where(Contribution.kind == "question"))
            ).scalar_one()
        typed = activity(fake, BOB, f"reply {question} Say why first")
        typed["conversation"] = {**typed["conversation"], "id": f"{CHANNEL_ROOT};messageid={root}"}
        await send(client, fake, typed)
        await settle(runtime)
        assert await _replies(runtime) == [("Say why first", False)]
        assert "NOT-READ" not in _logged(caplog.records)


async def test_a_channel_message_recorded_before_threads_were_turned_off_is_forgotten(
    database_url: str,
) -> None:
    """Recorded while the bot read threads, handled after a restart without: dropped, its
    raw activity deleted as it is handled, its conversation not remembered."""
    async with teams_app(database_url) as (client, fake, runtime):
        root = await _posted_question(client, fake, runtime)
        traces = await _traces(runtime)
        stale = _channel_reply(fake, BOB, "Say STALE first", root)
        await runtime.journal.record("teams", "activity", stale)
        assert [p for p in await _inbox(runtime) if "STALE" in p]
        await settle(runtime)
        assert not [p for p in await _inbox(runtime) if "STALE" in p]
        assert await _traces(runtime) == traces
        assert await _replies(runtime) == []


async def test_a_channel_message_the_bot_cannot_read_is_forgotten_too(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    """Without a tenant (Teams always names one) an activity is dropped unhandled: when it is
    a channel message not for the bot, its raw activity goes too."""
    client, fake, runtime = teams
    root = await _posted_question(client, fake, runtime)
    nameless = _channel_reply(fake, BOB, "Say NO-TENANT first", root)
    nameless["conversation"].pop("tenantId", None)
    nameless["channelData"].pop("tenant", None)
    assert (await send(client, fake, nameless)).status == 202
    await settle(runtime)
    assert not [p for p in await _inbox(runtime) if "NO-TENANT" in p]
    assert await _replies(runtime) == []
