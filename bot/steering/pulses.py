"""The pulses section: NPS and LSAT per pulse, per month and per training, the total, the
NPS × LSAT grid and the latest named answers — and `pulse results all`'s figures, which
are read from here so that the page and the chat always agree.

Nothing scans every answer: a closed pulse's sums and (score, LSAT) counts were kept when
it closed (`Pulse.final_sums`, `Pulse.final_grid`); only the open pulses' answers (and
those of pulses closed before the grid was kept) are counted, in one GROUP BY that gives
both their sums and their grid. Sums add up, so months and trainings need no second pass.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, Select, cast, column, func, join, or_, select, true, union_all
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.steering.in_scope import (
    first_day,
    in_period,
    instant,
    month_index,
    month_of,
    months_between,
    nothing_matches,
)
from bot.steering.model import COMMUNITY, NamedAnswer, PulsePoint, Pulses, Scope
from storage import pulses as stored
from storage.models import Member, Pulse, PulseAnswer, Referral, TrainingSession
from storage.pulses import PulseSums
from storage.vocabulary import PulseStatus

# The named answers the page lists (the latest); the CSV export of a pulse has them all.
NAMED_SHOWN = 50
# Pulses whose latest answers one query reads (a UNION ALL of that many LIMITed reads).
NAMED_CHUNK = 50
# PulseSums' fields, in order (a pulse's kept sums are read field by field).
SUM_FIELDS = tuple(PulseSums.__dataclass_fields__)
# Where the kept sums start in a row of `_sent` (after the ten columns before them).
SUMS_AT = 10
# The closed pulses the page's named answers look at first (by closing, newest first).
CLOSED_HEAD = 4 * NAMED_CHUNK
# Still answerable: their answers may be newer than any closing date.
ANSWERABLE = (PulseStatus.OPEN, PulseStatus.SENDING)


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
    if latest is not None:
        return await _page_view(db, workspace_id, scope, named=named, latest=latest)
    found = await _sent(db, workspace_id, scope)
    if not found:
        return Pulses(per_pulse=(), per_month=(), total=PulseSums(), asked=0)
    zone = ZoneInfo(scope.timezone)
    sums, grid = await _figures(db, workspace_id, scope, found)
    # Sums gathered per month and training, added up at the end column by column (a
    # PulseSums added per pulse costs more than the query at thousands of pulses).
    per_pulse: list[PulsePoint] = []
    months: dict[str, list[tuple[int, ...]]] = {}
    asked_in: dict[str, int] = {}
    trainings: dict[tuple[bool, str], list[tuple[int, ...]]] = {}
    training_firsts: dict[tuple[bool, str], date] = {}
    training_asked: dict[tuple[bool, str], int] = {}
    labels: dict[int, str] = {}
    every: list[tuple[int, ...]] = []
    asked = 0
    first_shown = 0 if latest is None else max(0, len(found) - latest)
    for index, pulse in enumerate(found):
        assert pulse.sent_at is not None
        training = pulse.training if pulse.session_id is not None else None
        community = training is None
        name = training if training is not None else COMMUNITY
        values = sums[pulse.id]
        labels[pulse.id] = f"#{pulse.id} {name}"
        local = pulse.sent_at.astimezone(zone)
        when = local.date()
        if index >= first_shown:  # the page lists the latest only
            per_pulse.append(
                PulsePoint(labels[pulse.id], when, PulseSums(*values), pulse.recipients, community)
            )
        every.append(values)
        asked += pulse.recipients
        month = f"{local.year:04d}-{local.month:02d}"
        months.setdefault(month, []).append(values)
        asked_in[month] = asked_in.get(month, 0) + pulse.recipients
        key = (community, name)
        trainings.setdefault(key, []).append(values)
        training_firsts.setdefault(key, when)
        training_asked[key] = training_asked.get(key, 0) + pulse.recipients
    return Pulses(
        per_pulse=tuple(per_pulse),
        per_month=tuple(
            PulsePoint(month, first_day(month), _added(rows), asked_in[month])
            for month, rows in sorted(months.items())
        ),
        total=_added(every),
        asked=asked,
        grid=grid,
        named=await _named(db, found, labels) if named else (),
        per_training=tuple(
            PulsePoint(name, training_firsts[key], _added(rows), training_asked[key], community)
            for key, rows in trainings.items()
            for community, name in (key,)
        ),
        pulses_in_scope=None if latest is None else len(found),
    )


async def _page_view(
    db: AsyncSession, workspace_id: int, scope: Scope, *, named: bool, latest: int
) -> Pulses:
    """`pulses` for the page: the same figures, the months' and trainings' sums added up
    by the database (one grouped read of the kept sums, not a row a pulse), the latest
    pulses read alone, only the pulses without kept sums or grid counted from answers."""
    if nothing_matches(scope):
        return Pulses(per_pulse=(), per_month=(), total=PulseSums(), asked=0)
    conditions = _in_scope(workspace_id, scope)
    first, last, how_many = (
        await db.execute(
            select(func.min(Pulse.sent_at), func.max(Pulse.sent_at), func.count()).where(
                *conditions
            )
        )
    ).one()
    if not how_many:
        return Pulses(per_pulse=(), per_month=(), total=PulseSums(), asked=0)
    zone = ZoneInfo(scope.timezone)
    assert first is not None and last is not None
    months = months_between(first, last, zone)
    index = month_index(Pulse.sent_at, months).label("month")
    kept_sums, kept_from = _kept_sums(db)
    grouped = (
        select(
            index,
            TrainingSession.name,
            func.min(instant(Pulse.sent_at)),
            func.sum(Pulse.recipients),
            *(func.sum(kept_sums[name]) for name in SUM_FIELDS),
        )
        .select_from(kept_from)
        .outerjoin(TrainingSession, TrainingSession.id == Pulse.session_id)
        .where(*conditions)
        # One month: the index is a constant, which GROUP BY would read as a position.
        .group_by(*((index,) if len(months) > 1 else ()), TrainingSession.name)
    )
    # The pulses whose sums or grid were not kept (open ones): counted from their answers.
    live_rows = await _sent(
        db, workspace_id, scope, or_(Pulse.final_sums.is_(None), Pulse.final_grid.is_(None))
    )
    live_sums, grid = await _figures(db, workspace_id, scope, live_rows)
    month_sums: dict[str, list[tuple[int, ...]]] = {}
    month_asked: dict[str, int] = {}
    training_sums: dict[tuple[bool, str], list[tuple[int, ...]]] = {}
    training_first: dict[tuple[bool, str], datetime] = {}
    training_asked: dict[tuple[bool, str], int] = {}

    def count(month: str, key: tuple[bool, str], at: datetime, asked: int) -> None:
        month_asked[month] = month_asked.get(month, 0) + asked
        training_asked[key] = training_asked.get(key, 0) + asked
        if key not in training_first or at < training_first[key]:
            training_first[key] = at

    for position, training, sent_at, asked, *kept in (await db.execute(grouped)).all():
        month = months[int(position)][0]
        key = (training is None, training if training is not None else COMMUNITY)
        values = tuple(int(n or 0) for n in kept)
        month_sums.setdefault(month, []).append(values)
        training_sums.setdefault(key, []).append(values)
        count(month, key, _aware(sent_at) or sent_at, int(asked or 0))
    for pulse in live_rows:
        if pulse.has_sums:
            continue  # its kept sums were added up above (only its grid was missing)
        training = pulse.training if pulse.session_id is not None else None
        key = (training is None, training if training is not None else COMMUNITY)
        month = month_of(pulse.sent_at, zone)
        month_sums.setdefault(month, []).append(live_sums[pulse.id])
        training_sums.setdefault(key, []).append(live_sums[pulse.id])
    every = [values for rows in month_sums.values() for values in rows]
    shown = await _sent(db, workspace_id, scope, limit=latest)
    shown_sums, _ = await _figures(db, workspace_id, scope, shown, grid=False)
    per_pulse = tuple(_point(pulse, shown_sums[pulse.id], zone) for pulse in shown)
    return Pulses(
        per_pulse=per_pulse,
        per_month=tuple(
            PulsePoint(month, first_day(month), _added(rows), month_asked.get(month, 0))
            for month, rows in sorted(month_sums.items())
        ),
        total=_added(every),
        asked=sum(month_asked.values()),
        grid=grid,
        named=await _page_named(db, workspace_id, scope) if named else (),
        per_training=tuple(
            PulsePoint(
                name,
                training_first[key].astimezone(zone).date(),
                _added(rows),
                training_asked.get(key, 0),
                community,
            )
            for key, rows in sorted(training_sums.items(), key=lambda i: training_first[i[0]])
            for community, name in (key,)
        ),
        pulses_in_scope=int(how_many),
    )


async def _page_named(db: AsyncSession, workspace_id: int, scope: Scope) -> tuple[NamedAnswer, ...]:
    """`_named` over the head of its queue: the pulses still answerable, and the latest
    closed ones (the newest answers are theirs); the whole queue only if that was not
    enough (a few thousand pulses to read and sort otherwise)."""
    until = func.coalesce(Pulse.closed_at, Pulse.cancelled_at)
    answerable = or_(Pulse.status.in_(ANSWERABLE), until.is_(None))
    head = await _sent(db, workspace_id, scope, answerable, sums=False)
    closed = await _sent(
        db, workspace_id, scope, ~answerable, sums=False, by=until, limit=CLOSED_HEAD
    )
    return await _named(
        db,
        [*head, *closed],
        rest=(lambda: _sent(db, workspace_id, scope, sums=False))
        if len(closed) == CLOSED_HEAD
        else None,
    )


def _point(pulse: Any, values: tuple[int, ...], zone: ZoneInfo) -> PulsePoint:
    """One pulse's point."""
    training = pulse.training if pulse.session_id is not None else None
    name = training if training is not None else COMMUNITY
    return PulsePoint(
        f"#{pulse.id} {name}",
        pulse.sent_at.astimezone(zone).date(),
        PulseSums(*values),
        pulse.recipients,
        training is None,
    )


