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
  left by then. A member who left lost their join date (`leave` clears it): they count
  from when the bot first knew them until they left.
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
from storage.activity import COUNTERS, week_of
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


async def _training_names(db: AsyncSession, workspace_id: int) -> dict[int, str]:
    query = select(TrainingSession.id, TrainingSession.name).where(
        TrainingSession.workspace_id == workspace_id
    )
    return {int(i): name for i, name in (await db.execute(query)).all()}


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


async def activity(db: AsyncSession, workspace_id: int, scope: Scope) -> Activity:
    """The scope's LGC density per week, contributors, and heat map."""
    first, last = week_range(scope)
    names = await _training_names(db, workspace_id)

    # The rollup, summed per week and session (a few rows per week).
    rollup = WeeklyActivity
    query = select(
        rollup.week, rollup.session_id, *(func.sum(getattr(rollup, c)) for c in COUNTERS)
    ).where(rollup.workspace_id == workspace_id)
    query = _cohort(query, scope, rollup.session_id)
    if first is not None:
        query = query.where(rollup.week >= first)
    if last is not None:
        query = query.where(rollup.week <= last)
    query = query.group_by(rollup.week, rollup.session_id)
    per_week: dict[date, list[int]] = defaultdict(lambda: [0] * len(COUNTERS))
    per_training: dict[tuple[date, str], int] = defaultdict(int)
    for week, session_id, *counts in (await db.execute(query)).all():
        day = _as_date(week)
        totals = per_week[day]
        for index, n in enumerate(counts):
            totals[index] += int(n or 0)
        name = names.get(int(session_id))
        if name is not None:
            per_training[(day, name)] += int(counts[0] or 0) + int(counts[3] or 0)

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

    sizes = await _community_sizes(db, workspace_id, scope, weeks, names)
    rows = tuple(
        ActivityWeek(day, sizes.get((day, None), 0), *per_week.get(day, [0] * len(COUNTERS)))
        for day in weeks
    )
    heat = {
        (day, name): per_training.get((day, name), 0) / size
        for (day, name), size in sizes.items()
        if name is not None and size > 0
    }
    members, contributors = await _contributors(db, workspace_id, scope)
    return Activity(weeks=rows, members=members, contributors=contributors, heat=heat)


async def _community_sizes(
    db: AsyncSession,
    workspace_id: int,
    scope: Scope,
    weeks: list[date],
    names: dict[int, str],
) -> dict[tuple[date, str | None], int]:
    """(week, training) → the cohort's members that week; (week, None) for the whole scope.

    Two GROUP BYs on `ix_member_cohort` (joins and leaves per week and session), summed up
    in Python: no per-week count over the member table."""
    if not weeks:
        return {}
    started = func.coalesce(Member.joined_at, Member.created_at)
    community = or_(Member.joined_at.is_not(None), Member.left_at.is_not(None))
    session = func.coalesce(Member.joined_session_id, 0)
    changes: dict[str | None, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for column, sign in ((started, 1), (Member.left_at, -1)):
        condition = community if sign == 1 else Member.left_at.is_not(None)
        query = select(session, week_of(column), func.count()).where(
            Member.workspace_id == workspace_id, condition
        )
        query = _cohort(query, scope, Member.joined_session_id)
        query = query.group_by(session, week_of(column))
        for session_id, week, n in (await db.execute(query)).all():
            day = _as_date(week)
            changes[None][day] += sign * int(n)
            name = names.get(int(session_id))
            if name is not None:
                changes[name][day] += sign * int(n)
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
