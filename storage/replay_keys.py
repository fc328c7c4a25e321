"""Replay keys: a platform request, event or activity already handled has no second
database effect when retried or replayed, on any replica."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Executable
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage.models import ReplayKey
from storage.upsert import InsertInto, Prepared, insert_for, table_of


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


def _new_keys(insert_into: InsertInto) -> Executable:
    table = table_of(ReplayKey)
    return insert_into(table).on_conflict_do_nothing(index_elements=["key"]).returning(table.c.key)


# One statement, built once per dialect and compiled once (SQLAlchemy's cache): the
# journal records a batch's keys with it, run once per batch with a row per key
# (SQLAlchemy's insertmanyvalues: one INSERT … VALUES (…), (…) … RETURNING on the wire).
# Built per call with .values([...]) it was a new statement for every batch size, compiled
# again each time: more CPU than the rest of the journal's write.
_NEW_KEYS = Prepared(_new_keys)


async def first_times(connection: AsyncConnection, keys: list[str], now: datetime) -> set[str]:
    """Record `keys` in the caller's transaction (a bare connection: the ack path); the
    ones recorded now, i.e. never seen before. A concurrent duplicate waits on the unique
    key, then is left out; a key twice in `keys` is recorded (and returned) once."""
    if not keys:
        return set()
    statement = _NEW_KEYS.for_dialect(connection.dialect.name)
    rows = [{"key": key, "received_at": now} for key in keys]
    result = await connection.execute(statement, rows if len(rows) > 1 else rows[0])
    return set(result.scalars().all())