def _added(rows: list[tuple[int, ...]]) -> PulseSums:
    """Sums given as tuples in SUM_FIELDS order, added up."""
    return PulseSums(*(sum(column) for column in zip(*rows, strict=True))) if rows else PulseSums()


async def _sent(
    db: AsyncSession,
    workspace_id: int,
    scope: Scope,
    *also: Any,
    limit: int | None = None,
    sums: bool = True,
    by: Any = None,
) -> list[Any]:
    """The pulses in scope (and matching `also`), in the order they were sent — the last
    `limit` ones when given —, with their session's name (`training`) and, with `sums`,
    their kept sums: the columns this section reads, as plain rows (thousands of pulses at
    scale: ORM objects would cost more than the query)."""
    if nothing_matches(scope):
        return []
    columns: list[Any] = [
        Pulse.id,
        Pulse.session_id,
        instant(Pulse.sent_at).label("sent_at"),
        Pulse.recipients,
        Pulse.status,
        instant(Pulse.closed_at).label("closed_at"),
        instant(Pulse.cancelled_at).label("cancelled_at"),
        TrainingSession.name.label("training"),
    ]
    if sums:
        columns += [
            Pulse.final_sums.is_not(None).label("has_sums"),
            Pulse.final_grid.is_not(None).label("has_grid"),
            # The kept sums read by the database's JSON functions (decoding thousands of
            # JSON documents in Python costs more than the whole query).
            *(Pulse.final_sums[name].as_integer().label(f"s_{name}") for name in SUM_FIELDS),
        ]
    query = (
        select(*columns)
        .outerjoin(TrainingSession, TrainingSession.id == Pulse.session_id)
        .where(*_in_scope(workspace_id, scope), *also)
    )
    if by is not None:  # the last `limit` by `by`, newest first
        return list(
            (await db.execute(query.order_by(by.desc(), Pulse.id.desc()).limit(limit))).all()
        )
    if limit is not None:
        # The last ones found by id first: the columns (JSON read) of those only.
        last = (
            select(Pulse.id)
            .where(*_in_scope(workspace_id, scope), *also)
            .order_by(Pulse.sent_at.desc(), Pulse.id.desc())
            .limit(limit)
        )
        query = query.where(Pulse.id.in_(last)).order_by(Pulse.sent_at, Pulse.id)
        return list((await db.execute(query)).all())
    return list((await db.execute(query.order_by(Pulse.sent_at, Pulse.id))).all())


