"""The rollup's deltas are written as the transaction's last statement, and stay exact: equal
to a rebuild after many joins at once, gone with a rollback (or a savepoint's), seen by a
read in the same transaction, written before their workspace is deleted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, event, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.server import Runtime
from storage import activity, activity_pending, members
from storage.db import create_engine, session_factory
from storage.models import Member, TrainingSession, WeeklyActivity, Workspace
from storage.upsert import table_of
from tests.support.playground import Playground, user

START = datetime(2026, 9, 3, 8, 0, tzinfo=UTC)  # a Thursday
WEEK = date(2026, 8, 31)


@pytest.fixture
async def db_sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


async def _arrivals(db: AsyncSession, workspace_id: int) -> dict[tuple[date, int], int]:
    query = select(WeeklyActivity.week, WeeklyActivity.session_id, WeeklyActivity.arrivals).where(
        WeeklyActivity.workspace_id == workspace_id
    )
    return {(week, s): n for week, s, n in (await db.execute(query)).all() if n}


async def _rows(db: AsyncSession, workspace_id: int) -> dict[tuple[date, int], tuple[int, ...]]:
    table = WeeklyActivity
    query = select(
        table.week, table.session_id, *(getattr(table, c) for c in activity.ALL_COUNTERS)
    ).where(table.workspace_id == workspace_id)
    return {
        (week, s): tuple(counts)
        for week, s, *counts in (await db.execute(query)).all()
        if any(counts)
    }


async def _community(db: AsyncSession, learners: int) -> tuple[int, int, list[int]]:
    """A workspace, a training session and learners who have not joined yet."""
    workspace = Workspace(platform="local", external_id="local", created_at=START)
    db.add(workspace)
    await db.flush()
    anim = Member(
        workspace_id=workspace.id,
        user_id="anim",
        display_name="Anim",
        role="animator",
        created_at=START,
    )
    db.add(anim)
    await db.flush()
    training = TrainingSession(
        workspace_id=workspace.id,
        name="Training",
        code="AAA1",
        conversation="c1",
        opened_by_id=anim.id,
        opened_at=START,
    )
    people = [
        Member(
            workspace_id=workspace.id,
            user_id=f"u{n}",
            display_name=f"Learner {n}",
            role="learner",
            created_at=START,
        )
        for n in range(learners)
    ]
    db.add_all([training, *people])
    await db.flush()
    return workspace.id, training.id, [person.id for person in people]


async def test_a_join_writes_the_rollup_as_its_last_statement(
    playground: Playground, runtime: Runtime
) -> None:
    await playground.command("anim1", "session start Crowd")
    transactions: list[list[str]] = [[]]
    engine = runtime.engine.sync_engine

    @event.listens_for(engine, "before_cursor_execute")
    def _record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        transactions[-1].append(statement)

    @event.listens_for(engine, "commit")
    def _commit(_conn: Any) -> None:
        transactions.append([])

    try:
        assert "Welcome aboard" in await playground.say(user("bob"), "join")
    finally:
        event.remove(engine, "before_cursor_execute", _record)
        event.remove(engine, "commit", _commit)
    [join] = [t for t in transactions if any("activity_week" in s for s in t)]
    assert len(join) > 3, join  # the join did its work before
    assert join[-1].startswith("INSERT INTO activity_week"), join
    assert sum("activity_week" in s for s in join) == 1, join


async def test_20_joins_of_one_session_at_once_all_count(
    playground: Playground, runtime: Runtime
) -> None:
    """On PostgreSQL they run side by side, each upserting the session's row at its end."""
    await playground.command("anim1", "session start Crowd")

    async def join(i: int) -> None:
        body = {"conversation": "general", "text": "join", "user": user(f"learner{i}", "en")}
        response = await playground.client.post("/local/api/command", json=body)
        assert "Welcome aboard" in (await response.json())["replies"][0]["text"]

    await asyncio.gather(*(join(i) for i in range(20)))
    async with runtime.db_sessions.begin() as db:
        workspace_id, session_id = (
            await db.execute(select(TrainingSession.workspace_id, TrainingSession.id))
        ).one()
        kept = await _rows(db, workspace_id)
        arrivals = await _arrivals(db, workspace_id)
        await activity.rebuild(db, workspace_id)
    async with runtime.db_sessions() as db:
        assert await _rows(db, workspace_id) == kept
    assert sum(n for (_, s), n in arrivals.items() if s == session_id) == 20


