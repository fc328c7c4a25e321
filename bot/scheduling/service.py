"""The scheduler: APScheduler runs a tick; each tick finds due work in the database.

The database is the source of truth (each challenge's next run, every occurrence);
APScheduler's AsyncIOScheduler only wakes the process up, with an importable bound
method and an in-memory job store (nothing pickled). Due work is found against the
core's clock, so moving that clock forward runs what became due at once, exactly as
the passing of real time does. See ../shared/DESIGN.md: APScheduler 3 must not share
a job store between processes, and silently skips late runs by default — here a late
run is the database's business (posted if within the grace period, else skipped with
a reason), and unique keys make each occurrence happen once even with replicas.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import Clock

log = logging.getLogger(__name__)

DueWork = Callable[[datetime], Awaitable[int]]
TICK_SECONDS = 1.0


class Scheduler:
    """Runs every registered due-work finder on each tick."""

    def __init__(self, clock: Clock, on_work: Callable[[], None] | None = None) -> None:
        self._clock = clock
        self._work: list[DueWork] = []
        self._on_work = on_work or (lambda: None)
        self._lock = asyncio.Lock()
        self._apscheduler: AsyncIOScheduler | None = None

    def register(self, work: DueWork) -> None:
        """Add a finder of due work (challenges now; pulses and check-ins later)."""
        self._work.append(work)

    async def tick(self, now: datetime | None = None) -> int:
        """Run what is due at `now` (default: the clock's time); return how much ran."""
        async with self._lock:  # one tick at a time in this process
            moment = now or self._clock.now()
            done = 0
            for work in self._work:
                try:
                    done += await work(moment)
                except Exception:  # a broken finder must not stop the others
                    log.exception("scheduler_work_failed")
            if done:
                self._on_work()
            return done

    def start(self) -> None:
        """Tick every second with APScheduler (coalesced: a slow tick never piles up)."""
        if self._apscheduler is None:
            self._apscheduler = AsyncIOScheduler()
            self._apscheduler.add_job(
                self.tick,
                "interval",
                seconds=TICK_SECONDS,
                id="tick",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,
                next_run_time=datetime.now(UTC),  # the first tick at once
            )
            self._apscheduler.start()

    def stop(self) -> None:
        """Stop ticking (due work stays in the database for the next start)."""
        if self._apscheduler is not None:
            self._apscheduler.shutdown(wait=False)
            self._apscheduler = None
