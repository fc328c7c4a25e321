"""NPS pulses: who they are sent to, their named answers, and the sums behind the results."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Member,
    Pulse,
    PulseAnswer,
    PulseAnswerChange,
    PulseRecipient,
    SessionParticipation,
)
from storage.upsert import insert_for, skip_locked, table_of
from storage.vocabulary import PulseStatus


async def create(db: AsyncSession, **values: Any) -> Pulse:
    """Store a new pulse (scheduled; the scheduler sends it when due)."""
    pulse = Pulse(**values)
    db.add(pulse)
    await db.flush()
    return pulse


async def by_id(db: AsyncSession, workspace_id: int, pulse_id: int) -> Pulse | None:
    """The workspace's pulse `pulse_id`."""
    pulse = await db.get(Pulse, pulse_id)
    return pulse if pulse is not None and pulse.workspace_id == workspace_id else None


async def latest(
    db: AsyncSession,
    workspace_id: int,
    *,
    session_id: int | None = None,
    recipient_id: int | None = None,
    sent_only: bool = True,
) -> Pulse | None:
    """The newest pulse of the workspace (of a session, or sent to a member)."""
    query = select(Pulse).where(Pulse.workspace_id == workspace_id)
    if sent_only:
        query = query.where(Pulse.sent_at.is_not(None))
    if session_id is not None:
        query = query.where(Pulse.session_id == session_id)
    if recipient_id is not None:
        asked = select(PulseRecipient.pulse_id).where(PulseRecipient.member_id == recipient_id)
        query = query.where(Pulse.id.in_(asked))
    query = query.order_by(Pulse.id.desc()).limit(1)
    return (await db.execute(query)).scalar_one_or_none()


async def listed(db: AsyncSession, workspace_id: int, limit: int = 20) -> list[Pulse]:
    """The newest pulses of the workspace."""
    query = (
        select(Pulse)
        .where(Pulse.workspace_id == workspace_id)
        .order_by(Pulse.id.desc())
        .limit(limit)
    )
    return list((await db.execute(query)).scalars())


async def in_workspace(
    db: AsyncSession, workspace_id: int, session_id: int | None = None
) -> list[Pulse]:
    """Every sent pulse of the workspace (or of one session), oldest first."""
    query = select(Pulse).where(Pulse.workspace_id == workspace_id, Pulse.sent_at.is_not(None))
    if session_id is not None:
        query = query.where(Pulse.session_id == session_id)
    return list((await db.execute(query.order_by(Pulse.sent_at, Pulse.id))).scalars())


async def waiting_for_close(db: AsyncSession, session_id: int) -> list[Pulse]:
    """Pulses to be sent `at close` of this training session."""
    query = select(Pulse).where(
        Pulse.session_id == session_id,
        Pulse.status == PulseStatus.SCHEDULED,
        Pulse.send_at.is_(None),
    )
    return list((await db.execute(query)).scalars())


# --- the scheduler's claims ----------------------------------------------------------------


async def claim_sending(db: AsyncSession, now: datetime, limit: int) -> list[Pulse]:
    """Pulses due to be sent, or whose sending a crash interrupted; locked for this replica."""
    query = (
        select(Pulse)
        .where(
            ((Pulse.status == PulseStatus.SCHEDULED) & (Pulse.send_at <= now))
            | (Pulse.status == PulseStatus.SENDING)
        )
        .order_by(Pulse.id)
        .limit(limit)
    )
    return list((await db.execute(skip_locked(db, query))).scalars())


async def claim_reminders(db: AsyncSession, now: datetime, limit: int) -> list[Pulse]:
    """Open pulses whose reminder is due."""
    query = (
        select(Pulse)
        .where(Pulse.status == PulseStatus.OPEN, Pulse.next_reminder_at <= now)
        .order_by(Pulse.next_reminder_at)
        .limit(limit)
    )
    return list((await db.execute(skip_locked(db, query))).scalars())


async def claim_closing(db: AsyncSession, now: datetime, limit: int) -> list[Pulse]:
    """Open pulses past their deadline."""
    query = (
        select(Pulse)
        .where(Pulse.status == PulseStatus.OPEN, Pulse.closes_at <= now)
        .order_by(Pulse.closes_at)
        .limit(limit)
    )
    return list((await db.execute(skip_locked(db, query))).scalars())


