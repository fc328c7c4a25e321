"""The mentoring section, and `mentoring stats`'s figures (the chat reads them from here):
pairs made, active, checked in, met, repeats avoided, the novices waiting and why, the
volunteer mentors' loads.

In scope (choices written down): a pair belongs to its novice's sessions (mentoring is
for the newcomers of a training) and to the period by the day it was made; the waiting
novices and the mentors' loads are how things stand now (the period does not narrow
them), among members in scope; repeats avoided are counted by the rounds of the period —
a round pairs the whole workspace, so a training or a session does not narrow them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Subquery, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.steering.in_scope import in_period, member_in_scope, nothing_matches
from bot.steering.model import Mentoring, MentorLoad, Scope, WaitingNovice
from storage.models import Member, MenteeWish, MentoringPair, MentoringRound, MentorProfile
from storage.vocabulary import CheckInAnswer, MentorStatus, WishStatus


async def mentoring(
    db: AsyncSession, workspace_id: int, scope: Scope, now: datetime, *, limit: int | None = None
) -> Mentoring:
    """The figures of `mentoring stats` for the scope; mentors paused at `now` are not
    counted as available (as a round would not count them). With `limit` (the page), only
    the `limit` novices waiting longest and the `limit` busiest mentors are listed, with
    how many there are in all and the mentors' loads and capacities added up."""
    if nothing_matches(scope):
        return Mentoring(0, 0, 0, 0, 0, (), ())
    pairs, active, checked, met = await _pairs(db, workspace_id, scope)
    found = Mentoring(
        pairs=pairs,
        active=active,
        checked=checked,
        met=met,
        repeats_avoided=await _repeats_avoided(db, workspace_id, scope),
        waiting=await _waiting(db, workspace_id, scope, limit),
        loads=await _loads(db, workspace_id, scope, now, limit),
    )
    if limit is None:
        return found
    waiting_count = (
        await db.execute(select(func.count()).select_from(_waiting_query(workspace_id, scope)))
    ).scalar_one()
    mentors, capacity_sum = (
        await db.execute(
            select(func.count(), func.coalesce(func.sum(MentorProfile.capacity), 0)).where(
                *_available(workspace_id, scope, now)
            )
        )
    ).one()
    load = _current_load(workspace_id)
    load_sum = (
        await db.execute(
            select(func.coalesce(func.sum(load.c.n), 0))
            .select_from(load)
            .join(MentorProfile, MentorProfile.member_id == load.c.mentor_id)
            .where(*_available(workspace_id, scope, now))
        )
    ).scalar_one()
    return replace(
        found,
        waiting_count=int(waiting_count),
        mentors_count=int(mentors),
        load_sum=int(load_sum),
        capacity_sum=int(capacity_sum),
    )


async def _pairs(db: AsyncSession, workspace_id: int, scope: Scope) -> tuple[int, int, int, int]:
    met = or_(
        MentoringPair.mentor_answer == CheckInAnswer.MET,
        MentoringPair.novice_answer == CheckInAnswer.MET,
    )
    query = select(
        func.count(),
        func.coalesce(func.sum(case((MentoringPair.ended_at.is_(None), 1), else_=0)), 0),
        func.count(MentoringPair.checked_at),
        func.coalesce(func.sum(case((met, 1), else_=0)), 0),
    ).where(
        MentoringPair.workspace_id == workspace_id,
        in_period(MentoringPair.created_at, scope),
        member_in_scope(MentoringPair.novice_id, scope, few=True),
    )
    row = (await db.execute(query)).one()
    pairs, active, checked, met_count = (int(value) for value in row)
    return pairs, active, checked, met_count


async def _repeats_avoided(db: AsyncSession, workspace_id: int, scope: Scope) -> int:
    query = select(func.coalesce(func.sum(MentoringRound.repeats_avoided), 0)).where(
        MentoringRound.workspace_id == workspace_id, in_period(MentoringRound.created_at, scope)
    )
    return int((await db.execute(query)).scalar_one())


def _waiting_query(workspace_id: int, scope: Scope) -> Subquery:
    """The waiting novices' wishes in scope (a subquery to count or to list)."""
    return (
        select(MenteeWish.id)
        .join(Member, Member.id == MenteeWish.member_id)
        .where(
            MenteeWish.workspace_id == workspace_id,
            MenteeWish.status == WishStatus.WAITING,
            member_in_scope(Member.id, scope, few=True),
        )
        .subquery()
    )


