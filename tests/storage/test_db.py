"""SQLite files are private to the bot's user: the database, its -wal and -shm files."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from storage.db import create_engine, create_reader, refresh_statistics


def _modes(database: Path) -> dict[str, int]:
    files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    return {file.name: stat.S_IMODE(file.stat().st_mode) for file in files if file.exists()}


async def _write(database: Path) -> dict[str, int]:
    engine = create_engine(f"sqlite:///{database}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE IF NOT EXISTS t (x TEXT)"))
            await connection.execute(text("INSERT INTO t VALUES ('row')"))
        return _modes(database)  # while the engine is open: the WAL and its index exist
    finally:
        await engine.dispose()


async def test_a_new_database_and_its_wal_files_are_0600(tmp_path: Path) -> None:
    previous = os.umask(0o022)  # the usual umask: SQLite alone would make them 0644
    try:
        modes = await _write(tmp_path / "new" / "bot.db")
    finally:
        os.umask(previous)
    assert modes == {"bot.db": 0o600, "bot.db-wal": 0o600, "bot.db-shm": 0o600}


async def test_a_database_made_before_is_made_private(tmp_path: Path) -> None:
    database = tmp_path / "old.db"
    sqlite3.connect(database).close()
    database.chmod(0o644)
    assert await _write(database) == {"old.db": 0o600, "old.db-wal": 0o600, "old.db-shm": 0o600}


async def test_the_sqlite_reader_reads_beside_a_writer_and_writes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'reader.db'}"
    writer = create_engine(url)
    reader = create_reader(url)
    assert reader is not None
    try:
        async with writer.begin() as connection:
            await connection.execute(text("CREATE TABLE t (n INTEGER)"))
            await connection.execute(text("INSERT INTO t VALUES (1)"))
        async with writer.begin() as writing:  # BEGIN IMMEDIATE: the write lock is held
            await writing.execute(text("INSERT INTO t VALUES (2)"))
            async with reader.connect() as reading:
                # Not blocked by the writer (a WAL snapshot), and not seeing its row yet.
                found = (await reading.execute(text("SELECT count(*) FROM t"))).scalar_one()
                assert found == 1
        async with reader.connect() as reading:
            assert (await reading.execute(text("SELECT count(*) FROM t"))).scalar_one() == 2
            with pytest.raises(OperationalError, match="readonly"):
                await reading.execute(text("INSERT INTO t VALUES (3)"))
    finally:
        await reader.dispose()
        await writer.dispose()


def test_postgresql_needs_no_separate_reader() -> None:
    assert create_reader("postgresql://postgres@127.0.0.1:5432/test") is None


async def test_sqlite_statistics_are_refreshed(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'stats.db'}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (n INTEGER)"))
            await connection.execute(text("CREATE INDEX ix_t ON t (n)"))
            for n in range(50):
                await connection.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
        await refresh_statistics(engine)
        async with engine.connect() as connection:
            found = await connection.execute(text("SELECT idx FROM sqlite_stat1 WHERE tbl = 't'"))
            assert [row[0] for row in found] == ["ix_t"]
    finally:
        await engine.dispose()
