"""Migration 0022 on a database holding replay keys, on both databases: `inbound_event`
becomes `replay_key` with every key kept, still unique, and new keys get ids after them;
the downgrade gives the old table back with the same keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from storage import replay_keys
from storage.db import create_engine, session_factory
from storage.models import UtcDateTime
from tests.support import migrations

SEEN = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
KEYS = ["slack:Ev1", "request:slack:abc", "teams:19:x|1"]


def _table(name: str) -> sa.TableClause:
    return sa.table(
        name,
        sa.column("id", sa.Integer()),
        sa.column("key"),
        sa.column("received_at", UtcDateTime()),
    )


async def _keys(url: str, name: str) -> list[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as db:
            table = _table(name)
            rows = await db.execute(sa.select(table.c.key).order_by(table.c.id))
            return list(rows.scalars())
    finally:
        await engine.dispose()


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as db:
            return set(await db.run_sync(lambda c: sa.inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def test_the_keys_move_to_replay_key_and_back(empty_database: str) -> None:
    url = empty_database
    await migrations.migrate_to(url, "0021")
    engine = create_engine(url)
    try:
        async with engine.begin() as db:
            await db.execute(
                _table("inbound_event").insert(),
                [
                    {"key": key, "received_at": SEEN + timedelta(seconds=n)}
                    for n, key in enumerate(KEYS)
                ],
            )
    finally:
        await engine.dispose()

    await migrations.migrate_to(url, "0022")
    assert await _keys(url, "replay_key") == KEYS
    assert "inbound_event" not in await _tables(url)
    engine = create_engine(url)
    try:
        db_sessions = session_factory(engine)
        async with db_sessions() as db, db.begin():
            # A key seen before the migration is still a replay; a new one is recorded.
            assert not await replay_keys.first_time(db, "slack:Ev1", SEEN)
            assert await replay_keys.first_time(db, "slack:Ev2", SEEN)
        async with engine.begin() as db:
            duplicate = _table("replay_key").insert().values(key=KEYS[1], received_at=SEEN)
            try:
                await db.execute(duplicate)
                raise AssertionError("a key recorded twice")
            except IntegrityError:
                pass
    finally:
        await engine.dispose()

    await migrations.downgrade_to(url, "0021")
    assert await _keys(url, "inbound_event") == [*KEYS, "slack:Ev2"]
    assert "replay_key" not in await _tables(url)