async def next_due(db: AsyncSession) -> datetime | None:
    """The earliest moment a pulse is to be sent, reminded or closed."""
    queries = (
        select(func.min(Pulse.send_at)).where(Pulse.status == PulseStatus.SCHEDULED),
        select(func.min(Pulse.next_reminder_at)).where(Pulse.status == PulseStatus.OPEN),
        select(func.min(Pulse.closes_at)).where(Pulse.status == PulseStatus.OPEN),
    )
    found = [(await db.execute(q)).scalar_one_or_none() for q in queries]
    moments = [m for m in found if m is not None]
    return min(moments) if moments else None


# --- recipients ----------------------------------------------------------------------------


async def next_targets(db: AsyncSession, pulse: Pulse, limit: int) -> list[Member]:
    """Members the pulse is for and not yet asked, by id (a session's participants, or
    the whole community)."""
    asked = select(PulseRecipient.member_id).where(PulseRecipient.pulse_id == pulse.id)
    query = select(Member).where(Member.workspace_id == pulse.workspace_id)
    if pulse.session_id is not None:
        took_part = select(SessionParticipation.member_id).where(
            SessionParticipation.session_id == pulse.session_id
        )
        query = query.where(Member.id.in_(took_part))
    else:
        query = query.where(Member.joined_at.is_not(None))
    query = query.where(Member.id.not_in(asked)).order_by(Member.id).limit(limit)
    return list((await db.execute(query)).scalars())


async def target_count(db: AsyncSession, workspace_id: int, session_id: int | None) -> int:
    """How many members a pulse about `session_id` (None: the community) would ask now."""
    query = select(func.count()).select_from(Member).where(Member.workspace_id == workspace_id)
    if session_id is not None:
        took_part = select(SessionParticipation.member_id).where(
            SessionParticipation.session_id == session_id
        )
        query = query.where(Member.id.in_(took_part))
    else:
        query = query.where(Member.joined_at.is_not(None))
    return int((await db.execute(query)).scalar_one())


async def add_recipient(db: AsyncSession, pulse_id: int, member_id: int, now: datetime) -> bool:
    """Record that the member is asked; False when they already were."""
    statement = (
        insert_for(db, PulseRecipient)
        .values(pulse_id=pulse_id, member_id=member_id, asked_at=now)
        .on_conflict_do_nothing(index_elements=["pulse_id", "member_id"])
        .returning(table_of(PulseRecipient).c.id)
    )
    return (await db.execute(statement)).scalar_one_or_none() is not None


async def recipient_count(db: AsyncSession, pulse_id: int) -> int:
    """How many members the pulse was sent to."""
    query = select(func.count()).where(PulseRecipient.pulse_id == pulse_id)
    return int((await db.execute(query)).scalar_one())


async def is_recipient(db: AsyncSession, pulse_id: int, member_id: int) -> bool:
    """Whether the pulse was sent to the member."""
    query = select(PulseRecipient.id).where(
        PulseRecipient.pulse_id == pulse_id, PulseRecipient.member_id == member_id
    )
    return (await db.execute(query)).first() is not None


async def non_respondents(
    db: AsyncSession, pulse_id: int, after_member_id: int, limit: int
) -> list[Member]:
    """Recipients who have not answered, by id, after `after_member_id` (for batches)."""
    answered = select(PulseAnswer.member_id).where(PulseAnswer.pulse_id == pulse_id)
    query = (
        select(Member)
        .join(PulseRecipient, PulseRecipient.member_id == Member.id)
        .where(
            PulseRecipient.pulse_id == pulse_id,
            Member.id > after_member_id,
            Member.id.not_in(answered),
        )
        .order_by(Member.id)
        .limit(limit)
    )
    return list((await db.execute(query)).scalars())


@dataclass(frozen=True)
class PulseSums:
    """Counts and sums over a set of answers (score 0-10, LSAT 1-5); they add up across
    pulses, so per-session and per-month figures need no second pass over the answers."""

    answers: int = 0
    promoters: int = 0  # score 9-10
    detractors: int = 0  # score 0-6
    lsat_count: int = 0
    lsat_sum: int = 0
    # Over the answers that have both a score and an LSAT.
    pairs: int = 0
    sum_x: int = 0
    sum_y: int = 0
    sum_xx: int = 0
    sum_yy: int = 0
    sum_xy: int = 0

    @property
    def passives(self) -> int:
        """Scores 7-8."""
        return self.answers - self.promoters - self.detractors

    def __add__(self, other: PulseSums) -> PulseSums:
        return PulseSums(
            *(getattr(self, name) + getattr(other, name) for name in self.__dataclass_fields__)
        )


