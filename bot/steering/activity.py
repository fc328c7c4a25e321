"""Learner-generated content (LGC) density week by week, who contributed at least once, and
the week × training heat map — read from the rollup (storage/activity.py), never from the
contributions themselves.

Choices, written down:

- Weeks are UTC weeks named by their Monday (the rollup's); a period shows every week its
  days touch, whole (its days as the viewer chose them: Monday to Sunday is one week).
  Without a period: from the first week with activity to the last.
- For a training or a session, the scope's members are its cohort: the members who joined
  the community through those sessions (`member.joined_session_id`), which is how the
  rollup files contributions. A learner who later takes another training stays in the
  cohort of the session that brought them in (and moves to a new one only if they leave
  and join again through it), so that numerator and denominator always count the same
  people. The funnel, per session, counts every participant.
- `members` of a week: the cohort's members who had joined by the week's end and had not
  left by then, summed from the rollup's arrivals and departures (never from the member
  table). A member who left lost their join date (`leave` clears it): they count from
  when the bot first knew them until they left.
- `Activity.members`: the same community at the period's end (now without one);
  `contributors`: those of them with a contribution not hidden made before that end (at
  any time: "contributed at least once").
- Heat map: (week, training) → contributions (answers + shares) per member of that
  training's cohort that week; trainings are session names; weeks without members are
  left out.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.steering.model import Activity, ActivityWeek, Scope
from storage.activity import ALL_COUNTERS, COUNTERS
from storage.models import Member, TrainingSession, WeeklyActivity

WEEK = timedelta(days=7)


def week_range(scope: Scope) -> tuple[date | None, date | None]:
    """The Mondays of the first and last weeks the period's days touch (its days as the
    viewer chose them: a period from Monday to Sunday is one week in any zone)."""
    first = scope.filters.start
    last = scope.filters.end
    return (
        first - timedelta(days=first.weekday()) if first else None,
        last - timedelta(days=last.weekday()) if last else None,
    )


def _cohort(query: Any, scope: Scope, column: Any) -> Any:
    if scope.session_ids is None:
        return query
    return query.where(column.in_(scope.session_ids or (-1,)))


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


async def activity(
    db: AsyncSession, workspace_id: int, scope: Scope, *, trainings: int | None = None
) -> Activity:
    """The scope's LGC density per week, contributors, and heat map; with `trainings` (the
    page), the heat map holds only that many trainings, the biggest (most members in the
    last week, then most contributions), and `heat_trainings` says how many there are."""
    first, last = week_range(scope)

    # The rollup summed per week and training, on its covering index: a few rows per week.
    # From the first week on (no lower bound): a week's community adds up every arrival and
    # departure before it.
    rollup = WeeklyActivity
    query = (
        select(
            rollup.week,
            TrainingSession.name,
            *(func.sum(getattr(rollup, c)) for c in ALL_COUNTERS),
        )
        .outerjoin(TrainingSession, TrainingSession.id == rollup.session_id)
        .where(rollup.workspace_id == workspace_id)
    )
    query = _cohort(query, scope, rollup.session_id)
    if last is not None:
        query = query.where(rollup.week <= last)
    query = query.group_by(rollup.week, TrainingSession.name)
    lgc = len(COUNTERS)
    per_week: dict[date, list[int]] = defaultdict(lambda: [0] * lgc)
    per_training: dict[tuple[date, str], int] = defaultdict(int)
    changes: dict[str | None, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for week, name, *sums in (await db.execute(query)).all():
        day = _as_date(week)
        counts = [int(n or 0) for n in sums]
        if any(counts[:lgc]) and (first is None or day >= first):
            totals = per_week[day]
            for index in range(lgc):
                totals[index] += counts[index]
            if name is not None:
                per_training[(day, name)] += counts[0] + counts[3]  # answers + shares
        arrivals, departures = counts[lgc], counts[lgc + 1]
        if arrivals or departures:
            for key in (None, name) if name is not None else (None,):
                changes[key][day] += arrivals - departures

    if first is None and per_week:
        first = min(per_week)
    if last is None and per_week:
        last = max(per_week)
    weeks: list[date] = []
    if first is not None and last is not None:
        day = first
        while day <= last:
            weeks.append(day)
            day += WEEK

    sizes = _community_sizes(changes, weeks)
    rows = tuple(
        ActivityWeek(day, sizes.get((day, None), 0), *per_week.get(day, [0] * lgc)) for day in weeks
    )
    heat = {
        (day, name): per_training.get((day, name), 0) / size
        for (day, name), size in sizes.items()
        if name is not None and size > 0
    }
    heat_trainings = None
    if trainings is not None:
        names = {name for _, name in heat}
        heat_trainings = len(names)
        if len(names) > trainings:
            last_week = weeks[-1] if weeks else None
            kept = set(_biggest(names, sizes, per_training, last_week)[:trainings])
            heat = {key: value for key, value in heat.items() if key[1] in kept}
    members, contributors = await _contributors(db, workspace_id, scope)
    return Activity(
        weeks=rows,
        members=members,
        contributors=contributors,
        heat=heat,
        heat_trainings=heat_trainings,
    )


def _biggest(
    names: set[str],
    sizes: dict[tuple[date, str | None], int],
    per_training: dict[tuple[date, str], int],
    last: date | None,
) -> list[str]:
    """The trainings, biggest first: most members in the last week, then most
    contributions over the weeks, then by name."""
    contributions: dict[str, int] = defaultdict(int)
    for (_, name), n in per_training.items():
        contributions[name] += n
    return sorted(
        names,
        key=lambda name: (
            -(sizes.get((last, name), 0) if last is not None else 0),
            -contributions.get(name, 0),
            name,
        ),
    )


def _community_sizes(
    changes: dict[str | None, dict[date, int]], weeks: list[date]
) -> dict[tuple[date, str | None], int]:
    """(week, training) → the cohort's members that week; (week, None) for the whole
    scope: the running sum of arrivals less departures up to each week."""
    sizes: dict[tuple[date, str | None], int] = {}
    for key, by_week in changes.items():
        ordered = sorted(by_week.items())
        running, index = 0, 0
        for day in weeks:
            while index < len(ordered) and ordered[index][0] <= day:
                running += ordered[index][1]
                index += 1
            sizes[(day, key)] = running
    return sizes


async def _contributors(db: AsyncSession, workspace_id: int, scope: Scope) -> tuple[int, int]:
    """The community at the period's end (now without one), and how many of them had
    contributed by then."""
    end: datetime | None = scope.end
    members: ColumnElement[bool]
    contributed: ColumnElement[bool]
    if end is None:
        members = Member.joined_at.is_not(None)
        contributed = Member.first_contributed_at.is_not(None)
    else:
        started = func.coalesce(Member.joined_at, Member.created_at)
        members = (
            or_(Member.joined_at.is_not(None), Member.left_at.is_not(None))
            & (started < end)
            & or_(Member.left_at.is_(None), Member.left_at >= end)
        )
        contributed = Member.first_contributed_at < end
    counted = (
        select(
            func.count(),
            func.coalesce(func.sum(case((contributed, 1), else_=0)), 0),
        )
        .select_from(Member)
        .where(Member.workspace_id == workspace_id, members)
    )
    counted = _cohort(counted, scope, Member.joined_session_id)
    total, contributors = (await db.execute(counted)).one()
    return int(total), int(contributors)
