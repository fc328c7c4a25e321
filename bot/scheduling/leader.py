"""At most one scheduler among replicas at a time: a PostgreSQL advisory lock on a dedicated
connection.

APScheduler 3 cannot coordinate processes sharing a job store
(https://apscheduler.readthedocs.io/en/3.x/faq.html#how-do-i-share-a-single-job-store-among-one-or-more-worker-processes),
so only the holder
of the lock runs it. The lock is a session lock: if the leader dies, PostgreSQL drops
its connection and the lock with it, and a standby takes over at its next try (every
RETRY_SECONDS). The leader checks its connection on the same period and steps down if
it is lost. Even a brief overlap could not double a post: occurrences are unique and
claimed with SKIP LOCKED.

SQLite is for one process: a second process on the same file is refused at start-up
(see `SqliteSingleProcess`), with a line saying to use PostgreSQL for replicas.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
from collections.abc import Callable
from pathlib import Path
from typing import IO

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot import tasks
from storage.db import async_url, is_sqlite

log = logging.getLogger(__name__)

# An arbitrary constant naming "the Ambassador scheduler" among advisory locks.
LOCK_KEY = 0x416D6261  # "Amba"
RETRY_SECONDS = 2.0


class LeaderElection:
    """Runs `on_elected` when this process becomes the scheduler, `on_lost` when it stops."""

    def __init__(
        self,
        engine: AsyncEngine,
        on_elected: Callable[[], None],
        on_lost: Callable[[], None],
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self._engine = engine
        self._on_elected = on_elected
        self._on_lost = on_lost
        self._retry = retry_seconds
        self._task: asyncio.Task[None] | None = None
        self.is_leader = False

    def start(self) -> None:
        """Begin campaigning in the background (SQLite: lead at once, one process only)."""
        if is_sqlite(str(self._engine.url)):
            self._become_leader()
            return
        self._task = asyncio.create_task(self._campaign(), name="scheduler-election")

    async def stop(self) -> None:
        """Stop campaigning; step down and release the lock."""
        await tasks.cancel(self._task)
        self._task = None
        self._step_down()

    def _become_leader(self) -> None:
        if not self.is_leader:
            self.is_leader = True
            log.info("scheduler_leader", extra={"role": "leader"})
            self._on_elected()

    def _step_down(self) -> None:
        if self.is_leader:
            self.is_leader = False
            log.info("scheduler_leader", extra={"role": "standby"})
            self._on_lost()

    async def _campaign(self) -> None:
        while True:
            try:
                async with self._engine.connect() as connection:
                    await self._hold(connection)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a lost connection: step down, try again
                log.warning("scheduler_election_error", extra={"error": type(exc).__name__})
            self._step_down()
            await asyncio.sleep(self._retry)

    async def _hold(self, connection: AsyncConnection) -> None:
        """Try for the lock until it is ours, then keep checking the connection that holds it."""
        while True:
            result = await connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}
            )
            await connection.commit()  # the lock is the session's, not the transaction's
            if result.scalar():
                break
            await asyncio.sleep(self._retry)
        self._become_leader()
        try:
            while True:
                await asyncio.sleep(self._retry)
                await connection.execute(text("SELECT 1"))
                await connection.commit()
        finally:
            with contextlib.suppress(Exception):
                await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
                await connection.commit()


class AnotherProcessRuns(Exception):
    """A second bot process tried to use the same SQLite database."""


class SqliteSingleProcess:
    """An exclusive lock file next to the SQLite database, held while the bot runs."""

    def __init__(self, database_url: str) -> None:
        database = make_url(async_url(database_url)).database or ""
        self._path = Path(f"{database}.lock") if database and database != ":memory:" else None
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock or raise AnotherProcessRuns."""
        if self._path is None:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        handle = self._path.open("w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise AnotherProcessRuns(str(self._path)) from None
        self._handle = handle

    def release(self) -> None:
        """Let another process start."""
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None
