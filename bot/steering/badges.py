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

Levels no longer on the configured ladder are left out. The database groups the awards
by month and by days (a few rows a level come back), reading indexes only
(ix_member_level, ix_badge_award_figures; days kept with each award since migration 0020).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select, union_all
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


async def badges(db: AsyncSession, workspace_id: int, scope: Scope, ladder: Ladder) -> Badges:
    """Each level of `ladder` (lowest first), promotions per month and level, and the
    members in scope without a level."""
    ids = [level.id for level in ladder.levels]
    if nothing_matches(scope) or not ids:
        return Badges(levels=tuple(LevelFigures(i, 0, 0, None) for i in ids))
    holders, without = await _holders(db, workspace_id, scope, ids)
    first, last = await _span(db, workspace_id, scope, ids)
    days = await _days(db, workspace_id, scope, ids) if first is not None else {}
    per_month = await _per_month(db, workspace_id, scope, ids, first, last)
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


def _awards(workspace_id: int, scope: Scope, ids: list[str]) -> Any:
    """The awards that count: in the workspace, on the ladder, not revoked, in the period,
    of members in scope."""
    return and_(
        BadgeAward.workspace_id == workspace_id,
        BadgeAward.revoked_at.is_(None),
        BadgeAward.level.in_(ids),
        in_period(BadgeAward.awarded_at, scope),
        member_in_scope(BadgeAward.member_id, scope),
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
    """The first and the last award that count: one min() and one max() a level, each an
    index seek (ix_badge_award_figures) rather than a scan."""
    parts = [
        select(aggregate(BadgeAward.awarded_at).label("at")).where(
            _awards(workspace_id, scope, [level])
        )
        for level in ids
        for aggregate in (func.min, func.max)
    ]
    found = [at for (at,) in (await db.execute(union_all(*parts))).all() if at is not None]
    instants = [_instant(at) for at in found]
    return (min(instants), max(instants)) if instants else (None, None)


async def _days(
    db: AsyncSession, workspace_id: int, scope: Scope, ids: list[str]
) -> dict[str, dict[int | None, int]]:
    """Per level, how many awards took how many whole days after joining (None: joining
    unknown)."""
    inner = (
        select(BadgeAward.level.label("level"), _days_after_joining(db).label("days"))
        .where(_awards(workspace_id, scope, ids))
        .subquery()
    )
    query = select(inner.c.level, inner.c.days, func.count()).group_by(inner.c.level, inner.c.days)
    found: dict[str, dict[int | None, int]] = {}
    for level, days, n in (await db.execute(query)).all():
        # Awards granted before a (re)join: no negative durations.
        key = max(0, int(days)) if days is not None else None
        histogram = found.setdefault(str(level), {})
        histogram[key] = histogram.get(key, 0) + int(n)
    return found


def _instant(value: Any) -> datetime:
    """An instant min()/max() gave back: aware (PostgreSQL), or SQLite's naive UTC text."""
    if not isinstance(value, datetime):
        value = datetime.fromisoformat(str(value))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def _per_month(
    db: AsyncSession,
    workspace_id: int,
    scope: Scope,
    ids: list[str],
    first: datetime | None,
    last: datetime | None,
) -> dict[tuple[str, str], int]:
    if first is None or last is None:
        return {}
    months = months_between(first, last, ZoneInfo(scope.timezone))
    inner = (
        select(
            BadgeAward.level.label("level"),
            month_index(BadgeAward.awarded_at, months).label("month"),
        )
        .where(_awards(workspace_id, scope, ids))
        .subquery()
    )
    query = select(inner.c.level, inner.c.month, func.count()).group_by(
        inner.c.level, inner.c.month
    )
    return {
        (months[int(month)][0], str(level)): int(n)
        for level, month, n in (await db.execute(query)).all()
    }


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
