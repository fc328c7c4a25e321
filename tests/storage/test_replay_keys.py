"""Replay keys recorded for the journal's batches (storage/replay_keys.py `first_times`),
on both databases: the new keys come back, the known ones and a batch's second copy of a
key do not, whatever the batch's size (one statement, compiled once, for every size)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from bot.server import Runtime
from storage import replay_keys
from storage.models import ReplayKey

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


async def test_a_batch_records_its_new_keys_once(runtime: Runtime) -> None:
    async with runtime.engine.begin() as connection:
        assert await replay_keys.first_times(connection, [], NOW) == set()
        assert await replay_keys.first_times(connection, ["a"], NOW) == {"a"}
        batch = ["b", "a", "c", "b"]
        assert await replay_keys.first_times(connection, batch, NOW) == {"b", "c"}
        assert await replay_keys.first_times(connection, ["c"], NOW) == set()
        fresh = [f"k{n}" for n in range(300)] + ["a"]
        assert await replay_keys.first_times(connection, fresh, NOW) == set(fresh) - {"a"}
    async with runtime.db_sessions() as db:
        count = await db.execute(select(func.count()).select_from(ReplayKey))
        assert count.scalar_one() == 303
        assert not await replay_keys.first_time(db, "k7", NOW), "the session's check agrees"
