"""Throw-away databases: a SQLite file per test, a PostgreSQL database per test run.

PostgreSQL runs when TEST_DATABASE_URL names a server (CI sets it); each run
creates its own database with a random name and drops it afterwards. Without
TEST_DATABASE_URL the PostgreSQL tests skip, unless AMBASSADOR_REQUIRE_POSTGRES=1
(CI), where an unreachable server fails the run instead of skipping silently.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import create_engine
from storage.migrate import upgrade
from storage.models import Base

SKIP_REASON = (
    "PostgreSQL tests need TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/test)"
)


def postgres_server_url() -> str | None:
    """The server URL from TEST_DATABASE_URL; fail in CI when required but missing."""
    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    if not url and os.environ.get("AMBASSADOR_REQUIRE_POSTGRES") == "1":
        pytest.fail("AMBASSADOR_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
    return url or None


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url.replace("postgresql+asyncpg://", "postgresql://"))
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(url: str, statement: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(url), timeout=10)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def create_postgres_database(server_url: str) -> str:
    """Create and migrate a database with a random name; return its URL."""
    name = f"ambassador_test_{secrets.token_hex(6)}"
    try:
        asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"TEST_DATABASE_URL is set but PostgreSQL is unreachable: {exc}")
    url = _asyncpg_dsn(server_url, name)
    asyncio.run(_migrate(url))
    return url


def drop_postgres_database(server_url: str, url: str) -> None:
    """Drop a database made by create_postgres_database."""
    name = make_url(url).database
    asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def sqlite_template(directory: Path) -> Path:
    """A migrated SQLite file to copy for each test (migrating once is faster)."""
    path = directory / "template.db"
    asyncio.run(_migrate(f"sqlite:///{path}"))
    return path


def fresh_sqlite(template: Path, directory: Path) -> str:
    """A copy of the migrated template; return its URL."""
    path = directory / f"test-{secrets.token_hex(4)}.db"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


async def truncate_all(url: str) -> None:
    """Empty every table (PostgreSQL tests share one database per run)."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            names = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
            await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


def iter_backends() -> Iterator[str]:
    """Backend names the `database_url` fixture is parametrized over."""
    yield "sqlite"
    yield "postgresql"
