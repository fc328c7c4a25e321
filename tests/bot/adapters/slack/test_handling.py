"""A Slack request is marked done in the transaction of its effects and replies, on both
databases: the join's participation, its reply in the outbox and its inbox row's "done"
are one commit; the worker writes no "done" of its own for it."""

from __future__ import annotations

from tests.support.slack_requests import command, sign
from tests.support.slack_wire import Client, slack_app
from tests.support.transactions import committed

DONE = "UPDATE inbox_event SET status"


async def _post(client: Client, body: str) -> None:
    assert (await client.post("/slack/events", data=body, headers=sign(body))).status == 200


async def test_a_join_is_marked_done_in_the_transaction_of_its_effects(database_url: str) -> None:
    async with slack_app(database_url) as (client, fake, runtime):
        await _post(client, command("UANIM", "session start Demo"))
        await runtime.inbox.drain()
        with committed(runtime.engine) as transactions:
            await _post(client, command("U1", "join", response_url=fake.response_url("j1")))
            await runtime.inbox.drain()
    [joined] = [t for t in transactions if any("session_participation" in s for s in t)]
    assert any(s.startswith(DONE) for s in joined), "done with the effects"
    assert any("INSERT INTO outbox_message" in s for s in joined), "and the reply"
    assert sum(s.startswith(DONE) for t in transactions for s in t) == 1, "no separate done"
