"""Small helpers for the background tasks of the bot (outbox sender, inbox worker,
scheduler election)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable


async def cancel(task: asyncio.Task[None] | None) -> None:
    """Cancel `task` (if any) and wait until it has stopped."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


class WorkLoop:
    """A background task doing rounds of work (the outbox sender's, the inbox worker's):
    the next round at once while the last one found work, else when woken or after `poll`
    seconds. A failed round (a database outage) is logged and the loop goes on."""

    def __init__(
        self,
        name: str,
        one_round: Callable[[], Awaitable[int]],
        poll: Callable[[], float],
        log: logging.Logger,
        failed_event: str,
    ) -> None:
        self._name = name
        self._failed_event = failed_event
        self._round = one_round
        self._poll = poll
        self._log = log
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """There may be work: look now."""
        self._wake.set()

    def start(self) -> None:
        """Start the loop (once)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self._name)

    async def stop(self) -> None:
        """Stop the loop and wait for it; unfinished work stays in its table."""
        await cancel(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                done = await self._round()
            except Exception:  # the loop must survive a database outage
                self._log.exception(self._failed_event)
                done = 0
            if done:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll())
