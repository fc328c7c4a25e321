"""Writing directory profiles to the members' rows, in batches.

Why batches: a class joining at once makes as many first lookups (profiles.py), and one
transaction each (BEGIN, the workspace, the member, COMMIT) costs the server more CPU than
the joins themselves, and takes SQLite's one writer each time. Profiles are queued and
written together shortly after: once `BATCH` are waiting, else `DELAY` seconds after the
first. A failed write is logged and tried again `RETRY` seconds later; the profiles stay
queued (the rows are a cache of the directory: late is fine, lost silently is not).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import logs, tasks
from storage import members
from storage.members import DirectoryProfile

log = logging.getLogger(__name__)

BATCH = 50
DELAY = 0.1
RETRY = 5.0


class ProfileWriter:
    """Queues profiles per person (the latest wins) and writes them in one transaction."""

    def __init__(
        self,
        db_sessions: async_sessionmaker[AsyncSession],
        platform: str,
        *,
        batch: int = BATCH,
        delay: float = DELAY,
        retry: float = RETRY,
    ) -> None:
        self._db_sessions = db_sessions
        self._platform = platform
        self._batch = batch
        self._delay = delay
        self._retry = retry
        self._pending: dict[tuple[str, str], DirectoryProfile] = {}
        self._full = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        """How many profiles wait to be written."""
        return len(self._pending)

    def add(self, profile: DirectoryProfile) -> None:
        """Queue `profile` (replacing one of the same person still waiting)."""
        self._pending[(profile.workspace, profile.user_id)] = profile
        if len(self._pending) >= self._batch:
            self._full.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    async def flush(self) -> bool:
        """Write every queued profile now, in one transaction; False (logged, still queued)
        when that failed."""
        batch, self._pending = self._pending, {}
        if not batch:
            return True
        try:
            async with self._db_sessions() as db, db.begin():
                await members.update_profiles(db, self._platform, list(batch.values()))
        except Exception as exc:
            log.warning(
                "profile_write_failed",
                extra={
                    "platform": self._platform,
                    "profiles": len(batch),
                    "error": logs.describe(exc),
                },
            )
            # Queued again, behind any newer lookup of the same person.
            self._pending = batch | self._pending
            return False
        return True

    async def close(self) -> None:
        """Stop the background writer and write what is queued (at shutdown)."""
        await tasks.cancel(self._task)
        await self.flush()

    async def _run(self) -> None:
        while self._pending:
            # Whichever comes first: a full batch, or the delay since the first one queued.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._full.wait(), self._delay)
            self._full.clear()
            if not await self.flush():
                await asyncio.sleep(self._retry)
