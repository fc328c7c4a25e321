"""What the scheduler runs (a job: its due work and when it is next due), and the context
a job's work in one workspace runs with."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.context import WorkspaceContext
from bot.scheduling.service import DueWork, NextDue
from bot.settings import Settings
from storage.models import Workspace


class Job(NamedTuple):
    """One kind of scheduled work, as `Scheduler.register` takes it: `due_work(now)` runs
    what is due and says how much it did; `next_due()` says when to wake up for it next."""

    due_work: DueWork
    next_due: NextDue


async def in_workspace(
    db: AsyncSession, settings: Settings, workspace_id: int, now: datetime
) -> WorkspaceContext | None:
    """The context of due work in workspace `workspace_id`, in the transaction of `db`
    (None when the workspace is gone)."""
    workspace = await db.get(Workspace, workspace_id)
    if workspace is None:
        return None
    return WorkspaceContext.for_workspace(db, settings, workspace, now)
