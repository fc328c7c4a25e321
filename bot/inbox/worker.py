"""Handles the requests recorded in the inbox, on whichever replica claims them first.

Acknowledgements come first: while requests are pouring in, the worker waits for a lull
(QUIET seconds without a new request), but never more than MAX_DEFER since its last
batch, so that a burst of 1,000 joins is acknowledged at the speed of the journal and
answered right after, and a steady stream is still answered as it goes. (On SQLite, whose
one connection the journal and the worker share, this also keeps a join's transaction
from sitting between a request and its ack.)

A request is claimed with a lease; its platform's processor runs it (the core's own
transaction dedupes on the request, so a second run after a crash has no second effect);
then it is marked done. A processor that raises is retried with backoff, then parked as
failed with its error — never dropped silently.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import tasks
from bot.clock import Clock
from storage import inbox
from storage.models import InboxEvent

log = logging.getLogger(__name__)

Processor = Callable[[str, dict[str, Any], int], Awaitable[None]]
"""Handles one request: (kind, payload, inbox id)."""

BATCH = 50
LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 5
POLL_SECONDS = 1.0
QUIET = 0.05
MAX_DEFER = 1.0
# While a burst goes on, the worker takes this few at a time between its waits.
BURST_BATCH = 1


class InboxWorker:
    """One background task per process; several requests handled at once."""

    def __init__(
        self,
        db_sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        concurrency: int = 4,
        quiet_for: Callable[[], float] = lambda: float("inf"),
    ) -> None:
        self._db_sessions = db_sessions
        self._clock = clock
        self._quiet_for = quiet_for
        self._processors: dict[str, Processor] = {}
        self._slots = asyncio.Semaphore(concurrency)
        self._loop = tasks.WorkLoop(
            "inbox-worker", self._round, lambda: POLL_SECONDS, log, "inbox_loop_failed"
        )

    def register(self, platform: str, processor: Processor) -> None:
        """Route requests of `platform` to `processor`."""
        self._processors[platform] = processor

    def wake(self) -> None:
        """New requests were recorded: look now."""
        self._loop.wake()

    def start(self) -> None:
        """Start the background loop (it first picks up what a crash left pending)."""
        self._loop.start()

    async def stop(self) -> None:
        """Stop; requests not handled yet stay pending for the next start or another replica."""
        await self._loop.stop()

    async def _round(self) -> int:
        busy = await self._yield_to_a_burst()
        return await self.run_once(BURST_BATCH if busy else BATCH)

    async def _yield_to_a_burst(self) -> bool:
        """Wait for a lull in requests (at most MAX_DEFER); whether the burst still goes on."""
        deferred = 0.0
        while self._quiet_for() < QUIET:
            if deferred >= MAX_DEFER:
                return True
            await asyncio.sleep(QUIET)
            deferred += QUIET
        return False

    async def drain(self, max_rounds: int = 100) -> int:
        """Handle everything pending now (tests, and shutdown of a test process)."""
        total = 0
        for _ in range(max_rounds):
            handled = await self.run_once()
            if not handled:
                break
            total += handled
        return total

    async def run_once(self, limit: int = BATCH) -> int:
        """Claim up to `limit` requests and handle them; the number claimed."""
        async with self._db_sessions() as db, db.begin():
            batch = await inbox.claim_due(db, self._clock.now(), LEASE, limit)
        await asyncio.gather(*(self._handle(event) for event in batch))
        return len(batch)

    async def _handle(self, event: InboxEvent) -> None:
        async with self._slots:
            processor = self._processors.get(event.platform)
            try:
                if processor is None:
                    raise RuntimeError(f"no processor for platform {event.platform}")
                await processor(event.kind, event.payload, event.id)
            except Exception as exc:
                await self._failed(event, exc)
                return
            async with self._db_sessions() as db, db.begin():
                await inbox.finish(db, event.id, self._clock.now())

    async def _failed(self, event: InboxEvent, exc: Exception) -> None:
        attempts = event.attempts + 1
        give_up = attempts >= MAX_ATTEMPTS
        log.exception(
            "inbox_event_failed",
            extra={"platform": event.platform, "kind": event.kind, "attempt": attempts},
        )
        at = self._clock.now() + timedelta(seconds=2**attempts)
        async with self._db_sessions() as db, db.begin():
            await inbox.retry_later(
                db, event.id, attempts, f"{type(exc).__name__}: {exc}", at, give_up
            )
