"""The badges section: the ladder's distribution, promotions per month, time to each level.

What counts (choices a steering committee can read back):

- holders: the community's members (joined, not left) whose highest level held now is
  that level (`member.level`, which the bot keeps at the highest award not revoked); a
  current state, so the period does not narrow it. `without_level`: members with none.
- awarded, per month, median days: the awards of the period to members in scope, **not
  revoked**. A revoked award was withdrawn (a mistake, an abuse): counting it would show
  promotions that no longer stand, and count twice a member revoked then granted again.
  A promotion is counted once, in the month (in the viewer's time zone) it was awarded,
  whoever awarded it (the ladder's criteria or an animator's grant).
- median days: whole days from the member's joining (`member.joined_at`) to the award,
  over those awards; members who left (their joining forgotten) are left out of it.

Levels no longer on the configured ladder are left out. The database counts, reading
indexes only and in their order (no sort of the awards): the members per level
(ix_member_level), the awards per level and month (ranges of ix_badge_award_months) and
per level and days after joining (ix_badge_award_days; the days are kept with each award
since migration 0020). A training or a session (whose members must be looked up), and
PostgreSQL (which groups by hashing, not by sorting), read them in one grouped scan.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, literal_column, select, true, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from bot.ladder import Ladder
from bot.steering.in_scope import (
    in_period,
    member_in_scope,
    month_index,
    months_between,
    nothing_matches,
)
from bot.steering.model import Badges, LevelFigures, Scope
from storage.badges import whole_days
from storage.models import BadgeAward, Member

# The whole workspace's months are counted by ranges, one count per level and month: up to
# this many (a compound SELECT; SQLite allows 500), else by one grouped scan.
MAX_RANGES = 400


async def badges(db: AsyncSession, workspace_id: int, scope: Scope, ladder: Ladder) -> Badges:
    """Each level of `ladder` (lowest first), promotions per month and level, and the
    members in scope without a level."""
    ids = [level.id for level in ladder.levels]
    if nothing_matches(scope) or not ids:
        return Badges(levels=tuple(LevelFigures(i, 0, 0, None) for i in ids))
    holders, without = await _holders(db, workspace_id, scope, ids)
    first, last = await _span(db, workspace_id, scope, ids)
    per_month: dict[tuple[str, str], int] = {}
    days: dict[str, dict[int | None, int]] = {}
    if first is not None and last is not None:
        months = months_between(first, last, ZoneInfo(scope.timezone))
        if _by_ranges(db) and scope.session_ids is None and len(ids) * len(months) <= MAX_RANGES:
            per_month = await _per_month_by_ranges(db, workspace_id, scope, ids, months)
            days = await _days_in_order(db, workspace_id, scope, ids)
        else:
            per_month, days = await _grouped(db, workspace_id, scope, ids, months)
    levels = []
    for level in ids:
        histogram = days.get(level, {})
        levels.append(
            LevelFigures(
                level=level,
                holders=holders.get(level, 0),
                awarded=sum(histogram.values()),
                median_days=_median({d: n for d, n in histogram.items() if d is not None}),
            )
        )
    return Badges(levels=tuple(levels), per_month=per_month, without_level=without)


def _by_ranges(db: AsyncSession) -> bool:
    """Whether to count by index ranges: SQLite groups by sorting every row, PostgreSQL
    hashes them (one scan is then cheaper than many range counts)."""
    bind = db.bind
    return bind is not None and bind.dialect.name == "sqlite"


def _awards(workspace_id: int, scope: Scope, levels: list[str], *, members: bool = True) -> Any:
    """The awards that count: in the workspace, on the ladder, not revoked, in the period,
    of members in scope (unless `members` is False: a bound for any scope)."""
    return and_(
        BadgeAward.workspace_id == workspace_id,
        BadgeAward.revoked_at.is_(None),
        BadgeAward.level.in_(levels) if len(levels) > 1 else BadgeAward.level == levels[0],
        in_period(BadgeAward.awarded_at, scope),
        member_in_scope(BadgeAward.member_id, scope) if members else true(),
    )


async def _holders(
    db: AsyncSession, workspace_id: int, scope: Scope, ids: list[str]
) -> tuple[dict[str, int], int]:
    query = (
        select(Member.level, func.count())
        .where(
            Member.workspace_id == workspace_id,
            Member.joined_at.is_not(None),
            Member.left_at.is_(None),
            member_in_scope(Member.id, scope),
        )
        .group_by(Member.level)
    )
    counted = {level: int(n) for level, n in (await db.execute(query)).all()}
    return {level: n for level, n in counted.items() if level in ids}, counted.get(None, 0)


def _days_after_joining(db: AsyncSession) -> Any:
    """An award's whole days after joining: kept with the award since migration 0020, else
    (bulk loads that left it out) computed from the member's joining, for those only."""
    live = (
        select(whole_days(db, BadgeAward.awarded_at, Member.joined_at))
        .where(Member.id == BadgeAward.member_id)
        .scalar_subquery()
    )
    return func.coalesce(BadgeAward.joined_days, live)


