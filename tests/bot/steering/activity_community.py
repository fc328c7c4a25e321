"""A small community made by hand through the storage functions the handlers call, whose
funnel, LGC density and challenge figures are computed by hand in the tests.

UTC weeks: W1 = Monday 2026-08-31, W2 = 09-07, W3 = 09-14.

Sessions (opened by the animator, who joins EXC1 too: a trainer, never counted):
  EXC1 "Excel"  opened Tue 09-01, 5 present: ann, bob, cat (cohort EXC1)
  PYT1 "Python" opened Tue 09-08, 4 present: fay, gus (cohort PYT1)
  EXC2 "Excel"  opened Tue 09-15, still open: dan, eve (cohort EXC2), and ann again
Eve leaves on 09-20 (W3).

Challenge #1, posted Wednesdays: O1 09-02, O2 09-09, O3 09-16.
  ann: O1 success (09-02); O2 not-yet (09-09), edited to success (09-10); a share (09-16)
  bob: O1 not-yet (09-03)
  fay: O2 success (09-09); a share (09-10), hidden by the animator (09-11)
  dan: O3 success (09-16)
Likes: bob → ann's O1 answer (09-03); fay → ann's share (09-17); ann → dan's O3 answer (09-17).
Levels: ann confirmed (junior + confirmed), bob junior, fay junior then revoked, dan senior
(granted directly).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import activity, badges, challenges, contributions, members, training_sessions
from storage.db import create_engine, session_factory
from storage.models import Challenge, Member, Workspace
from storage.vocabulary import ReactionKind


def at(day: int, hour: int = 10, month: int = 9) -> datetime:
    """An instant in September 2026 (UTC)."""
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


@dataclass
class Community:
    workspace_id: int
    ids: dict[str, int]  # people and sessions by name/code


async def build(db: AsyncSession) -> Community:
    """Make the community described above; its ids."""
    workspace = Workspace(platform="local", external_id="local", created_at=at(1, 8))
    db.add(workspace)
    await db.flush()
    w = workspace.id
    ids: dict[str, int] = {}

    async def person(name: str, when: datetime, role: str = "learner") -> int:
        member = Member(
            workspace_id=w, user_id=name, display_name=name.title(), role=role, created_at=when
        )
        db.add(member)
        await db.flush()
        ids[name] = member.id
        return member.id

    anim = await person("anim", at(1, 8), "animator")

    async def session(code: str, name: str, when: datetime, present: int | None) -> int:
        made = await training_sessions.create(db, w, name, code, "c-train", anim, when)
        assert made is not None
        ids[code] = made.id
        if present is not None:
            await training_sessions.close(db, made.id, anim, present, when.replace(hour=17))
        return made.id

    async def join(name: str, code: str, when: datetime) -> None:
        member_id = ids.get(name) or await person(name, when)
        await training_sessions.add_participant(db, ids[code], member_id, when)
        await members.mark_joined(db, member_id, ids[code], when)

    await session("EXC1", "Excel", at(1, 9), 5)
    await training_sessions.add_participant(db, ids["EXC1"], anim, at(1, 9))
    for name in ("ann", "bob", "cat"):
        await join(name, "EXC1", at(1))
    await session("PYT1", "Python", at(8, 9), 4)
    for name in ("fay", "gus"):
        await join(name, "PYT1", at(8))
    await session("EXC2", "Excel", at(15, 9), None)
    for name in ("dan", "eve"):
        await join(name, "EXC2", at(15))
    await join("ann", "EXC2", at(15))  # already a member: her cohort stays EXC1

    challenge = await challenges.create(
        db,
        workspace_id=w,
        created_by_id=anim,
        text="Build a pivot table from the sales sheet, then tell us what it showed you",
        conversation="c-community",
        locale="en",
        recurrence=None,
        next_run_at=None,
        open_days=7,
        now=at(1, 8),
    )
    occurrences = []
    for day in (2, 9, 16):
        occurrence = await challenges.add_occurrence(
            db,
            challenge,
            planned_at=at(day, 9),
            status="posted",
            now=at(day, 9),
            closes_at=at(day + 7, 9),
        )
        assert occurrence is not None
        occurrences.append(occurrence)
    await db.refresh(challenge)
    assert isinstance(challenge, Challenge)
    ids["challenge"] = challenge.id

    async def answer(name: str, index: int, outcome: str, when: datetime) -> int:
        contribution_id, _ = await challenges.save_answer(
            db,
            workspace_id=w,
            member_id=ids[name],
            occurrence_id=occurrences[index],
            outcome=outcome,
            text="done",
            link=None,
            now=when,
        )
        return contribution_id

    ann_o1 = await answer("ann", 0, "success", at(2))
    await answer("bob", 0, "not_yet", at(3))
    await answer("ann", 1, "not_yet", at(9))
    await answer("ann", 1, "success", at(10))  # an edit: still W2, now a success
    await answer("fay", 1, "success", at(9))
    fay_share = await contributions.save_share(
        db, workspace_id=w, member_id=ids["fay"], text="a tip", now=at(10)
    )
    await contributions.hide(db, fay_share.id, anim, "off topic", at(11))
    dan_o3 = await answer("dan", 2, "success", at(16))
    ann_share = await contributions.save_share(
        db, workspace_id=w, member_id=ids["ann"], text="a trick", now=at(16)
    )
    await contributions.like(db, ann_o1, ids["bob"], at(3))
    await contributions.like(db, ann_share.id, ids["fay"], at(17))
    await contributions.like(db, dan_o3, ids["ann"], at(17))
    # Gus finds ann's share not useful to him: received by her cohort, given by nobody's.
    await contributions.react(db, ann_share.id, ids["gus"], ReactionKind.DISLIKE, at(17))

    # Eve leaves (what the `leave` handler does).
    await activity.left(db, ids["eve"], at(20, 12))
    await db.execute(
        update(Member).where(Member.id == ids["eve"]).values(joined_at=None, left_at=at(20, 12))
    )

    async def award(name: str, level: str, rank: int) -> None:
        await badges.grant(
            db,
            workspace_id=w,
            member_id=ids[name],
            level=level,
            rank=rank,
            granted_by_id=anim,
            reason=None,
            now=at(18),
        )

    await award("ann", "junior", 1)
    await award("ann", "confirmed", 2)
    await award("bob", "junior", 1)
    await award("fay", "junior", 1)
    await award("dan", "senior", 3)
    await badges.revoke(db, ids["fay"], ["junior"], anim, "mistake", at(19))
    await badges.refresh_levels(db, {ids[n] for n in ("ann", "bob", "fay", "dan")})
    return Community(w, ids)


Made = tuple[async_sessionmaker[AsyncSession], Community]


@pytest.fixture
async def made(database_url: str) -> AsyncIterator[Made]:
    """The hand-made community on each backend, and a session maker on it."""
    engine = create_engine(database_url)
    db_sessions = session_factory(engine)
    async with db_sessions.begin() as db:
        community = await build(db)
    yield db_sessions, community
    await engine.dispose()
