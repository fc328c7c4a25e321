"""The outbox: once per key, retried with backoff, never dropped silently, edits coalesced;
a post accepted without an id is posted again once when it is live, else not twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.core.replies import OutboundMessage
from bot.outbox.delivery import PermanentFailure, PostedWithoutId, RetryLater
from bot.outbox.queue import Outbox
from bot.server import Runtime
from storage import workspaces
from storage.models import OutboxMessage


class RecordingSender:
    """A platform that records what it receives and fails on demand."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, str]] = []
        self.threads: list[str | None] = []  # what each post replied to
        self.updates: list[tuple[str, str]] = []
        self.failures: list[Exception] = []

    async def post(
        self, workspace: str, target: str, message: OutboundMessage, *, key: str = ""
    ) -> str:
        if self.failures and not isinstance(self.failures[0], PostedWithoutId):
            raise self.failures.pop(0)
        self.posts.append((target, message.text))
        self.threads.append(message.in_reply_to)
        if self.failures:  # shown, but the platform did not say its id
            raise self.failures.pop(0)
        return f"m{len(self.posts)}"

    async def update(
        self, workspace: str, target: str, message_id: str, message: OutboundMessage
    ) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.updates.append((message_id, message.text))


@pytest.fixture
def platform(runtime: Runtime) -> RecordingSender:
    sender = RecordingSender()
    runtime.sender.register_platform("test", sender)
    return sender


async def _enqueue(runtime: Runtime, key: str, text: str, **kwargs: object) -> bool:
    async with runtime.db_sessions() as db, db.begin():
        workspace = await workspaces.get_or_create(db, "test", "T1", runtime.clock.now())
        outbox = Outbox(db, "test", workspace.id, runtime.clock.now())
        if "update_of" in kwargs:
            update_of = str(kwargs.pop("update_of"))
            return await outbox.update(key, update_of, "C1", OutboundMessage(text), **kwargs)  # type: ignore[arg-type]
        return await outbox.post(key, "C1", OutboundMessage(text))


