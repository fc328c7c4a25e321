"""Issue 19 on Slack, at the wire: with AMBASSADOR_THREAD_REPLIES=1, a person's message in
the thread of a posted question (a signed `message` event replayed from a public fixture:
bolt's channel thread message) is recorded as a reply, with a compact card in the thread
and no answer to the person; a retried event has one effect; the asker's own messages,
other threads, top-level and bot messages are not replies, and nothing of them is kept —
not their raw request either, nor a log line with their text; the asker marks it with the
card's "This helped" (a signed click), anyone else is refused privately. Off (the default),
channel messages are acknowledged and never recorded, and replies go by `reply`."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.server import RUNTIME, Runtime
from storage.models import Contribution, InboxEvent, Member, OutboxMessage, ReplayKey
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import button_click, command, interaction, sign
from tests.support.slack_wire import handle_recorded, slack_app

PUBLIC_SLACK = Path(__file__).parents[3] / "fixtures" / "public" / "slack"
THREAD = "bolt/event__message_channel_thread_enterprise.json"


@pytest.fixture
async def slack(database_url: str) -> AsyncIterator[tuple[TestClient, FakeSlack, Runtime]]:  # type: ignore[type-arg]
    """The bot reading channel threads (AMBASSADOR_THREAD_REPLIES=1)."""
    async with slack_app(database_url, AMBASSADOR_THREAD_REPLIES="1") as app:
        yield app


async def _send(client: TestClient, body: str, **headers: str) -> Any:  # type: ignore[type-arg]
    response = await client.post("/slack/events", data=body, headers={**sign(body), **headers})
    await handle_recorded(client.server.app[RUNTIME])
    return response


async def _send_json(client: TestClient, body: str) -> Any:  # type: ignore[type-arg]
    return await _send(client, body, **{"Content-Type": "application/json"})


def _message(user: str, text: str, channel: str, thread_ts: str | None, event_id: str) -> str:
    """A channel message as Slack sends it (the public fixture), for this workspace."""
    body = json.loads((PUBLIC_SLACK / THREAD).read_text())
    body.pop("enterprise_id", None)
    body.update(team_id="T1", api_app_id="A1", event_id=event_id)
    body["event"].update(
        user=user, text=text, channel=channel, team="T1", ts=f"1726133700.{event_id[-6:]:0>6}"
    )
    if thread_ts is None:
        body["event"].pop("thread_ts")
        body["event"].pop("parent_user_id")
    else:
        body["event"]["thread_ts"] = thread_ts
    return json.dumps(body)


async def _question(client: TestClient, fake: FakeSlack, runtime: Runtime) -> tuple[str, str]:  # type: ignore[type-arg]
    """`share question …` as U1: the channel and ts of its post."""
    name = "ask"
    await _send(
        client,
        command(
            "U1", "share question How do you say no kindly?", response_url=fake.response_url(name)
        ),
    )
    await runtime.sender.drain()
    async with runtime.db_sessions() as db:
        stored = (
            await db.execute(
                select(OutboxMessage.platform_message_id).where(
                    OutboxMessage.idempotency_key.like("question:%")
                )
            )
        ).scalar_one()
    channel, ts = str(stored).split(":", 1)
    return channel, ts


async def _replies(runtime: Runtime) -> list[tuple[str, int | None, bool]]:
    async with runtime.db_sessions() as db:
        rows = await db.execute(
            select(Contribution.text, Contribution.parent_id, Contribution.helped_at)
            .where(Contribution.kind == "reply")
            .order_by(Contribution.id)
        )
        return [(text, parent, helped is not None) for text, parent, helped in rows.all()]


async def test_a_message_in_a_question_s_thread_is_a_reply_with_a_card_under_it(
    slack: tuple[TestClient, FakeSlack, Runtime],  # type: ignore[type-arg]
) -> None:
    client, fake, runtime = slack
    channel, ts = await _question(client, fake, runtime)
    before = len(fake.calls)
    reply = _message("U2", "Say *why* first, then no", channel, ts, "Ev000001")
    for _ in range(2):  # Slack's retry: the same event_id, one effect
        assert (await _send_json(client, reply)).status == 200
    # Not replies: the asker's own follow-up, another thread, a top-level message, a
    # mention (a command), a bot's message.
    await _send_json(client, _message("U1", "Thanks all", channel, ts, "Ev000002"))
    await _send_json(client, _message("U3", "Off topic", channel, "1.000001", "Ev000003"))
    await _send_json(client, _message("U3", "Hello", channel, None, "Ev000004"))
    await _send_json(client, _message("U3", "<@UBOT> me", channel, ts, "Ev000005"))
    from_bot = json.loads(_message("U3", "Bot says", channel, ts, "Ev000006"))
    from_bot["event"]["bot_id"] = "B1"
    await _send_json(client, json.dumps(from_bot))
    async with runtime.db_sessions() as db:
        question = (
            await db.execute(select(Contribution.id).where(Contribution.kind == "question"))
        ).scalar_one()
    assert await _replies(runtime) == [("Say *why* first, then no", question, False)]
    await runtime.sender.drain()
    new = fake.calls[before:]
    assert [m for m, _ in new if m == "chat.postEphemeral"] == []  # no answer to the person
    [card] = [b for m, b in new if m == "chat.postMessage"]
    assert card["channel"] == channel and card["thread_ts"] == ts
    assert "reply counts as contribution #" in card["text"]
    assert "Say *why* first" not in card["text"]  # its text is already in the thread

    buttons = next(b for b in card["blocks"] if b["type"] == "actions")["elements"]
    helped = next(b for b in buttons if b["action_id"].startswith("contribution.helped"))
    assert helped["text"]["text"] == "✔ This helped"
    refused = button_click("U3", helped, fake.response_url("refused"), channel=channel)
    assert (await _send(client, interaction(refused))).status == 200
    [answer] = fake.responses["refused"]
    assert answer["text"].startswith("Only the person who asked question")
    assert answer["response_type"] == "ephemeral"
    marked = button_click("U1", helped, fake.response_url("marked"), channel=channel)
    assert (await _send(client, interaction(marked))).status == 200
    assert fake.responses["marked"][0]["text"].startswith("Noted: reply #")
    assert await _replies(runtime) == [("Say *why* first, then no", question, True)]
    await runtime.clock.advance(2)
    await runtime.sender.drain()
    edits = [b for m, b in fake.calls if m == "chat.update"]
    assert edits and "✅ Helped the asker" in edits[-1]["text"]


async def test_a_thread_under_a_tip_is_conversation(
    slack: tuple[TestClient, FakeSlack, Runtime],  # type: ignore[type-arg]
) -> None:
    client, fake, runtime = slack
    await _send(client, command("U1", "share A tip", response_url=fake.response_url("tip")))
    await runtime.sender.drain()
    async with runtime.db_sessions() as db:
        stored = (
            await db.execute(
                select(OutboxMessage.platform_message_id).where(
                    OutboxMessage.idempotency_key.like("share:%")
                )
            )
        ).scalar_one()
    channel, ts = str(stored).split(":", 1)
    assert (await _send_json(client, _message("U2", "Nice", channel, ts, "Ev000011"))).status == 200
    # And in a thread the bot never posted: someone chatting in a channel the bot is in.
    elsewhere = _message("U3", "Lunch?", channel, "1700000000.000100", "Ev000012")
    assert (await _send_json(client, elsewhere)).status == 200
    await handle_recorded(runtime)
    assert await _replies(runtime) == []
    # No trace of the conversation: its writers are not made members, no replay key kept.
    async with runtime.db_sessions() as db:
        people = set((await db.execute(select(Member.user_id))).scalars())
        keys = list((await db.execute(select(ReplayKey.key))).scalars())
    assert "U2" not in people and "U3" not in people
    assert not [key for key in keys if key.endswith(("Ev000011", "Ev000012"))]


async def _inbox(runtime: Runtime) -> list[str]:
    """Every raw request the inbox holds, as text."""
    async with runtime.db_sessions() as db:
        payloads = (await db.execute(select(InboxEvent.payload))).scalars().all()
    return [json.dumps(payload, ensure_ascii=False) for payload in payloads]


def _logged(records: list[logging.LogRecord]) -> str:
    """Everything the log records say, their extra fields included (the bot's handling was
    heard: a check on nothing would pass)."""
    assert any(record.getMessage() == "event_handled" for record in records)
    return "\n".join(
        f"{record.getMessage()} {' '.join(str(value) for value in vars(record).values())}"
        for record in records
    )


async def test_a_message_that_is_no_reply_leaves_no_raw_request_nor_log_line(
    slack: tuple[TestClient, FakeSlack, Runtime],  # type: ignore[type-arg]
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, fake, runtime = slack
    channel, ts = await _question(client, fake, runtime)
    caplog.set_level(logging.DEBUG)
    said = {
        "Ev000021": ("U2", "Say WHY-FIRST then no", ts),  # a reply: kept as today
        "Ev000022": ("U1", "Thanks ASKER-SECRET", ts),  # the asker's own
        "Ev000023": ("U3", "Lunch OTHER-THREAD?", "1700000000.000100"),  # not a question's
    }
    for event_id, (user, text, thread) in said.items():
        assert (
            await _send_json(client, _message(user, text, channel, thread, event_id))
        ).status == 200
    kept = await _inbox(runtime)
    assert [p for p in kept if "WHY-FIRST" in p], "a recorded reply keeps its raw request"
    for secret in ("ASKER-SECRET", "OTHER-THREAD"):
        assert not [p for p in kept if secret in p], secret
        assert secret not in _logged(caplog.records)
    async with runtime.db_sessions() as db:
        keys = list((await db.execute(select(ReplayKey.key))).scalars())
        people = set((await db.execute(select(Member.user_id))).scalars())
    assert [k for k in keys if k.endswith("Ev000021")]
    assert not [k for k in keys if k.endswith(("Ev000022", "Ev000023"))]
    assert "U3" not in people
    assert [text for text, _, _ in await _replies(runtime)] == ["Say WHY-FIRST then no"]


async def test_threads_are_not_read_by_default_and_reply_still_works(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with slack_app(database_url) as (client, fake, runtime):
        assert not runtime.settings.thread_replies
        channel, ts = await _question(client, fake, runtime)
        caplog.set_level(logging.DEBUG)
        before = await _inbox(runtime)
        message = _message("U2", "Say NOT-READ first", channel, ts, "Ev000031")
        assert (await _send_json(client, message)).status == 200
        assert await _inbox(runtime) == before, "acknowledged, never recorded"
        assert await _replies(runtime) == []
        async with runtime.db_sessions() as db:
            keys = list((await db.execute(select(ReplayKey.key))).scalars())
            question = (
                await db.execute(select(Contribution.id).where(Contribution.kind == "question"))
            ).scalar_one()
        assert not [k for k in keys if k.endswith("Ev000031")]
        # Replying by command works as ever.
        typed = command(
            "U2", f"reply {question} Say why first", response_url=fake.response_url("r")
        )
        assert (await _send(client, typed)).status == 200
        assert await _replies(runtime) == [("Say why first", question, False)]
        assert "NOT-READ" not in _logged(caplog.records)


async def test_a_channel_message_recorded_before_threads_were_turned_off_is_forgotten(
    database_url: str,
) -> None:
    """Recorded while the bot read threads, handled after a restart without: dropped, its
    raw request deleted as it is handled."""
    async with slack_app(database_url) as (client, fake, runtime):
        channel, ts = await _question(client, fake, runtime)
        body = json.loads(_message("U2", "Say STALE first", channel, ts, "Ev000041"))
        await runtime.journal.record("slack", "event", body)
        assert [p for p in await _inbox(runtime) if "STALE" in p]
        await handle_recorded(runtime)
        assert not [p for p in await _inbox(runtime) if "STALE" in p]
        assert await _replies(runtime) == []
