"""Challenges, their occurrences, and the answers and shares learners contribute."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import activity, conversations
from storage.models import Challenge, ChallengeOccurrence, Contribution, Member
from storage.upsert import insert_for, skip_locked, table_of
from storage.vocabulary import (
    ChallengeStatus,
    ContributionKind,
    ContributionOutcome,
    OccurrenceStatus,
)


async def create(
    db: AsyncSession,
    *,
    workspace_id: int,
    created_by_id: int,
    text: str,
    conversation: str,
    locale: str,
    recurrence: dict[str, Any] | None,
    next_run_at: datetime | None,
    open_days: int,
    now: datetime,
    remind_hours: int | None = None,
) -> Challenge:
    """Store a new challenge (its schedule included)."""
    challenge = Challenge(
        workspace_id=workspace_id,
        created_by_id=created_by_id,
        text=text,
        conversation=conversation,
        locale=locale,
        recurrence=recurrence,
        status=ChallengeStatus.ACTIVE if next_run_at else ChallengeStatus.FINISHED,
        next_run_at=next_run_at,
        open_days=open_days,
        remind_hours=remind_hours,
        created_at=now,
    )
    db.add(challenge)
    await db.flush()
    return challenge


async def by_id(db: AsyncSession, workspace_id: int, challenge_id: int) -> Challenge | None:
    """The workspace's challenge `challenge_id`."""
    challenge = await db.get(Challenge, challenge_id)
    return challenge if challenge is not None and challenge.workspace_id == workspace_id else None


async def listed(db: AsyncSession, workspace_id: int, limit: int = 20) -> list[Challenge]:
    """Active challenges first (soonest first), then the latest others."""
    query = (
        select(Challenge)
        .where(Challenge.workspace_id == workspace_id)
        .order_by(
            Challenge.status != ChallengeStatus.ACTIVE, Challenge.next_run_at, Challenge.id.desc()
        )
        .limit(limit)
    )
    return list((await db.execute(query)).scalars())


async def claim_due(db: AsyncSession, now: datetime, limit: int) -> list[Challenge]:
    """Active challenges whose next run is due, locked so another replica skips them."""
    query = (
        select(Challenge)
        .where(Challenge.status == ChallengeStatus.ACTIVE, Challenge.next_run_at <= now)
        .order_by(Challenge.next_run_at)
        .limit(limit)
    )
    return list((await db.execute(skip_locked(db, query))).scalars())


async def add_occurrence(
    db: AsyncSession,
    challenge: Challenge,
    *,
    planned_at: datetime,
    status: OccurrenceStatus,
    now: datetime,
    closes_at: datetime | None,
    skip_reason: str | None = None,
) -> int | None:
    """Record an occurrence; None when this planned time was already handled (once per
    challenge and planned time)."""
    insert = insert_for(db, ChallengeOccurrence).values(
        challenge_id=challenge.id,
        workspace_id=challenge.workspace_id,
        conversation=challenge.conversation,
        planned_at=planned_at,
        status=status,
        posted_at=now if status == OccurrenceStatus.POSTED else None,
        closes_at=closes_at,
        skip_reason=skip_reason,
        remind_at=_remind_at(challenge, closes_at, now)
        if status == OccurrenceStatus.POSTED
        else None,
    )
    statement = insert.on_conflict_do_nothing(
        index_elements=["challenge_id", "planned_at"]
    ).returning(table_of(ChallengeOccurrence).c.id)
    value = (await db.execute(statement)).scalar_one_or_none()
    return int(value) if value is not None else None


async def close_open_occurrences(
    db: AsyncSession, challenge_id: int, now: datetime, except_id: int
) -> None:
    """An occurrence is open until the next one is posted."""
    occurrence = table_of(ChallengeOccurrence)
    await db.execute(
        update(occurrence)
        .where(
            occurrence.c.challenge_id == challenge_id,
            occurrence.c.id != except_id,
            occurrence.c.status == OccurrenceStatus.POSTED,
            (occurrence.c.closes_at.is_(None)) | (occurrence.c.closes_at > now),
        )
        .values(closes_at=now)
    )


async def occurrence(db: AsyncSession, occurrence_id: int) -> ChallengeOccurrence | None:
    """The occurrence `occurrence_id`."""
    return await db.get(ChallengeOccurrence, occurrence_id)


async def latest_open_occurrence(
    db: AsyncSession,
    workspace_id: int,
    now: datetime,
    *,
    conversation: str | None = None,
    challenge_id: int | None = None,
) -> ChallengeOccurrence | None:
    """The most recently posted occurrence still open (in a conversation or one of its
    threads, or of a challenge)."""
    query = select(ChallengeOccurrence).where(
        ChallengeOccurrence.workspace_id == workspace_id,
        ChallengeOccurrence.status == OccurrenceStatus.POSTED,
        (ChallengeOccurrence.closes_at.is_(None)) | (ChallengeOccurrence.closes_at > now),
    )
    if conversation is not None:
        query = query.where(conversations.here(ChallengeOccurrence.conversation, conversation))
    if challenge_id is not None:
        query = query.where(ChallengeOccurrence.challenge_id == challenge_id)
    query = query.order_by(ChallengeOccurrence.posted_at.desc()).limit(1)
    return (await db.execute(query)).scalar_one_or_none()