def _in_scope(workspace_id: int, scope: Scope) -> list[Any]:
    """The conditions on `pulse` of the pulses sent in scope."""
    conditions = [
        Pulse.workspace_id == workspace_id,
        Pulse.sent_at.is_not(None),
        in_period(Pulse.sent_at, scope),
    ]
    if scope.session_ids is not None:
        conditions.append(Pulse.session_id.in_(scope.session_ids))
    return conditions


async def _figures(
    db: AsyncSession, workspace_id: int, scope: Scope, found: Sequence[Any], *, grid: bool = True
) -> tuple[dict[int, tuple[int, ...]], dict[tuple[int, int], int]]:
    """Each pulse's sums (kept at close, as `storage.pulses.results_sums` reads them), as
    a tuple in SUM_FIELDS order, and the (score, LSAT) grid of them all (kept at close
    since migration 0020, added up by the database); the rest counted at once."""
    counted = await stored.cells(db, [p.id for p in found if not (p.has_sums and p.has_grid)])
    sums: dict[int, tuple[int, ...]] = {}
    cells: dict[tuple[int, int], int] = {}
    for pulse in found:
        live = counted.get(pulse.id, {})
        # A closed pulse's kept sums win: its answers may have been erased since.
        if pulse.has_sums:
            kept = tuple(pulse[SUMS_AT : SUMS_AT + len(SUM_FIELDS)])
            sums[pulse.id] = kept if None not in kept else tuple(n or 0 for n in kept)
        else:
            counted_sums = stored.sums_of_cells(live)
            sums[pulse.id] = tuple(getattr(counted_sums, name) for name in SUM_FIELDS)
        if not pulse.has_grid:
            for (score, lsat), n in live.items():
                if lsat is not None:
                    cells[(score, lsat)] = cells.get((score, lsat), 0) + n
    # Every kept grid in scope (the page passes only the pulses without one: asked anyway).
    if grid:
        for score, lsat, n in await _kept_grid(db, workspace_id, scope):
            cells[(score, lsat)] = cells.get((score, lsat), 0) + n
    return sums, cells


