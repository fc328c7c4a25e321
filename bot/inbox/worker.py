"""Handles the requests recorded in the inbox, on whichever replica claims them first.

Acknowledgements come first, handling keeps up: the worker claims whatever is due (one
statement for a batch), handles several requests at once (`concurrency`), and marks the
handled ones done together, in one statement per round. Before each request it gives way
to acknowledgements in progress (`acks_pending`: requests being recorded by the journal),
for at most GIVE_WAY seconds, one request at a time — so under a burst that never lets up
(acks always pending) handling takes one request per GIVE_WAY and the burst is
acknowledged at the journal's speed, while a steady stream, which leaves gaps between
acks, is answered as it goes instead of waiting for a lull that never comes (issue 18:
the former "wait for a lull" rule answered nothing within Slack's 3 seconds beyond ~15
requests/s).

A request is claimed with a lease; its platform's processor runs it (the core's own
transaction dedupes on the request and writes its replies to the outbox, so a second run
after a crash — e.g. between its commit and the round's "done" — has no second effect and
sends nothing twice); then it is marked done. A processor that raises is retried with
backoff, then parked as failed with its error — never dropped silently.
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
# Before each request, wait while acknowledgements are being recorded, in steps of
# GIVE_WAY_STEP, at most GIVE_WAY: acks first, but handling never starves.
GIVE_WAY = 0.05
GIVE_WAY_STEP = 0.002


class InboxWorker:
    """One background task per process; several requests handled at once."""

    def __init__(
        self,
        db_sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        concurrency: int = 4,
        acks_pending: Callable[[], bool] = lambda: False,
    ) -> None:
        self._db_sessions = db_sessions
        self._clock = clock
        self._acks_pending = acks_pending
        self._processors: dict[str, Processor] = {}
        self._slots = asyncio.Semaphore(concurrency)
        self._giving_way = asyncio.Lock()  # one request at a time waits for a gap
        self._loop = tasks.WorkLoop(
            "inbox-worker", self.run_once, lambda: POLL_SECONDS, log, "inbox_loop_failed"
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
        """Claim up to `limit` requests, handle them, mark the handled ones done; the
        number claimed."""
        async with self._db_sessions() as db, db.begin():
            batch = await inbox.claim_due(db, self._clock.now(), LEASE, limit)
        if not batch:
            return 0
        outcomes = await asyncio.gather(*(self._handle(event) for event in batch))
        handled = [event.id for event, ok in zip(batch, outcomes, strict=True) if ok]
        if handled:
            async with self._db_sessions() as db, db.begin():
                await inbox.finish_many(db, handled, self._clock.now())
        return len(batch)

    async def _give_way(self) -> None:
        """Wait while acknowledgements are being recorded, at most GIVE_WAY seconds, one
        request at a time (the others wait behind it)."""
        async with self._giving_way:
            waited = 0.0
            while waited < GIVE_WAY and self._acks_pending():
                await asyncio.sleep(GIVE_WAY_STEP)
                waited += GIVE_WAY_STEP

    async def _handle(self, event: InboxEvent) -> bool:
        """Run one request's processor; whether it was handled (else it is due again)."""
        async with self._slots:
            await self._give_way()
            processor = self._processors.get(event.platform)
            try:
                if processor is None:
                    raise RuntimeError(f"no processor for platform {event.platform}")
                await processor(event.kind, event.payload, event.id)
            except Exception as exc:
                await self._failed(event, exc)
                return False
            return True

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
