"""Learner-generated content: shares (tips, questions, experience reports, watch links),
replies to questions and the one that helped, reactions (likes and dislikes), hiding; and
what counts for a member."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import activity
from storage.models import Contribution, ContributionLike, OutboxMessage
from storage.upsert import insert_for, table_of
from storage.vocabulary import FREE_KINDS, ContributionKind, ReactionKind


async def save_share(
    db: AsyncSession,
    *,
    workspace_id: int,
    member_id: int,
    text: str,
    now: datetime,
    kind: ContributionKind = ContributionKind.SHARE,
    link: str | None = None,
) -> Contribution:
    """Store a free contribution: a tip (SHARE), a question, an experience report, a watch
    link (its `link`)."""
    assert kind in FREE_KINDS, kind
    contribution = Contribution(
        workspace_id=workspace_id,
        member_id=member_id,
        kind=kind,
        text=text,
        link=link,
        created_at=now,
        updated_at=now,
    )
    db.add(contribution)
    await db.flush()
    await activity.share_saved(
        db, workspace_id=workspace_id, member_id=member_id, created_at=now, kind=kind
    )
    return contribution


async def save_reply(
    db: AsyncSession,
    *,
    workspace_id: int,
    member_id: int,
    question_id: int,
    text: str,
    now: datetime,
) -> Contribution:
    """Store a reply to the question `question_id` (counted in the rollup's `replies`)."""
    reply = Contribution(
        workspace_id=workspace_id,
        member_id=member_id,
        kind=ContributionKind.REPLY,
        parent_id=question_id,
        text=text,
        created_at=now,
        updated_at=now,
    )
    db.add(reply)
    await db.flush()
    await activity.share_saved(
        db,
        workspace_id=workspace_id,
        member_id=member_id,
        created_at=now,
        kind=ContributionKind.REPLY,
    )
    return reply


async def mark_helped(
    db: AsyncSession, question_id: int, reply_id: int, now: datetime
) -> list[int]:
    """Mark the reply as the one that helped the asker, taking the mark off any other reply
    of the question (one statement: at most one reply of a question has it). The replies
    whose mark changed (the one marked first, when it was not already; the one that had
    it); [] when it was already this one."""
    table = table_of(Contribution)
    thread = table.c.parent_id == question_id
    changed = (table.c.id == reply_id) & table.c.helped_at.is_(None)
    changed |= (table.c.id != reply_id) & table.c.helped_at.is_not(None)
    result = await db.execute(
        update(table)
        .where(thread, changed)
        .values(helped_at=case((table.c.id == reply_id, now), else_=None))
        .returning(table.c.id)
    )
    return sorted(result.scalars().all(), key=lambda found: found != reply_id)


async def helped_count(db: AsyncSession, member_id: int) -> int:
    """How many of the member's visible replies helped their asker (for `me`)."""
    query = select(func.count()).where(
        Contribution.member_id == member_id,
        Contribution.kind == ContributionKind.REPLY,
        Contribution.helped_at.is_not(None),
        Contribution.hidden_at.is_(None),
    )
    return int((await db.execute(query)).scalar_one())


async def by_id(db: AsyncSession, workspace_id: int, contribution_id: int) -> Contribution | None:
    """The workspace's contribution `contribution_id`."""
    found = await db.get(Contribution, contribution_id)
    return found if found is not None and found.workspace_id == workspace_id else None


async def set_post_key(db: AsyncSession, contribution_id: int, key: str) -> None:
    """Remember where the contribution was posted."""
    contribution = table_of(Contribution)
    await db.execute(
        update(contribution).where(contribution.c.id == contribution_id).values(post_key=key)
    )


async def hide(
    db: AsyncSession, contribution_id: int, by_id_: int, reason: str, now: datetime
) -> bool:
    """Hide it (it stops counting), keeping who and why; False when already hidden."""
    contribution = table_of(Contribution)
    result = await db.execute(
        update(contribution)
        .where(contribution.c.id == contribution_id, contribution.c.hidden_at.is_(None))
        .values(hidden_at=now, hidden_by_id=by_id_, hidden_reason=reason)
    )
    done = bool(getattr(result, "rowcount", 0))
    if done:
        await activity.hidden(db, contribution_id)
    return done


async def react(
    db: AsyncSession, contribution_id: int, member_id: int, kind: ReactionKind, now: datetime
) -> ReactionKind | None:
    """Record the member's reaction (one per member and contribution: a like or a dislike
    replaces the other); the reaction they had before, None for none (unchanged when it
    is `kind`). The rollup counts the change (storage/activity.py)."""
    table = table_of(ContributionLike)
    insert = insert_for(db, ContributionLike).values(
        contribution_id=contribution_id, member_id=member_id, kind=kind, created_at=now
    )
    statement = insert.on_conflict_do_nothing(
        index_elements=["contribution_id", "member_id"]
    ).returning(table.c.id)
    if (await db.execute(statement)).scalar_one_or_none() is not None:
        await activity.reacted(db, contribution_id, member_id, [(kind, now, 1)])
        return None
    mine = (table.c.contribution_id == contribution_id) & (table.c.member_id == member_id)
    # Locked (PostgreSQL): two clicks of the same person at once switch it once.
    held = (
        await db.execute(select(table.c.kind, table.c.created_at).where(mine).with_for_update())
    ).one_or_none()
    if held is None:  # removed by a concurrent transaction since the insert met it
        return await react(db, contribution_id, member_id, kind, now)
    before, given_at = ReactionKind(held.kind), held.created_at
    if before == kind:
        return before
    await db.execute(update(table).where(mine).values(kind=kind, created_at=now))
    await activity.reacted(
        db, contribution_id, member_id, [(before, _aware(given_at), -1), (kind, now, 1)]
    )
    return before


async def unreact(
    db: AsyncSession, contribution_id: int, member_id: int, kind: ReactionKind | None = None
) -> ReactionKind | None:
    """Remove the member's reaction (only when it is `kind`, if given); the reaction
    removed, None when there was none (or another kind)."""
    table = table_of(ContributionLike)
    condition = (table.c.contribution_id == contribution_id) & (table.c.member_id == member_id)
    if kind is not None:
        condition &= table.c.kind == kind
    removed = (
        await db.execute(delete(table).where(condition).returning(table.c.kind, table.c.created_at))
    ).one_or_none()
    if removed is None:
        return None
    gone = ReactionKind(removed.kind)
    await activity.reacted(db, contribution_id, member_id, [(gone, _aware(removed.created_at), -1)])
    return gone


def _aware(at: datetime) -> datetime:
    """An instant read through the table (Core: SQLite gives it back naive, in UTC)."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


async def like(db: AsyncSession, contribution_id: int, member_id: int, now: datetime) -> bool:
    """Record a like; False when this member already liked it."""
    return await react(db, contribution_id, member_id, ReactionKind.LIKE, now) != ReactionKind.LIKE


async def like_count(db: AsyncSession, contribution_id: int) -> int:
    """How many members liked it (the public post shows this count only)."""
    return (await reaction_counts(db, contribution_id)).likes


@dataclass(frozen=True)
class ReactionCounts:
    """How many members like something, and how many find it not useful to them."""

    likes: int = 0
    dislikes: int = 0


def _counted(rows: Any) -> ReactionCounts:
    found = {ReactionKind(kind): int(n) for kind, n in rows}
    return ReactionCounts(found.get(ReactionKind.LIKE, 0), found.get(ReactionKind.DISLIKE, 0))


async def reaction_counts(db: AsyncSession, contribution_id: int) -> ReactionCounts:
    """The contribution's likes and dislikes."""
    query = (
        select(ContributionLike.kind, func.count())
        .where(ContributionLike.contribution_id == contribution_id)
        .group_by(ContributionLike.kind)
    )
    return _counted((await db.execute(query)).all())


async def reactions_received(db: AsyncSession, member_id: int) -> ReactionCounts:
    """The likes and dislikes the member's visible contributions received (for `me`)."""
    query = (
        select(ContributionLike.kind, func.count())
        .join(Contribution, Contribution.id == ContributionLike.contribution_id)
        .where(Contribution.member_id == member_id, Contribution.hidden_at.is_(None))
        .group_by(ContributionLike.kind)
    )
    return _counted((await db.execute(query)).all())


async def reaction_of(
    db: AsyncSession, contribution_id: int, member_id: int
) -> ReactionKind | None:
    """The member's reaction to the contribution, if any."""
    query = select(ContributionLike.kind).where(
        ContributionLike.contribution_id == contribution_id,
        ContributionLike.member_id == member_id,
    )
    return (await db.execute(query)).scalar_one_or_none()


async def counts_by_outcome(db: AsyncSession, member_id: int) -> dict[str, int]:
    """A member's visible contributions: answers by outcome (success, not_yet), and free
    contributions by kind (share: the tips, question, experience, watch), and replies."""
    query = (
        select(Contribution.kind, Contribution.outcome, func.count())
        .where(Contribution.member_id == member_id, Contribution.hidden_at.is_(None))
        .group_by(Contribution.kind, Contribution.outcome)
    )
    counts: dict[str, int] = {}
    for kind, outcome, n in (await db.execute(query)).all():
        counts[outcome or kind] = counts.get(outcome or kind, 0) + int(n)
    return counts


async def by_posted_message(
    db: AsyncSession, workspace_id: int, platform: str, message_id: str
) -> Contribution | None:
    """The contribution whose post is the platform message `message_id` (a reaction's
    target), through the outbox row that posted it."""
    query = (
        select(Contribution)
        .join(OutboxMessage, OutboxMessage.idempotency_key == Contribution.post_key)
        .where(
            OutboxMessage.platform == platform,
            OutboxMessage.platform_message_id == message_id,
            Contribution.workspace_id == workspace_id,
        )
    )
    return (await db.execute(query)).scalars().first()
