"""The journal on both databases: concurrent requests are committed together (fewer
commits than requests), each gets its own id, in order; a database refusal reaches the
caller (so no ack is sent for an unrecorded request)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.inbox.journal import Journal
from bot.server import Runtime
from storage.models import InboxEvent


async def test_concurrent_requests_share_commits_and_each_is_recorded(runtime: Runtime) -> None:
    commits = 0

    def counted() -> None:
        nonlocal commits
        commits += 1

    journal = Journal(runtime.engine, runtime.clock, on_recorded=counted)
    ids = await asyncio.gather(
        *(journal.record("slack", "command", {"text": f"join {n}"}) for n in range(50))
    )
    assert len(set(ids)) == 50 and ids == sorted(ids), "one id each, in arrival order"
    assert 1 <= commits < 50, f"{commits} commits for 50 requests"
    async with runtime.db_sessions() as db:
        rows = (await db.execute(select(InboxEvent).order_by(InboxEvent.id))).scalars().all()
    assert [row.payload["text"] for row in rows] == [f"join {n}" for n in range(50)]
    assert {row.status for row in rows} == {"pending"}


async def test_a_database_refusal_reaches_the_caller(runtime: Runtime) -> None:
    journal = Journal(runtime.engine, runtime.clock, on_recorded=lambda: None)
    with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises
        await journal.record("slack", "command", {"not JSON": {1, 2}})
    assert (await journal.record("slack", "command", {"ok": True}) or 0) > 0, "the next one works"


async def test_a_replay_key_records_a_request_once_in_a_batch_and_across_batches(
    runtime: Runtime,
) -> None:
    journal = Journal(runtime.engine, runtime.clock, on_recorded=lambda: None)
    together = await asyncio.gather(
        *(journal.record("slack", "command", {"n": n}, replay_key="sig-1") for n in range(5)),
        journal.record("slack", "command", {"n": "other"}, replay_key="sig-2"),
        journal.record("slack", "command", {"n": "no key"}),
    )
    assert sum(1 for found in together[:5] if found is not None) == 1, together
    assert together[5] is not None and together[6] is not None
    assert await journal.record("slack", "command", {"n": "later"}, replay_key="sig-1") is None
    # The same key on another platform is another request.
    assert await journal.record("teams", "activity", {"n": 1}, replay_key="sig-1") is not None
    async with runtime.db_sessions() as db:
        rows = (await db.execute(select(InboxEvent))).scalars().all()
    assert len(rows) == 4