async def open_occurrences(
    db: AsyncSession, challenge_ids: list[int], now: datetime
) -> dict[int, ChallengeOccurrence]:
    """The latest posted occurrence of each challenge that still takes answers at `now`."""
    if not challenge_ids:
        return {}
    query = (
        select(ChallengeOccurrence)
        .where(
            ChallengeOccurrence.challenge_id.in_(challenge_ids),
            ChallengeOccurrence.status == OccurrenceStatus.POSTED,
            (ChallengeOccurrence.closes_at.is_(None)) | (ChallengeOccurrence.closes_at > now),
        )
        .order_by(ChallengeOccurrence.posted_at, ChallengeOccurrence.id)
    )
    return {o.challenge_id: o for o in (await db.execute(query)).scalars()}


async def skipped(db: AsyncSession, challenge_ids: list[int]) -> dict[int, ChallengeOccurrence]:
    """The latest skipped occurrence of each challenge, with its reason."""
    if not challenge_ids:
        return {}
    query = (
        select(ChallengeOccurrence)
        .where(
            ChallengeOccurrence.challenge_id.in_(challenge_ids),
            ChallengeOccurrence.status == OccurrenceStatus.SKIPPED,
        )
        .order_by(ChallengeOccurrence.planned_at)
    )
    return {o.challenge_id: o for o in (await db.execute(query)).scalars()}


async def save_answer(
    db: AsyncSession,
    *,
    workspace_id: int,
    member_id: int,
    occurrence_id: int,
    outcome: ContributionOutcome,
    text: str,
    link: str | None,
    now: datetime,
) -> tuple[int, bool]:
    """Store or replace a learner's answer to an occurrence; (id, True when it is new).
    The dashboard's rollup (storage/activity.py) follows in the same transaction."""
    contribution = table_of(Contribution)
    # What it was, for the rollup. On PostgreSQL the member's row is locked first, so that
    # two submissions of the same answer at once (a double click) take turns: the second
    # reads what the first saved, and counts as its edit, not as a second answer.
    if db.bind is not None and db.bind.dialect.name == "postgresql":
        member = table_of(Member)
        await db.execute(select(member.c.id).where(member.c.id == member_id).with_for_update())
    former = select(contribution.c.outcome, contribution.c.hidden_at.is_not(None)).where(
        contribution.c.occurrence_id == occurrence_id, contribution.c.member_id == member_id
    )
    before = (await db.execute(former)).one_or_none()
    insert = insert_for(db, Contribution).values(
        workspace_id=workspace_id,
        member_id=member_id,
        kind=ContributionKind.ANSWER,
        outcome=outcome,
        occurrence_id=occurrence_id,
        text=text,
        link=link,
        created_at=now,
        updated_at=now,
    )
    statement = insert.on_conflict_do_update(
        index_elements=["occurrence_id", "member_id"],
        set_={"outcome": outcome, "text": text, "link": link, "updated_at": now},
    ).returning(contribution.c.id, contribution.c.created_at)
    row = (await db.execute(statement)).one()
    await activity.answer_saved(
        db,
        workspace_id=workspace_id,
        member_id=member_id,
        occurrence_id=occurrence_id,
        created_at=row.created_at,
        outcome=outcome,
        before=None if before is None else (before[0], bool(before[1])),
    )
    return int(row.id), row.created_at == now


def _remind_at(challenge: Challenge, closes_at: datetime | None, now: datetime) -> datetime | None:
    if challenge.remind_hours is None or closes_at is None:
        return None
    when = closes_at - timedelta(hours=challenge.remind_hours)
    return when if when > now else None


async def claim_due_reminders(
    db: AsyncSession, now: datetime, limit: int
) -> list[ChallengeOccurrence]:
    """Posted occurrences whose reminder is due and not yet sent, locked for this replica."""
    query = (
        select(ChallengeOccurrence)
        .where(
            ChallengeOccurrence.remind_at <= now,
            ChallengeOccurrence.reminded_at.is_(None),
            ChallengeOccurrence.status == OccurrenceStatus.POSTED,
        )
        .order_by(ChallengeOccurrence.remind_at)
        .limit(limit)
    )
    return list((await db.execute(skip_locked(db, query))).scalars())


async def non_respondents(db: AsyncSession, occurrence: ChallengeOccurrence) -> list[Member]:
    """Community members of the workspace who have not answered `occurrence`."""
    answered = select(Contribution.member_id).where(Contribution.occurrence_id == occurrence.id)
    query = (
        select(Member)
        .where(
            Member.workspace_id == occurrence.workspace_id,
            Member.joined_at.is_not(None),
            Member.id.not_in(answered),
        )
        .order_by(Member.id)
    )
    return list((await db.execute(query)).scalars())


async def next_due(db: AsyncSession) -> datetime | None:
    """The earliest moment a challenge run or a reminder is due."""
    runs = select(func.min(Challenge.next_run_at)).where(Challenge.status == ChallengeStatus.ACTIVE)
    reminders = select(func.min(ChallengeOccurrence.remind_at)).where(
        ChallengeOccurrence.reminded_at.is_(None),
        ChallengeOccurrence.status == OccurrenceStatus.POSTED,
    )
    found = [(await db.execute(q)).scalar_one_or_none() for q in (runs, reminders)]
    moments = [m for m in found if m is not None]
    return min(moments) if moments else None