# --- answers -------------------------------------------------------------------------------


async def answer_of(db: AsyncSession, pulse_id: int, member_id: int) -> PulseAnswer | None:
    """The member's current answer to the pulse."""
    query = select(PulseAnswer).where(
        PulseAnswer.pulse_id == pulse_id, PulseAnswer.member_id == member_id
    )
    return (await db.execute(query)).scalar_one_or_none()


async def save(
    db: AsyncSession,
    pulse_id: int,
    member_id: int,
    now: datetime,
    *,
    score: int | None = None,
    lsat: int | None = None,
    comment: str | None = None,
) -> bool:
    """Set parts of a member's answer (the last one counts) and keep each change in the
    history; False when nothing changed (a double click). A new answer needs a score."""
    changes = {
        name: value
        for name, value in (("score", score), ("lsat", lsat), ("comment", comment))
        if value is not None
    }
    current = await answer_of(db, pulse_id, member_id)
    if current is not None:
        changes = {k: v for k, v in changes.items() if getattr(current, k) != v}
    if not changes:
        return False
    if current is None:
        if score is None:
            raise ValueError("a new answer starts with a score")
        statement = (
            insert_for(db, PulseAnswer)
            .values(
                pulse_id=pulse_id,
                member_id=member_id,
                score=score,
                lsat=lsat,
                comment=comment,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_update(
                index_elements=["pulse_id", "member_id"], set_={**changes, "updated_at": now}
            )
        )
        await db.execute(statement)
    else:
        for name, value in changes.items():
            setattr(current, name, value)
        current.updated_at = now
    for name, value in changes.items():
        db.add(
            PulseAnswerChange(
                pulse_id=pulse_id, member_id=member_id, field=name, value=str(value), created_at=now
            )
        )
    await db.flush()
    return True


async def sums(db: AsyncSession, pulse_ids: list[int]) -> dict[int, PulseSums]:
    """Counts and sums of each pulse's answers, computed by the database in one pass."""
    if not pulse_ids:
        return {}
    score, lsat = PulseAnswer.score, PulseAnswer.lsat
    paired_score = case((lsat.is_not(None), score), else_=0)
    query = (
        select(
            PulseAnswer.pulse_id,
            func.count(),
            func.sum(case((score >= 9, 1), else_=0)),
            func.sum(case((score <= 6, 1), else_=0)),
            func.count(lsat),
            func.coalesce(func.sum(lsat), 0),
            func.sum(paired_score),
            func.sum(paired_score * paired_score),
            func.coalesce(func.sum(lsat * lsat), 0),
            func.coalesce(func.sum(score * lsat), 0),
        )
        .where(PulseAnswer.pulse_id.in_(pulse_ids))
        .group_by(PulseAnswer.pulse_id)
    )
    found = {}
    for row in (await db.execute(query)).all():
        pid, n, promoters, detractors, lsat_n, lsat_sum, sx, sxx, syy, sxy = (int(v) for v in row)
        found[pid] = PulseSums(
            answers=n,
            promoters=promoters,
            detractors=detractors,
            lsat_count=lsat_n,
            lsat_sum=lsat_sum,
            pairs=lsat_n,
            sum_x=sx,
            sum_y=lsat_sum,
            sum_xx=sxx,
            sum_yy=syy,
            sum_xy=sxy,
        )
    return found


async def results_sums(db: AsyncSession, found: list[Pulse]) -> dict[int, PulseSums]:
    """Sums of each pulse's answers: frozen at close for closed pulses, live for the others."""
    result = {p.id: PulseSums(**p.final_sums) for p in found if p.final_sums is not None}
    live = [p.id for p in found if p.final_sums is None]
    result.update(await sums(db, live))
    return result


async def freeze_sums(db: AsyncSession, pulse: Pulse) -> None:
    """Keep the sums of a closing pulse's answers and their (score, LSAT) counts (they
    cannot change any more); both come from one pass over its answers."""
    counted = (await cells(db, [pulse.id])).get(pulse.id, {})
    pulse.final_sums = asdict(sums_of_cells(counted))
    pulse.final_grid = frozen_grid(counted)


# (score 0-10, LSAT 1-5 or None when not given) → how many answers.
Cells = dict[tuple[int, int | None], int]


async def cells(db: AsyncSession, pulse_ids: list[int]) -> dict[int, Cells]:
    """Each pulse's answers counted by (score, LSAT): at most 66 rows a pulse, from one
    GROUP BY that reads the (pulse, score, lsat) index only. Everything `sums` gives can
    be derived from them (`sums_of_cells`), and the NPS × LSAT scatter is made of them."""
    if not pulse_ids:
        return {}
    query = (
        select(PulseAnswer.pulse_id, PulseAnswer.score, PulseAnswer.lsat, func.count())
        .where(PulseAnswer.pulse_id.in_(pulse_ids))
        .group_by(PulseAnswer.pulse_id, PulseAnswer.score, PulseAnswer.lsat)
    )
    found: dict[int, Cells] = {}
    for pid, score, lsat, n in (await db.execute(query)).all():
        key = (int(score), int(lsat) if lsat is not None else None)
        found.setdefault(int(pid), {})[key] = int(n)
    return found


def sums_of_cells(counted: Cells) -> PulseSums:
    """The sums `sums` computes, from the answers counted by (score, LSAT)."""
    answers = promoters = detractors = pairs = sx = sy = sxx = syy = sxy = 0
    for (score, lsat), n in counted.items():
        answers += n
        promoters += n if score >= 9 else 0
        detractors += n if score <= 6 else 0
        if lsat is not None:
            pairs += n
            sx += n * score
            sy += n * lsat
            sxx += n * score * score
            syy += n * lsat * lsat
            sxy += n * score * lsat
    return PulseSums(
        answers=answers,
        promoters=promoters,
        detractors=detractors,
        lsat_count=pairs,
        lsat_sum=sy,
        pairs=pairs,
        sum_x=sx,
        sum_y=sy,
        sum_xx=sxx,
        sum_yy=syy,
        sum_xy=sxy,
    )


def frozen_grid(counted: Cells) -> list[list[int | None]]:
    """Cells as `Pulse.final_grid` keeps them (JSON): [[score, lsat or null, n], …]."""
    return [[score, lsat, n] for (score, lsat), n in sorted(counted.items(), key=_cell_order)]


def thawed_grid(kept: list[list[int | None]]) -> Cells:
    """`Pulse.final_grid` back as cells."""
    found: Cells = {}
    for score, lsat, n in kept:
        assert score is not None and n is not None
        found[(int(score), int(lsat) if lsat is not None else None)] = int(n)
    return found


def _cell_order(item: tuple[tuple[int, int | None], int]) -> tuple[int, int]:
    (score, lsat), _ = item
    return score, lsat if lsat is not None else 0


@dataclass(frozen=True)
class NamedAnswer:
    """One answer with the learner's name, for animators."""

    member_id: int
    user_id: str
    name: str
    score: int
    lsat: int | None
    comment: str | None
    updated_at: datetime


async def named_answers(
    db: AsyncSession, pulse_id: int, limit: int | None = None
) -> list[NamedAnswer]:
    """The pulse's answers with names, most recent first."""
    query = (
        select(
            Member.id,
            Member.user_id,
            Member.display_name,
            PulseAnswer.score,
            PulseAnswer.lsat,
            PulseAnswer.comment,
            PulseAnswer.updated_at,
        )
        .join(Member, Member.id == PulseAnswer.member_id)
        .where(PulseAnswer.pulse_id == pulse_id)
        .order_by(PulseAnswer.updated_at.desc(), PulseAnswer.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return [NamedAnswer(*row) for row in (await db.execute(query)).all()]


async def set_status(db: AsyncSession, pulse_id: int, status: PulseStatus, **values: Any) -> None:
    """Change a pulse's status (and other columns) without loading it."""
    await db.execute(
        update(Pulse)
        .where(Pulse.id == pulse_id)
        .values(status=status, **values)
        .execution_options(synchronize_session=False)
    )