def _kept_sums(db: AsyncSession) -> tuple[dict[str, Any], Any]:
    """Each kept sum of a pulse as an integer column, and what to select them from.

    PostgreSQL stores `final_sums` as JSON text and parses it again for each `->>`: one
    `json_to_record` per pulse reads all eleven at once (a third of the time at 7,000
    pulses). SQLite's json_extract is cheap enough field by field."""
    assert db.bind is not None
    if db.bind.dialect.name != "postgresql":
        return {name: Pulse.final_sums[name].as_integer() for name in SUM_FIELDS}, Pulse
    record = (
        func.json_to_record(cast(Pulse.final_sums, postgresql.JSON))
        .table_valued(*(column(name, Integer) for name in SUM_FIELDS))
        .render_derived(with_types=True)
    )
    joined = join(Pulse, record, true(), isouter=True)
    return {name: record.c[name] for name in SUM_FIELDS}, joined


async def _kept_grid(
    db: AsyncSession, workspace_id: int, scope: Scope
) -> list[tuple[int, int, int]]:
    """The kept (score, LSAT) counts of the pulses in scope, added up by the database over
    their JSON cells ([score, lsat or null, n]); cells without an LSAT left out."""
    assert db.bind is not None
    if db.bind.dialect.name == "postgresql":
        # As jsonb: parsed once per pulse, then each cell's parts read from the binary form
        # (`->>` on JSON text parses the cell again for each of its three parts).
        cells = func.jsonb_array_elements(cast(Pulse.final_grid, postgresql.JSONB)).table_valued(
            "value"
        )

        def part(index: int) -> Any:
            return cast(cells.c.value.op("->>")(index), Integer)

    else:
        cells = func.json_each(Pulse.final_grid).table_valued("value")

        def part(index: int) -> Any:
            return cast(func.json_extract(cells.c.value, f"$[{index}]"), Integer)

    score, lsat, n = part(0), part(1), part(2)
    query = (
        select(score, lsat, func.sum(n))
        .select_from(Pulse)
        .join(cells, true())
        .where(*_in_scope(workspace_id, scope), Pulse.final_grid.is_not(None), lsat.is_not(None))
        .group_by(score, lsat)
    )
    return [(int(a), int(b), int(c)) for a, b, c in (await db.execute(query)).all()]


