"""A Teams message is marked done in the transaction of its effects and replies, on both
databases: the command's effects, its reply in the outbox and its inbox row's "done" are
one commit; the worker writes no "done" of its own for it."""

from __future__ import annotations

from bot.server import Runtime
from tests.support.fake_connector import FakeConnector
from tests.support.teams_wire import ANIM, Client, activity, send
from tests.support.transactions import committed

DONE = "UPDATE inbox_event SET status"


async def test_a_command_is_marked_done_in_the_transaction_of_its_effects(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    with committed(runtime.engine) as transactions:
        assert (await send(client, fake, activity(fake, ANIM, "session start Demo"))).status == 202
        await runtime.inbox.drain()
    [started] = [t for t in transactions if any("INSERT INTO training_session" in s for s in t)]
    assert any(s.startswith(DONE) for s in started), "done with the effects"
    assert any("INSERT INTO outbox_message" in s for s in started), "and the reply"
    assert sum(s.startswith(DONE) for t in transactions for s in t) == 1, "no separate done"
