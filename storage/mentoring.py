"""Mentor profiles, novices' wishes, rounds and pairs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Member,
    MenteeWish,
    MentoringAllowance,
    MentoringPair,
    MentoringRound,
    MentorProfile,
    SessionParticipation,
    TrainingSession,
)
from storage.upsert import insert_for
from storage.vocabulary import MentorStatus, WishStatus


async def profile_of(db: AsyncSession, member_id: int) -> MentorProfile | None:
    """The member's mentor profile, if they ever volunteered."""
    query = select(MentorProfile).where(MentorProfile.member_id == member_id)
    return (await db.execute(query)).scalar_one_or_none()


async def wish_of(db: AsyncSession, member_id: int) -> MenteeWish | None:
    """The member's wish to be mentored, if they ever answered."""
    query = select(MenteeWish).where(MenteeWish.member_id == member_id)
    return (await db.execute(query)).scalar_one_or_none()


async def active_pairs(
    db: AsyncSession, *, mentor_id: int | None = None, novice_id: int | None = None
) -> list[MentoringPair]:
    """Pairs not ended, of a mentor or of a novice."""
    query = select(MentoringPair).where(MentoringPair.ended_at.is_(None))
    if mentor_id is not None:
        query = query.where(MentoringPair.mentor_id == mentor_id)
    if novice_id is not None:
        query = query.where(MentoringPair.novice_id == novice_id)
    return list((await db.execute(query.order_by(MentoringPair.id))).scalars())


async def pair_by_id(db: AsyncSession, workspace_id: int, pair_id: int) -> MentoringPair | None:
    """The workspace's pair `pair_id`."""
    pair = await db.get(MentoringPair, pair_id)
    return pair if pair is not None and pair.workspace_id == workspace_id else None


async def waiting(db: AsyncSession, workspace_id: int) -> list[tuple[MenteeWish, Member]]:
    """Novices waiting for a mentor, oldest wish first."""
    query = (
        select(MenteeWish, Member)
        .join(Member, Member.id == MenteeWish.member_id)
        .where(MenteeWish.workspace_id == workspace_id, MenteeWish.status == WishStatus.WAITING)
        .order_by(MenteeWish.updated_at, MenteeWish.id)
    )
    return [(wish, member) for wish, member in (await db.execute(query)).all()]


async def available_mentors(
    db: AsyncSession, workspace_id: int, now: datetime
) -> list[tuple[MentorProfile, Member, int]]:
    """Active mentors not paused, with their current number of mentees."""
    load = (
        select(MentoringPair.mentor_id, func.count().label("n"))
        .where(MentoringPair.ended_at.is_(None))
        .group_by(MentoringPair.mentor_id)
        .subquery()
    )
    query = (
        select(MentorProfile, Member, func.coalesce(load.c.n, 0))
        .join(Member, Member.id == MentorProfile.member_id)
        .outerjoin(load, load.c.mentor_id == MentorProfile.member_id)
        .where(
            MentorProfile.workspace_id == workspace_id,
            MentorProfile.status == MentorStatus.ACTIVE,
            or_(MentorProfile.paused_until.is_(None), MentorProfile.paused_until <= now),
        )
        .order_by(MentorProfile.id)
    )
    return [(p, m, int(n)) for p, m, n in (await db.execute(query)).all()]


async def history(db: AsyncSession, workspace_id: int) -> set[tuple[int, int]]:
    """Every (novice, mentor) ever paired in the workspace and not allowed again by an
    animator (never again)."""
    query = select(MentoringPair.novice_id, MentoringPair.mentor_id).where(
        MentoringPair.workspace_id == workspace_id
    )
    made = {(int(n), int(m)) for n, m in (await db.execute(query)).all()}
    allowed = select(MentoringAllowance.novice_id, MentoringAllowance.mentor_id).where(
        MentoringAllowance.workspace_id == workspace_id
    )
    return made - {(int(n), int(m)) for n, m in (await db.execute(allowed)).all()}


