"""Referrals: a learner recommends the training to a colleague; converted when they join."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import Member, Pulse, Referral, SessionParticipation, TrainingSession
from storage.upsert import insert_for, table_of
from storage.vocabulary import MemberRole, ReferralResponse


def referred_key(member_id: int | None, typed_name: str) -> str:
    """What tells two recommendations of one colleague from two colleagues: `m:<id>` for
    a member picked from the directory, else `n:<the name typed>` read as the bot reads
    words — lower case, no accents (the same folding as bot/core/parsing.fold, which storage
    cannot import; tests/storage/test_referral_keys.py keeps the two equal)."""
    if member_id is not None:
        return f"m:{member_id}"
    decomposed = unicodedata.normalize("NFKD", typed_name.casefold())
    return "n:" + "".join(ch for ch in decomposed if not unicodedata.combining(ch))


async def add(
    db: AsyncSession,
    *,
    workspace_id: int,
    pulse_id: int,
    session_id: int | None,
    referrer_id: int,
    referred_member_id: int | None,
    referred_name: str,
    referred_key: str,
    now: datetime,
) -> int | None:
    """Record a referral; None when this learner already named this colleague for it."""
    statement = (
        insert_for(db, Referral)
        .values(
            workspace_id=workspace_id,
            pulse_id=pulse_id,
            session_id=session_id,
            referrer_id=referrer_id,
            referred_member_id=referred_member_id,
            referred_name=referred_name,
            referred_key=referred_key,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["pulse_id", "referrer_id", "referred_key"])
        .returning(table_of(Referral).c.id)
    )
    value = (await db.execute(statement)).scalar_one_or_none()
    return int(value) if value is not None else None


# Why a member is no one to recommend a pulse's training to (see `not_to_refer`).
RUNS_TRAININGS = "runs_trainings"
TOOK_PART = "took_part"


async def not_to_refer(
    db: AsyncSession,
    pulse: Pulse,
    admin_user_ids: Iterable[str],
    *,
    member_ids: Iterable[int] | None = None,
    limit: int | None = None,
) -> dict[int, tuple[str, str]]:
    """The members it makes no sense to recommend the pulse's training to, as
    {member id: (user id, why)}: RUNS_TRAININGS (animators and admins — by role or by
    `admin_user_ids` —, and whoever opened, closed or sent it) or TOOK_PART (in a session
    of that training: the same name, this run or another; for a community pulse, whoever
    is in the community). Only among `member_ids` when given; at most `limit`, by id."""
    training = (
        await db.get(TrainingSession, pulse.session_id) if pulse.session_id is not None else None
    )
    trainer_ids = {pulse.created_by_id}
    if training is not None:
        trainer_ids |= {training.opened_by_id, training.closed_by_id or training.opened_by_id}
    runs = or_(
        Member.role != MemberRole.LEARNER,
        Member.user_id.in_(sorted(set(admin_user_ids))),
        Member.id.in_(sorted(trainer_ids)),
    )
    if training is not None:
        same_training = (
            select(SessionParticipation.member_id)
            .join(TrainingSession, TrainingSession.id == SessionParticipation.session_id)
            .where(
                TrainingSession.workspace_id == pulse.workspace_id,
                func.lower(TrainingSession.name) == func.lower(training.name),
            )
        )
        took_part = Member.id.in_(same_training)
    else:
        took_part = Member.joined_at.is_not(None)
    why = case((runs, RUNS_TRAININGS), else_=TOOK_PART)
    query = select(Member.id, Member.user_id, why).where(
        Member.workspace_id == pulse.workspace_id, or_(runs, took_part)
    )
    if member_ids is not None:
        query = query.where(Member.id.in_(sorted(set(member_ids))))
    query = query.order_by(Member.id)
    if limit is not None:
        query = query.limit(limit)
    rows = (await db.execute(query)).all()
    return {int(member_id): (user_id, reason) for member_id, user_id, reason in rows}


async def by_id(db: AsyncSession, workspace_id: int, referral_id: int) -> Referral | None:
    """The workspace's referral `referral_id`."""
    referral = await db.get(Referral, referral_id)
    return referral if referral is not None and referral.workspace_id == workspace_id else None


async def convert(
    db: AsyncSession, member_id: int, training_session_id: int, now: datetime
) -> list[int]:
    """The member joined a session: every earlier referral of them counts as converted;
    returns who had recommended it (their converted referrals count on the ladder)."""
    result = await db.execute(
        update(Referral)
        .where(
            Referral.referred_member_id == member_id,
            Referral.converted_at.is_(None),
            Referral.created_at < now,
        )
        .values(converted_at=now, converted_session_id=training_session_id)
        .returning(Referral.referrer_id)
        .execution_options(synchronize_session=False)
    )
    return sorted({int(referrer) for referrer in result.scalars()})


@dataclass(frozen=True)
class ReferralCounts:
    """Referrals made for a pulse, and what became of them."""

    made: int = 0
    converted: int = 0
    interested: int = 0


async def counts(db: AsyncSession, pulse_ids: list[int]) -> dict[int, ReferralCounts]:
    """Referral counts per pulse."""
    if not pulse_ids:
        return {}
    query = (
        select(
            Referral.pulse_id,
            func.count(),
            func.count(Referral.converted_at),
            func.sum(case((Referral.response == ReferralResponse.INTERESTED, 1), else_=0)),
        )
        .where(Referral.pulse_id.in_(pulse_ids))
        .group_by(Referral.pulse_id)
    )
    return {
        int(pid): ReferralCounts(int(made), int(converted), int(interested or 0))
        for pid, made, converted, interested in (await db.execute(query)).all()
    }


@dataclass(frozen=True)
class NamedReferral:
    """Who recommended the training to whom, and what became of it."""

    referrer_member_id: int
    referrer: str
    referred: str
    on_platform: bool
    response: ReferralResponse | None
    converted_at: datetime | None


async def of_pulse(db: AsyncSession, pulse_id: int) -> list[NamedReferral]:
    """The pulse's referrals, in the order they were made."""
    referrer = aliased(Member)
    referred = aliased(Member)
    query = (
        select(
            Referral.referrer_id,
            referrer.display_name,
            func.coalesce(referred.display_name, Referral.referred_name),
            Referral.referred_member_id.is_not(None),
            Referral.response,
            Referral.converted_at,
        )
        .join(referrer, referrer.id == Referral.referrer_id)
        .outerjoin(referred, referred.id == Referral.referred_member_id)
        .where(Referral.pulse_id == pulse_id)
        .order_by(Referral.id)
    )
    return [NamedReferral(*row) for row in (await db.execute(query)).all()]
