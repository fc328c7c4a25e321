"""A SQLite connection that runs its statements inline, on the event loop's own thread.

SQLAlchemy's `sqlite+aiosqlite` dialect talks to an aiosqlite connection, which runs every
call on a thread of its own: a queue, a thread wake-up, a future, `call_soon_threadsafe`
and the GIL going back and forth, about 290 µs of CPU per statement here where SQLite
itself spends a few µs on a local file (issue 18: a Slack join makes ~23 statements).
`InlineConnection` has the surface the dialect uses from an aiosqlite connection
(https://github.com/sqlalchemy/sqlalchemy/blob/main/lib/sqlalchemy/dialects/sqlite/aiosqlite.py,
https://github.com/sqlalchemy/sqlalchemy/blob/main/lib/sqlalchemy/connectors/asyncio.py)
backed by a plain `sqlite3.Connection`; each of its coroutines completes without
suspending, unless another process holds the write lock (below). `storage.db.create_engine`
hands it to SQLAlchemy through `async_creator`
(https://docs.sqlalchemy.org/en/20/orm/extensions/asyncio.html#using-a-custom-asyncio-connection-creator),
so the URL, the dialect, its pool, the pragmas and the `BEGIN IMMEDIATE` hooks stay as
they were.

What running inline means:

- A statement blocks the loop while it runs: nothing else in the process moves until
  SQLite returns. The writer's statements are short (an index lookup, a row or a few
  written: microseconds to a millisecond; the longest, retention's deletes, go one bounded
  batch at a time); long reads belong to the dashboard's reader (`storage.db.create_reader`),
  which stays on aiosqlite's threads.
- SQLite's busy handler sleeps inside the call: while another *process* holds the write
  lock, a statement would freeze the loop for as long as `busy_timeout`
  (https://www.sqlite.org/c3ref/busy_timeout.html). `serve` is one process per SQLite file
  (bot/scheduling/leader.py refuses a second one); only CLI commands such as `migrate` or
  `demo`, or a test's own connections, run beside it. So SQLite's busy handler sleeps at
  most `BUSY_TIMEOUT_MS` at a time; a statement outside a transaction (the
  `BEGIN IMMEDIATE` that takes the write lock) that still finds it taken is tried again
  after an `asyncio.sleep` that frees the loop, for up to `LOCK_WAIT_SECONDS` in all, as
  long as it waited on aiosqlite's thread before. Then, or inside a transaction at once,
  `sqlite3.OperationalError("database is locked")` is raised: SQLAlchemy wraps it as
  `sqlalchemy.exc.OperationalError`, which the dispatcher retries as transient.
  Inside the process the writer engine has one connection (pool_size=1), and WAL readers
  never take the write lock (https://www.sqlite.org/wal.html#concurrency), so the bot
  never waits on itself.
- Checkpoints run inline too: the COMMIT that takes the write-ahead log past
  `wal_autocheckpoint` (1000 pages) copies it into the database file and syncs that file
  (https://www.sqlite.org/wal.html#automatic_checkpoint): the loop waits for that disk
  sync, every few MB written. `storage.erasure.truncate_wal` checkpoints on this
  connection too, after erasures and once a day: a try waits up to `BUSY_TIMEOUT_MS` for
  the dashboard's open reads (https://www.sqlite.org/pragma.html#pragma_wal_checkpoint),
  the next comes after a pause.
- Errors are sqlite3's own exceptions, the very ones aiosqlite raises (it re-exports them)
  and the dialect maps.
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any

# The longest SQLite's busy handler may sleep in one statement, blocking the loop: enough
# for a CLI command's short transaction beside `serve`.
BUSY_TIMEOUT_MS = 50
# The longest a statement outside a transaction (BEGIN IMMEDIATE) waits for the write lock
# in all, in tries of BUSY_TIMEOUT_MS with the loop free between them: as long as SQLite
# waited before, under aiosqlite (timeout=30).
LOCK_WAIT_SECONDS = 30.0
# Pauses between tries (seconds): SQLite's own busy handler's steps (sqliteDefaultBusyCallback
# in main.c), then 100 ms.
_PAUSES = (0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.025, 0.025, 0.025, 0.05, 0.05, 0.1)


def _pauses() -> Iterator[float]:
    return itertools.chain(_PAUSES, itertools.repeat(_PAUSES[-1]))


def _is_busy(error: sqlite3.OperationalError) -> bool:
    # The primary code (the low byte): SQLITE_BUSY and its extended codes.
    return getattr(error, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY


class InlineCursor:
    """An aiosqlite-like cursor over a `sqlite3.Cursor`; its coroutines do not suspend,
    but for `execute` waiting for another process's lock."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Any = None) -> InlineCursor:
        """Run one statement. Outside a transaction (BEGIN IMMEDIATE, a checkpoint), a
        statement that finds another process's lock is tried again after a pause that
        frees the loop, for up to LOCK_WAIT_SECONDS: SQLite says such a statement can
        simply be retried (https://www.sqlite.org/rescode.html#busy); inside a transaction
        "database is locked" is raised at once, for the caller to roll back."""
        arguments = (sql,) if parameters is None else (sql, parameters)
        if self._cursor.connection.in_transaction:
            self._cursor.execute(*arguments)
            return self
        deadline: float | None = None
        pauses = _pauses()
        while True:
            try:
                self._cursor.execute(*arguments)
                return self
            except sqlite3.OperationalError as error:
                now = time.monotonic()
                deadline = deadline or now + LOCK_WAIT_SECONDS
                if not _is_busy(error) or now >= deadline:
                    raise
            await asyncio.sleep(min(next(pauses), max(deadline - now, 0.0)))

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> InlineCursor:
        """Run one statement once per set of parameters."""
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        """The next row, or None."""
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        """Up to `size` rows (`arraysize` by default, as aiosqlite does)."""
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        """Every remaining row."""
        return self._cursor.fetchall()

    async def close(self) -> None:
        """Close the cursor."""
        self._cursor.close()

    async def __aiter__(self) -> AsyncIterator[Any]:
        for row in self._cursor:
            yield row

    @property
    def description(self) -> Any:
        """The columns of the last statement's rows (None if it returns none)."""
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        """Rows changed by the last statement."""
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        """The rowid of the last row inserted."""
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        """Rows `fetchmany` returns by default."""
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _InlineQueue:
    """Stands for aiosqlite's queue to its thread: the dialect sets `isolation_level` by
    putting `(future, function)` on it; here the function runs at once."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as error:  # handed to whoever awaits the future, as aiosqlite does
            future.set_exception(error)
        else:
            future.set_result(result)


class InlineConnection:
    """An aiosqlite-like connection over a `sqlite3.Connection`, for SQLAlchemy's
    `sqlite+aiosqlite` dialect; its coroutines do not suspend (see `InlineCursor.execute`)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection: sqlite3.Connection | None = connection
        self._tx = _InlineQueue()

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            # aiosqlite's words: the dialect maps them to OperationalError (a disconnect).
            raise ValueError("no active connection")
        return self._connection

    @property
    def isolation_level(self) -> str | None:
        """The sqlite3 module's transaction mode (None: SQLAlchemy's hooks begin them)."""
        return self._conn.isolation_level

    @property
    def in_transaction(self) -> bool:
        """True while a transaction is open."""
        return self._conn.in_transaction

    def cursor(self) -> InlineCursor:
        """A new cursor; also an async context manager, as aiosqlite's is."""
        return InlineCursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Any = None) -> InlineCursor:
        """Run one statement on a new cursor."""
        return await self.cursor().execute(sql, parameters)

    async def commit(self) -> None:
        """Commit the open transaction."""
        self._conn.commit()

    async def rollback(self) -> None:
        """Roll the open transaction back."""
        self._conn.rollback()

    async def create_function(
        self, name: str, num_params: int, func: Callable[..., Any], *, deterministic: bool = False
    ) -> None:
        """Make a Python function callable from SQL."""
        self._conn.create_function(name, num_params, func, deterministic=deterministic)

    async def close(self) -> None:
        """Close the connection (again: nothing)."""
        self.stop()

    def stop(self) -> None:
        """Close at once: what SQLAlchemy calls to terminate a connection, from any thread."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()


def connector(database: str, **options: Any) -> Callable[[], Any]:
    """An `async_creator` for `create_async_engine`: `sqlite3.connect(database, **options)`
    with a busy timeout of `BUSY_TIMEOUT_MS`, usable from any thread (the pool may close
    it from the garbage collector's)."""
    options = {**options, "timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}

    async def connect() -> InlineConnection:
        return InlineConnection(sqlite3.connect(database, **options))

    return connect
