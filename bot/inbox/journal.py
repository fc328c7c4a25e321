"""Recording requests before acknowledging them, many per transaction (group commit).

Each `record` waits until its request is committed. While one transaction is being
written, the requests that arrive meanwhile queue up and go in the next one together: a
burst of 50 concurrent slash commands costs a handful of commits, not 50, and nobody
waits for more than the commit in flight plus their own.

A request may come with a replay key (a Slack request's signature, a Teams activity's
conversation and id): the key is recorded in the same transaction (`replay_key`, unique),
so the same request delivered again — a replay within Slack's five-minute window, a Bot
Connector retry, on any replica — is recognised before it is handled and has no effect.

When this process runs an inbox worker (`hand_off`: not in `serve --web-only`), the requests
are inserted already leased to it and, once committed, handed to it in memory: it handles
them without claiming them (bot/inbox/worker.py). Otherwise, or beyond what the worker
takes now, they are inserted unleased and `on_recorded` says so, for a claim.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock
from storage import inbox, replay_keys
from storage.models import InboxEvent
from storage.vocabulary import InboxStatus

log = logging.getLogger(__name__)

MAX_BATCH = 500

Entry = tuple[str, str, dict[str, Any]]
# What `record` answers for a request already recorded under the same replay key.
DUPLICATE = None


class HandOff(Protocol):
    """This process's inbox worker, as the journal sees it (bot/inbox/worker.py)."""

    def hand_off_lease(self) -> tuple[datetime, int] | None:
        """The lease to record requests under for this worker, and how many it takes."""

    def take(self, rows: list[InboxEvent], leased_until: datetime) -> None:
        """Requests recorded (committed) under that lease, to handle without a claim."""


class Journal:
    """Writes requests to the inbox table; `record` returns once the request is durable."""

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        on_recorded: Callable[[], None],
        hand_off: HandOff | None = None,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._on_recorded = on_recorded
        self._hand_off = hand_off
        self._waiting: list[tuple[Entry, str | None, asyncio.Future[int | None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._recording = 0

    def acks_pending(self) -> bool:
        """Whether requests are being recorded right now (the worker gives way to them)."""
        return self._recording > 0

    async def record(
        self, platform: str, kind: str, payload: dict[str, Any], replay_key: str | None = None
    ) -> int | None:
        """Durably record one request; its inbox id, or DUPLICATE (None) when a request
        with the same replay key was recorded before. Raises when the database refuses."""
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        key = f"request:{platform}:{replay_key}" if replay_key else None
        self._waiting.append(((platform, kind, payload), key, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="inbox-journal")
        self._recording += 1
        try:
            return await future
        finally:
            self._recording -= 1

    async def _write(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            lease = self._hand_off.hand_off_lease() if self._hand_off is not None else None
            leased_until, room = lease if lease is not None else (None, 0)
            try:
                async with self._engine.begin() as connection:
                    now = self._clock.now()
                    keys = [key for _, key, _ in batch if key is not None]
                    new_keys = await replay_keys.first_times(connection, keys, now)
                    fresh = [
                        (entry, future)
                        for entry, key, future in batch
                        if key is None or _take(new_keys, key)
                    ]
                    entries = [e for e, _ in fresh]
                    leased = min(room, len(entries))
                    ids = await inbox.record_many(connection, entries, now, leased, leased_until)
            except Exception as exc:
                log.exception("inbox_record_failed", extra={"count": len(batch)})
                for _, _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            if leased and self._hand_off is not None and leased_until is not None:
                handed = [
                    _row(event_id, entry, now, leased_until)
                    for event_id, entry in zip(ids[:leased], entries[:leased], strict=True)
                ]
                self._hand_off.take(handed, leased_until)
            for (_, future), event_id in zip(fresh, ids, strict=True):
                if not future.done():
                    future.set_result(event_id)
            for _, _, future in batch:
                if not future.done():
                    future.set_result(DUPLICATE)
            if len(fresh) < len(batch):
                log.info("inbox_replays_ignored", extra={"count": len(batch) - len(fresh)})
            if len(fresh) > leased:
                self._on_recorded()  # recorded unleased: for a claim


def _row(event_id: int, entry: Entry, now: datetime, leased_until: datetime) -> InboxEvent:
    """The inbox row just inserted for `entry`, as a claim would have returned it."""
    platform, kind, payload = entry
    return InboxEvent(
        id=event_id,
        platform=platform,
        kind=kind,
        payload=payload,
        status=InboxStatus.PENDING,
        attempts=0,
        received_at=now,
        next_attempt_at=now,
        claimed_until=leased_until,
    )


def _take(new_keys: set[str], key: str) -> bool:
    """Whether `key` is new, once: a second request with it in the same batch is a replay."""
    if key in new_keys:
        new_keys.discard(key)
        return True
    return False