async def _span(
    db: AsyncSession, workspace_id: int, scope: Scope, ids: list[str]
) -> tuple[datetime | None, datetime | None]:
    """The first and the last award of the period in the workspace (a bound for every
    scope): one min() and one max() a level, each an index seek, not a scan."""
    parts = [
        select(aggregate(BadgeAward.awarded_at).label("at")).where(
            _awards(workspace_id, scope, [level], members=False)
        )
        for level in ids
        for aggregate in (func.min, func.max)
    ]
    found = [at for (at,) in (await db.execute(union_all(*parts))).all() if at is not None]
    instants = [_instant(at) for at in found]
    return (min(instants), max(instants)) if instants else (None, None)


async def _per_month_by_ranges(
    db: AsyncSession,
    workspace_id: int,
    scope: Scope,
    ids: list[str],
    months: list[tuple[str, datetime]],
) -> dict[tuple[str, str], int]:
    """Promotions per month and level: one count of an index range each (the month's
    part of the period: one range, which the index can seek)."""
    everything = replace(scope, start=None, end=None)
    parts: list[Any] = []
    for level in ids:
        for index, (_, begins) in enumerate(months):
            ends = months[index + 1][1] if index + 1 < len(months) else None
            if scope.start is not None and begins < scope.start:
                begins = scope.start
            if scope.end is not None and (ends is None or ends > scope.end):
                ends = scope.end
            in_month = BadgeAward.awarded_at >= begins
            if ends is not None:
                in_month = in_month & (BadgeAward.awarded_at < ends)
            # Each row says which (level, month) it counts: a compound SELECT's rows need
            # not come in its terms' order (PostgreSQL may run them in parallel).
            parts.append(
                select(literal_column(str(len(parts))), func.count()).where(
                    _awards(workspace_id, everything, [level]), in_month
                )
            )
    found: dict[tuple[str, str], int] = {}
    for position, n in (await db.execute(union_all(*parts))).all():
        if n:
            level, index = ids[int(position) // len(months)], int(position) % len(months)
            found[(months[index][0], level)] = int(n)
    return found


async def _days_in_order(
    db: AsyncSession, workspace_id: int, scope: Scope, ids: list[str]
) -> dict[str, dict[int | None, int]]:
    """Per level, how many awards took how many whole days after joining: the kept days
    read in the index's order, the others (bulk loads) computed."""
    kept = (
        select(BadgeAward.level, BadgeAward.joined_days, func.count())
        .where(_awards(workspace_id, scope, ids), BadgeAward.joined_days.is_not(None))
        .group_by(BadgeAward.level, BadgeAward.joined_days)
    )
    inner = (
        select(BadgeAward.level.label("level"), _days_after_joining(db).label("days"))
        .where(_awards(workspace_id, scope, ids), BadgeAward.joined_days.is_(None))
        .subquery()
    )
    computed = select(inner.c.level, inner.c.days, func.count()).group_by(
        inner.c.level, inner.c.days
    )
    found: dict[str, dict[int | None, int]] = {}
    for query in (kept, computed):
        for level, days, n in (await db.execute(query)).all():
            _count(found, str(level), days, int(n))
    return found


async def _grouped(
    db: AsyncSession,
    workspace_id: int,
    scope: Scope,
    ids: list[str],
    months: list[tuple[str, datetime]],
) -> tuple[dict[tuple[str, str], int], dict[str, dict[int | None, int]]]:
    """Both, from one grouped scan of the scope's awards (a training's, a session's); the
    awards without kept days (bulk loads) apart, so that the main scan has no subquery (on
    PostgreSQL, its estimated cost would start the JIT compiler: half a second)."""
    per_month: dict[tuple[str, str], int] = {}
    days: dict[str, dict[int | None, int]] = {}
    for kept in (True, False):
        inner = (
            select(
                BadgeAward.level.label("level"),
                month_index(BadgeAward.awarded_at, months).label("month"),
                (BadgeAward.joined_days if kept else _days_after_joining(db)).label("days"),
            )
            .where(
                _awards(workspace_id, scope, ids),
                BadgeAward.joined_days.is_not(None) if kept else BadgeAward.joined_days.is_(None),
            )
            .subquery()
        )
        query = select(inner.c.level, inner.c.month, inner.c.days, func.count()).group_by(
            inner.c.level, inner.c.month, inner.c.days
        )
        for level, month, after, n in (await db.execute(query)).all():
            key = (months[int(month)][0], str(level))
            per_month[key] = per_month.get(key, 0) + int(n)
            _count(days, str(level), after, int(n))
    return per_month, days


def _count(found: dict[str, dict[int | None, int]], level: str, days: Any, n: int) -> None:
    # Awards granted before a (re)join: no negative durations.
    key = max(0, int(days)) if days is not None else None
    histogram = found.setdefault(level, {})
    histogram[key] = histogram.get(key, 0) + n


def _instant(value: Any) -> datetime:
    """An instant min()/max() gave back: aware (PostgreSQL), or SQLite's naive UTC text."""
    if not isinstance(value, datetime):
        value = datetime.fromisoformat(str(value))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _median(histogram: dict[int, int]) -> float | None:
    """The median of values given as {value: how many times}; None when empty."""
    total = sum(histogram.values())
    if not total:
        return None
    wanted = ((total - 1) // 2, total // 2)
    found: list[int] = []
    seen = 0
    for value in sorted(histogram):
        count = histogram[value]
        found += [value for position in wanted if seen <= position < seen + count]
        seen += count
    return sum(found) / 2
