"""The Slack sender through the real outbox, against a fake Slack Web API on loopback:
posts, DMs, thread replies and edits as Slack receives them; a 429 storm delivers every
message once; permanent errors park the message with their reason; 5xx is retried."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.adapters.slack.sender import SlackPacing, SlackSender
from bot.core.replies import Button, Card, OutboundMessage
from bot.outbox.queue import Outbox
from bot.server import Runtime
from bot.settings import RateLimitSettings
from storage import workspaces
from storage.models import OutboxMessage
from tests.support.fake_slack import FakeSlack


@pytest.fixture
async def slack(runtime: Runtime) -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    runtime.sender.register_platform("slack", _sender(runtime, fake, RateLimitSettings()))
    yield fake
    await fake.close()


def _sender(runtime: Runtime, fake: FakeSlack, limits: RateLimitSettings) -> SlackSender:
    async def token_for(team: str) -> str | None:
        return fake.token if team == "T1" else None

    pacing = SlackPacing.from_settings(limits, runtime.clock)
    return SlackSender(token_for, fake.base_url, pacing)


async def _post(runtime: Runtime, key: str, target: str, message: OutboundMessage) -> None:
    async with runtime.db_sessions() as db, db.begin():
        workspace = await workspaces.get_or_create(db, "slack", "T1", runtime.clock.now())
        await Outbox(db, "slack", workspace.id, runtime.clock.now()).post(key, target, message)


async def _rows(runtime: Runtime) -> dict[str, OutboxMessage]:
    async with runtime.db_sessions() as db:
        found = (await db.execute(select(OutboxMessage))).scalars()
        return {row.idempotency_key: row for row in found}


async def test_posts_dms_threads_and_edits_reach_slack_as_slack_expects(
    runtime: Runtime, slack: FakeSlack
) -> None:
    card = Card(
        title="Join “Feedback”", body="Click Join", buttons=(Button("Join", "signup.join", "K7"),)
    )
    await _post(runtime, "card", "C1", OutboundMessage("Join", card=card))
    await _post(runtime, "dm", "dm:U9", OutboundMessage("Welcome <!channel>"))
    await _post(runtime, "reply", "C1", OutboundMessage("An answer", in_reply_to="card"))
    async with runtime.db_sessions() as db, db.begin():
        workspace = await workspaces.get_or_create(db, "slack", "T1", runtime.clock.now())
        outbox = Outbox(db, "slack", workspace.id, runtime.clock.now())
        await outbox.update("card:edit", "card", "C1", OutboundMessage("Join (3)", card=card))
    await runtime.sender.drain()
    # One target's messages in order; another target's are sent beside them.
    in_c1 = [(method, body) for method, body in slack.calls if body.get("channel") == "C1"]
    assert [method for method, _ in in_c1] == [
        "chat.postMessage",
        "chat.postMessage",
        "chat.update",
    ]
    (_, first), (_, reply), (_, edit) = in_c1
    [dm] = [body for _, body in slack.calls if body.get("channel") == "U9"]
    assert len(slack.calls) == 4
    assert first["blocks"][0]["type"] == "header" and first["text"] == "Join"
    assert first["blocks"][-1]["elements"][0]["action_id"] == "signup.join#0"
    assert dm["text"] == "Welcome &lt;!channel&gt;"
    rows = await _rows(runtime)
    card_ts = (rows["card"].platform_message_id or "").removeprefix("C1:")
    assert card_ts and reply["thread_ts"] == card_ts
    assert edit["ts"] == card_ts and edit["text"] == "Join (3)"
    assert {row.status for row in rows.values()} == {"sent"}


async def test_a_429_storm_during_a_fan_out_delivers_every_message_once(
    runtime: Runtime, slack: FakeSlack
) -> None:
    slack.rate, slack.window, slack.retry_after = 15, 1.0, "1"
    # The bot believes the workspace allows more than the fake does: a storm of 429s.
    limits = RateLimitSettings(slack_workspace_posts_per_minute=6000)
    runtime.sender.register_platform("slack", _sender(runtime, slack, limits))
    for n in range(45):
        await _post(runtime, f"dm:{n}", f"dm:U{n}", OutboundMessage(f"Hello {n}"))
    for _ in range(20):
        await runtime.sender.drain()
        rows = await _rows(runtime)
        if all(row.status == "sent" for row in rows.values()):
            break
        await runtime.clock.advance(2)  # what is rescheduled after Retry-After comes due
    assert slack.rejected_429 > 0, "the storm happened"
    delivered = Counter(body["text"] for _, body in slack.calls)
    assert delivered == Counter(f"Hello {n}" for n in range(45)), "each once, none lost"
    assert all(row.status == "sent" for row in (await _rows(runtime)).values())


async def test_a_permanent_error_parks_the_message_with_its_reason(
    runtime: Runtime, slack: FakeSlack
) -> None:
    slack.errors_for["CGONE"] = "channel_not_found"
    await _post(runtime, "lost", "CGONE", OutboundMessage("Nobody will read this"))
    await runtime.sender.drain()
    row = (await _rows(runtime))["lost"]
    assert row.status == "failed" and row.last_error == "slack: channel_not_found"
    assert row.attempts <= 1 and slack.calls == []


async def test_server_errors_are_retried_later(runtime: Runtime, slack: FakeSlack) -> None:
    slack.server_errors = 1
    await _post(runtime, "retry", "C1", OutboundMessage("Eventually"))
    await runtime.sender.drain()
    row = (await _rows(runtime))["retry"]
    assert row.status == "pending" and row.attempts == 1 and "500" in (row.last_error or "")
    await runtime.clock.advance(60)
    await runtime.sender.drain()
    assert (await _rows(runtime))["retry"].status == "sent"
    assert [body["text"] for _, body in slack.calls] == ["Eventually"]


async def test_a_workspace_without_a_token_is_a_clear_failure(
    runtime: Runtime, slack: FakeSlack
) -> None:
    async with runtime.db_sessions() as db, db.begin():
        workspace = await workspaces.get_or_create(db, "slack", "T2", runtime.clock.now())
        await Outbox(db, "slack", workspace.id, runtime.clock.now()).post(
            "orphan", "C1", OutboundMessage("x")
        )
    await runtime.sender.drain()
    row = (await _rows(runtime))["orphan"]
    assert row.status == "failed" and "no Slack token" in (row.last_error or "")


async def test_posts_to_one_channel_are_paced_and_wait_without_using_attempts(
    runtime: Runtime, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the bot's clock moves time here: on a loaded machine a real second can pass
    # between two drains and let one more post through than the clock says.
    frozen = runtime.clock.real_now()
    monkeypatch.setattr(runtime.clock, "_wall", lambda: frozen)
    for n in range(5):
        await _post(runtime, f"c{n}", "C1", OutboundMessage(f"Post {n}"))
    await _post(runtime, "dm", "dm:U1", OutboundMessage("A DM is another channel"))
    await runtime.sender.drain()
    # A burst of three, then one per second (https://docs.slack.dev/apis/web-api/rate-limits).
    # One target's messages in order; another target's are sent beside them.
    assert [body["text"] for _, body in slack.calls if body["channel"] == "C1"] == [
        "Post 0",
        "Post 1",
        "Post 2",
    ]
    assert [body["text"] for _, body in slack.calls if body["channel"] == "U1"] == [
        "A DM is another channel"
    ]
    rows = await _rows(runtime)
    assert rows["c3"].status == "pending" and rows["c3"].attempts == 0
    await runtime.clock.advance(1)
    await runtime.sender.drain()
    assert [body["text"] for _, body in slack.calls][4:] == ["Post 3"]
    await runtime.clock.advance(1)
    await runtime.sender.drain()
    assert [body["text"] for _, body in slack.calls][5:] == ["Post 4"]
    rows = await _rows(runtime)
    assert all(row.status == "sent" and row.attempts == 0 for row in rows.values())


async def test_a_fan_out_flows_at_the_workspace_rate(runtime: Runtime, slack: FakeSlack) -> None:
    limits = RateLimitSettings(slack_workspace_posts_per_minute=1200)  # one each 50 ms
    runtime.sender.register_platform("slack", _sender(runtime, slack, limits))
    for n in range(8):
        await _post(runtime, f"dm:{n}", f"dm:U{n}", OutboundMessage(f"Hello {n}"))
    await runtime.sender.drain()
    assert len(slack.calls) == 8
    # Seven intervals of 50 ms between the first send and the last (0.35 s); the DMs go
    # side by side, each at its reserved slot, so the first arrival may lag its send by the
    # HTTP connection's set-up (the others reuse it): at least 0.3 s between arrivals.
    assert slack.times[-1] - slack.times[0] >= 0.3


async def test_bursts_of_card_edits_are_paced_per_workspace(
    runtime: Runtime, slack: FakeSlack
) -> None:
    limits = RateLimitSettings(slack_workspace_edits_per_minute=60, slack_edit_burst=2)
    runtime.sender.register_platform("slack", _sender(runtime, slack, limits))
    for n in range(3):
        await _post(runtime, f"card{n}", f"C{n}", OutboundMessage(f"Card {n}"))
    await runtime.sender.drain()
    async with runtime.db_sessions() as db, db.begin():
        workspace = await workspaces.get_or_create(db, "slack", "T1", runtime.clock.now())
        outbox = Outbox(db, "slack", workspace.id, runtime.clock.now())
        for n in range(3):
            await outbox.update(f"edit{n}", f"card{n}", f"C{n}", OutboundMessage(f"Card {n}!"))
    await runtime.sender.drain()
    assert [method for method, _ in slack.calls].count("chat.update") == 2
    await runtime.clock.advance(1)
    await runtime.sender.drain()
    assert [method for method, _ in slack.calls].count("chat.update") == 3
