"""The inbox worker on both databases: handled requests are marked done; a processor that
fails is retried later, then parked with its error; a request its processor forgets (not
for the bot) is deleted once handled, even when the processor fails after; a request
claimed by a worker that crashed is handled once its lease runs out."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.inbox import worker as worker_module
from bot.inbox.journal import Journal
from bot.inbox.request import Request
from bot.inbox.worker import InboxWorker
from bot.server import Runtime
from storage import inbox
from storage.models import InboxEvent


async def _rows(runtime: Runtime) -> list[InboxEvent]:
    async with runtime.db_sessions() as db:
        return list((await db.execute(select(InboxEvent).order_by(InboxEvent.id))).scalars())


async def test_handled_requests_are_done_and_failures_retried_then_parked(
    runtime: Runtime,
) -> None:
    seen: list[tuple[str, dict[str, Any], int]] = []

    async def process(kind: str, payload: dict[str, Any], request: Request) -> None:
        if payload.get("fail"):
            raise ValueError("cannot")
        seen.append((kind, payload, request.id))

    worker = InboxWorker(runtime.db_sessions, runtime.clock)
    worker.register("slack", process)
    journal = Journal(runtime.engine, runtime.clock, on_recorded=worker.wake)
    good = await journal.record("slack", "command", {"text": "join"})
    bad = await journal.record("slack", "command", {"fail": True})
    orphan = await journal.record("nowhere", "command", {})
    assert await worker.drain() == 3
    assert seen == [("command", {"text": "join"}, good)]
    rows = {row.id: row for row in await _rows(runtime)}
    assert rows[good].status == "done" and rows[good].done_at is not None
    assert rows[bad].status == "pending" and rows[bad].attempts == 1
    assert "ValueError: cannot" in (rows[bad].last_error or "")
    assert "no processor" in (rows[orphan].last_error or "")
    for _ in range(worker_module.MAX_ATTEMPTS):
        await runtime.clock.advance(3600)
        await worker.drain()
    rows = {row.id: row for row in await _rows(runtime)}
    assert rows[bad].status == "failed" and rows[bad].attempts == worker_module.MAX_ATTEMPTS
    assert len(seen) == 1, "the good one was never handled twice"


async def test_a_forgotten_request_is_deleted_once_handled_never_parked(
    runtime: Runtime,
) -> None:
    async def process(_kind: str, payload: dict[str, Any], request: Request) -> None:
        if payload.get("chat"):
            request.forget()
        if payload.get("fail"):
            raise ValueError("cannot")

    worker = InboxWorker(runtime.db_sessions, runtime.clock)
    worker.register("slack", process)
    journal = Journal(runtime.engine, runtime.clock, on_recorded=worker.wake)
    kept = await journal.record("slack", "command", {"text": "join"})
    chat = await journal.record("slack", "event", {"chat": "Lunch?"})
    failing = await journal.record("slack", "event", {"chat": "Lunch!", "fail": True})
    assert await worker.drain() == 3
    rows = {row.id: row for row in await _rows(runtime)}
    assert list(rows) == [kept] and rows[kept].status == "done"
    async with runtime.db_sessions() as db:
        assert await inbox.is_done(db, chat) and await inbox.is_done(db, failing)
    assert chat is not None and failing is not None


async def test_a_request_claimed_by_a_crashed_worker_is_handled_after_its_lease(
    runtime: Runtime,
) -> None:
    handled: list[int] = []

    async def process(_kind: str, _payload: dict[str, Any], request: Request) -> None:
        handled.append(request.id)

    journal = Journal(runtime.engine, runtime.clock, on_recorded=lambda: None)
    event_id = await journal.record("slack", "command", {"text": "join"})
    async with runtime.db_sessions() as db, db.begin():  # a worker claims it, then dies
        claimed = await inbox.claim_due(db, runtime.clock.now(), timedelta(seconds=60), 10)
    assert [row.id for row in claimed] == [event_id]
    survivor = InboxWorker(runtime.db_sessions, runtime.clock)
    survivor.register("slack", process)
    assert await survivor.drain() == 0, "still leased to the crashed worker"
    await runtime.clock.advance(61)
    assert await survivor.drain() == 1 and handled == [event_id]


async def test_a_request_waits_for_acks_being_recorded_but_never_starves(
    runtime: Runtime,
) -> None:
    """Acks first: a request starts once no ack is being recorded; under acks that never
    stop (a saturating burst), it still starts, after GIVE_WAY."""
    checks: list[bool] = []
    acks_left = [3]  # three looks find acks in progress, then they are done

    def acks_pending() -> bool:
        pending = acks_left[0] > 0
        acks_left[0] -= 1
        checks.append(pending)
        return pending

    started_after: list[int] = []

    async def process(_kind: str, _payload: dict[str, Any], _request: Request) -> None:
        started_after.append(len(checks))

    worker = InboxWorker(runtime.db_sessions, runtime.clock, acks_pending=acks_pending)
    worker.register("slack", process)
    journal = Journal(runtime.engine, runtime.clock, on_recorded=lambda: None)
    await journal.record("slack", "command", {"text": "join"})
    assert await worker.drain() == 1
    assert checks == [True, True, True, False] and started_after == [4]

    # Acks that never stop: each request still starts, one per GIVE_WAY, one after another.
    looks: list[int] = []

    def always() -> bool:
        looks.append(1)
        return True

    endless = InboxWorker(runtime.db_sessions, runtime.clock, acks_pending=always)
    seen_at: list[int] = []

    async def note(_kind: str, _payload: dict[str, Any], _request: Request) -> None:
        seen_at.append(len(looks))

    endless.register("slack", note)
    await journal.record("slack", "command", {"text": "join"})
    await journal.record("slack", "command", {"text": "join"})
    assert await endless.drain() == 2
    per_wait = round(worker_module.GIVE_WAY / worker_module.GIVE_WAY_STEP)
    assert seen_at == [per_wait, 2 * per_wait], "the second waited after the first"
    assert all(row.status == "done" for row in await _rows(runtime))


async def test_the_journal_says_when_acks_are_being_recorded(runtime: Runtime) -> None:
    journal = Journal(runtime.engine, runtime.clock, on_recorded=lambda: None)
    assert not journal.acks_pending()
    recording = asyncio.create_task(journal.record("slack", "command", {"text": "join"}))
    await asyncio.sleep(0)
    assert journal.acks_pending()
    await recording
    assert not journal.acks_pending()


async def test_a_request_done_with_its_effects_is_not_retried_when_its_processor_fails_after(
    runtime: Runtime,
) -> None:
    calls: list[int] = []

    async def process(_kind: str, _payload: dict[str, Any], request: Request) -> None:
        calls.append(request.id)
        async with runtime.db_sessions() as db, db.begin():
            await request.finish(db, runtime.clock.now())  # the effects' transaction
        raise RuntimeError("failed after its commit (a directory lookup, a log)")

    worker = InboxWorker(runtime.db_sessions, runtime.clock)
    worker.register("slack", process)
    journal = Journal(runtime.engine, runtime.clock, on_recorded=lambda: None)
    event_id = await journal.record("slack", "command", {"text": "join"})
    assert await worker.drain() == 1
    await runtime.clock.advance(3600)
    assert await worker.drain() == 0, "nothing due again"
    [row] = await _rows(runtime)
    assert calls == [event_id] and row.status == "done" and row.attempts == 0
