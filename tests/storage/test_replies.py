"""Replies to questions in storage (issue 19), on both databases: a reply counts in the
rollup's `replies` (not `shares`), as `rebuild` recomputes it, and in the ladder's `replies`
(capped per day by the cap of `shares`); the "helped" mark is on one reply of a question
at most and moves; an erasure of the asker takes the replies out of the rollup."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import activity, badges, contributions, erasure
from storage.models import Contribution, Member, Workspace
from storage.vocabulary import ContributionKind, ReactionKind
from tests.storage.test_activity import START, _community, _rows, db_sessions

__all__ = ["db_sessions"]  # the fixture, shared with test_activity.py

KINDS = ("shares", "questions", "replies", "likes_received")


async def test_a_reply_counts_in_replies_not_shares_and_rebuild_agrees(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessions.begin() as db:
        workspace, people, sessions, _ = await _community(db)
        w, anim, ann, ben = workspace.id, people[0], people[1], people[2]
        question = await contributions.save_share(
            db,
            workspace_id=w,
            member_id=ann.id,
            text="How?",
            now=START,
            kind=ContributionKind.QUESTION,
        )
        replies = [
            await contributions.save_reply(
                db, workspace_id=w, member_id=ben.id, question_id=question.id, text=t, now=START
            )
            for t in ("Like this", "Or that", "Or else")
        ]
        await contributions.react(db, replies[0].id, ann.id, ReactionKind.LIKE, START)
    monday = date(2026, 8, 31)
    async with db_sessions.begin() as db:
        counted = await _rows(db, w, KINDS)
        assert counted[(monday, sessions[0])] == (1, 1, 0, 0)  # Ann: her question
        assert counted[(monday, sessions[1])] == (0, 0, 3, 1)  # Ben: 3 replies, 1 like
        await contributions.hide(db, replies[2].id, anim.id, "", START)
    async with db_sessions.begin() as db:
        kept = await _rows(db, w, KINDS)
        assert kept[(monday, sessions[1])] == (0, 0, 2, 1)
        await activity.rebuild(db, w)
    async with db_sessions.begin() as db:
        assert await _rows(db, w, KINDS) == kept
        # The ladder: `replies`, capped per day by the cap of `shares` (none of its own).
        counts = await badges.counts_of(db, ben.id, {"shares": 1}, {})
        assert counts is not None and counts["replies"] == 1 and counts["shares"] == 0
        counts = await badges.counts_of(db, ben.id, {}, {})
        assert counts is not None and counts["replies"] == 2


async def test_the_helped_mark_is_on_one_reply_and_moves(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessions.begin() as db:
        workspace, people, _, _ = await _community(db)
        w, ann, ben, cat = workspace.id, people[1], people[2], people[3]
        question = await contributions.save_share(
            db,
            workspace_id=w,
            member_id=ann.id,
            text="How?",
            now=START,
            kind=ContributionKind.QUESTION,
        )
        first, second = [
            await contributions.save_reply(
                db, workspace_id=w, member_id=who.id, question_id=question.id, text="x", now=START
            )
            for who in (ben, cat)
        ]
        later = START + timedelta(hours=1)
        assert await contributions.mark_helped(db, question.id, first.id, START) == [first.id]
        assert await contributions.mark_helped(db, question.id, first.id, later) == []
        assert await contributions.mark_helped(db, question.id, second.id, later) == [
            second.id,
            first.id,
        ]
        assert await contributions.helped_count(db, ben.id) == 0
        assert await contributions.helped_count(db, cat.id) == 1
        marked = await db.scalars(
            select(Contribution.id).where(Contribution.helped_at.is_not(None))
        )
        assert list(marked) == [second.id]


async def test_erasing_the_asker_takes_the_replies_out_of_the_rollup(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessions.begin() as db:
        workspace, people, _, _ = await _community(db)
        w, ann, ben, cat = workspace.id, people[1], people[2], people[3]
        question = await contributions.save_share(
            db,
            workspace_id=w,
            member_id=ann.id,
            text="How?",
            now=START,
            kind=ContributionKind.QUESTION,
        )
        reply = await contributions.save_reply(
            db, workspace_id=w, member_id=ben.id, question_id=question.id, text="x", now=START
        )
        await contributions.react(db, reply.id, cat.id, ReactionKind.LIKE, START)
        await contributions.react(db, reply.id, ann.id, ReactionKind.LIKE, START)
    async with db_sessions.begin() as db:
        asker = await db.get_one(Member, ann.id)
        await erasure.erase(db, await db.get_one(Workspace, w), asker, START)
    async with db_sessions.begin() as db:
        kept = await _rows(db, w, activity.ALL_COUNTERS)
        assert (await db.scalars(select(Contribution.id))).all() == []
        first = await db.scalar(select(Member.first_contributed_at).where(Member.id == ben.id))
        assert first is None
        await activity.rebuild(db, w)
    async with db_sessions.begin() as db:
        assert await _rows(db, w, activity.ALL_COUNTERS) == kept