async def test_concurrent_transactions_joining_one_session_all_count(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessions.begin() as db:
        workspace_id, session_id, learners = await _community(db, 20)

    async def join(member_id: int) -> None:
        async with db_sessions.begin() as db:
            assert await members.mark_joined(db, member_id, session_id, START)
            await asyncio.sleep(0.01)  # others join meanwhile (PostgreSQL)

    await asyncio.gather(*(join(m) for m in learners))
    async with db_sessions.begin() as db:
        assert await _arrivals(db, workspace_id) == {(WEEK, session_id): 20}


async def test_a_rollback_writes_nothing(db_sessions: async_sessionmaker[AsyncSession]) -> None:
    async with db_sessions.begin() as db:
        workspace_id, session_id, [ann, bob] = await _community(db, 2)
    async with db_sessions() as db:
        async with db.begin():
            await members.mark_joined(db, ann, session_id, START)
            assert activity_pending.pending(db)
            await db.rollback()
        assert not activity_pending.pending(db)
        # The same session's next transaction writes its own deltas only.
        async with db.begin():
            await members.mark_joined(db, bob, session_id, START)
    async with db_sessions() as db:
        assert await _arrivals(db, workspace_id) == {(WEEK, session_id): 1}


async def test_an_error_in_the_transaction_writes_nothing(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessions.begin() as db:
        workspace_id, session_id, [ann] = await _community(db, 1)
    with pytest.raises(RuntimeError):
        async with db_sessions.begin() as db:
            await members.mark_joined(db, ann, session_id, START)
            raise RuntimeError("a handler failed")
    async with db_sessions() as db:
        assert await _arrivals(db, workspace_id) == {}


async def test_a_read_in_the_transaction_sees_its_pending_deltas(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessions.begin() as db:
        workspace_id, session_id, [ann, bob, cid] = await _community(db, 3)
    async with db_sessions.begin() as db:
        await members.mark_joined(db, ann, session_id, START)
        assert await _arrivals(db, workspace_id) == {(WEEK, session_id): 1}  # ORM
        await members.mark_joined(db, bob, session_id, START)
        table = table_of(WeeklyActivity)
        total = select(func.sum(table.c.arrivals)).where(table.c.workspace_id == workspace_id)
        assert await db.scalar(total) == 2  # Core
        await members.mark_joined(db, cid, session_id, START)
        # A subquery in a statement on another table.
        counted = select(func.count()).where(Member.id.in_(select(table.c.session_id)))
        assert activity_pending.pending(db)
        await db.scalar(counted)
        assert not activity_pending.pending(db)
        await activity_pending.write_pending(db)  # nothing left: no second write
    async with db_sessions() as db:
        assert await _arrivals(db, workspace_id) == {(WEEK, session_id): 3}


async def test_statements_that_do_not_read_the_rollup_leave_it_pending(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessions.begin() as db:
        _, session_id, [ann] = await _community(db, 1)
    async with db_sessions.begin() as db:
        await members.mark_joined(db, ann, session_id, START)
        await db.scalar(select(func.count()).select_from(Member))
        await members.record_event(db, ann, "joined", START, session_id=session_id)
        assert activity_pending.pending(db)


async def test_savepoints(db_sessions: async_sessionmaker[AsyncSession]) -> None:
    async with db_sessions.begin() as db:
        workspace_id, session_id, [ann, bob, cid] = await _community(db, 3)
    async with db_sessions.begin() as db:
        await members.mark_joined(db, ann, session_id, START)  # pending
        savepoint = await db.begin_nested()
        await members.mark_joined(db, bob, session_id, START)  # written in the savepoint
        # A read there writes ann's pending delta, inside the savepoint.
        assert await _arrivals(db, workspace_id) == {(WEEK, session_id): 2}
        assert not activity_pending.pending(db)
        await savepoint.rollback()  # bob's join goes; ann's delta is pending again
        assert activity_pending.pending(db)
        async with db.begin_nested():  # released: cid's join stays
            await members.mark_joined(db, cid, session_id, START + timedelta(days=7))
    async with db_sessions() as db:
        assert await _arrivals(db, workspace_id) == {
            (WEEK, session_id): 1,  # ann
            (WEEK + timedelta(days=7), session_id): 1,  # cid
        }


async def test_a_savepoint_rolled_back_gives_back_what_its_released_children_wrote(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessions.begin() as db:
        workspace_id, session_id, [ann, bob] = await _community(db, 2)
    async with db_sessions.begin() as db:
        await members.mark_joined(db, ann, session_id, START)  # pending
        outer = await db.begin_nested()
        inner = await db.begin_nested()
        await db.scalar(select(func.count()).select_from(WeeklyActivity))  # ann's, in `inner`
        await inner.commit()
        await members.mark_joined(db, bob, session_id, START)  # written in `outer`
        await outer.rollback()  # bob's join goes; ann's delta is pending again
    async with db_sessions() as db:
        assert await _arrivals(db, workspace_id) == {(WEEK, session_id): 1}  # ann only


async def test_a_rebuild_in_the_transaction_counts_each_change_once(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessions.begin() as db:
        workspace_id, session_id, [ann] = await _community(db, 1)
    async with db_sessions.begin() as db:
        await members.mark_joined(db, ann, session_id, START)
        await activity.rebuild(db, workspace_id)
        assert not activity_pending.pending(db)
    async with db_sessions() as db:
        assert await _arrivals(db, workspace_id) == {(WEEK, session_id): 1}


async def test_deleting_the_workspace_with_deltas_pending_commits(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessions.begin() as db:
        workspace_id, session_id, [ann] = await _community(db, 1)
    async with db_sessions.begin() as db:
        await members.mark_joined(db, ann, session_id, START)
        await db.execute(delete(Workspace).where(Workspace.id == workspace_id))
    async with db_sessions() as db:
        assert await db.scalar(select(func.count()).select_from(WeeklyActivity)) == 0
