"""Scheduled work: what the elected scheduler runs when it falls due.

Each job module holds one kind of due work and the finder of when it is next due; the
work it does in one workspace runs with a `WorkspaceContext` (bot/core/context.py), the
same shape a command's `Context` extends, so a job calls the helpers commands call
(posting a challenge's run, a pulse's batch, a mentoring round) and the other way round.
Handlers never import jobs.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.jobs import badges, challenges, erasure, mentoring, pulses, voice
from bot.jobs.job import Job
from bot.scheduling.service import Scheduler
from bot.settings import Settings


def all_jobs(
    scheduler: Scheduler,
    db_sessions: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    settings: Settings,
) -> list[Job]:
    """Every job, in the order each tick runs them."""
    return [
        challenges.job(db_sessions, settings, scheduler.watch()),
        pulses.job(db_sessions, settings),
        badges.job(db_sessions, settings),
        mentoring.job(db_sessions, settings),
        erasure.job(db_sessions, engine),
        voice.job(db_sessions, settings),
    ]


def register(
    scheduler: Scheduler,
    db_sessions: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    settings: Settings,
) -> None:
    """Give the scheduler every job (the retention purge is registered with its own object,
    which tests run directly: bot/retention.py)."""
    for job in all_jobs(scheduler, db_sessions, engine, settings):
        scheduler.register(job.due_work, job.next_due)