async def allow(
    db: AsyncSession,
    workspace_id: int,
    mentor_id: int,
    novice_id: int,
    by_id: int,
    now: datetime,
) -> bool:
    """Let this pair be made again; False when it already was allowed."""
    statement = (
        insert_for(db, MentoringAllowance)
        .values(
            workspace_id=workspace_id,
            mentor_id=mentor_id,
            novice_id=novice_id,
            allowed_by_id=by_id,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["mentor_id", "novice_id"])
        .returning(MentoringAllowance.id)
    )
    return (await db.execute(statement)).scalar_one_or_none() is not None


async def sessions_of(db: AsyncSession, member_ids: list[int]) -> dict[int, list[tuple[int, str]]]:
    """The training sessions (id, name) each member took part in."""
    if not member_ids:
        return {}
    query = (
        select(SessionParticipation.member_id, TrainingSession.id, TrainingSession.name)
        .join(TrainingSession, TrainingSession.id == SessionParticipation.session_id)
        .where(SessionParticipation.member_id.in_(member_ids))
    )
    found: dict[int, list[tuple[int, str]]] = {}
    for member_id, session_id, name in (await db.execute(query)).all():
        found.setdefault(int(member_id), []).append((int(session_id), str(name)))
    return found


async def add_round(db: AsyncSession, **values: Any) -> MentoringRound:
    """Record a round."""
    made = MentoringRound(**values)
    db.add(made)
    await db.flush()
    return made


async def add_pair(db: AsyncSession, **values: Any) -> MentoringPair:
    """Record a pair."""
    made = MentoringPair(**values)
    db.add(made)
    await db.flush()
    return made


async def last_round_at(db: AsyncSession, workspace_id: int) -> datetime | None:
    """When the workspace's latest round ran."""
    query = select(func.max(MentoringRound.created_at)).where(
        MentoringRound.workspace_id == workspace_id
    )
    value: datetime | None = (await db.execute(query)).scalar_one_or_none()
    return value


async def workspaces_waiting(db: AsyncSession) -> list[tuple[int, datetime]]:
    """Workspaces where novices wait, with the time the schedule counts from: their latest
    round, else the oldest wish waiting."""
    latest = (
        select(MentoringRound.workspace_id, func.max(MentoringRound.created_at).label("at"))
        .group_by(MentoringRound.workspace_id)
        .subquery()
    )
    query = (
        select(
            MenteeWish.workspace_id,
            func.coalesce(func.max(latest.c.at), func.min(MenteeWish.updated_at)),
        )
        .outerjoin(latest, latest.c.workspace_id == MenteeWish.workspace_id)
        .where(MenteeWish.status == WishStatus.WAITING)
        .group_by(MenteeWish.workspace_id)
    )
    return [(int(w), at) for w, at in (await db.execute(query)).all()]


async def due_check_ins(db: AsyncSession, now: datetime, limit: int) -> list[MentoringPair]:
    """Pairs to ask "Have you met?" now."""
    query = (
        select(MentoringPair)
        .where(
            MentoringPair.check_in_at <= now,
            MentoringPair.checked_at.is_(None),
            MentoringPair.ended_at.is_(None),
        )
        .order_by(MentoringPair.check_in_at)
        .limit(limit)
    )
    return list((await db.execute(query)).scalars())


async def next_check_in(db: AsyncSession) -> datetime | None:
    """The earliest check-in still to send."""
    query = select(func.min(MentoringPair.check_in_at)).where(
        MentoringPair.checked_at.is_(None), MentoringPair.ended_at.is_(None)
    )
    value: datetime | None = (await db.execute(query)).scalar_one_or_none()
    return value


async def pairs_of_workspace(db: AsyncSession, workspace_id: int) -> list[MentoringPair]:
    """Every pair of the workspace."""
    query = select(MentoringPair).where(MentoringPair.workspace_id == workspace_id)
    return list((await db.execute(query)).scalars())


async def repeats_avoided(db: AsyncSession, workspace_id: int) -> int:
    """Pairs the rounds did not repeat although they would otherwise have been possible."""
    query = select(func.coalesce(func.sum(MentoringRound.repeats_avoided), 0)).where(
        MentoringRound.workspace_id == workspace_id
    )
    return int((await db.execute(query)).scalar_one())
