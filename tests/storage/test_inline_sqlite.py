"""The SQLite writer runs its statements inline on the event loop's thread; the reader
stays on aiosqlite's threads; transactions, errors and locks behave as under aiosqlite."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.core.dispatch import _is_transient
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


async def test_another_process_lock_surfaces_as_a_transient_error(
    engine: AsyncEngine, url: str, tmp_path: Path
) -> None:
    async with engine.connect() as connection:
        waited = await connection.exec_driver_sql("PRAGMA busy_timeout")
        assert waited.scalar_one() == BUSY_TIMEOUT_MS  # how long the loop may be blocked
    # Stands for a CLI command's transaction: the write lock held by another connection.
    other = sqlite3.connect(tmp_path / "inline.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(OperationalError) as raised:
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO t (name) VALUES ('blocked')"))
        assert "database is locked" in str(raised.value.orig)
        assert _is_transient(raised.value)  # the dispatcher tries the event again
        other.execute("ROLLBACK")
    finally:
        other.close()
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO t (name) VALUES ('once free')"))
    assert await _names(engine) == ["once free"]
