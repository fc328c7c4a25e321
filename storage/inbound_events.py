"""Platform events already handled, for exactly-once effects across retries and replicas."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage.models import InboundEvent
from storage.upsert import insert_for, table_of


async def first_time(session: AsyncSession, key: str, now: datetime) -> bool:
    """Record `key` in the caller's transaction; False when it was already recorded.

    Recorded with the event's effects, in one transaction: either both happen or neither,
    and a concurrent duplicate waits on the unique key, then finds it.
    """
    statement = (
        insert_for(session, InboundEvent)
        .values(key=key, received_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(table_of(InboundEvent).c.id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def first_times(connection: AsyncConnection, keys: list[str], now: datetime) -> set[str]:
    """Record `keys` in the caller's transaction (a bare connection: the ack path); the
    ones recorded now, i.e. never seen before. A concurrent duplicate waits on the unique
    key, then is left out."""
    if not keys:
        return set()
    table = table_of(InboundEvent)
    insert_into = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert_into(table)
        .values([{"key": key, "received_at": now} for key in keys])
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(table.c.key)
    )
    return set((await connection.execute(statement)).scalars().all())
