"""Issue 19 on Teams, at the wire: a channel reply in the thread of a posted question (the
public teams.net channel reply's shape, without the bot's @mention: what the RSC permission
ChannelMessage.Read.Group brings) is recorded as a reply, with a compact card in that
thread; the asker's own replies, threads of other posts and top-level posts without the
mention are not; a reply that @mentions the bot stays a command; the asker marks it with
the card's "This helped"."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.server import Runtime
from storage.models import Contribution
from tests.support.fake_connector import FakeConnector
from tests.support.teams_wire import (
    ANIM,
    CHANNEL_ROOT,
    Client,
    activity,
    send,
    settle,
)

BOB = "b0b00000-0000-4000-8000-000000000002"
CHLOE = "c410e000-0000-4000-8000-000000000003"


def _channel_reply(fake: FakeConnector, who: str, text: str, root: str) -> dict[str, Any]:
    """A reply in the thread of the post `root`, not @mentioning the bot."""
    made = activity(fake, who)
    made["text"] = text
    made["entities"] = [e for e in made["entities"] if e.get("type") != "mention"]
    made["conversation"] = {**made["conversation"], "id": f"{CHANNEL_ROOT};messageid={root}"}
    return made


def _elements(element: Any) -> list[dict[str, Any]]:
    """Every object of an Adaptive Card, depth first."""
    found: list[dict[str, Any]] = []
    if isinstance(element, dict):
        found.append(element)
        for value in element.values():
            found += _elements(value)
    elif isinstance(element, list):
        for value in element:
            found += _elements(value)
    return found


async def _replies(runtime: Runtime) -> list[tuple[str, bool]]:
    async with runtime.db_sessions() as db:
        rows = await db.execute(
            select(Contribution.text, Contribution.helped_at)
            .where(Contribution.kind == "reply")
            .order_by(Contribution.id)
        )
        return [(text, helped is not None) for text, helped in rows.all()]


async def test_a_channel_reply_to_a_question_is_a_reply_with_a_card_in_its_thread(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    await send(client, fake, activity(fake, ANIM, "share question How do you say no kindly?"))
    await settle(runtime)
    question = next(c for c in fake.sent(CHANNEL_ROOT) if "Question from" in c.shown)
    root = question.activity_id
    before = len(fake.calls)
    reply = _channel_reply(fake, BOB, "Say why first, then no", root)
    for _ in range(2):  # a redelivery (the same activity id): one effect
        assert (await send(client, fake, reply)).status == 202
    await send(client, fake, _channel_reply(fake, ANIM, "Thanks!", root))  # the asker's
    await send(client, fake, _channel_reply(fake, CHLOE, "Elsewhere", "1759881599999"))
    top = _channel_reply(fake, CHLOE, "A new post", "x")
    top["conversation"]["id"] = f"{CHANNEL_ROOT};messageid={top['id']}"
    await send(client, fake, top)  # a top-level post without the mention: nothing
    await settle(runtime)
    assert await _replies(runtime) == [("Say why first, then no", False)]
    new = fake.calls[before:]
    cards = [c for c in new if c.method == "send"]
    assert len(cards) == 1, [c.shown for c in cards]  # no answer to anyone but the card
    [card] = cards
    assert card.conversation == f"{CHANNEL_ROOT};messageid={root}"
    assert "reply counts as contribution #" in card.shown
    assert "Say why first" not in card.shown

    # With the bot's @mention, a message in the thread is a command, as ever.
    mentioned = activity(fake, CHLOE, "me")
    mentioned["conversation"] = {
        **mentioned["conversation"],
        "id": f"{CHANNEL_ROOT};messageid={root}",
    }
    await send(client, fake, mentioned)
    await settle(runtime)
    assert len(await _replies(runtime)) == 1

    # The asker clicks the card's "This helped" (a card submit, in the channel).
    submit = next(e for e in _elements(card.body) if e.get("type") == "Action.Submit")
    click = activity(fake, ANIM, value=submit["data"])
    await send(client, fake, click)
    await settle(runtime)
    assert await _replies(runtime) == [("Say why first, then no", True)]
