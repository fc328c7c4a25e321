"""The scheduler's erasure sweeps: the second step of `forget me` (storage/erasure.py).

Not per workspace: each sweep is a row of its own, all due ones in one transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.jobs.job import Job
from storage import erasure

log = logging.getLogger(__name__)


def job(db_sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine) -> Job:
    """Due sweeps, then the write-ahead log truncated (erased data leaves no copy there)."""

    async def run_due(now: datetime) -> int:
        done = 0
        async with db_sessions() as db, db.begin():
            for row in await erasure.due_sweeps(db, now):
                await erasure.sweep(db, row)
                done += 1
        if done:
            await erasure.truncate_wal(engine)
            log.info("erasure_swept", extra={"count": done})
        return done

    async def next_due() -> datetime | None:
        async with db_sessions() as db:
            return await erasure.next_sweep(db)

    return Job(run_due, next_due)
