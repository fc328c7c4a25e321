"""The pulses section: NPS and LSAT per pulse, per month and per training, the total, the
NPS × LSAT grid and the latest named answers — and `pulse results all`'s figures, which
are read from here so that the page and the chat always agree.

Nothing scans every answer: a closed pulse's sums and (score, LSAT) counts were kept when
it closed (`Pulse.final_sums`, `Pulse.final_grid`); only the open pulses' answers (and
those of pulses closed before the grid was kept) are counted, in one GROUP BY that gives
both their sums and their grid. Sums add up, so months and trainings need no second pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.steering.in_scope import first_day, in_period, month_of, nothing_matches
from bot.steering.model import COMMUNITY, NamedAnswer, PulsePoint, Pulses, Scope
from storage import pulses as stored
from storage.models import Member, Pulse, PulseAnswer, Referral, TrainingSession
from storage.pulses import Cells, PulseSums

# The named answers the page lists (the latest); the CSV export of a pulse has them all.
NAMED_SHOWN = 50
# Pulses whose latest answers one query reads (a UNION ALL of that many LIMITed reads).
NAMED_CHUNK = 50
# Still answerable: their answers may be newer than any closing date.
ANSWERABLE = ("open", "sending")


async def pulses(
    db: AsyncSession,
    workspace_id: int,
    scope: Scope,
    *,
    named: bool = True,
    latest: int | None = None,
) -> Pulses:
    """The pulses sent in scope (their session in scope, sent in the period), oldest
    first, with their figures; `named` adds the latest named answers (animators only).
    With `latest` (the page), `per_pulse` holds only the `latest` last pulses (the months,
    trainings and totals still add up every one) and `pulses_in_scope` says how many
    there are."""
    found = await _sent(db, workspace_id, scope)
    if not found:
        return Pulses(per_pulse=(), per_month=(), total=PulseSums(), asked=0)
    zone = ZoneInfo(scope.timezone)
    names = await _session_names(db, [p.session_id for p in found if p.session_id is not None])
    sums, grids = await _figures(db, found)
    per_pulse: list[PulsePoint] = []
    months: dict[str, tuple[PulseSums, int]] = {}
    trainings: dict[tuple[bool, str], PulsePoint] = {}
    grid: dict[tuple[int, int], int] = {}
    labels: dict[int, str] = {}
    for pulse in found:
        assert pulse.sent_at is not None
        training = names.get(pulse.session_id) if pulse.session_id is not None else None
        community = training is None
        name = training if training is not None else COMMUNITY
        found_sums = sums[pulse.id]
        labels[pulse.id] = f"#{pulse.id} {name}"
        when = pulse.sent_at.astimezone(zone).date()
        per_pulse.append(
            PulsePoint(labels[pulse.id], when, found_sums, pulse.recipients, community)
        )
        month = month_of(pulse.sent_at, zone)
        earlier, asked = months.get(month, (PulseSums(), 0))
        months[month] = (earlier + found_sums, asked + pulse.recipients)
        key = (community, name)
        so_far = trainings.get(key)
        trainings[key] = (
            PulsePoint(name, when, found_sums, pulse.recipients, community)
            if so_far is None
            else PulsePoint(
                name,
                so_far.when,
                so_far.sums + found_sums,
                so_far.asked + pulse.recipients,
                community,
            )
        )
        for (score, lsat), n in grids[pulse.id].items():
            if lsat is not None:
                grid[(score, lsat)] = grid.get((score, lsat), 0) + n
    total = PulseSums()
    for point in per_pulse:
        total += point.sums
    shown = per_pulse if latest is None else per_pulse[max(0, len(per_pulse) - latest) :]
    return Pulses(
        per_pulse=tuple(shown),
        per_month=tuple(
            PulsePoint(month, first_day(month), month_sums, asked)
            for month, (month_sums, asked) in sorted(months.items())
        ),
        total=total,
        asked=sum(point.asked for point in per_pulse),
        grid=grid,
        named=await _named(db, found, labels) if named else (),
        per_training=tuple(trainings.values()),
        pulses_in_scope=None if latest is None else len(per_pulse),
    )


async def _sent(db: AsyncSession, workspace_id: int, scope: Scope) -> list[Pulse]:
    """The pulses in scope, in the order they were sent."""
    if nothing_matches(scope):
        return []
    query = select(Pulse).where(
        Pulse.workspace_id == workspace_id,
        Pulse.sent_at.is_not(None),
        in_period(Pulse.sent_at, scope),
    )
    if scope.session_ids is not None:
        query = query.where(Pulse.session_id.in_(scope.session_ids))
    return list((await db.execute(query.order_by(Pulse.sent_at, Pulse.id))).scalars())


async def _session_names(db: AsyncSession, session_ids: list[int]) -> dict[int, str]:
    if not session_ids:
        return {}
    query = select(TrainingSession.id, TrainingSession.name).where(
        TrainingSession.id.in_(sorted(set(session_ids)))
    )
    return {int(sid): str(name) for sid, name in (await db.execute(query)).all()}


async def _figures(
    db: AsyncSession, found: Sequence[Pulse]
) -> tuple[dict[int, PulseSums], dict[int, Cells]]:
    """Each pulse's sums (kept at close, as `storage.pulses.results_sums` reads them) and
    (score, LSAT) counts (kept at close since migration 0020); the rest counted at once."""
    counted = await stored.cells(
        db, [p.id for p in found if p.final_sums is None or p.final_grid is None]
    )
    sums: dict[int, PulseSums] = {}
    grids: dict[int, Cells] = {}
    for pulse in found:
        live = counted.get(pulse.id, {})
        # A closed pulse's kept sums win: its answers may have been erased since.
        sums[pulse.id] = (
            PulseSums(**pulse.final_sums)
            if pulse.final_sums is not None
            else stored.sums_of_cells(live)
        )
        grids[pulse.id] = (
            stored.thawed_grid(pulse.final_grid) if pulse.final_grid is not None else live
        )
    return sums, grids


def _answered_until(pulse: Pulse) -> datetime | None:
    """The latest moment the pulse could be answered; None while it can still be."""
    if pulse.status in ANSWERABLE:
        return None
    return pulse.closed_at or pulse.cancelled_at


# An answer as `_latest_of` reads it: id, pulse, member, score, LSAT, comment, updated_at.
AnswerRow = tuple[int, int, int, int, int | None, str | None, datetime]


def _latest_of(pulse_id: int) -> Select[int, int, int, int, int | None, str | None, datetime]:
    """A pulse's latest answers (its `(pulse, updated_at, id)` index, read backwards)."""
    return (
        select(
            PulseAnswer.id,
            PulseAnswer.pulse_id,
            PulseAnswer.member_id,
            PulseAnswer.score,
            PulseAnswer.lsat,
            PulseAnswer.comment,
            PulseAnswer.updated_at,
        )
        .where(PulseAnswer.pulse_id == pulse_id)
        .order_by(PulseAnswer.updated_at.desc(), PulseAnswer.id.desc())
        .limit(NAMED_SHOWN)
    )


