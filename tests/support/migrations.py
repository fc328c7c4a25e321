"""Migration tests' tools: a database with no schema yet, brought to a chosen revision."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from storage.db import create_engine
from storage.migrate import alembic_config
from tests.support import databases


async def migrate_to(url: str, revision: str) -> None:
    """Run the migrations up to `revision` (not beyond), as `migrate` would."""
    await _alembic(url, lambda config: command.upgrade(config, revision))


async def downgrade_to(url: str, revision: str) -> None:
    """Undo the migrations after `revision`."""
    await _alembic(url, lambda config: command.downgrade(config, revision))


async def _alembic(url: str, step: Callable[[Config], None]) -> None:
    def run(connection: Any) -> None:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        step(config)

    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run)
    finally:
        await engine.dispose()


async def on_server(server: str, statement: str) -> None:
    """One statement on the PostgreSQL server (CREATE/DROP DATABASE run outside a
    transaction, so not through SQLAlchemy)."""
    dsn = make_url(server.replace("postgresql+asyncpg://", "postgresql://"))
    connection = await asyncpg.connect(dsn.set(drivername="postgresql").render_as_string(False))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def empty_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database with no schema yet on `backend` ("sqlite" or "postgresql", a fresh one
    with a random name, dropped afterwards): the body of the tests' `empty_database`."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    server = databases.postgres_server_url()
    if server is None:
        pytest.skip(databases.SKIP_REASON)
    name = f"ambassador_migration_{secrets.token_hex(6)}"
    asyncio.run(on_server(server, f'CREATE DATABASE "{name}"'))
    yield make_url(server).set(database=name).render_as_string(hide_password=False)
    asyncio.run(on_server(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
