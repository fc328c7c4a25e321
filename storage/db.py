"""Engine and session factory for SQLite (aiosqlite's dialect; the writer runs inline, see
storage.inline_sqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage import inline_sqlite

log = logging.getLogger(__name__)


def async_url(url: str) -> str:
    """Map the URLs users write (`postgresql://`, `sqlite:///`) to the async drivers."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url[len("postgresql://") :]
    if url.startswith("sqlite://") and not url.startswith("sqlite+"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url


def is_sqlite(url: str) -> bool:
    """True for any SQLite URL."""
    return make_url(async_url(url)).get_backend_name() == "sqlite"


def _prepare_sqlite_file(url: str) -> None:
    """Make the database file private (0600) before SQLite opens it.

    SQLite would create it 0666 less the umask (0644: readable by every local user), and
    gives its -wal and -shm files the database file's own mode (os_unix.c,
    findCreateFileMode and unixOpenSharedMemory): creating the file 0600 first, empty (an
    empty file is an empty database), keeps all three private. Files made before are
    tightened the same way.
    """
    database = make_url(async_url(url)).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        return
    except FileExistsError:
        pass
    for file in (path, *(Path(f"{database}{suffix}") for suffix in ("-wal", "-shm"))):
        try:
            mode = file.stat().st_mode
            if mode & 0o077:
                file.chmod(mode & 0o700)
                log.warning("sqlite_file_mode_tightened", extra={"path": str(file)})
        except OSError:
            continue  # absent, or another user's file: SQLite says so if it matters


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create the async engine for `url`, tuned for concurrent writers.

    On SQLite every transaction starts with BEGIN IMMEDIATE: a deferred transaction
    that reads then writes fails at once with "database is locked" when another
    writer holds the lock (busy_timeout does not apply to that upgrade). See
    https://docs.sqlalchemy.org/en/20/dialects/sqlite.html#serializable-isolation-savepoints-transactional-ddl

    SQLite's statements run inline on the event loop's thread (storage.inline_sqlite: no
    thread hand-off per statement), under aiosqlite's dialect all the same.
    """
    driver_url = async_url(url)
    # SQL parameters are what people wrote: never in an exception's message or a log line.
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    if is_sqlite(url):
        _prepare_sqlite_file(url)
        # The file and the sqlite3 options the URL names, as the dialect would read them.
        args, options = SQLiteDialect_pysqlite().create_connect_args(make_url(driver_url))
        kwargs["async_creator"] = inline_sqlite.connector(*args, **options)
        # One connection: SQLite allows one writer at a time anyway, and queueing for
        # the pool is fair and immediate where SQLite's busy handler sleeps and retries
        # (long tails under concurrent joins). Several processes need PostgreSQL.
        kwargs.update(pool_size=1, max_overflow=0, pool_timeout=60)
    else:
        kwargs.update(pool_size=20, max_overflow=20)
    engine = create_async_engine(driver_url, **kwargs)
    if is_sqlite(url):
        _install_sqlite_hooks(engine)
    return engine


async def refresh_statistics(engine: AsyncEngine) -> None:
    """SQLite: the query planner's statistics brought up to date (ANALYZE, sampling at most
    400 rows per index: milliseconds, https://www.sqlite.org/lang_analyze.html#approx).
    SQLite never gathers them on its own, and without them a rollup filled after the
    last ANALYZE is read with the wrong index. PostgreSQL's autovacuum keeps its own."""
    if engine.dialect.name != "sqlite":
        return
    async with engine.begin() as connection:
        await connection.exec_driver_sql("PRAGMA analysis_limit=400")
        await connection.exec_driver_sql("ANALYZE")


# Connections of a SQLite reader (the dashboard's sections, read side by side).
READERS = 4


def create_reader(url: str) -> AsyncEngine | None:
    """On SQLite, an engine that only reads, beside the writer's one connection: its
    transactions begin deferred (a WAL snapshot, no write lock: the bot's writers never wait
    for a long read, https://www.sqlite.org/wal.html#concurrency), `query_only` refuses any
    write, and its few connections read side by side. None on PostgreSQL, whose pool
    already reads in parallel without blocking writers."""
    if not is_sqlite(url):
        return None
    engine = create_async_engine(
        async_url(url),
        hide_parameters=True,
        connect_args={"timeout": 30},
        pool_size=READERS,
        max_overflow=0,
        pool_timeout=60,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # Bounded: a statement waiting for another process's lock blocks the event loop.
        cursor.execute(f"PRAGMA busy_timeout={inline_sqlite.BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Deleted content is overwritten with zeros, so that an erasure (`forget me`) leaves
        # no byte of the person in the file (https://www.sqlite.org/pragma.html#pragma_secure_delete).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


def compact_sqlite(url: str) -> None:
    """Rewrite a SQLite file without its free space (VACUUM), then fold the WAL into it.

    An UPDATE that grows a row leaves the old one in the file's free space until the page
    is reused, unless SQLite was built with SQLITE_SECURE_DELETE (Debian's is; others,
    e.g. Python's own Windows and macOS builds, are not: https://www.sqlite.org/pragma.html#pragma_secure_delete).
    After secrets were sealed or re-sealed, this removes what they were before, whatever
    the build (https://www.sqlite.org/lang_vacuum.html). Run with no transaction open.
    """
    database = make_url(async_url(url)).database
    if not is_sqlite(url) or not database or database == ":memory:":
        return
    connection = sqlite3.connect(database, isolation_level=None, timeout=30)
    try:
        connection.execute("VACUUM")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


async def ping(engine: AsyncEngine) -> None:
    """Raise if the database cannot be reached."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
