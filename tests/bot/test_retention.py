"""The daily purge (bot/retention.py): when it runs, in slices over scheduler ticks, what it
logs; and, at the wire, a live card that still edits after its post was purged."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import retention
from bot.retention import STEPS, Purge, PurgeStep, days
from bot.server import RUNTIME, Runtime
from bot.settings import Settings
from storage.models import InboxEvent, OutboxMessage, ReplayKey
from tests.conftest import FRIDAY
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import command, event, sign
from tests.support.slack_wire import handle_recorded, slack_app

MARKER = "Zanzibar-4711 private words"


def _small_batches(settings: Settings) -> Settings:
    return replace(settings, retention=replace(settings.retention, batch_size=10, pause_ms=0))


async def _old_requests(runtime: Runtime, count: int, handled: datetime) -> None:
    async with runtime.db_sessions() as db, db.begin():
        db.add_all(
            InboxEvent(
                platform="slack",
                kind="command",
                payload={"text": f"{MARKER} {n}"},
                status="done",
                attempts=1,
                received_at=handled,
                next_attempt_at=handled,
                done_at=handled,
            )
            for n in range(count)
        )


async def _requests_left(runtime: Runtime) -> int:
    async with runtime.db_sessions() as db:
        return (await db.execute(select(func.count()).select_from(InboxEvent))).scalar_one()


async def test_the_purge_runs_at_start_then_daily_at_its_hour(runtime: Runtime) -> None:
    purge = Purge(runtime.db_sessions, runtime.engine, runtime.settings)
    assert await purge.next_due() is None, "never run: due at the first tick (a start)"
    await _old_requests(runtime, 2, FRIDAY - timedelta(days=8))
    await purge.run_due(FRIDAY)
    assert await _requests_left(runtime) == 0
    # 03:30 in Paris (the [general] time zone), the next night.
    tomorrow = datetime(2026, 11, 28, 2, 30, tzinfo=UTC)
    assert await purge.next_due() == tomorrow

    await _old_requests(runtime, 1, FRIDAY - timedelta(days=8))
    await purge.run_due(tomorrow - timedelta(seconds=1))
    assert await _requests_left(runtime) == 1, "not before its hour"
    await purge.run_due(tomorrow)
    assert await _requests_left(runtime) == 0
    assert await purge.next_due() == tomorrow + timedelta(days=1)

    # Wall-clock time: the night Paris moves to summer time, still 03:30 there.
    await purge.run_due(datetime(2027, 3, 27, 12, 0, tzinfo=UTC))
    assert await purge.next_due() == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)


async def test_a_long_purge_goes_on_over_the_next_ticks(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "SLICE_SECONDS", 0.0)  # one batch per tick
    purge = Purge(runtime.db_sessions, runtime.engine, _small_batches(runtime.settings))
    await _old_requests(runtime, 25, FRIDAY - timedelta(days=8))
    left = []
    for tick in range(3):
        await purge.run_due(FRIDAY + timedelta(seconds=tick))
        left.append(await _requests_left(runtime))
        assert await purge.next_due() is None, "under way: every tick goes on with it"
    assert left == [15, 5, 0]
    # Requests recorded since the purge started are judged by its first cutoffs: kept.
    await _old_requests(runtime, 1, FRIDAY - timedelta(days=7) + timedelta(seconds=1))
    for tick in range(3, 3 + len(STEPS)):
        await purge.run_due(FRIDAY + timedelta(seconds=tick))
    assert await purge.next_due() is not None and await _requests_left(runtime) == 1


async def test_one_log_line_per_rule_with_counts_and_no_content(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    await _old_requests(runtime, 12, FRIDAY - timedelta(days=8))
    purge = Purge(runtime.db_sessions, runtime.engine, _small_batches(runtime.settings))
    with caplog.at_level(logging.INFO, logger="bot.retention"):
        assert await purge.run(FRIDAY) == 12
    lines = [r for r in caplog.records if r.getMessage() == "retention_purged"]
    assert [r.__dict__["step"] for r in lines] == [step.name for step in STEPS]
    counts = {r.__dict__["step"]: (r.__dict__["rows"], r.__dict__["batches"]) for r in lines}
    assert counts["inbox_event.handled"] == (12, 2) and counts["outbox_message.sent"] == (0, 1)
    [done] = [r for r in caplog.records if r.getMessage() == "retention_done"]
    assert done.__dict__["rows"] == 12
    for record in caplog.records:
        assert "Zanzibar" not in json.dumps(record.__dict__, default=str)


async def test_a_broken_rule_is_logged_and_the_others_still_run(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(_db: AsyncSession, _cutoff: datetime, _limit: int) -> int:
        raise RuntimeError("a rule that cannot run")

    by_name = {step.name: step for step in STEPS}
    steps = [
        PurgeStep("broken", days("inbox_days"), broken),
        by_name["inbox_event.handled"],
    ]
    await _old_requests(runtime, 3, FRIDAY - timedelta(days=8))
    purge = Purge(runtime.db_sessions, runtime.engine, runtime.settings, steps)
    with caplog.at_level(logging.INFO, logger="bot.retention"):
        assert await purge.run(FRIDAY) == 3
    assert any(r.getMessage() == "retention_step_failed" for r in caplog.records)
    assert await purge.next_due() is not None, "the run ended; tomorrow's is planned"


async def test_the_scheduler_runs_the_purge(runtime: Runtime) -> None:
    """Moving the clock ticks the scheduler, which runs what is due: the purge at once."""
    await _old_requests(runtime, 3, runtime.clock.now() - timedelta(days=8))
    await runtime.clock.advance(1)
    assert await _requests_left(runtime) == 0


# --- at the wire: a live card edited after the purge ------------------------------------------


@pytest.fixture
async def slack(database_url: str) -> AsyncIterator[tuple[Any, FakeSlack, Runtime]]:
    async with slack_app(database_url, start=FRIDAY) as app:
        yield app


async def _send(client: Any, body: str, content_type: str | None = None) -> None:
    headers = sign(body)
    if content_type:
        headers["Content-Type"] = content_type
    response = await client.post("/slack/events", data=body, headers=headers)
    assert response.status == 200
    runtime = client.server.app[RUNTIME]
    await handle_recorded(runtime)
    await runtime.sender.drain()


async def _ask(client: Any, fake: FakeSlack, user: str, text: str) -> str:
    name = f"cmd{len(fake.calls)}-{user}"
    await _send(client, command(user, text, response_url=fake.response_url(name)))
    return str(fake.responses[name][0]["text"])


async def _outbox(runtime: Runtime) -> dict[str, OutboxMessage]:
    async with runtime.db_sessions() as db:
        rows = (await db.execute(select(OutboxMessage))).scalars()
        return {row.idempotency_key: row for row in rows}


async def test_a_live_card_and_a_liked_share_still_edit_after_their_posts_were_purged(
    slack: tuple[Any, FakeSlack, Runtime],
) -> None:
    client, fake, runtime = slack
    assert "is open" in await _ask(client, fake, "UANIM", "session start Feedback")
    assert "Welcome aboard" in await _ask(client, fake, "U1", "join")
    await _ask(client, fake, "U1", f"share {MARKER}: ask for feedback early")
    before = await _outbox(runtime)
    # The card's post, not one of its edits (which carry the same refresher); in no order:
    # PostgreSQL returns rows in whatever order its updates left them.
    card_key = next(
        k
        for k, row in before.items()
        if row.kind == "post" and row.refresh and "session_id" in row.refresh
    )
    share_key = next(k for k, row in before.items() if MARKER in json.dumps(row.payload))
    card_id = before[card_key].platform_message_id
    share_id = before[share_key].platform_message_id
    assert card_id and share_id

    await runtime.clock.advance(31 * 86400)  # the scheduler's tick runs the purge
    await runtime.retention.run(runtime.clock.now())
    after = await _outbox(runtime)
    card, share = after[card_key], after[share_key]
    assert (card.status, card.platform_message_id) == ("emptied", card_id)
    assert (share.status, share.platform_message_id) == ("emptied", share_id)
    assert MARKER not in json.dumps([row.payload for row in after.values()])
    assert not [k for k, row in after.items() if row.target.startswith("dm:")], "DMs gone"
    assert not [k for k, row in after.items() if row.kind == "update"], "past edits gone"
    async with runtime.db_sessions() as db:
        for model in (InboxEvent, ReplayKey):
            assert (await db.execute(select(func.count()).select_from(model))).scalar_one() == 0

    # A new join edits the card in place: the same message, the new count.
    calls = len(fake.calls)
    assert "Welcome aboard" in await _ask(client, fake, "U2", "join")
    edits = [b for m, b in fake.calls[calls:] if m == "chat.update"]
    assert edits and f"{edits[-1]['channel']}:{edits[-1]['ts']}" == card_id
    assert "2 learners joined" in json.dumps(edits[-1])

    # An emoji on the share is still recognised, and its like count edited in.
    channel, ts = share_id.split(":", 1)
    reaction = {
        "type": "reaction_added",
        "user": "U3",
        "reaction": "tada",
        "item_user": "U1",
        "item": {"type": "message", "channel": channel, "ts": ts},
        "event_ts": "1700000100.000100",
    }
    calls = len(fake.calls)
    await _send(client, event(reaction, "EvLate"), "application/json")
    await runtime.clock.advance(2)  # past the coalescing of edits
    await runtime.sender.drain()
    edits = [b for m, b in fake.calls[calls:] if m == "chat.update"]
    assert edits and f"{edits[-1]['channel']}:{edits[-1]['ts']}" == share_id
    assert MARKER in json.dumps(edits[-1]), "re-rendered from the database, not the stub"
