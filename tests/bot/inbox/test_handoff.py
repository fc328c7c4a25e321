"""Requests handed from the journal to this process's running worker, on both databases:
handled without a claim; released when the worker stops; recorded unleased when no worker
runs here (`serve --web-only`), for another worker to claim; and a handed request whose
lease ran out is handled by whoever holds it then — once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import event, select

from bot.inbox import worker as worker_module
from bot.inbox.journal import Journal
from bot.inbox.request import Request
from bot.inbox.worker import InboxWorker
from bot.server import Runtime
from storage.models import InboxEvent

WAIT = 10.0  # seconds before a test gives up waiting (never a timing assertion)


async def _until(check: Callable[[], Awaitable[bool]]) -> None:
    for _ in range(int(WAIT / 0.01)):
        if await check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not reached")


async def _rows(runtime: Runtime) -> list[InboxEvent]:
    async with runtime.db_sessions() as db:
        return list((await db.execute(select(InboxEvent).order_by(InboxEvent.id))).scalars())


def _all_done(runtime: Runtime) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return all(row.status == "done" for row in await _rows(runtime))

    return check


@pytest.fixture
def claims(runtime: Runtime) -> Iterator[list[str]]:
    """The claim statements the runtime's engine runs (UPDATE … WHERE id IN (SELECT …))."""
    seen: list[str] = []

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if sql.startswith("UPDATE inbox_event SET claimed_until") and "SELECT" in sql:
            seen.append(sql)

    engine = runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", statement)
    yield seen
    event.remove(engine, "before_cursor_execute", statement)


@pytest.fixture(autouse=True)
def no_periodic_claim(monkeypatch: pytest.MonkeyPatch) -> None:
    """No claim because a second went by: only the ones these tests expect."""
    monkeypatch.setattr(worker_module, "POLL_SECONDS", 3600.0)


async def test_requests_handed_over_are_handled_without_a_claim(
    runtime: Runtime, claims: list[str]
) -> None:
    handled: list[int] = []

    async def process(_kind: str, _payload: dict[str, Any], request: Request) -> None:
        handled.append(request.id)

    worker = InboxWorker(runtime.db_sessions, runtime.clock)
    worker.register("slack", process)
    journal = Journal(runtime.engine, runtime.clock, on_recorded=worker.wake, hand_off=worker)
    worker.start()
    try:
        ids = [await journal.record("slack", "command", {"n": n}) for n in range(3)]
        ids += await asyncio.gather(
            *(journal.record("slack", "command", {"n": n}) for n in range(3, 6))
        )
        await _until(_all_done(runtime))
    finally:
        await worker.stop()
    assert sorted(handled) == sorted(ids) and len(handled) == 6, "each once"
    assert len(claims) == 1, "only the start's look for what a crash left"


async def test_a_stopped_worker_releases_what_it_was_handed_and_did_not_handle(
    runtime: Runtime,
) -> None:
    started, never = asyncio.Event(), asyncio.Event()

    async def stuck(_kind: str, _payload: dict[str, Any], _request: Request) -> None:
        started.set()
        await never.wait()

    worker = InboxWorker(runtime.db_sessions, runtime.clock, concurrency=1)
    worker.register("slack", stuck)
    journal = Journal(runtime.engine, runtime.clock, on_recorded=worker.wake, hand_off=worker)
    worker.start()
    ids = [await journal.record("slack", "command", {"n": n}) for n in range(3)]
    await asyncio.wait_for(started.wait(), WAIT)
    assert all(row.claimed_until is not None for row in await _rows(runtime)), "handed: leased"
    await worker.stop()
    assert worker.hand_off_lease() is None, "a stopped worker is handed nothing"
    rows = await _rows(runtime)
    assert [(row.status, row.claimed_until) for row in rows] == [("pending", None)] * 3
    handled: list[int] = []

    async def process(_kind: str, _payload: dict[str, Any], request: Request) -> None:
        handled.append(request.id)

    other = InboxWorker(runtime.db_sessions, runtime.clock)  # a restart, or another replica
    other.register("slack", process)
    assert await other.drain() == 3, "at once, no lease to wait for"
    assert handled == ids


async def test_without_a_worker_here_requests_are_recorded_unleased_for_another(
    runtime: Runtime,
) -> None:
    # `serve --web-only`: the runtime's journal, its worker never started.
    ids = [await runtime.journal.record("slack", "command", {"n": n}) for n in range(2)]
    assert [row.claimed_until for row in await _rows(runtime)] == [None, None]
    handled: list[int] = []

    async def process(_kind: str, _payload: dict[str, Any], request: Request) -> None:
        handled.append(request.id)

    worker_process = InboxWorker(runtime.db_sessions, runtime.clock)  # `ambassador worker`
    worker_process.register("slack", process)
    assert await worker_process.drain() == 2 and handled == ids
    assert await _all_done(runtime)()


