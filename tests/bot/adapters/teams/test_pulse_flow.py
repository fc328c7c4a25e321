"""A whole NPS pulse through Teams: the animator fills the pulse form (an Adaptive Card in
their 1:1 chat), each learner answers in their own 1:1 chat by clicking the score and
satisfaction buttons and filling the details form (comment, a colleague picked among the
people the bot knows and a free name), the colleague gets the recommendation, the animator reads
the named results."""

from __future__ import annotations

import json
from typing import Any

from bot.server import Runtime
from tests.support.fake_connector import FakeConnector
from tests.support.teams_wire import (
    ANIM,
    CHANNEL_ROOT,
    Client,
    activity,
    deliver,
    personal_activity,
)

LEARNERS = {
    "alice": "a11ce000-0000-4000-8000-000000000001",
    "bob": "b0b00000-0000-4000-8000-000000000002",
    "chloe": "c410e000-0000-4000-8000-000000000003",
}
DANA = "da4a0000-0000-4000-8000-000000000004"


def _card(call: Any) -> dict[str, Any]:
    return dict(call.body["attachments"][0]["content"])


def _actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    found = [a for e in card["body"] if e["type"] == "ActionSet" for a in e["actions"]]
    return found + list(card.get("actions") or [])


def _has(card: dict[str, Any], action_id: str) -> bool:
    return any(
        str(a.get("data", {}).get("action_id", "")).startswith(action_id) for a in _actions(card)
    )


def _chat_of(fake: FakeConnector, aad: str) -> str:
    """The 1:1 chat the bot opened with a person."""
    return next(
        c.conversation
        for c in fake.calls
        if c.method == "create" and c.body["members"][0]["id"] == f"29:{aad}"
    )


def _cards_in(fake: FakeConnector, conversation: str) -> list[dict[str, Any]]:
    return [_card(call) for call in fake.sent(conversation) if call.body.get("attachments")]


def _click(fake: FakeConnector, who: str, chat: str, data: dict[str, Any]) -> dict[str, Any]:
    """What Teams sends when `who` clicks an Action.Submit in their 1:1 chat: the button's
    data, merged with the card's inputs when it is a form."""
    made = personal_activity(fake, who, value=data)
    made["conversation"]["id"] = chat
    return made


async def test_a_whole_pulse_through_teams(teams: tuple[Client, FakeConnector, Runtime]) -> None:
    client, fake, runtime = teams
    # Dana, a colleague, is in the team (she said hello once).
    dana = {"id": f"29:{DANA}", "name": "Dana", "aadObjectId": DANA}
    await deliver(client, fake, runtime, activity(fake, DANA, "hello", **{"from": dana}))
    await deliver(client, fake, runtime, activity(fake, ANIM, "session start Management 101"))
    join = next(
        a for a in _actions(_cards_in(fake, CHANNEL_ROOT)[0]) if a["type"] == "Action.Submit"
    )
    for aad in LEARNERS.values():
        await deliver(client, fake, runtime, activity(fake, aad, value=join["data"]))
        await deliver(
            client,
            fake,
            runtime,
            _click(
                fake, aad, _chat_of(fake, aad), {"action_id": "mentoring.consent", "value": "no"}
            ),
        )

    # The animator asks for the form: an Adaptive Card in their 1:1 chat.
    await deliver(client, fake, runtime, activity(fake, ANIM, "pulse"))
    anim_chat = _chat_of(fake, ANIM)
    form = _cards_in(fake, anim_chat)[-1]
    inputs = {e["id"]: e for e in form["body"] if e["type"].startswith("Input.")}
    assert {"session", "when", "at__date", "at__time", "until"} <= set(inputs)
    code = inputs["session"]["choices"][0]["value"]
    submit = form["actions"][0]["data"]
    values = {"session": code, "when": "now", "at__date": "", "at__time": "", "until": ""}
    await deliver(client, fake, runtime, _click(fake, ANIM, anim_chat, {**submit, **values}))
    assert any("sent by DM to 3 members" in c.shown for c in fake.sent(anim_chat))

    answers = {"alice": (10, 4), "bob": (8, 5), "chloe": (3, 2)}
    for name, (score, lsat) in answers.items():
        aad = LEARNERS[name]
        chat = _chat_of(fake, aad)
        question = next(c for c in _cards_in(fake, chat) if _has(c, "pulse.score"))
        # A 0-10 score never needs more than 6 buttons in a row (Teams' limit).
        assert all(len(e["actions"]) <= 6 for e in question["body"] if e["type"] == "ActionSet")
        button = next(a for a in _actions(question) if a["data"]["value"].endswith(f":{score}"))
        await deliver(client, fake, runtime, _click(fake, aad, chat, button["data"]))
        lsat_card = next(c for c in _cards_in(fake, chat) if _has(c, "pulse.lsat"))
        star = next(a for a in _actions(lsat_card) if a["data"]["value"].endswith(f":{lsat}"))
        await deliver(client, fake, runtime, _click(fake, aad, chat, star["data"]))
        details = next(c for c in _cards_in(fake, chat) if _has(c, "pulse.details"))
        if name == "alice":
            # Offered: the people the bot knows, Dana among them, not Alice herself.
            picker = next(e for e in details["body"] if e.get("id") == "referrals__people")
            offered = {choice["title"]: choice["value"] for choice in picker["choices"]}
            assert offered["Dana"] == DANA and aad not in offered.values(), offered
            # A multi-select sends the picked values (AAD object ids), comma separated.
            filled = {
                "comment": "Very concrete",
                "referrals__people": offered["Dana"],
                "referrals__free": "Eve Martin",
            }
            data = {**details["actions"][0]["data"], **filled}
            await deliver(client, fake, runtime, _click(fake, aad, chat, data))
            thanks = fake.sent(chat)[-1].shown
            assert "Dana" in thanks and "Eve Martin" in thanks, thanks

    # Dana gets one recommendation, in her own 1:1 chat.
    invitation = [c for c in _cards_in(fake, _chat_of(fake, DANA)) if "recommends" in json.dumps(c)]
    assert len(invitation) == 1

    await deliver(client, fake, runtime, activity(fake, ANIM, "pulse results"))
    results = json.dumps(_cards_in(fake, anim_chat)[-1], ensure_ascii=False)
    assert "3 answers out of 3 (100%)" in results
    assert "0 (promoters: 1 · passives: 1 · detractors: 1)" in results
    assert "3.67 / 5 (n = 3)" in results
    assert "recommends it to Dana" in results and "Eve Martin" in results
