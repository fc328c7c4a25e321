"""The scheduler's hourly badge evaluation: "days a member" criteria pass with time.

Everyone is evaluated in one bulk query (storage/badges.py); each workspace's promotions
are then announced in the context of that workspace, as a command's are.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.handlers.badges import announce, award_due
from bot.jobs.job import Job, in_workspace
from bot.settings import Settings
from storage.badges import NewAward

EVALUATE_EVERY = timedelta(hours=1)


async def promote_everyone(db: AsyncSession, settings: Settings, now: datetime) -> list[NewAward]:
    """Award what is due to everyone, in every workspace, and announce each promotion."""
    made = await award_due(db, settings, now)
    by_workspace: dict[int, list[NewAward]] = {}
    for award in made:
        by_workspace.setdefault(award.workspace_id, []).append(award)
    for workspace_id, awards in by_workspace.items():
        ctx = await in_workspace(db, settings, workspace_id, now)
        assert ctx is not None
        await announce(ctx, awards)
    return made


def job(db_sessions: async_sessionmaker[AsyncSession], settings: Settings) -> Job:
    """Everyone evaluated once an hour (the first time at once, when the scheduler starts)."""
    state: dict[str, datetime | None] = {"next": None}

    async def run_due(now: datetime) -> int:
        due = state["next"]
        if due is not None and now < due:
            return 0
        async with db_sessions() as db, db.begin():
            made = await promote_everyone(db, settings, now)
        state["next"] = now + EVALUATE_EVERY
        return len(made)

    async def next_due() -> datetime | None:
        return state["next"]

    return Job(run_due, next_due)
