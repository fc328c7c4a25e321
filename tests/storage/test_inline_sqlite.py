"""The SQLite writer runs its statements inline on the event loop's thread; the reader
stays on aiosqlite's threads; transactions and errors behave as under aiosqlite, and
another process's lock is waited for with the loop free between short tries."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.core.dispatch import _is_transient
from storage import inline_sqlite
from storage.db import create_engine, create_reader
from storage.inline_sqlite import BUSY_TIMEOUT_MS, InlineConnection


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'inline.db'}"


@pytest.fixture
async def engine(url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"))
    yield engine
    await engine.dispose()


async def _thread_of_statements(connection: AsyncConnection) -> tuple[object, int]:
    """The driver connection, and the thread a SQL function runs on when SQLite calls it."""
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.create_function("thread_ident", 0, threading.get_ident)
    ident = (await connection.execute(text("SELECT thread_ident()"))).scalar_one()
    return driver, ident


async def _names(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        result = await connection.execute(text("SELECT name FROM t ORDER BY id"))
        return list(result.scalars())


async def test_the_writer_runs_statements_on_the_loops_thread(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        driver, ident = await _thread_of_statements(connection)
    assert isinstance(driver, InlineConnection)
    assert ident == threading.get_ident()


async def test_the_reader_still_reads_on_aiosqlites_thread(engine: AsyncEngine, url: str) -> None:
    reader = create_reader(url)
    assert reader is not None
    try:
        async with reader.connect() as connection:
            driver, ident = await _thread_of_statements(connection)
    finally:
        await reader.dispose()
    assert isinstance(driver, aiosqlite.Connection)
    assert ident != threading.get_ident()


def test_a_statement_completes_without_suspending() -> None:
    connection = InlineConnection(sqlite3.connect(":memory:"))
    try:
        coroutine = connection.execute("SELECT 41 + 1")
        with pytest.raises(StopIteration) as done:  # finished at the first step
            coroutine.send(None)
        fetch = done.value.value.fetchall()
        with pytest.raises(StopIteration) as fetched:
            fetch.send(None)
        assert fetched.value.value == [(42,)]
    finally:
        connection.stop()


async def test_commit_rollback_and_savepoints(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO t (name) VALUES ('kept')"))
    with pytest.raises(RuntimeError):
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO t (name) VALUES ('rolled back')"))
            raise RuntimeError("abandon the transaction")
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO t (name) VALUES ('outer')"))
        savepoint = await connection.begin_nested()
        await connection.execute(text("INSERT INTO t (name) VALUES ('inner, undone')"))
        await savepoint.rollback()
        async with connection.begin_nested():
            await connection.execute(text("INSERT INTO t (name) VALUES ('inner, kept')"))
    assert await _names(engine) == ["kept", "outer", "inner, kept"]


async def test_executemany_returning_and_streaming(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        many = await connection.execute(
            text("INSERT INTO t (name) VALUES (:name)"), [{"name": "a"}, {"name": "b"}]
        )
        assert many.rowcount == 2
        returned = await connection.execute(
            text("INSERT INTO t (name) VALUES ('c') RETURNING id, name")
        )
        assert returned.all() == [(3, "c")]
        streamed = await connection.stream(text("SELECT name FROM t ORDER BY id"))
        assert [row.name async for row in streamed] == ["a", "b", "c"]


async def test_a_constraint_violation_is_an_integrity_error(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO t (id, name) VALUES (1, 'first')"))
    with pytest.raises(IntegrityError) as raised:
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO t (id, name) VALUES (1, 'again')"))
    assert isinstance(raised.value.orig, sqlite3.IntegrityError)
    assert await _names(engine) == ["first"]  # and the connection still works


@pytest.fixture
def other_process(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """Stands for a CLI command beside `serve`: the write lock held by another connection."""
    other = sqlite3.connect(tmp_path / "inline.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    yield other
    other.close()


async def test_a_lock_held_elsewhere_is_waited_for_with_the_loop_free(
    engine: AsyncEngine, other_process: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    waiting = asyncio.Event()

    def pauses() -> Iterator[float]:
        waiting.set()  # the first try found the lock taken
        return itertools.repeat(0.0)

    monkeypatch.setattr(inline_sqlite, "_pauses", pauses)

    async def write() -> None:
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO t (name) VALUES ('after the wait')"))

    writing = asyncio.create_task(write())
    await waiting.wait()  # runs only if the loop is free while the write waits
    assert not writing.done()
    other_process.execute("ROLLBACK")
    await writing
    assert await _names(engine) == ["after the wait"]


async def test_a_lock_held_too_long_surfaces_as_a_transient_error(
    engine: AsyncEngine, other_process: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with engine.connect() as connection:  # no transaction: the lock is not needed
        raw = await connection.get_raw_connection()
        assert raw.driver_connection is not None
        waited = await raw.driver_connection.execute("PRAGMA busy_timeout")
        assert await waited.fetchone() == (BUSY_TIMEOUT_MS,)  # how long the loop may block
    monkeypatch.setattr(inline_sqlite, "LOCK_WAIT_SECONDS", 0.0)  # no second try
    with pytest.raises(OperationalError) as raised:
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO t (name) VALUES ('blocked')"))
    assert "database is locked" in str(raised.value.orig)
    assert _is_transient(raised.value)  # the dispatcher tries the event again
    other_process.execute("ROLLBACK")
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO t (name) VALUES ('once free')"))
    assert await _names(engine) == ["once free"]
