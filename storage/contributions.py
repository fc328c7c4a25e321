"""Learner-generated content: shares (tips, questions, experience reports, watch links),
likes, hiding; and what counts for a member."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import activity
from storage.models import Contribution, ContributionLike, OutboxMessage
from storage.upsert import insert_for, table_of
from storage.vocabulary import FREE_KINDS, ContributionKind


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


async def like(db: AsyncSession, contribution_id: int, member_id: int, now: datetime) -> bool:
    """Record a like; False when this member already liked it."""
    insert = insert_for(db, ContributionLike).values(
        contribution_id=contribution_id, member_id=member_id, created_at=now
    )
    statement = insert.on_conflict_do_nothing(
        index_elements=["contribution_id", "member_id"]
    ).returning(table_of(ContributionLike).c.id)
    done = (await db.execute(statement)).scalar_one_or_none() is not None
    if done:
        await activity.liked(db, contribution_id, member_id, now)
    return done


async def like_count(db: AsyncSession, contribution_id: int) -> int:
    """How many members liked it."""
    query = select(func.count()).where(ContributionLike.contribution_id == contribution_id)
    return int((await db.execute(query)).scalar_one())


async def counts_by_outcome(db: AsyncSession, member_id: int) -> dict[str, int]:
    """A member's visible contributions: answers by outcome (success, not_yet), and free
    contributions by kind (share: the tips, question, experience, watch)."""
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
