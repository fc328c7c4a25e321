"""The inbox table on both databases: requests recorded already leased to this process's
worker are not claimed by others until that lease runs out; a lease is extended only while
it is still the one held; released leases make requests due at once, done ones untouched."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.server import Runtime
from storage import inbox
from storage.models import InboxEvent

LEASE = timedelta(seconds=60)


async def _record(runtime: Runtime, count: int, leased: int) -> tuple[list[int], datetime]:
    """`count` requests, the first `leased` leased; their ids, and the lease's end."""
    held = runtime.clock.now() + LEASE
    async with runtime.engine.begin() as connection:
        entries = [("slack", "command", {"n": n}) for n in range(count)]
        ids = await inbox.record_many(connection, entries, held - LEASE, leased, held)
    return ids, held


async def _claim(runtime: Runtime) -> list[int]:
    async with runtime.db_sessions() as db, db.begin():
        return [row.id for row in await inbox.claim_due(db, runtime.clock.now(), LEASE, 10)]


async def test_requests_recorded_leased_are_claimed_only_once_the_lease_ran_out(
    runtime: Runtime,
) -> None:
    ids, held = await _record(runtime, 3, leased=2)
    async with runtime.db_sessions() as db:
        rows = (await db.execute(select(InboxEvent).order_by(InboxEvent.id))).scalars().all()
    assert [row.claimed_until for row in rows] == [held, held, None]
    assert await _claim(runtime) == ids[2:], "only the unleased one"
    await runtime.clock.advance(61)
    assert await _claim(runtime) == ids, "theirs ran out (and so did the claim of the third)"


async def test_a_lease_is_extended_only_while_it_is_still_the_one_held(runtime: Runtime) -> None:
    (first, second), held = await _record(runtime, 2, leased=2)
    await runtime.clock.advance(61)  # both ran out
    async with runtime.db_sessions() as db, db.begin():
        assert await inbox.extend(db, first, held, runtime.clock.now() + LEASE)
    assert await _claim(runtime) == [second], "extended: nobody else takes it"
    async with runtime.db_sessions() as db, db.begin():
        # `second` was claimed by another worker since: its lease is theirs now.
        assert not await inbox.extend(db, second, held, runtime.clock.now() + LEASE)
        await inbox.finish(db, first, runtime.clock.now())
    async with runtime.db_sessions() as db, db.begin():
        later = runtime.clock.now() + LEASE
        assert not await inbox.extend(db, first, later, later), "done: nothing to extend"


async def test_released_requests_are_due_at_once_and_done_ones_stay_done(
    runtime: Runtime,
) -> None:
    (pending, handled), _held = await _record(runtime, 2, leased=2)
    async with runtime.db_sessions() as db, db.begin():
        await inbox.finish(db, handled, runtime.clock.now())
        await inbox.release(db, [pending, handled])
    assert await _claim(runtime) == [pending]
    async with runtime.db_sessions() as db:
        assert await inbox.is_done(db, handled)