def _answered_until(pulse: Any) -> datetime | None:
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
    db: AsyncSession,
    found: Sequence[Any],
    labels: dict[int, str] | None = None,
    *,
    rest: Callable[[], Awaitable[Sequence[Any]]] | None = None,
) -> tuple[NamedAnswer, ...]:
    """The latest NAMED_SHOWN answers across the pulses, with what each recommended.

    One query reads the latest answers of each pulse (a UNION ALL of LIMITed index
    reads), the pulses that can be answered still first, then by closing date: a pulse
    closed before the oldest answer kept so far cannot have newer ones, so one query is
    usually enough however many pulses the scope has."""
    # A pulse still answerable is bounded by its latest answer so far (one grouped read of
    # their answers' index): the pulses open at once (hundreds in a large workspace) are
    # then read newest first and those that cannot hold a newer answer are left unread.
    if labels is None:
        labels = {
            p.id: f"#{p.id} {p.training if p.session_id is not None and p.training else COMMUNITY}"
            for p in found
        }
    untils = {p.id: _answered_until(p) for p in found}
    open_ids = [pulse_id for pulse_id, until in untils.items() if until is None]
    latest: dict[int, datetime] = {}
    if open_ids:
        newest = (
            select(PulseAnswer.pulse_id, func.max(PulseAnswer.updated_at))
            .where(PulseAnswer.pulse_id.in_(open_ids))
            .group_by(PulseAnswer.pulse_id)
        )
        latest = {int(pid): at for pid, at in (await db.execute(newest)).all() if at is not None}
    never = datetime.min.replace(tzinfo=UTC)

    bounds = {
        pulse_id: until if until is not None else _aware(latest.get(pulse_id)) or never
        for pulse_id, until in untils.items()
    }

    def bound(pulse: Any) -> datetime:
        return bounds[pulse.id]

    queue = sorted(
        (p for p in found if untils[p.id] is not None or p.id in latest),
        key=bound,
        reverse=True,
    )
    best: list[AnswerRow] = []
    for start in range(0, len(queue), NAMED_CHUNK):
        if len(best) >= NAMED_SHOWN and best[-1][6].astimezone(UTC) > bound(queue[start]):
            break
        chunk = queue[start : start + NAMED_CHUNK]
        parts = [_latest_of(p.id).subquery() for p in chunk]
        union = union_all(*(select(*part.c) for part in parts))
        rows = [tuple(row) for row in (await db.execute(union)).all()]
        best = sorted([*best, *rows], key=lambda r: (r[6], r[0]), reverse=True)[:NAMED_SHOWN]
    else:
        if rest is not None:  # `found` was only the head of the queue: read it whole
            return await _named(db, await rest())
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


def _aware(at: datetime | None) -> datetime | None:
    """An instant as an aware UTC datetime (SQLite's aggregates may come back naive)."""
    if at is None or at.tzinfo is not None:
        return at
    return at.replace(tzinfo=UTC)


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
