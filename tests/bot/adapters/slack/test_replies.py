"""A Slack request's replies are written to the outbox in the request's own transaction:
which Slack call shows each (a modal first, then answers at the response_url, ephemeral
or in the DM), and that they are sent once even when the request is handled again."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from bot.adapters.slack.replies import ReplyAddress, calls_for
from bot.core.replies import Form, FormField, Reply
from bot.server import Runtime
from storage.models import InboxEvent, OutboxMessage
from storage.vocabulary import InboxStatus
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import command, sign
from tests.support.slack_wire import handle_recorded, slack_app

FORM = Form("Details", "pulse.details", (FormField("comment", "Comment"),))


def test_a_form_opens_first_as_a_modal_then_each_answer_is_one_message() -> None:
    address = ReplyAddress(7, "U1", "C1", response_url="https://hooks/x", trigger_id="13.4")
    calls = calls_for(address, [Reply("First"), Reply("Fill this", form=FORM), Reply("Last")])
    assert [call["via"] for call in calls] == ["views.open", "response_url", "response_url"]
    assert calls[0]["trigger_id"] == "13.4" and calls[0]["view"]["type"] == "modal"
    assert calls[0]["view"]["private_metadata"] == "C1"
    assert [call["message"]["text"] for call in calls[1:]] == ["First", "Last"]
    assert all(call["url"] == "https://hooks/x" for call in calls[1:])


def test_without_a_response_url_answers_go_ephemeral_or_to_the_dm() -> None:
    in_channel = calls_for(ReplyAddress(1, "U1", "C1"), [Reply("Hi")])
    assert in_channel == [
        {"via": "ephemeral", "channel": "C1", "user": "U1", "message": in_channel[0]["message"]}
    ]
    in_dm = calls_for(ReplyAddress(1, "U1", "D9"), [Reply("Hi")])
    assert in_dm[0]["via"] == "dm" and in_dm[0]["channel"] == "D9"
    from_home = calls_for(ReplyAddress(1, "U1", "U1"), [Reply("Hi")])
    assert from_home[0]["via"] == "dm" and from_home[0]["channel"] == "U1"
    # A form without a trigger_id cannot open: nothing is sent for it.
    assert calls_for(ReplyAddress(1, "U1", "C1"), [Reply("x", form=FORM)]) == []


@pytest.fixture
async def slack(database_url: str) -> AsyncIterator[tuple[TestClient, FakeSlack, Runtime]]:  # type: ignore[type-arg]
    async with slack_app(database_url) as app:
        yield app


async def _replies(runtime: Runtime) -> list[OutboxMessage]:
    async with runtime.db_sessions() as db:
        found = await db.execute(
            select(OutboxMessage)
            .where(OutboxMessage.idempotency_key.like("slack:%:reply:%"))
            .order_by(OutboxMessage.id)
        )
        return list(found.scalars())


async def test_a_reply_is_committed_with_its_effects_and_sent_once_even_if_handled_again(
    slack: tuple[TestClient, FakeSlack, Runtime],  # type: ignore[type-arg]
) -> None:
    client, fake, runtime = slack
    body = command("UANIM", "session start Feedback", response_url=fake.response_url("start"))
    assert (await client.post("/slack/events", data=body, headers=sign(body))).status == 200
    await runtime.inbox.drain()
    # Handled and committed, not sent yet: the reply waits in the outbox, with the effects.
    [reply] = await _replies(runtime)
    assert reply.status == "pending" and "start" not in fake.responses
    assert reply.payload["extra"]["slack_reply"]["via"] == "response_url"
    # The worker dies before marking the request done: it is handled again.
    async with runtime.db_sessions() as db, db.begin():
        await db.execute(update(InboxEvent).values(status=InboxStatus.PENDING))
    assert await runtime.inbox.drain() == 1
    assert len(await _replies(runtime)) == 1, "no second reply"
    await runtime.sender.drain()
    [answer] = fake.responses["start"]
    assert "is open" in answer["text"] and answer["response_type"] == "ephemeral"
    [reply] = await _replies(runtime)
    assert reply.status == "sent"


async def test_a_refusal_is_sent_through_the_outbox_too_and_changes_nothing_else(
    slack: tuple[TestClient, FakeSlack, Runtime],  # type: ignore[type-arg]
) -> None:
    client, fake, runtime = slack
    # A learner may not start a session: refused, rolled back, the refusal still answered.
    body = command("ULEARN", "session start Feedback", response_url=fake.response_url("no"))
    assert (await client.post("/slack/events", data=body, headers=sign(body))).status == 200
    await handle_recorded(runtime)
    [refusal] = fake.responses["no"]
    assert "animator" in refusal["text"].lower()
    [row] = await _replies(runtime)
    assert row.status == "sent"


async def test_a_response_url_past_its_life_is_parked_not_retried_forever(
    slack: tuple[TestClient, FakeSlack, Runtime],  # type: ignore[type-arg]
) -> None:
    client, fake, runtime = slack
    expired = fake.response_url("gone").replace("/response/", "/nowhere/")  # answers 404
    body = command("U1", "help", response_url=expired)
    assert (await client.post("/slack/events", data=body, headers=sign(body))).status == 200
    await handle_recorded(runtime)
    [row] = await _replies(runtime)
    assert row.status == "failed" and "response_url 404" in (row.last_error or "")
