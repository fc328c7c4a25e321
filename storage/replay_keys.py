"""Replay keys: a platform request, event or activity already handled has no second
database effect when retried or replayed, on any replica."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage.models import ReplayKey
from storage.upsert import insert_for, table_of


async def first_time(db: AsyncSession, key: str, now: datetime) -> bool:
    """Record `key` in the caller's transaction; False when it was already recorded.

    Recorded with the event's effects, in one transaction: either both happen or neither,
    and a concurrent duplicate waits on the unique key, then finds it.
    """
    statement = (
        insert_for(db, ReplayKey)
        .values(key=key, received_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(table_of(ReplayKey).c.id)
    )
    return (await db.execute(statement)).scalar_one_or_none() is not None


async def first_times(connection: AsyncConnection, keys: list[str], now: datetime) -> set[str]:
    """Record `keys` in the caller's transaction (a bare connection: the ack path); the
    ones recorded now, i.e. never seen before. A concurrent duplicate waits on the unique
    key, then is left out."""
    if not keys:
        return set()
    table = table_of(ReplayKey)
    insert_into = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert_into(table)
        .values([{"key": key, "received_at": now} for key in keys])
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(table.c.key)
    )
    return set((await connection.execute(statement)).scalars().all())
