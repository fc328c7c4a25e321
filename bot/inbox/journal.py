"""Recording requests before acknowledging them, many per transaction (group commit).

Each `record` waits until its request is committed. While one transaction is being
written, the requests that arrive meanwhile queue up and go in the next one together: a
burst of 50 concurrent slash commands costs a handful of commits, not 50, and nobody
waits for more than the commit in flight plus their own.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock
from storage import inbox

log = logging.getLogger(__name__)

MAX_BATCH = 500

Entry = tuple[str, str, dict[str, Any]]


class Journal:
    """Writes requests to the inbox table; `record` returns once the request is durable."""

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        on_recorded: Callable[[], None],
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._on_recorded = on_recorded
        self._waiting: list[tuple[Entry, asyncio.Future[int]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._last_request = float("-inf")

    def quiet_for(self) -> float:
        """Seconds since the last request arrived (the worker yields to a burst of them)."""
        return time.monotonic() - self._last_request

    async def record(self, platform: str, kind: str, payload: dict[str, Any]) -> int:
        """Durably record one request; its inbox id. Raises when the database refuses."""
        self._last_request = time.monotonic()
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting.append(((platform, kind, payload), future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="inbox-journal")
        return await future

    async def _write(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                async with self._engine.begin() as connection:
                    ids = await inbox.record_many(
                        connection, [entry for entry, _ in batch], self._clock.now()
                    )
            except Exception as exc:
                log.exception("inbox_record_failed", extra={"count": len(batch)})
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), event_id in zip(batch, ids, strict=True):
                if not future.done():
                    future.set_result(event_id)
            self._on_recorded()
