"""The outbox's handoff (bot/outbox/handoff.py): what a transaction of this process enqueues
goes to its running sender when it commits, leased, sent without a claim; outcomes are
written in batches (bot/outbox/recording.py), and at a stop.

Claims are counted, not timed: the statements that claim (UPDATE outbox_message SET
claimed_until … RETURNING) are read from the engine's events. The sender's poll is set to
an hour, so that no claim happens unless something asks for one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from bot.clock import Clock
from bot.core.replies import OutboundMessage
from bot.outbox import recording
from bot.outbox import sender as sender_module
from bot.outbox.delivery import NotNow, PermanentFailure, RetryLater
from bot.outbox.queue import Outbox
from bot.server import Runtime, create_runtime
from bot.settings import Settings
from storage import workspaces
from storage.models import OutboxMessage
from tests.bot.outbox.test_sender import RecordingSender
from tests.conftest import FRIDAY


class Claims:
    """Counts the outbox claims a runtime's engine runs."""

    def __init__(self, runtime: Runtime) -> None:
        self.count = 0
        event.listen(runtime.engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        text = " ".join(statement.split()).upper()
        if text.startswith("UPDATE OUTBOX_MESSAGE SET CLAIMED_UNTIL") and "RETURNING" in text:
            self.count += 1


class Gate(RecordingSender):
    """A platform whose posts wait until the test opens the gate (a send in flight)."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.started: list[str] = []

    async def post(
        self, workspace: str, target: str, message: OutboundMessage, *, key: str = ""
    ) -> str:
        self.started.append(message.text)
        await self.gate.wait()
        return await super().post(workspace, target, message, key=key)


def _quiet(settings: Settings) -> Settings:
    """No claim unless asked for: the poll once an hour."""
    return replace(settings, outbox=replace(settings.outbox, poll_interval=3600.0))


@pytest.fixture
async def running(settings: Settings) -> AsyncIterator[Runtime]:
    """A runtime whose sender runs (its loops started), as in `serve`."""
    runtime = create_runtime(_quiet(settings), Clock(controllable=True, start=FRIDAY))
    yield runtime
    await runtime.sender.stop()
    await runtime.engine.dispose()


async def _started(runtime: Runtime, platform: RecordingSender) -> Claims:
    """Register `platform`, start the sender, let its first claims (at start) pass."""
    runtime.sender.register_platform("test", platform)
    claims = Claims(runtime)
    runtime.sender.start()
    await _until(lambda: _true(claims.count >= 2))  # each lane claims once as it starts
    return claims


async def _true(value: bool) -> bool:
    return value


async def _until(check: Callable[[], Awaitable[bool]]) -> None:
    """Wait until `check` holds (a bound on the wait, not a timing assertion)."""
    for _ in range(1000):
        if await check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not reached")


async def _write(
    runtime: Runtime, posts: list[tuple[str, str]], *, replies: bool = False, fail: bool = False
) -> None:
    """Enqueue `posts` ((key, text) to C1) in one transaction; `fail`: it rolls back."""
    async with runtime.db_sessions() as db, db.begin():
        workspace = await workspaces.get_or_create(db, "test", "T1", runtime.clock.now())
        outbox = Outbox(db, "test", workspace.id, runtime.clock.now())
        for key, text in posts:
            if replies:
                await outbox.reply(key, "C1", OutboundMessage(text))
            else:
                await outbox.post(key, "C1", OutboundMessage(text))
        if fail:
            raise RuntimeError("the handler failed")


async def _row(runtime: Runtime, key: str) -> OutboxMessage | None:
    async with runtime.db_sessions() as db:
        query = select(OutboxMessage).where(OutboxMessage.idempotency_key == key)
        return (await db.execute(query)).scalar_one_or_none()


async def _status(runtime: Runtime, key: str) -> str:
    row = await _row(runtime, key)
    return row.status if row is not None else "missing"


async def test_a_committed_reply_and_post_are_sent_without_a_claim(running: Runtime) -> None:
    platform = RecordingSender()
    claims = await _started(running, platform)
    before = claims.count
    await _write(running, [("reply", "Your answer")], replies=True)
    await _write(running, [("news", "News")])
    await _until(lambda: _true(len(platform.posts) == 2))
    await _until(lambda: _sent(running, "reply", "news"))
    assert sorted(platform.posts) == [("C1", "News"), ("C1", "Your answer")]
    assert claims.count == before, "handed over, not claimed"


async def _sent(runtime: Runtime, *keys: str) -> bool:
    return all([await _status(runtime, key) == "sent" for key in keys])


async def test_a_rolled_back_transaction_hands_nothing(running: Runtime) -> None:
    platform = RecordingSender()
    await _started(running, platform)
    with pytest.raises(RuntimeError):
        await _write(running, [("ghost", "never")], fail=True)
    await _write(running, [("after", "after it")])
    await _until(lambda: _true(bool(platform.posts)))
    await running.sender.drain()
    assert platform.posts == [("C1", "after it")], "the rolled-back message was never sent"
    assert await _row(running, "ghost") is None


async def test_stop_gives_back_the_leases_of_rows_held_and_not_sent(running: Runtime) -> None:
    platform = Gate()
    await _started(running, platform)
    # One target: sent in order, so the second and third wait behind the first.
    await _write(running, [("first", "1"), ("second", "2"), ("third", "3")])
    await _until(lambda: _true(platform.started == ["1"]))
    for key in ("first", "second", "third"):
        row = await _row(running, key)
        assert row is not None and row.claimed_until is not None, "inserted leased"
    await running.sender.stop()
    second, third = await _row(running, "second"), await _row(running, "third")
    assert second is not None and second.claimed_until is None and second.status == "pending"
    assert third is not None and third.claimed_until is None and third.status == "pending"
    first = await _row(running, "first")
    assert first is not None and first.claimed_until is not None, (
        "the one in flight may have gone: it keeps its lease"
    )
    platform.gate.set()
    await running.sender.drain()  # any sender claims the released ones at once
    assert platform.posts == [("C1", "2"), ("C1", "3")]


async def test_outcomes_are_written_in_batches_and_at_stop(
    running: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recording, "WINDOW", 3600.0)  # nothing written before the stop
    platform = RecordingSender()
    await _started(running, platform)
    platform.failures += [PermanentFailure("channel_not_found"), RetryLater("timeout")]
    await _write(running, [("parked", "a"), ("retried", "b"), ("sent", "c")])
    await _until(lambda: _true(platform.posts == [("C1", "c")]))
    assert [await _status(running, k) for k in ("parked", "retried", "sent")] == ["pending"] * 3
    await running.sender.stop()
    parked, retried, sent = [await _row(running, k) for k in ("parked", "retried", "sent")]
    assert parked is not None and parked.status == "failed"
    assert parked.last_error == "channel_not_found"
    assert retried is not None and retried.status == "pending" and retried.attempts == 1
    assert retried.claimed_until is None and retried.last_error == "timeout"
    assert sent is not None and sent.status == "sent" and sent.platform_message_id == "m1"


async def test_a_sender_gone_with_a_held_row_leaves_it_to_another_once_its_lease_ends(
    running: Runtime, settings: Settings
) -> None:
    stuck = Gate()  # this process takes the row, then never gets further (killed)
    await _started(running, stuck)
    await _write(running, [("welcome", "Welcome")])
    await _until(lambda: _true(stuck.started == ["Welcome"]))
    other = create_runtime(_quiet(settings), Clock(controllable=True, start=FRIDAY))
    try:
        platform = RecordingSender()
        other.sender.register_platform("test", platform)
        await other.sender.drain()
        assert platform.posts == [], "leased to the process that took it"
        await other.clock.advance(running.settings.outbox.lease_seconds + 1)
        await other.sender.drain()
        await other.clock.advance(running.settings.outbox.lease_seconds + 1)
        await other.sender.drain()
        assert platform.posts == [("C1", "Welcome")], "sent once"
        assert await _status(other, "welcome") == "sent"
    finally:
        await other.engine.dispose()


async def test_a_held_row_is_left_to_the_claims_when_half_its_lease_is_gone(
    settings: Settings,
) -> None:
    machine = [FRIDAY]  # the machine's time, moved without running what became due
    runtime = create_runtime(
        _quiet(settings), Clock(controllable=True, start=FRIDAY, wall=lambda: machine[0])
    )
    try:
        platform = Gate()
        claims = await _started(runtime, platform)
        await _write(runtime, [("first", "1")])
        await _until(lambda: _true(platform.started == ["1"]))
        await _write(runtime, [("late", "2")])  # handed over while the lane is busy
        machine[0] += timedelta(seconds=runtime.settings.outbox.lease_seconds * 0.6)
        before = claims.count
        platform.gate.set()
        await _until(lambda: _sent(runtime, "first", "late"))
        assert platform.posts == [("C1", "1"), ("C1", "2")], "each once"
        assert claims.count == before + 1, "given back, then claimed"
    finally:
        await runtime.sender.stop()
        await runtime.engine.dispose()


async def test_beyond_what_the_sender_may_hold_new_rows_go_to_the_claims(
    running: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sender_module, "MAX_HELD", 2)
    platform = Gate()
    await _started(running, platform)
    await _write(running, [("a", "1"), ("b", "2")])  # held: "a" in flight, "b" behind it
    await _until(lambda: _true(platform.started == ["1"]))
    await _write(running, [("c", "3")])
    c = await _row(running, "c")
    assert c is not None and c.claimed_until is None, "not leased: left to a claim"
    platform.gate.set()
    await _until(lambda: _sent(running, "a", "b", "c"))
    assert platform.posts == [("C1", "1"), ("C1", "2"), ("C1", "3")]


class Paced(RecordingSender):
    """A platform whose pacing turns the first post away (NotNow), then lets it go."""

    def __init__(self) -> None:
        super().__init__()
        self.turned_away = 0

    async def post(
        self, workspace: str, target: str, message: OutboundMessage, *, key: str = ""
    ) -> str:
        if not self.turned_away:
            self.turned_away += 1
            raise NotNow(30.0)
        return await super().post(workspace, target, message, key=key)


async def test_a_post_turned_away_by_pacing_goes_back_to_the_claims(running: Runtime) -> None:
    platform = Paced()
    claims = await _started(running, platform)
    await _write(running, [("dm", "Welcome")])
    await _until(lambda: _true(platform.turned_away == 1))
    await _until(lambda: _claimable(running, "dm"))
    row = await _row(running, "dm")
    assert row is not None and row.attempts == 0, "waiting is not failing"
    before = claims.count
    await running.clock.advance(31)  # its slot: due again, for a claim
    await _until(lambda: _sent(running, "dm"))
    assert platform.posts == [("C1", "Welcome")]
    assert claims.count > before, "sent from a claim"


async def _claimable(runtime: Runtime, key: str) -> bool:
    row = await _row(runtime, key)
    return row is not None and row.claimed_until is None and row.status == "pending"


async def test_a_process_whose_sender_does_not_run_leaves_every_row_to_the_claims(
    runtime: Runtime,
) -> None:
    # `serve --web-only`: the sender is built, never started; a worker's claims send.
    platform = RecordingSender()
    runtime.sender.register_platform("test", platform)
    await _write(runtime, [("reply", "Your answer")], replies=True)
    await _write(runtime, [("news", "News")])
    for key in ("reply", "news"):
        row = await _row(runtime, key)
        assert row is not None and row.claimed_until is None, "unleased"
    await runtime.sender.drain()
    assert sorted(platform.posts) == [("C1", "News"), ("C1", "Your answer")]
