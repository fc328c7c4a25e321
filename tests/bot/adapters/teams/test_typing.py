"""The typing indicator: a typed command not answered in a moment shows "typing…" in its
conversation; one answered at once does not; the indicator has its own small budget."""

from __future__ import annotations

import asyncio

from bot.adapters.platform import ENDPOINTS
from bot.adapters.teams.platform import adapter_of
from bot.server import Runtime
from tests.support.fake_connector import FakeConnector
from tests.support.teams_wire import (
    ANIM,
    CHANNEL,
    Client,
    activity,
    personal_activity,
    send,
    settle,
)

AFTER = 0.2
# "Answered at once" is relative to the machine: on a loaded one (a CI box running other
# work) handling `help` can take longer than AFTER. These tests give the answer a wider
# window and wait past it, so they check that no indicator follows an answer.
AT_ONCE = 1.5


def _soon(client: Client) -> None:
    adapter_of(client.server.app[ENDPOINTS]).typing.after = AFTER


def _typing(fake: FakeConnector) -> list[str]:
    return [call.conversation for call in fake.sent() if call.body.get("type") == "typing"]


async def test_a_command_still_waiting_shows_typing_in_its_conversation(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    _soon(client)
    assert (await send(client, fake, activity(fake, ANIM, "help"))).status == 202
    await asyncio.sleep(AFTER * 3)  # the worker has not run: no answer yet
    assert _typing(fake) == [CHANNEL]
    await settle(runtime)
    answers = [c for c in fake.sent() if c.body.get("type") == "message"]
    assert answers, "the answer still comes"


async def test_a_command_answered_at_once_shows_no_typing(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    adapter_of(client.server.app[ENDPOINTS]).typing.after = AT_ONCE
    assert (await send(client, fake, activity(fake, ANIM, "help"))).status == 202
    await settle(runtime)
    await asyncio.sleep(AT_ONCE + AFTER)
    assert _typing(fake) == []
    assert fake.sent(), "answered"


async def test_card_clicks_show_no_typing(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, _runtime = teams
    _soon(client)
    click = activity(fake, ANIM, value={"action_id": "help.show", "value": "help"})
    assert (await send(client, fake, click)).status == 202
    await asyncio.sleep(AFTER * 3)
    assert _typing(fake) == []  # Teams shows its own progress on the button


async def test_typing_keeps_to_its_budget(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, _runtime = teams
    _soon(client)
    # Three commands in one channel: one indicator there (it shows for a few seconds).
    for n in range(3):
        await send(client, fake, activity(fake, ANIM, f"help {n}"))
    await asyncio.sleep(AFTER * 3)
    assert _typing(fake) == [CHANNEL]
    # Twelve people at once, each in their own 1:1: the tenant's small budget, not twelve.
    learners = [f"0000000{n:x}-0000-4000-8000-000000000000" for n in range(12)]
    await asyncio.gather(
        *(send(client, fake, personal_activity(fake, who, "profile")) for who in learners)
    )
    await asyncio.sleep(AFTER * 3)
    personal = [conversation for conversation in _typing(fake) if conversation != CHANNEL]
    assert 4 <= len(personal) <= 6, personal
    assert len(set(personal)) == len(personal)
