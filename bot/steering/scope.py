"""A dashboard view's filters resolved against the database: which sessions, which instants,
and what the filter menus offer.

- `session` (a join code) must name a session of the workspace: otherwise FilterError (the
  page says how to write it and keeps the other filters).
- `training` is a training's name, exactly as the menu offers it (sessions are named after
  their training): all its sessions. A name no session has gives an empty scope (the page
  says nothing matches), not an error: a shared link may outlive a renamed training.
- Both: the session, if it is of that training; else nothing.
- `from`/`to` are days in the viewer's time zone: the period runs from `from` at midnight
  there to the midnight after `to`, as UTC instants. Weeks stay UTC weeks
  (storage/activity.py): the zone only cuts the days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.steering.filters import FilterError, Filters
from bot.steering.model import Scope
from storage.models import TrainingSession

# The session menu lists the newest sessions only (a workspace may run thousands).
MENU_SESSIONS = 200


def zone_of(timezone: str | None) -> ZoneInfo:
    """The viewer's zone; UTC when unknown or malformed."""
    try:
        return ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=zone).astimezone(UTC)


async def resolve(db: AsyncSession, workspace_id: int, filters: Filters, timezone: str) -> Scope:
    """The scope of `filters` in the workspace, the period in the viewer's `timezone`."""
    session_ids: tuple[int, ...] | None = None
    if filters.session:
        query = select(TrainingSession.id, TrainingSession.name).where(
            TrainingSession.workspace_id == workspace_id,
            TrainingSession.code == filters.session.upper(),
        )
        found = (await db.execute(query)).one_or_none()
        if found is None:
            raise FilterError("dashboard.filter_session_unknown", "session")
        session_id, name = found
        same_training = filters.training is None or name == filters.training
        session_ids = (int(session_id),) if same_training else ()
    elif filters.training:
        by_name = (
            select(TrainingSession.id)
            .where(
                TrainingSession.workspace_id == workspace_id,
                TrainingSession.name == filters.training,
            )
            .order_by(TrainingSession.id)
        )
        session_ids = tuple(int(i) for i in (await db.execute(by_name)).scalars())
    zone = zone_of(timezone)
    start = _midnight(filters.start, zone) if filters.start else None
    end = _midnight(filters.end + timedelta(days=1), zone) if filters.end else None
    trainings = (
        await db.execute(
            select(TrainingSession.name)
            .where(TrainingSession.workspace_id == workspace_id)
            .distinct()
            .order_by(TrainingSession.name)
        )
    ).scalars()
    sessions = (
        await db.execute(
            select(TrainingSession.code, TrainingSession.name, TrainingSession.opened_at)
            .where(TrainingSession.workspace_id == workspace_id)
            .order_by(TrainingSession.opened_at.desc(), TrainingSession.id.desc())
            .limit(MENU_SESSIONS)
        )
    ).all()
    sessions_total = None
    if len(sessions) >= MENU_SESSIONS:  # the menu is cut: say of how many
        sessions_total = (
            await db.execute(
                select(func.count()).where(TrainingSession.workspace_id == workspace_id)
            )
        ).scalar_one()
    return Scope(
        filters=filters,
        session_ids=session_ids,
        start=start,
        end=end,
        timezone=zone.key,
        trainings=tuple(trainings),
        sessions=tuple((code, name, opened_at) for code, name, opened_at in sessions),
        sessions_total=sessions_total,
    )
