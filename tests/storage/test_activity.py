"""The activity rollup kept by the writers equals the one `rebuild` recomputes from the base
tables, after a random series of answers, edits, shares, likes, hides, re-joins and
erasures; and a few exact counts by hand."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import activity, challenges, contributions, erasure, members
from storage.db import create_engine, session_factory
from storage.models import (
    Challenge,
    ChallengeOccurrence,
    Contribution,
    Member,
    OccurrenceActivity,
    TrainingSession,
    WeeklyActivity,
    Workspace,
)
from storage.vocabulary import FREE_KINDS, ContributionKind, ReactionKind
from tests.support import databases

# The counters the tests by hand read, in their tuples' order.
REACTION_COUNTERS = (
    "answers",
    "successes",
    "not_yets",
    "shares",
    "likes_given",
    "likes_received",
    "dislikes_received",
)

START = datetime(2026, 9, 3, 8, 0, tzinfo=UTC)  # a Thursday


@pytest.fixture
async def db_sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


async def _rows(
    db: AsyncSession, workspace_id: int, counters: tuple[str, ...] = activity.ALL_COUNTERS
) -> dict[tuple[date, int], tuple[int, ...]]:
    table = WeeklyActivity
    query = select(
        table.week,
        table.session_id,
        *(getattr(table, name) for name in counters),
    ).where(table.workspace_id == workspace_id)
    found = {}
    for week, session_id, *counts in (await db.execute(query)).all():
        if any(counts):  # a row taken back to zero is the same as no row
            found[(week, session_id)] = tuple(counts)
    return found


async def _answers(db: AsyncSession, workspace_id: int) -> dict[tuple[int, int], tuple[int, ...]]:
    table = OccurrenceActivity
    query = select(
        table.occurrence_id, table.session_id, table.answers, table.successes, table.not_yets
    ).where(table.workspace_id == workspace_id)
    found = {}
    for occurrence_id, session_id, *counts in (await db.execute(query)).all():
        if any(counts):
            found[(occurrence_id, session_id)] = tuple(counts)
    return found


async def _firsts(db: AsyncSession, workspace_id: int) -> dict[int, datetime | None]:
    query = select(Member.id, Member.first_contributed_at).where(
        Member.workspace_id == workspace_id
    )
    return {m: at for m, at in (await db.execute(query)).all()}


async def _community(db: AsyncSession) -> tuple[Workspace, list[Member], list[int], list[int]]:
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
    sessions = []
    for code in ("AAA1", "BBB2", "CCC3"):
        training = TrainingSession(
            workspace_id=workspace.id,
            name=f"Training {code}",
            code=code,
            conversation="c1",
            opened_by_id=anim.id,
            opened_at=START,
        )
        db.add(training)
        await db.flush()
        sessions.append(training.id)
    people = [anim]
    for n in range(8):
        member = Member(
            workspace_id=workspace.id,
            user_id=f"u{n}",
            display_name=f"Learner {n}",
            role="learner",
            created_at=START,
        )
        db.add(member)
        await db.flush()
        if n < 6:  # two never join: their activity counts under session 0
            await members.mark_joined(db, member.id, sessions[n % 3], START)
        people.append(member)
    challenge = Challenge(
        workspace_id=workspace.id,
        created_by_id=anim.id,
        text="Try it",
        conversation="c1",
        locale="en",
        recurrence=None,
        status="finished",
        open_days=7,
        created_at=START,
    )
    db.add(challenge)
    await db.flush()
    occurrences = []
    for week in range(6):
        occurrence = ChallengeOccurrence(
            challenge_id=challenge.id,
            workspace_id=workspace.id,
            conversation="c1",
            planned_at=START + timedelta(weeks=week),
            status="posted",
            posted_at=START + timedelta(weeks=week),
        )
        db.add(occurrence)
        await db.flush()
        occurrences.append(occurrence.id)
    return workspace, people, sessions, occurrences


async def _random_series(db: AsyncSession, seed: int) -> int:
    rng = random.Random(seed)
    workspace, people, sessions, occurrences = await _community(db)
    w, anim = workspace.id, people[0].id
    now = START
    made: list[int] = []
    alive = [person.id for person in people]
    for _step in range(160):
        now += timedelta(hours=rng.randint(1, 30))
        op = rng.choices(
            ["answer", "share", "reply", "like", "unreact", "hide", "rejoin", "erase"],
            [40, 15, 12, 30, 8, 6, 5, 2],
        )[0]
        member_id = rng.choice(alive)
        if op == "answer":
            contribution_id, _ = await challenges.save_answer(
                db,
                workspace_id=w,
                member_id=member_id,
                occurrence_id=rng.choice(occurrences),
                outcome=rng.choice(["success", "not_yet"]),
                text="x",
                link=None,
                now=now,
            )
            made.append(contribution_id)
        elif op == "share":
            kind = rng.choice(FREE_KINDS)
            share = await contributions.save_share(
                db,
                workspace_id=w,
                member_id=member_id,
                text="tip",
                now=now,
                kind=kind,
                link="https://example.org/a" if kind == ContributionKind.WATCH else None,
            )
            made.append(share.id)
        elif op == "reply":
            # A reply to a question (an erasure of its asker deletes it with the question).
            questions = list(
                await db.scalars(
                    select(Contribution.id).where(
                        Contribution.workspace_id == w, Contribution.kind == "question"
                    )
                )
            )
            if questions:
                reply = await contributions.save_reply(
                    db,
                    workspace_id=w,
                    member_id=member_id,
                    question_id=rng.choice(questions),
                    text="try this",
                    now=now,
                )
                made.append(reply.id)
        elif op == "like" and made:
            target_id = rng.choice(made)
            author = await db.scalar(
                select(Contribution.member_id).where(Contribution.id == target_id)
            )
            if author != member_id:
                # A like or a dislike; given again, a reaction switches (or stays).
                kind = rng.choice([ReactionKind.LIKE, ReactionKind.LIKE, ReactionKind.DISLIKE])
                await contributions.react(db, target_id, member_id, kind, now)
        elif op == "unreact" and made:
            # Removed, or (an emoji of the other kind taken off) left as it is.
            either = rng.choice([None, ReactionKind.LIKE, ReactionKind.DISLIKE])
            await contributions.unreact(db, rng.choice(made), member_id, either)
        elif op == "hide" and made:
            await contributions.hide(db, rng.choice(made), anim, "spam", now)
        elif op == "rejoin" and member_id != anim:
            # `leave` (as its handler does), then maybe a join through another session (or
            # through none), maybe later.
            gone = await db.scalar(select(Member.left_at).where(Member.id == member_id))
            if gone is None:  # `leave` says "already left" otherwise
                await activity.left(db, member_id, now)
                await db.execute(
                    update(Member).where(Member.id == member_id).values(joined_at=None, left_at=now)
                )
            if rng.random() < 0.7:
                later = now + timedelta(days=rng.choice([0, 3, 10]))
                through = rng.choice([*sessions, None])
                if rng.random() < 0.5:
                    await members.mark_joined(db, member_id, through, later)
                else:  # as `join` does: from the asker's row as the transaction holds it
                    asker = await db.get_one(Member, member_id, populate_existing=True)
                    await members.mark_asker_joined(db, asker, through, later)
        elif op == "erase" and member_id != anim and len(alive) > 4:
            db.expire_all()
            workspace = await db.get_one(Workspace, w)
            member = await db.get_one(Member, member_id)
            await erasure.erase(db, workspace, member, now)
            alive.remove(member_id)
            left = await db.scalars(select(Contribution.id).where(Contribution.workspace_id == w))
            made = list(left)
    return w


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_incremental_equals_rebuild(
    db_sessions: async_sessionmaker[AsyncSession], seed: int
) -> None:
    async with db_sessions.begin() as db:
        workspace_id = await _random_series(db, seed)
    async with db_sessions.begin() as db:
        kept = await _rows(db, workspace_id)
        answers = await _answers(db, workspace_id)
        firsts = await _firsts(db, workspace_id)
        await activity.rebuild(db, workspace_id)
    async with db_sessions.begin() as db:
        assert kept and answers  # the series did something
        assert await _rows(db, workspace_id) == kept
        assert await _answers(db, workspace_id) == answers
        assert await _firsts(db, workspace_id) == firsts


async def test_counts_by_hand(db_sessions: async_sessionmaker[AsyncSession]) -> None:
    async with db_sessions.begin() as db:
        workspace, people, sessions_, occurrences = await _community(db)
        anim, ann, bob = people[0], people[1], people[2]  # ann: AAA1, bob: BBB2
        w = workspace.id
        monday = date(2026, 8, 31)
        answer, _ = await challenges.save_answer(
            db,
            workspace_id=w,
            member_id=ann.id,
            occurrence_id=occurrences[0],
            outcome="not_yet",
            text="x",
            link=None,
            now=START,
        )
        # Edited a week later: success now, still counted in its first week.
        await challenges.save_answer(
            db,
            workspace_id=w,
            member_id=ann.id,
            occurrence_id=occurrences[0],
            outcome="success",
            text="y",
            link=None,
            now=START + timedelta(days=7),
        )
        share = await contributions.save_share(
            db, workspace_id=w, member_id=bob.id, text="tip", now=START + timedelta(days=1)
        )
        await contributions.like(db, answer, bob.id, START + timedelta(days=8))
        await contributions.like(db, share.id, ann.id, START + timedelta(days=2))
        await contributions.like(db, share.id, anim.id, START + timedelta(days=2))
    async with db_sessions.begin() as db:
        rows = await _rows(db, w, REACTION_COUNTERS)
        a, b = sessions_[0], sessions_[1]
        # answers, successes, not_yets, shares, likes_given, likes_received, dislikes_received
        assert rows == {
            (monday, a): (1, 1, 0, 0, 1, 0, 0),
            (monday, b): (0, 0, 0, 1, 0, 2, 0),
            (monday, 0): (0, 0, 0, 0, 1, 0, 0),  # the animator joined through no session
            (monday + timedelta(days=7), b): (0, 0, 0, 0, 1, 0, 0),
            (monday + timedelta(days=7), a): (0, 0, 0, 0, 0, 1, 0),
        }
        firsts = await _firsts(db, w)
        assert firsts[ann.id] == START and firsts[bob.id] == START + timedelta(days=1)
        assert firsts[anim.id] is None
        await contributions.hide(db, share.id, anim.id, "off topic", START + timedelta(days=9))
    async with db_sessions.begin() as db:
        rows = await _rows(db, w, REACTION_COUNTERS)
        assert rows == {
            (monday, a): (1, 1, 0, 0, 0, 0, 0),
            (monday + timedelta(days=7), b): (0, 0, 0, 0, 1, 0, 0),
            (monday + timedelta(days=7), a): (0, 0, 0, 0, 0, 1, 0),
        }
        assert (await _firsts(db, w))[bob.id] is None


async def test_each_kind_counts_in_shares_and_in_its_own_counter(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessions.begin() as db:
        workspace, people, sessions_, _ = await _community(db)
        anim, ann = people[0], people[1]
        w = workspace.id
        made = {}
        for kind in FREE_KINDS:
            made[kind] = await contributions.save_share(
                db,
                workspace_id=w,
                member_id=ann.id,
                text=f"a {kind}",
                now=START,
                kind=kind,
                link="https://example.org/read" if kind == ContributionKind.WATCH else None,
            )
        await contributions.save_share(
            db,
            workspace_id=w,
            member_id=ann.id,
            text="another question",
            now=START,
            kind=ContributionKind.QUESTION,
        )
    kinds = ("shares", "questions", "experiences", "watches")
    monday, a = date(2026, 8, 31), sessions_[0]
    async with db_sessions.begin() as db:
        assert await _rows(db, w, kinds) == {(monday, a): (5, 2, 1, 1)}
        await contributions.hide(db, made[ContributionKind.WATCH].id, anim.id, "", START)
    async with db_sessions.begin() as db:
        kept = await _rows(db, w, kinds)
        assert kept == {(monday, a): (4, 2, 1, 0)}
        await activity.rebuild(db, w)
    async with db_sessions.begin() as db:
        assert await _rows(db, w, kinds) == kept


async def test_dislikes_count_as_received_only_and_switches_move_between_counters(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessions.begin() as db:
        workspace, people, sessions_, _occurrences = await _community(db)
        anim, ann, bob = people[0], people[1], people[2]  # ann: AAA1, bob: BBB2
        w, a, b = workspace.id, sessions_[0], sessions_[1]
        monday, later = date(2026, 8, 31), date(2026, 9, 7)
        share = await contributions.save_share(
            db, workspace_id=w, member_id=bob.id, text="tip", now=START
        )
        like, dislike = ReactionKind.LIKE, ReactionKind.DISLIKE
        assert await contributions.react(db, share.id, ann.id, like, START) is None
        assert await contributions.react(db, share.id, anim.id, dislike, START) is None
        assert await contributions.react(db, share.id, anim.id, dislike, START) == dislike
    async with db_sessions.begin() as db:
        assert await _rows(db, w, REACTION_COUNTERS) == {
            (monday, b): (0, 0, 0, 1, 0, 1, 1),
            (monday, a): (0, 0, 0, 0, 1, 0, 0),  # a dislike is given by nobody's count
        }
        assert await contributions.reaction_counts(db, share.id) == (
            contributions.ReactionCounts(likes=1, dislikes=1)
        )
        # A week later Ann finds it not useful after all, the animator likes it now.
        week = START + timedelta(days=7)
        assert await contributions.react(db, share.id, ann.id, dislike, week) == like
        assert await contributions.react(db, share.id, anim.id, like, week) == dislike
    async with db_sessions.begin() as db:
        assert await _rows(db, w, REACTION_COUNTERS) == {
            (monday, b): (0, 0, 0, 1, 0, 0, 0),
            (later, b): (0, 0, 0, 0, 0, 1, 1),
            (later, 0): (0, 0, 0, 0, 1, 0, 0),
        }
        # An emoji of the other kind taken off changes nothing; of its kind, removes it.
        assert await contributions.unreact(db, share.id, ann.id, like) is None
        assert await contributions.unreact(db, share.id, ann.id, dislike) == dislike
        assert await contributions.unreact(db, share.id, anim.id) == like
        assert await contributions.unreact(db, share.id, anim.id) is None
    async with db_sessions.begin() as db:
        assert await _rows(db, w, REACTION_COUNTERS) == {(monday, b): (0, 0, 0, 1, 0, 0, 0)}
        assert await contributions.reaction_counts(db, share.id) == contributions.ReactionCounts()


def test_monday() -> None:
    assert activity.monday(datetime(2026, 9, 6, 23, 59, tzinfo=UTC)) == date(2026, 8, 31)
    assert activity.monday(datetime(2026, 9, 7, 0, 0, tzinfo=UTC)) == date(2026, 9, 7)


async def test_week_of_in_sql(db_sessions: async_sessionmaker[AsyncSession]) -> None:
    moments = [START + timedelta(hours=13 * n) for n in range(40)]
    async with db_sessions.begin() as db:
        for moment in moments:
            found: Any = (await db.execute(select(activity.week_of(moment)))).scalar_one()
            day = found if isinstance(found, date) else date.fromisoformat(str(found))
            assert day == activity.monday(moment)


@pytest.fixture
async def postgres_sessions(postgres_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """PostgreSQL only: SQLite runs one writer at a time, so no two saves overlap there."""
    await databases.truncate_all(postgres_url)
    engine = create_engine(postgres_url)
    yield session_factory(engine)
    await engine.dispose()


@pytest.mark.postgres
async def test_the_same_answer_twice_at_once_counts_once(
    postgres_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A double click on PostgreSQL: two transactions save the same answer together."""
    db_sessions = postgres_sessions
    async with db_sessions.begin() as db:
        workspace, people, _, occurrences = await _community(db)
    w, ann = workspace.id, people[1].id

    async def save(outcome: str, pause: float) -> None:
        async with db_sessions.begin() as db:
            await db.execute(select(Member.id).where(Member.id == ann))
            await asyncio.sleep(pause)
            await challenges.save_answer(
                db,
                workspace_id=w,
                member_id=ann,
                occurrence_id=occurrences[0],
                outcome=outcome,
                text="x",
                link=None,
                now=START + timedelta(hours=1),
            )
            await asyncio.sleep(0.2)  # the other one waits for this commit

    await asyncio.gather(save("success", 0), save("not_yet", 0.05))
    async with db_sessions.begin() as db:
        kept = await _rows(db, w, REACTION_COUNTERS)
        await activity.rebuild(db, w)
    async with db_sessions.begin() as db:
        assert await _rows(db, w, REACTION_COUNTERS) == kept
        assert sum(counts[0] for counts in kept.values()) == 1


