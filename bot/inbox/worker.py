"""Handles the requests recorded in the inbox, on whichever replica claims them first.

Acknowledgements come first, handling keeps up: the worker handles several requests at
once (`concurrency`), a round at a time. Before each request it gives way to
acknowledgements in progress (`acks_pending`: requests being recorded by the journal),
for at most GIVE_WAY seconds, one request at a time — so under a burst that never lets up
(acks always pending) handling takes one request per GIVE_WAY and the burst is
acknowledged at the journal's speed, while a steady stream, which leaves gaps between
acks, is answered as it goes instead of waiting for a lull that never comes (issue 18:
the former "wait for a lull" rule answered nothing within Slack's 3 seconds beyond ~15
requests/s).

Where a round's requests come from (issue 18: at a paced 50/s, each request paid its own
claim, handling and "done" transactions):
- handed over: while this worker runs, the journal of its process inserts the requests it
  records already leased to it (`hand_off_lease`) and, once committed, hands them over in
  memory (`take`): no claim. At most MAX_HANDED wait in memory; beyond, the journal
  records them unleased, for the claim;
- claimed: due rows nobody holds (recorded by a `serve --web-only` replica, left by a
  crash, their lease run out, retried), one statement for a batch — when woken for rows
  recorded unleased, at start, after a claim that found some, and otherwise once per
  POLL_SECONDS, however many hand-offs come meanwhile; a round with a claim due keeps half
  its room for it (hand-offs never starve the claimed requests).

A request whose lease is more than half gone when its turn comes (a long queue, a stalled
process) has its lease extended first, only if nobody took it meanwhile (its
`claimed_until` unchanged); else it is left to whoever did: never handled twice at once.

Each request's processor runs it (the core's own transaction dedupes on the request and
writes its replies to the outbox, so a second run after a crash has no second effect and
sends nothing twice). A processor that marks its request done in that transaction
(bot/inbox/request.py) needs nothing more; the round's other handled requests are marked
done together, in one statement; those it found were not for the bot (`Request.forget`)
are deleted in that same transaction, raw payload and all. A processor that raises is
retried with backoff, then parked as failed with its error — never dropped silently
(unless it had forgotten its request: that one is deleted all the same). `stop` releases
the leases of the requests it holds but did not handle, so that the next start or another
replica takes them at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import tasks
from bot.clock import Clock
from bot.inbox.request import Request
from storage import inbox
from storage.models import InboxEvent

log = logging.getLogger(__name__)

Processor = Callable[[str, dict[str, Any], Request], Awaitable[None]]
"""Handles one request: (kind, payload, the request: its inbox id, and how to mark it done
with its effects)."""

BATCH = 50
LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 5
POLL_SECONDS = 1.0
# Requests handed over in memory and not handled yet, at most (beyond: claimed).
MAX_HANDED = 200
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
            "inbox-worker", self._round, lambda: POLL_SECONDS, log, "inbox_loop_failed"
        )
        self._running = False
        # Handed over by the journal, with the lease they were recorded under.
        self._handed: deque[tuple[InboxEvent, datetime]] = deque()
        # Leased to this worker and taken into a round, not finished yet (released by stop).
        self._holding: set[int] = set()
        self._claim_wanted = True
        self._last_claim = float("-inf")  # time.monotonic() of the last claim

    def register(self, platform: str, processor: Processor) -> None:
        """Route requests of `platform` to `processor`."""
        self._processors[platform] = processor

    def wake(self) -> None:
        """Requests were recorded for any worker to claim: claim now."""
        self._claim_wanted = True
        self._loop.wake()

    def hand_off_lease(self) -> tuple[datetime, int] | None:
        """For the journal of this process: the lease under which to record requests for
        this worker, and how many it takes now; None when it takes none (not started, e.g.
        `serve --web-only`, or MAX_HANDED waiting): record them unleased."""
        room = MAX_HANDED - len(self._handed)
        if not self._running or room <= 0:
            return None
        return self._clock.now() + LEASE, room

    def take(self, rows: list[InboxEvent], leased_until: datetime) -> None:
        """Requests just committed, leased to this worker until `leased_until`: handle
        them without claiming them."""
        if not self._running:
            # Stopped while they were being committed: their leases run out, then anyone
            # claims them.
            log.warning("inbox_handed_after_stop", extra={"count": len(rows)})
            return
        self._handed.extend((row, leased_until) for row in rows)
        self._loop.wake()

    def start(self) -> None:
        """Start the background loop (it first picks up what a crash left pending)."""
        self._running = True
        self._claim_wanted = True
        self._loop.start()

    async def stop(self) -> None:
        """Stop; requests not handled yet stay pending, their leases released for the next
        start or another replica."""
        self._running = False
        await self._loop.stop()
        left = sorted(self._holding | {row.id for row, _ in self._handed})
        self._handed.clear()
        self._holding.clear()
        if not left:
            return
        try:
            async with self._db_sessions() as db, db.begin():
                await inbox.release(db, left)
        except Exception:  # their leases run out anyway
            log.exception("inbox_release_failed", extra={"count": len(left)})

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
        """One round that claims whatever is due: up to `limit` requests (handed over ones
        first), handled, the handled ones marked done; the number taken."""
        return await self._round(limit, claim=True)

    async def _round(self, limit: int = BATCH, claim: bool = False) -> int:
        """The loop's round: the handed-over requests, and a claim when one is wanted
        (see the module's docstring)."""
        wanted = claim or self._claim_wanted or time.monotonic() - self._last_claim >= POLL_SECONDS
        # A claim due keeps half the round for what it finds: hand-offs that never let up
        # do not starve the other replicas' requests.
        batch: list[tuple[InboxEvent, datetime]] = []
        while self._handed and len(batch) < (limit // 2 if wanted else limit):
            batch.append(self._handed.popleft())
        self._holding.update(row.id for row, _ in batch)
        if wanted and len(batch) < limit:
            self._claim_wanted = False
            self._last_claim = time.monotonic()
            now = self._clock.now()
            async with self._db_sessions() as db, db.begin():
                claimed = await inbox.claim_due(db, now, LEASE, limit - len(batch))
            batch.extend((row, now + LEASE) for row in claimed)
            self._holding.update(row.id for row in claimed)
            # Found some: there may be more (a backlog), claim again at once (as when woken
            # meanwhile).
            self._claim_wanted = self._claim_wanted or bool(claimed)
        if not batch:
            return 0
        requests = [Request(row.id) for row, _ in batch]
        outcomes = await asyncio.gather(
            *(
                self._handle(row, held, request)
                for (row, held), request in zip(batch, requests, strict=True)
            )
        )
        handled = [r for r, ok in zip(requests, outcomes, strict=True) if ok]
        forgotten = [r.id for r in handled if r.forgotten]
        left = [r.id for r in handled if not r.finished and not r.forgotten]
        if left or forgotten:
            async with self._db_sessions() as db, db.begin():
                if forgotten:  # not for the bot: nothing of it is kept (request.py)
                    await inbox.forget_many(db, forgotten)
                if left:
                    await inbox.finish_many(db, left, self._clock.now())
        self._holding.difference_update(row.id for row, _ in batch)
        return len(batch)

    async def _give_way(self) -> None:
        """Wait while acknowledgements are being recorded, at most GIVE_WAY seconds, one
        request at a time (the others wait behind it)."""
        async with self._giving_way:
            waited = 0.0
            while waited < GIVE_WAY and self._acks_pending():
                await asyncio.sleep(GIVE_WAY_STEP)
                waited += GIVE_WAY_STEP

    async def _still_ours(self, event: InboxEvent, held: datetime) -> bool:
        """Whether the lease on `event` (until `held`) still lets it be handled here: yes
        while less than half of it is gone; else only if it could be extended, i.e. nobody
        claimed the row since (then it is theirs: not handled twice)."""
        now = self._clock.now()
        if now < held - LEASE / 2:
            return True
        async with self._db_sessions() as db, db.begin():
            extended = await inbox.extend(db, event.id, held, now + LEASE)
        if not extended:
            log.info("inbox_lease_lost", extra={"platform": event.platform, "kind": event.kind})
        return extended

    async def _handle(self, event: InboxEvent, held: datetime, request: Request) -> bool:
        """Run one request's processor; whether it was handled (else it is due again, or
        another worker has it)."""
        async with self._slots:
            await self._give_way()
            if not await self._still_ours(event, held):
                return False
            processor = self._processors.get(event.platform)
            try:
                if processor is None:
                    raise RuntimeError(f"no processor for platform {event.platform}")
                await processor(event.kind, event.payload, request)
            except Exception as exc:
                if request.finished:  # done with its effects, committed: nothing to redo
                    log.exception("inbox_event_failed_after_done", extra={"kind": event.kind})
                    return True
                if request.forgotten:  # not for the bot: forgotten, never parked with it
                    log.exception("inbox_event_failed_forgotten", extra={"kind": event.kind})
                    return True
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
