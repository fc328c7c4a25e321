"""The scheduler: APScheduler runs a tick; each tick finds due work in the database.

The database is the source of truth (each challenge's next run, every occurrence);
APScheduler's AsyncIOScheduler only wakes the process up, with an importable bound
method and an in-memory job store (nothing pickled). Due work is found against the
core's clock, so moving that clock forward runs what became due at once, exactly as
the passing of real time does. APScheduler 3 must not share a job store between
processes (https://apscheduler.readthedocs.io/en/3.x/faq.html#how-do-i-share-a-single-job-store-among-one-or-more-worker-processes),
and skips runs later than their misfire grace time by default
(https://apscheduler.readthedocs.io/en/3.x/userguide.html#missed-job-executions-and-coalescing):
here a late run is the database's business (posted if within the grace period, else skipped with
a reason; `watch.py` tells the bot's downtime from a jump of the movable clock), and
unique keys make each occurrence happen once even with replicas.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import Clock
from bot.scheduling.watch import Watch

log = logging.getLogger(__name__)

DueWork = Callable[[datetime], Awaitable[int]]
NextDue = Callable[[], Awaitable[datetime | None]]
# The safety net: a tick at least this often (new work created by another replica).
TICK_SECONDS = 1.0


class Scheduler:
    """Runs every registered due-work finder on each tick."""

    def __init__(self, clock: Clock, on_work: Callable[[], None] | None = None) -> None:
        self._clock = clock
        self._work: list[DueWork] = []
        self._next_due: list[NextDue] = []
        self._watches: list[Watch] = []
        self._on_work = on_work or (lambda: None)
        self._lock = asyncio.Lock()
        self._apscheduler: AsyncIOScheduler | None = None
        self._ticked = False
        self._closed = False
        self._ticks: set[asyncio.Task[int]] = set()
        self._armed_seq = 0
        self._armed_id = ""
        # True while ticks run nothing at all (every finder failing): /readyz says so.
        self.failing = False

    def register(self, work: DueWork, next_due: NextDue | None = None) -> None:
        """Add a finder of due work (challenges, pulses, promotions, mentoring rounds…).

        `next_due` tells when that work is next due, so the tick can be armed for that
        very moment instead of waiting for the next periodic tick.
        """
        self._work.append(work)
        if next_due is not None:
            self._next_due.append(next_due)

    def watch(self) -> Watch:
        """A `Watch` for one finder, begun again each time this process becomes the
        scheduler: runs planned before that were missed while no scheduler was running."""
        watch = Watch(self._clock)
        self._watches.append(watch)
        return watch

    async def tick(self, now: datetime | None = None) -> int:
        """Run what is due at `now` (default: the clock's time); return how much ran.

        Never raises: a failure is logged, and a tick where nothing could run (the clock
        unreadable, every finder failing) marks the scheduler `failing` until one works.
        """
        async with self._lock:  # one tick at a time in this process
            if self._closed:
                return 0
            started = time.perf_counter()
            done = failed = 0
            try:
                moment = now or self._clock.now()
                for work in self._work:
                    try:
                        done += await work(moment)
                    except Exception:  # a broken finder must not stop the others
                        log.exception("scheduler_work_failed")
                        failed += 1
                if done:
                    self._on_work()
                await self._arm()
            except Exception:
                log.exception("scheduler_tick_failed")
                failed = max(len(self._work), 1)
            self.failing = failed > 0 and failed >= len(self._work)
            ms = round((time.perf_counter() - started) * 1000, 1)
            # One line when something ran or a tick was slow (and for the first), not per second.
            if done or ms >= 100 or not self._ticked:
                log.info(
                    "scheduler_tick", extra={"done": done, "ms": ms, "first": not self._ticked}
                )
            self._ticked = True
            return done

    async def _arm(self) -> None:
        """Wake up exactly when the earliest known work is due (in real time)."""
        if self._apscheduler is None or not self._next_due:
            return
        dues = []
        for next_due in self._next_due:
            try:
                due = await next_due()
            except Exception:
                log.exception("scheduler_next_due_failed")
                continue
            if due is not None:
                dues.append(due)
        # Stopped while the finders were awaited (shutdown): nothing to arm.
        scheduler = self._apscheduler
        if not dues or scheduler is None:
            return
        # The core's clock may run ahead of real time (rehearsals): convert to real time.
        offset = self._clock.now() - datetime.now(UTC)
        when = max(min(dues) - offset, datetime.now(UTC))
        # A new job id each time: re-arming from inside the running "next-due" job under the
        # same id would be skipped by APScheduler (max_instances=1 counts the running one).
        with contextlib.suppress(JobLookupError):
            scheduler.remove_job(self._armed_id)
        self._armed_seq += 1
        self._armed_id = f"next-due-{self._armed_seq}"
        scheduler.add_job(
            self._fire, "date", run_date=when, id=self._armed_id, misfire_grace_time=None
        )

    def start(self) -> None:
        """Tick every second with APScheduler (coalesced: a slow tick never piles up)."""
        if self._apscheduler is None:
            for watch in self._watches:
                watch.begin()
            self._apscheduler = AsyncIOScheduler()
            self._apscheduler.add_job(
                self._fire,
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

    async def close(self) -> None:
        """At shutdown: no new tick, and wait for the one in progress (it holds a connection)."""
        self.stop()
        async with self._lock:
            self._closed = True
        await asyncio.gather(*self._ticks, return_exceptions=True)

    async def _fire(self) -> None:
        """APScheduler's job: start a tick in a task of ours.

        APScheduler cancels its running jobs when it shuts down; a tick cancelled in the
        middle of a commit would strand its connection, so the tick is not its job. A tick
        already running or waiting makes this one unnecessary (it will see the same work).
        """
        if self._lock.locked() or self._closed:
            return
        task = asyncio.create_task(self.tick(), name="scheduler-tick")
        self._ticks.add(task)
        task.add_done_callback(self._ticks.discard)