@pytest.mark.postgres
async def test_a_like_and_a_dislike_of_one_person_at_once_leave_one_reaction_counted_once(
    postgres_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Two clicks of the same person on PostgreSQL (👍 then 👎 before the first commits):
    one reaction stays, and the rollup counts exactly it."""
    db_sessions = postgres_sessions
    async with db_sessions.begin() as db:
        workspace, people, _, _ = await _community(db)
        share = await contributions.save_share(
            db, workspace_id=workspace.id, member_id=people[2].id, text="tip", now=START
        )
    w, ann = workspace.id, people[1].id

    async def click(kind: ReactionKind, pause: float) -> None:
        async with db_sessions.begin() as db:
            await asyncio.sleep(pause)
            await contributions.react(db, share.id, ann, kind, START + timedelta(hours=1))
            await asyncio.sleep(0.2)  # the other one waits for this commit

    await asyncio.gather(click(ReactionKind.LIKE, 0), click(ReactionKind.DISLIKE, 0.05))
    async with db_sessions.begin() as db:
        assert await contributions.reaction_of(db, share.id, ann) == ReactionKind.DISLIKE
        kept = await _rows(db, w, REACTION_COUNTERS)
        await activity.rebuild(db, w)
    async with db_sessions.begin() as db:
        assert await _rows(db, w, REACTION_COUNTERS) == kept
        assert sum(counts[5] for counts in kept.values()) == 0  # no like received
        assert sum(counts[6] for counts in kept.values()) == 1  # one dislike received
