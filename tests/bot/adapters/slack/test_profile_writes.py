"""Directory profiles reach the members' rows in batches: each person written once per
batch (the latest lookup wins), nothing lost when a write fails, a full batch written
without waiting for the delay."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.adapters.slack.profile_writes import ProfileWriter
from storage.db import create_engine, session_factory
from storage.members import DirectoryProfile
from storage.models import Member, Workspace

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
TEAM = "T1"


@pytest.fixture
async def db_sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A workspace T1 knowing U1 (who chose a time zone), U2 and U3."""
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    async with sessions() as db, db.begin():
        workspace = Workspace(platform="slack", external_id=TEAM, created_at=NOW)
        db.add(workspace)
        await db.flush()
        for user_id in ("U1", "U2", "U3"):
            db.add(
                Member(
                    workspace_id=workspace.id,
                    user_id=user_id,
                    display_name=user_id,
                    role="learner",
                    created_at=NOW,
                    timezone="Asia/Tokyo" if user_id == "U1" else None,
                )
            )
    yield sessions
    await engine.dispose()


def profile(user_id: str, name: str, team: str = TEAM, **more: str | None) -> DirectoryProfile:
    fields: dict[str, str | None] = {
        "platform_locale": "fr-FR",
        "email": f"{name.lower()}@example.org",
        "timezone": "Europe/Paris",
    }
    fields.update(more)
    return DirectoryProfile(team, user_id, name, **fields)


async def rows(db_sessions: async_sessionmaker[AsyncSession]) -> dict[str, tuple[Any, ...]]:
    async with db_sessions() as db:
        found = await db.execute(
            select(
                Member.user_id,
                Member.display_name,
                Member.platform_locale,
                Member.email,
                Member.timezone,
            )
        )
        return {user_id: tuple(rest) for user_id, *rest in found.all()}


def count_profile_writes(db_sessions: async_sessionmaker[AsyncSession]) -> list[int]:
    """The number of rows given to each UPDATE of member written from here on."""
    writes: list[int] = []
    engine = db_sessions.kw["bind"]

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _count(
        _conn: Any, _cursor: Any, statement: str, params: Any, _context: Any, many: bool
    ) -> None:
        if statement.startswith("UPDATE member"):
            writes.append(len(params) if many else 1)

    return writes


async def test_each_profile_is_written_once_the_latest_lookup_winning(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    writer = ProfileWriter(db_sessions, "slack", delay=3600)
    writes = count_profile_writes(db_sessions)
    writer.add(profile("U2", "Bea"))
    writer.add(profile("U2", "Béatrice"))  # looked up again before the batch was written
    writer.add(profile("U1", "Ali", email=None))
    writer.add(profile("U9", "Nobody"))  # not known here: skipped
    writer.add(profile("U3", "Cy", team="T-unknown"))  # a workspace never seen: skipped
    assert writer.pending == 4

    assert await writer.flush()
    assert writer.pending == 0 and writes == [4]
    found = await rows(db_sessions)
    assert found["U2"] == ("Béatrice", "fr-FR", "béatrice@example.org", "Europe/Paris")
    # Her own time zone (`settings timezone`) wins; an email not given erases nothing.
    assert found["U1"] == ("Ali", "fr-FR", None, "Asia/Tokyo")
    assert found["U3"] == ("U3", None, None, None)

    assert await writer.flush()  # nothing queued: nothing written
    assert writes == [4]
    await writer.close()


async def test_a_failed_write_keeps_the_profiles_for_the_next_one(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    calls = 0

    def failing_once() -> AsyncSession:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database away")
        return db_sessions()

    writer = ProfileWriter(failing_once, "slack", delay=3600)  # type: ignore[arg-type]
    writer.add(profile("U2", "Bea"))
    writer.add(profile("U3", "Cy"))

    assert not await writer.flush()
    assert writer.pending == 2
    assert (await rows(db_sessions))["U2"][0] == "U2"

    writer.add(profile("U3", "Cyril"))  # a newer lookup, meanwhile, wins
    assert await writer.flush()
    assert writer.pending == 0
    found = await rows(db_sessions)
    assert (found["U2"][0], found["U3"][0]) == ("Bea", "Cyril")
    await writer.close()


async def test_the_writer_runs_by_itself_and_a_full_batch_does_not_wait(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    # The delay is an hour: only a full batch (two here) is written before close.
    writer = ProfileWriter(db_sessions, "slack", batch=2, delay=3600)
    writer.add(profile("U2", "Bea"))
    writer.add(profile("U3", "Cy"))
    for _ in range(500):
        if writer.pending == 0:
            break
        await asyncio.sleep(0.01)
    assert writer.pending == 0
    found = await rows(db_sessions)
    assert (found["U2"][0], found["U3"][0]) == ("Bea", "Cy")

    writer.add(profile("U1", "Ali"))  # not a full batch: written at close, not lost
    await writer.close()
    assert (await rows(db_sessions))["U1"][0] == "Ali"
