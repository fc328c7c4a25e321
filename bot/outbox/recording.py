"""Writing what became of sent messages in batches, not one transaction per message.

A sender handed one message at a time (bot/outbox/handoff.py) would otherwise commit once
per message to record it sent. The `Recorder` gathers outcomes (and the leases to give
back, `release`) and writes them in one transaction per `WINDOW` seconds, or as soon as
`MOST` are waiting, and whenever asked (`flush`: the end of a `drain`, the sender's stop).

The window is the price: a process killed after a send and before its outcome is written
sends that message again once its lease runs out — at-least-once, as before, when the
outcomes of a whole batch were written after its last send. A platform that deduplicates
on the outbox key (the playground) shows it once; Slack's response_url and chat.postMessage
do not, so the window is kept short. Nothing is lost at a stop: `flush` writes what waits.
A write that fails (a database outage) keeps the outcomes for the next one; their rows stay
leased meanwhile, and are claimed again if that outlasts the lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from storage import outbox_store
from storage.outbox_store import Outcome

log = logging.getLogger(__name__)

# Seconds an outcome may wait for others before they are written together.
WINDOW = 0.05
# Outcomes written at once without waiting for the window's end.
MOST = 200
# Seconds before writing again after a failed write.
RETRY_AFTER = 1.0


class Recorder:
    """Outcomes and released leases, written in batches (see the module's docstring)."""

    def __init__(self, db_sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._db_sessions = db_sessions
        self._clock = clock
        self._outcomes: list[Outcome] = []
        self._released: list[int] = []
        self._timer: asyncio.TimerHandle | None = None
        self._writing: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    @property
    def waiting(self) -> int:
        """Outcomes and releases not written yet."""
        return len(self._outcomes) + len(self._released)

    def add(self, outcome: Outcome) -> None:
        """Record `outcome` with the next batch."""
        self._outcomes.append(outcome)
        self._schedule()

    def release(self, ids: list[int]) -> None:
        """Give back the leases of these messages, unsent, with the next batch."""
        if ids:
            self._released.extend(ids)
            self._schedule()

    def _schedule(self) -> None:
        if self.waiting >= MOST:
            self._start_writing()
        elif self._timer is None and self._writing is None:
            self._timer = asyncio.get_running_loop().call_later(WINDOW, self._start_writing)

    def _start_writing(self) -> None:
        self._timer = None
        if self._writing is None:
            self._writing = asyncio.create_task(self._write_soon(), name="outbox-recorder")

    async def _write_soon(self) -> None:
        try:
            written = await self.flush()
        finally:
            self._writing = None
        if not written:
            self._timer = asyncio.get_running_loop().call_later(RETRY_AFTER, self._start_writing)
        elif self.waiting:
            self._schedule()  # more came while writing

    async def flush(self) -> bool:
        """Write everything waiting now, in one transaction; False when the write failed
        (kept for the next one, and logged)."""
        async with self._lock:
            outcomes, released = self._outcomes, self._released
            self._outcomes, self._released = [], []
            if not outcomes and not released:
                return True
            try:
                async with self._db_sessions() as db, db.begin():
                    await outbox_store.record(db, outcomes, self._clock.now())
                    await outbox_store.release(db, released)
            except Exception:
                log.exception("outbox_record_failed", extra={"outcomes": len(outcomes)})
                self._outcomes[:0], self._released[:0] = outcomes, released
                return False
            return True

    async def close(self) -> None:
        """Write what waits (the sender stops): nothing recorded is left in memory."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        writing = self._writing
        if writing is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(writing)
        await self.flush()