async def _named(
    db: AsyncSession, found: Sequence[Pulse], labels: dict[int, str]
) -> tuple[NamedAnswer, ...]:
    """The latest NAMED_SHOWN answers across the pulses, with what each recommended.

    One query reads the latest answers of each pulse (a UNION ALL of LIMITed index
    reads), the pulses that can be answered still first, then by closing date: a pulse
    closed before the oldest answer kept so far cannot have newer ones, so one query is
    usually enough however many pulses the scope has."""
    now_or_never = datetime.max.replace(tzinfo=UTC)
    queue = sorted(found, key=lambda p: _answered_until(p) or now_or_never, reverse=True)
    best: list[AnswerRow] = []
    for start in range(0, len(queue), NAMED_CHUNK):
        if len(best) >= NAMED_SHOWN:
            bound = _answered_until(queue[start])
            if bound is not None and best[-1][6] > bound:
                break
        chunk = queue[start : start + NAMED_CHUNK]
        parts = [_latest_of(p.id).subquery() for p in chunk]
        union = union_all(*(select(*part.c) for part in parts))
        rows = [tuple(row) for row in (await db.execute(union)).all()]
        best = sorted([*best, *rows], key=lambda r: (r[6], r[0]), reverse=True)[:NAMED_SHOWN]
    if not best:
        return ()
    member_ids = sorted({int(row[2]) for row in best})
    pulse_ids = sorted({int(row[1]) for row in best})
    people = {
        int(mid): str(name)
        for mid, name in (
            await db.execute(
                select(Member.id, Member.display_name).where(Member.id.in_(member_ids))
            )
        ).all()
    }
    recommends = await _recommends(db, pulse_ids, member_ids)
    return tuple(
        NamedAnswer(
            name=people.get(int(member_id), ""),
            pulse_label=labels[int(pulse_id)],
            answered_at=updated_at,
            score=int(score),
            lsat=int(lsat) if lsat is not None else None,
            comment=comment,
            recommends=tuple(recommends.get((int(pulse_id), int(member_id)), ())),
        )
        for _, pulse_id, member_id, score, lsat, comment, updated_at in best
    )


async def _recommends(
    db: AsyncSession, pulse_ids: list[int], member_ids: list[int]
) -> dict[tuple[int, int], list[str]]:
    """Whom each (pulse, learner) recommended the training to, in the order named (as
    `storage.referrals.of_pulse` names them: the member's name, else the name typed)."""
    referred = aliased(Member)
    query = (
        select(
            Referral.pulse_id,
            Referral.referrer_id,
            referred.display_name,
            Referral.referred_name,
        )
        .outerjoin(referred, referred.id == Referral.referred_member_id)
        .where(Referral.referrer_id.in_(member_ids), Referral.pulse_id.in_(pulse_ids))
        .order_by(Referral.id)
    )
    found: dict[tuple[int, int], list[str]] = {}
    for pulse_id, referrer_id, member_name, typed in (await db.execute(query)).all():
        found.setdefault((int(pulse_id), int(referrer_id)), []).append(member_name or typed)
    return found
