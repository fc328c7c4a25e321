"""The daily purge: every retention rule ([retention] in config/ambassador.toml) applied in
small batches by the scheduler (one elected process).

Each rule is one `PurgeStep`: a name for the log, its delay from the settings, and a batch
function from storage/retention.py (or any `(db, cutoff, limit) -> rows`). The purge runs
at `daily_at` in the bot's time zone, and at every start of the scheduler: a run missed
while the bot was down happens then (a run with nothing past its delay costs one short
query per rule).

It never holds up requests: one transaction per batch of `batch_size` rows, a pause of
`pause_ms` after each full batch, and at most SLICE_SECONDS of purging per scheduler tick
(a tick comes every second): a long purge goes on over the next ticks, so the other
scheduled work (challenge posts, pulses) is never late by more than a slice either.
One log line per rule with its count (never any content), one at the end.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.settings import RetentionSettings, Settings
from storage import audit, erasure, retention
from storage.db import refresh_statistics
from storage.retention import Batch

log = logging.getLogger(__name__)

# Purging time per scheduler tick; the rest of the second is left to everything else.
SLICE_SECONDS = 0.5


@dataclass(frozen=True)
class PurgeStep:
    """One retention rule: what it deletes (the log's name), after how long, and how."""

    name: str
    delay: Callable[[RetentionSettings], timedelta]
    batch: Batch


def days(setting: str) -> Callable[[RetentionSettings], timedelta]:
    """The delay named `setting` in [retention], in days."""
    return lambda values: timedelta(days=getattr(values, setting))


# The rules, in the order they run. Adding a table is one line here.
STEPS: list[PurgeStep] = [
    PurgeStep("inbox_event.handled", days("inbox_days"), retention.handled_requests),
    PurgeStep("inbox_event.failed", days("failed_days"), retention.failed_requests),
    # Emptied before the deletions below, so that those scan only rows they delete.
    PurgeStep("outbox_message.emptied", days("outbox_days"), retention.empty_sent_posts),
    PurgeStep("outbox_message.sent", days("outbox_days"), retention.sent_messages),
    PurgeStep("outbox_message.failed", days("failed_days"), retention.failed_messages),
    PurgeStep("replay_key", days("dedupe_days"), retention.replay_keys),
    # A link is useless once expired: deleted at the first purge after.
    PurgeStep("download", lambda _values: timedelta(0), retention.expired_downloads),
    PurgeStep("local_message", days("playground_days"), retention.playground_messages),
    PurgeStep("audit_entry", days("audit_days"), audit.purge_older_than),
    PurgeStep("workspace", days("uninstalled_days"), retention.uninstalled_workspaces),
]


@dataclass
class _Run:
    """A purge under way: the cutoffs fixed when it started, and how far it got."""

    started_at: datetime
    cutoffs: list[datetime]
    began: float = field(default_factory=time.perf_counter)
    step: int = 0
    rows: int = 0
    step_rows: int = 0
    step_batches: int = 0
    step_began: float = field(default_factory=time.perf_counter)


class Purge:
    """The daily purge, as the scheduler's due work (`run_due`, `next_due`)."""

    def __init__(
        self,
        db_sessions: async_sessionmaker[AsyncSession],
        engine: AsyncEngine,
        settings: Settings,
        steps: list[PurgeStep] | None = None,
    ) -> None:
        self._db_sessions = db_sessions
        self._engine = engine
        self._settings = settings.retention
        self._zone = ZoneInfo(settings.timezone)
        self._steps = list(STEPS if steps is None else steps)
        self._next: datetime | None = None  # None: at the first tick (a start)
        self._run: _Run | None = None

    async def run_due(self, now: datetime) -> int:
        """The scheduler's tick: start the purge when due, or go on with one under way,
        for at most SLICE_SECONDS. Returns 0: nothing for the outbox to send."""
        if self._run is None:
            if self._next is not None and now < self._next:
                return 0
            self._start(now)
        await self._advance(time.perf_counter() + SLICE_SECONDS)
        return 0

    async def next_due(self) -> datetime | None:
        """When the next purge starts (None while one is under way: every tick goes on)."""
        return self._next if self._run is None else None

    async def run(self, now: datetime) -> int:
        """A whole purge at once, as of `now` (tests, rehearsals); the rows it purged."""
        if self._run is None:
            self._start(now)
        run = self._run
        assert run is not None
        await self._advance(None)
        return run.rows

    def _start(self, now: datetime) -> None:
        self._run = _Run(now, [now - step.delay(self._settings) for step in self._steps])
        self._next = self._next_start(now)

    def _next_start(self, now: datetime) -> datetime:
        """The next `daily_at` after `now`, in the bot's time zone (wall-clock time)."""
        hours, minutes = (int(part) for part in self._settings.daily_at.split(":"))
        local = now.astimezone(self._zone)
        start = local.replace(hour=hours, minute=minutes, second=0, microsecond=0)
        if start <= local:
            start = (local + timedelta(days=1)).replace(
                hour=hours, minute=minutes, second=0, microsecond=0
            )
        return start.astimezone(now.tzinfo)

    async def _advance(self, deadline: float | None) -> None:
        """Batches until the run is done or `deadline` (perf_counter) has passed."""
        run = self._run
        assert run is not None
        size = self._settings.batch_size
        while run.step < len(self._steps):
            step = self._steps[run.step]
            try:
                async with self._db_sessions() as db, db.begin():
                    done = await step.batch(db, run.cutoffs[run.step], size)
            except Exception:
                # One broken rule must not stop the others (nor retry forever): next one.
                log.exception("retention_step_failed", extra={"step": step.name})
                done = 0
            run.rows += done
            run.step_rows += done
            run.step_batches += 1
            if done < size:
                self._finish_step(run, step)
            elif self._settings.pause_ms:
                # Room for the requests waiting for a connection (SQLite has only one).
                await asyncio.sleep(self._settings.pause_ms / 1000)
            if deadline is not None and time.perf_counter() >= deadline:
                return
        self._run = None
        if run.rows:
            # SQLite: deleted rows are zeroed in the file (secure_delete); the write-ahead
            # log still holds the pages as they were until it is truncated.
            await erasure.truncate_wal(self._engine)
        try:
            await refresh_statistics(self._engine)  # once a day: SQLite never does it itself
        except Exception:
            log.exception("statistics_refresh_failed")
        log.info(
            "retention_done",
            extra={
                "rows": run.rows,
                "s": round(time.perf_counter() - run.began, 2),
                "next": self._next.isoformat() if self._next else None,
            },
        )

    def _finish_step(self, run: _Run, step: PurgeStep) -> None:
        log.info(
            "retention_purged",
            extra={
                "step": step.name,
                "rows": run.step_rows,
                "batches": run.step_batches,
                "ms": round((time.perf_counter() - run.step_began) * 1000, 1),
                "cutoff": run.cutoffs[run.step].isoformat(timespec="seconds"),
            },
        )
        run.step += 1
        run.step_rows = run.step_batches = 0
        run.step_began = time.perf_counter()
