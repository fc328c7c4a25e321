"""A conversation and its Teams threads, on both databases: a lookup by the channel finds
rows stored under one of its threads' ids, never another conversation's (LIKE's `_` and
`%` in ids are taken literally)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from storage import challenges, training_sessions
from storage.conversations import channel_of, here
from storage.db import create_engine, session_factory
from storage.models import Challenge, ChallengeOccurrence, Member, TrainingSession, Workspace

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
CHANNEL = "19:a_b%c@thread.tacv2"


def test_the_channel_of_a_thread() -> None:
    assert channel_of(f"{CHANNEL};messageid=1571537152320") == CHANNEL
    assert channel_of(CHANNEL) == CHANNEL
    assert channel_of("19:chat@thread.v2") == "19:chat@thread.v2"
    assert channel_of("a:1Xyz") == "a:1Xyz"


async def test_lookups_by_channel_find_what_its_threads_stored(database_url: str) -> None:
    engine = create_engine(database_url)
    db_sessions = session_factory(engine)
    stored = {
        "thread": f"{CHANNEL};messageid=1",
        "channel": CHANNEL,
        # Another channel whose id `_` and `%` would match as wildcards.
        "lookalike": "19:aXbYYc@thread.tacv2;messageid=2",
        "prefix": f"{CHANNEL}x;messageid=3",
    }
    try:
        async with db_sessions() as db, db.begin():
            workspace = Workspace(platform="teams", external_id="t", created_at=NOW)
            db.add(workspace)
            await db.flush()
            anim = Member(
                workspace_id=workspace.id,
                user_id="anim",
                display_name="Anim",
                created_at=NOW,
                role="animator",
            )
            db.add(anim)
            await db.flush()
            for code, where in stored.items():
                made = await training_sessions.create(
                    db, workspace.id, code, code.upper()[:6], where, anim.id, NOW
                )
                assert made is not None
            challenge = Challenge(
                workspace_id=workspace.id,
                created_by_id=anim.id,
                text="Try it",
                conversation=stored["thread"],
                locale="en",
                status="active",
                open_days=7,
                created_at=NOW,
            )
            db.add(challenge)
            await db.flush()
            db.add(
                ChallengeOccurrence(
                    challenge_id=challenge.id,
                    workspace_id=workspace.id,
                    planned_at=NOW,
                    posted_at=NOW,
                    conversation=stored["thread"],
                    status="posted",
                )
            )
        async with db_sessions() as db:
            found = await training_sessions.open_in_conversation(db, workspace.id, CHANNEL)
            assert sorted(s.name for s in found) == ["channel", "thread"]
            latest = await training_sessions.latest_in_conversation(db, workspace.id, CHANNEL)
            assert latest is not None and latest.name == "channel"
            occurrence = await challenges.latest_open_occurrence(
                db, workspace.id, NOW, conversation=CHANNEL
            )
            assert occurrence is not None and occurrence.challenge_id == challenge.id
            elsewhere = await challenges.latest_open_occurrence(
                db, workspace.id, NOW, conversation="19:aXbYYc@thread.tacv2"
            )
            assert elsewhere is None
            # A thread's own id matches itself only.
            query = select(TrainingSession.name).where(
                here(TrainingSession.conversation, stored["thread"])
            )
            assert (await db.execute(query)).scalars().all() == ["thread"]
    finally:
        await engine.dispose()