async def test_a_handed_request_whose_lease_ran_out_and_was_taken_is_not_handled_again(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=worker_module.__name__)
    here: list[int] = []
    there: list[int] = []
    started, go = asyncio.Event(), asyncio.Event()
    other = InboxWorker(runtime.db_sessions, runtime.clock)

    async def slow(_kind: str, payload: dict[str, Any], request: Request) -> None:
        here.append(request.id)
        if payload.get("first"):
            started.set()
            await go.wait()
            async with runtime.db_sessions() as db, db.begin():
                await request.finish(db, runtime.clock.now())  # done with its effects
            await runtime.clock.advance(61)  # this process stalled: its leases ran out
            assert await other.drain() == 1, "the other worker took the late request"

    async def process(_kind: str, _payload: dict[str, Any], request: Request) -> None:
        there.append(request.id)

    worker = InboxWorker(runtime.db_sessions, runtime.clock, concurrency=1)
    worker.register("slack", slow)
    other.register("slack", process)
    journal = Journal(runtime.engine, runtime.clock, on_recorded=worker.wake, hand_off=worker)
    worker.start()
    try:
        first = await journal.record("slack", "command", {"first": True})
        await asyncio.wait_for(started.wait(), WAIT)
        late = await journal.record("slack", "command", {})  # handed, waits behind `first`
        go.set()

        async def lost() -> bool:
            return "inbox_lease_lost" in caplog.messages

        await _until(lost)
    finally:
        await worker.stop()
    assert here == [first] and there == [late], "each handled once"
    assert await _all_done(runtime)()


async def test_a_handed_request_whose_lease_is_half_gone_is_extended_then_handled(
    runtime: Runtime,
) -> None:
    here: list[int] = []
    started, go = asyncio.Event(), asyncio.Event()
    other = InboxWorker(runtime.db_sessions, runtime.clock)
    other.register("slack", lambda *_: asyncio.sleep(0))

    async def slow(_kind: str, payload: dict[str, Any], request: Request) -> None:
        here.append(request.id)
        if payload.get("first"):
            started.set()
            await go.wait()
            async with runtime.db_sessions() as db, db.begin():
                await request.finish(db, runtime.clock.now())
            await runtime.clock.advance(45)  # three quarters of the leases gone
        else:
            await runtime.clock.advance(30)  # past the lease it was handed with
            assert await other.drain() == 0, "extended: nobody else may take it"

    worker = InboxWorker(runtime.db_sessions, runtime.clock, concurrency=1)
    worker.register("slack", slow)
    journal = Journal(runtime.engine, runtime.clock, on_recorded=worker.wake, hand_off=worker)
    worker.start()
    try:
        first = await journal.record("slack", "command", {"first": True})
        await asyncio.wait_for(started.wait(), WAIT)
        late = await journal.record("slack", "command", {})
        go.set()
        await _until(_all_done(runtime))
    finally:
        await worker.stop()
    assert here == [first, late]


async def test_hand_offs_that_never_let_up_leave_room_for_a_claim(runtime: Runtime) -> None:
    order: list[int] = []
    started, go = asyncio.Event(), asyncio.Event()

    async def process(_kind: str, payload: dict[str, Any], request: Request) -> None:
        order.append(request.id)
        if payload.get("first"):
            started.set()
            await go.wait()

    worker = InboxWorker(runtime.db_sessions, runtime.clock, concurrency=1)
    worker.register("slack", process)
    journal = Journal(runtime.engine, runtime.clock, on_recorded=worker.wake, hand_off=worker)
    worker.start()
    try:
        await journal.record("slack", "command", {"first": True})
        await asyncio.wait_for(started.wait(), WAIT)
        handed = [await journal.record("slack", "command", {"n": n}) for n in range(60)]
        replica = Journal(runtime.engine, runtime.clock, on_recorded=lambda: None)
        theirs = await replica.record("slack", "command", {"from": "a web-only replica"})
        worker.wake()  # as this process's journal would, for requests left to a claim
        go.set()
        await _until(_all_done(runtime))
    finally:
        await worker.stop()
    assert sorted(order[1:]) == sorted([*handed, theirs])
    assert order.index(theirs) <= 1 + worker_module.BATCH // 2, "in the next round"