async def _waiting(
    db: AsyncSession, workspace_id: int, scope: Scope, limit: int | None = None
) -> tuple[WaitingNovice, ...]:
    """Novices waiting for a mentor, oldest wish first (as storage.mentoring.waiting); the
    first `limit` of them when given."""
    query = (
        select(
            Member.display_name,
            MenteeWish.updated_at,
            MenteeWish.waiting_reason,
            MenteeWish.languages,
            Member.locale,
            Member.platform_locale,
        )
        .join(Member, Member.id == MenteeWish.member_id)
        .where(
            MenteeWish.workspace_id == workspace_id,
            MenteeWish.status == WishStatus.WAITING,
            member_in_scope(Member.id, scope, few=True),
        )
        .order_by(MenteeWish.updated_at, MenteeWish.id)
        .limit(limit)
    )
    return tuple(
        WaitingNovice(
            name=name,
            since=since,
            reason=reason,
            languages=_languages(asked or "", locale or platform_locale),
        )
        for name, since, reason, asked, locale, platform_locale in (await db.execute(query)).all()
    )


async def _busiest(
    db: AsyncSession, workspace_id: int, scope: Scope, now: datetime, limit: int, load: Any
) -> tuple[MentorLoad, ...]:
    """The `limit` available mentors with the most novices (then by profile): read from
    the pairs (the mentors with novices, a fraction of the volunteers), then, if too few
    have any, the first available mentors without novices."""
    busy = (
        select(MentorProfile.id, MentorProfile.member_id, load.c.n, MentorProfile.capacity)
        .join(MentorProfile, MentorProfile.member_id == load.c.mentor_id)
        .where(*_available(workspace_id, scope, now))
        .order_by(load.c.n.desc(), MentorProfile.id)
        .limit(limit)
        .subquery()
    )
    found = [
        (int(n), int(capacity), str(name))
        for name, n, capacity in (
            await db.execute(
                select(Member.display_name, busy.c.n, busy.c.capacity)
                .join(Member, Member.id == busy.c.member_id)
                .order_by(busy.c.n.desc(), busy.c.id)
            )
        ).all()
    ]
    if len(found) < limit:
        idle = (
            select(Member.display_name, MentorProfile.capacity)
            .join(Member, Member.id == MentorProfile.member_id)
            .where(
                *_available(workspace_id, scope, now),
                MentorProfile.member_id.not_in(select(load.c.mentor_id)),
            )
            .order_by(MentorProfile.id)
            .limit(limit - len(found))
        )
        found += [
            (0, int(capacity), str(name)) for name, capacity in (await db.execute(idle)).all()
        ]
    return tuple(MentorLoad(name=name, load=n, capacity=capacity) for n, capacity, name in found)


def _languages(asked: str, locale: str | None) -> tuple[str, ...]:
    """The languages asked for, else the member's own (as mentoring_rounds.language_of
    reads it); empty when neither is known: the workspace's language then."""
    codes = sorted({code.strip().lower() for code in asked.split(",") if code.strip()})
    if codes:
        return tuple(codes)
    if locale:
        return (locale.replace("_", "-").split("-", 1)[0].lower(),)
    return ()


def _current_load(workspace_id: int) -> Any:
    """Each mentor with novices now (pairs not ended) and how many (`mentor_id`, `n`)."""
    return (
        select(MentoringPair.mentor_id, func.count().label("n"))
        .where(MentoringPair.workspace_id == workspace_id, MentoringPair.ended_at.is_(None))
        .group_by(MentoringPair.mentor_id)
        .subquery()
    )


def _available(workspace_id: int, scope: Scope, now: datetime) -> tuple[Any, ...]:
    """The mentor profiles available now among members in scope."""
    return (
        MentorProfile.workspace_id == workspace_id,
        MentorProfile.status == MentorStatus.ACTIVE,
        or_(MentorProfile.paused_until.is_(None), MentorProfile.paused_until <= now),
        member_in_scope(MentorProfile.member_id, scope, few=True),
    )


async def _loads(
    db: AsyncSession, workspace_id: int, scope: Scope, now: datetime, limit: int | None = None
) -> tuple[MentorLoad, ...]:
    """Volunteer mentors available now (as storage.mentoring.available_mentors) and how
    many novices each has; with `limit`, the `limit` busiest (most novices first)."""
    load = _current_load(workspace_id)
    if limit is not None:
        return await _busiest(db, workspace_id, scope, now, limit, load)
    query = (
        select(Member.display_name, func.coalesce(load.c.n, 0), MentorProfile.capacity)
        .join(Member, Member.id == MentorProfile.member_id)
        .outerjoin(load, load.c.mentor_id == MentorProfile.member_id)
        .where(*_available(workspace_id, scope, now))
        .order_by(MentorProfile.id)
    )
    return tuple(
        MentorLoad(name=name, load=int(n), capacity=int(capacity))
        for name, n, capacity in (await db.execute(query)).all()
    )
