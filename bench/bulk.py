"""Bulk loading for the benchmarks: rows given as dicts per table, loaded with each
database's fast path (COPY on PostgreSQL, one executemany transaction on SQLite)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import Column
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.schema import CallableColumnDefault, ScalarElementColumnDefault

from bench import databases
from storage.db import create_engine
from storage.migrate import upgrade
from storage.models import Base


def _filler(column: Column[Any]) -> Callable[[], Any]:
    """What an INSERT through SQLAlchemy would put in `column` when a row does not say: its
    Python-side default (called per row: a random public id differs on each), else NULL."""
    default = column.default
    if isinstance(default, CallableColumnDefault):
        return lambda: default.arg(None)  # SQLAlchemy wraps it to take an execution context
    if isinstance(default, ScalarElementColumnDefault):
        return lambda: default.arg
    return lambda: None


def tuples(table: str, rows: list[dict[str, Any]]) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The table's columns (from the models) and each row's values in that order; a column a
    row leaves out gets the model's default, as an ORM insert would."""
    model_columns = list(Base.metadata.tables[table].columns)
    columns = [column.name for column in model_columns]
    fillers = {column.name: _filler(column) for column in model_columns}
    return columns, [
        tuple(row[name] if name in row else fillers[name]() for name in columns) for row in rows
    ]


async def load_postgres(url: str, data: dict[str, list[dict[str, Any]]]) -> None:
    """COPY every table's rows, move the id sequences past them, then VACUUM ANALYZE."""
    connection = await asyncpg.connect(databases._dsn(url))
    try:
        for table, rows in data.items():
            columns, records = tuples(table, rows)
            await connection.copy_records_to_table(table, records=records, columns=columns)
        for table in data:
            if "id" not in Base.metadata.tables[table].columns:
                continue  # keyed by another table's id (contribution_voice): no sequence
            highest = f"(SELECT max(id) FROM {table})"
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {highest})"
            )
        # What autovacuum does soon after a bulk load: statistics and the visibility map
        # (which lets the results read the answers' index without visiting the table).
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


def load_sqlite(path: Path, data: dict[str, list[dict[str, Any]]]) -> None:
    """Insert every table's rows in one transaction, then ANALYZE."""
    connection = sqlite3.connect(path)
    try:
        with connection:
            for table, rows in data.items():
                columns, records = tuples(table, rows)
                marks = ", ".join("?" for _ in columns)
                connection.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                    [tuple(sqlite_value(v) for v in record) for record in records],
                )
        connection.execute("ANALYZE")
    finally:
        connection.close()


def sqlite_value(value: Any) -> Any:
    """A value as SQLAlchemy's SQLite types store it."""
    # The format SQLAlchemy's SQLite DateTime stores (naive UTC text).
    return (
        value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        if isinstance(value, datetime)
        else value
    )


@asynccontextmanager
async def loaded_database(
    backend: str,
    server_url: str,
    workdir: Path,
    name: str,
    data: dict[str, list[dict[str, Any]]],
    *,
    kept: str | None = None,
) -> AsyncIterator[tuple[str, AsyncEngine, float]]:
    """A fresh, migrated database on `backend` holding `data`: (its URL, an engine, the
    seconds the load took). The PostgreSQL database is dropped afterwards, unless `kept`
    names it (then it is made afresh under that name and left for later runs to reuse)."""
    dropped = None
    if backend == "sqlite":
        path = workdir / f"{name}.db"
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    elif kept is not None:
        await databases.drop_database(server_url, kept)
        url = await databases.create_named_database(server_url, kept)
    else:
        dropped, url = await databases.create_database(server_url)
    engine = create_engine(url)
    try:
        await upgrade(engine)
        started = time.perf_counter()
        if backend == "sqlite":
            load_sqlite(path, data)
        else:
            await load_postgres(url, data)
        yield url, engine, time.perf_counter() - started
    finally:
        await engine.dispose()
        if dropped is not None:
            await databases.drop_database(server_url, dropped)