async def _row(runtime: Runtime, key: str) -> OutboxMessage:
    async with runtime.db_sessions() as db:
        return (
            await db.execute(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
        ).scalar_one()


async def test_a_second_enqueue_with_the_same_key_is_a_no_op(
    runtime: Runtime, platform: RecordingSender
) -> None:
    assert await _enqueue(runtime, "k1", "hello")
    assert not await _enqueue(runtime, "k1", "hello again")
    await runtime.sender.drain()
    assert platform.posts == [("C1", "hello")]
    row = await _row(runtime, "k1")
    assert row.status == "sent" and row.platform_message_id == "m1"


async def test_a_rate_limited_send_waits_for_retry_after_then_succeeds(
    runtime: Runtime, platform: RecordingSender
) -> None:
    platform.failures.append(RetryLater("429 ratelimited", retry_after=30))
    await _enqueue(runtime, "k2", "hello")
    await runtime.sender.drain()
    row = await _row(runtime, "k2")
    assert row.status == "pending" and row.attempts == 1 and "429" in (row.last_error or "")
    assert row.next_attempt_at - runtime.clock.now() >= timedelta(seconds=29)
    await runtime.sender.drain()
    assert platform.posts == [], "not before Retry-After"
    await runtime.clock.advance(31)  # moving the clock runs what became due
    assert platform.posts == [("C1", "hello")]
    assert (await _row(runtime, "k2")).status == "sent"


async def test_repeated_failures_back_off_then_park_the_message_visibly(
    runtime: Runtime, platform: RecordingSender, caplog: pytest.LogCaptureFixture
) -> None:
    attempts = runtime.settings.outbox.max_attempts
    platform.failures.extend(RuntimeError("connector down") for _ in range(attempts))
    await _enqueue(runtime, "k3", "hello")
    delays = []
    for _ in range(attempts):
        await runtime.sender.drain()
        row = await _row(runtime, "k3")
        if row.status == "failed":
            break
        delays.append((row.next_attempt_at - runtime.clock.now()).total_seconds())
        await runtime.clock.advance(delays[-1] + 1)
    row = await _row(runtime, "k3")
    assert row.status == "failed" and "connector down" in (row.last_error or "")
    assert delays[1] > delays[0] and delays[2] > delays[1], "exponential backoff"
    assert any(record.message == "outbox_failed" for record in caplog.records)


async def test_a_permanent_failure_is_parked_at_once(
    runtime: Runtime, platform: RecordingSender
) -> None:
    platform.failures.append(PermanentFailure("channel_not_found"))
    await _enqueue(runtime, "k4", "hello")
    await runtime.sender.drain()
    row = await _row(runtime, "k4")
    assert row.status == "failed" and row.last_error == "channel_not_found"


async def test_a_burst_of_edits_sends_only_the_newest(
    runtime: Runtime, platform: RecordingSender
) -> None:
    await _enqueue(runtime, "card", "count 0")
    await runtime.sender.drain()
    for n in range(1, 6):
        await _enqueue(
            runtime, f"card:update:{n}", f"count {n}", update_of="card", coalesce_key="card:update"
        )
    await runtime.sender.drain()
    assert platform.updates == [("m1", "count 5")]
    statuses = [(await _row(runtime, f"card:update:{n}")).status for n in range(1, 6)]
    assert statuses == ["superseded"] * 4 + ["sent"]


async def test_an_edit_waits_for_the_post_it_edits(
    runtime: Runtime, platform: RecordingSender
) -> None:
    platform.failures.append(RetryLater("timeout"))
    await _enqueue(runtime, "card", "count 0")
    await _enqueue(
        runtime, "card:update:1", "count 1", update_of="card", coalesce_key="card:update"
    )
    await runtime.sender.drain()
    assert platform.posts == [] and platform.updates == []
    assert (await _row(runtime, "card:update:1")).status == "pending"
    await runtime.clock.advance(10)
    assert platform.posts == [("C1", "count 0")]
    assert platform.updates == [("m1", "count 1")]


async def test_a_crashed_sender_lease_expires_and_the_message_is_sent(
    runtime: Runtime, platform: RecordingSender
) -> None:
    from storage import outbox_store

    await _enqueue(runtime, "k5", "hello")
    async with runtime.db_sessions() as db, db.begin():  # a sender claims it, then dies
        claimed = await outbox_store.claim_due(db, runtime.clock.now(), timedelta(seconds=60), 10)
    assert [m.idempotency_key for m in claimed] == ["k5"]
    await runtime.sender.drain()
    assert platform.posts == [], "still leased to the dead sender"
    await runtime.clock.advance(61)
    assert platform.posts == [("C1", "hello")]


async def test_a_platform_without_a_sender_keeps_its_messages(runtime: Runtime) -> None:
    await _enqueue(runtime, "k6", "hello")  # platform "test" has no sender here
    await runtime.sender.drain()
    row = await _row(runtime, "k6")
    assert row.status == "pending" and "no sender configured" in (row.last_error or "")


async def _post(runtime: Runtime, key: str, message: OutboundMessage, *, live: bool) -> None:
    async with runtime.db_sessions() as db, db.begin():
        workspace = await workspaces.get_or_create(db, "test", "T1", runtime.clock.now())
        outbox = Outbox(db, "test", workspace.id, runtime.clock.now())
        # A live message names a refresher (none is registered here: its payload is sent).
        refresh = {"name": "live-card"} if live else None
        await outbox.post(key, "C1", message, refresh=refresh)


async def test_a_message_posted_without_an_id_is_not_posted_twice(
    runtime: Runtime, platform: RecordingSender, caplog: pytest.LogCaptureFixture
) -> None:
    platform.failures.append(PostedWithoutId("answered 202 without an id"))
    await _post(runtime, "challenge", OutboundMessage("Challenge 4"), live=False)
    await runtime.sender.drain()
    row = await _row(runtime, "challenge")
    assert row.status == "sent" and row.platform_message_id is None
    assert any(r.message == "outbox_sent_without_id" for r in caplog.records)
    # A reply meant for its thread goes unthreaded; an edit of it is parked with why.
    await _post(
        runtime, "answer", OutboundMessage("My answer", in_reply_to="challenge"), live=False
    )
    await _enqueue(runtime, "challenge:edit", "Challenge 4 (closed)", update_of="challenge")
    await runtime.clock.advance(60)
    assert platform.posts == [("C1", "Challenge 4"), ("C1", "My answer")]
    assert platform.threads == [None, None] and platform.updates == []
    edit = await _row(runtime, "challenge:edit")
    assert edit.status == "failed" and "posted without an id" in (edit.last_error or "")


async def test_a_live_message_posted_without_an_id_is_posted_again_once_then_edited(
    runtime: Runtime, platform: RecordingSender
) -> None:
    platform.failures.append(PostedWithoutId("answered 202 without an id"))
    await _post(runtime, "card", OutboundMessage("count 0"), live=True)
    await _enqueue(runtime, "card:update:1", "count 1", update_of="card")
    await runtime.sender.drain()
    row = await _row(runtime, "card")
    assert row.status == "pending" and (row.last_error or "").startswith("posted without an id")
    await runtime.clock.advance(10)
    assert platform.posts == [("C1", "count 0"), ("C1", "count 0")]
    assert platform.updates == [("m2", "count 1")], "the edit goes to the copy with an id"
    assert (await _row(runtime, "card")).platform_message_id == "m2"


async def test_a_live_message_posted_twice_without_an_id_is_parked_with_the_reason(
    runtime: Runtime, platform: RecordingSender
) -> None:
    platform.failures += [PostedWithoutId("no id"), PostedWithoutId("no id again")]
    await _post(runtime, "card", OutboundMessage("count 0"), live=True)
    await runtime.sender.drain()
    await runtime.clock.advance(10)
    await runtime.clock.advance(600)
    assert platform.posts == [("C1", "count 0")] * 2, "posted again once, not more"
    row = await _row(runtime, "card")
    assert row.status == "failed" and "twice" in (row.last_error or "")


async def test_a_reply_goes_in_its_own_lane_never_behind_a_fan_out(
    runtime: Runtime, platform: RecordingSender
) -> None:
    async with runtime.db_sessions() as db, db.begin():
        workspace = await workspaces.get_or_create(db, "test", "T1", runtime.clock.now())
        outbox = Outbox(db, "test", workspace.id, runtime.clock.now())
        for n in range(60):  # more than a batch, queued first
            await outbox.post(f"dm:{n}", f"dm:U{n}", OutboundMessage(f"News {n}"))
        assert await outbox.reply("reply", "dm:UASK", OutboundMessage("Your answer"))
    assert await runtime.sender.run_once() == 51, "the urgent lane's one, then a batch of 50"
    assert ("dm:UASK", "Your answer") in platform.posts
    assert (await _row(runtime, "reply")).urgent
    assert (await _row(runtime, "dm:59")).status == "pending", "the fan-out goes on after"
    await runtime.sender.drain()
    assert len(platform.posts) == 61
