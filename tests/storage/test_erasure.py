"""The write-ahead log's truncation after an erasure waits out the dashboard's open reads
without blocking the event loop: tries bounded by the busy timeout, pauses between them."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import erasure
from storage.db import create_engine


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "erasure.db"


@pytest.fixture
async def engine(database: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite:///{database}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (name TEXT)"))
        await connection.execute(text("INSERT INTO t VALUES ('erased person')"))
    yield engine
    await engine.dispose()


@pytest.fixture
def open_read(database: Path) -> Iterator[sqlite3.Connection]:
    """A read transaction on the log's pages, as a dashboard section holds one."""
    reader = sqlite3.connect(database, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM t").fetchall()
    yield reader
    reader.close()


def _wal_size(database: Path) -> int:
    return Path(f"{database}-wal").stat().st_size


async def test_the_log_is_truncated_once_the_read_ends(
    engine: AsyncEngine,
    database: Path,
    open_read: sqlite3.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _wal_size(database) > 0
    pauses: list[int] = []

    async def pause() -> None:  # the read ends while the truncation waits
        pauses.append(_wal_size(database))
        open_read.execute("COMMIT")

    monkeypatch.setattr(erasure, "_pause", pause)
    assert await erasure.truncate_wal(engine)
    assert len(pauses) == 1 and pauses[0] > 0  # the first try found the read and waited
    assert _wal_size(database) == 0


async def test_a_read_that_never_ends_leaves_the_log_and_says_so(
    engine: AsyncEngine,
    database: Path,
    open_read: sqlite3.Connection,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def pause() -> None:
        return None

    monkeypatch.setattr(erasure, "_pause", pause)
    monkeypatch.setattr(erasure, "CHECKPOINT_TRIES", 2)
    assert not await erasure.truncate_wal(engine)
    assert "wal_not_truncated" in caplog.messages
