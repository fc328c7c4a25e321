"""Every documented command works on Teams, in a team channel (@mentioning the bot) and in
the 1:1 chat with the bot: the examples of docs/COMMANDS.md run top to bottom, people named
by real Teams mentions (`<at>Name</at>` + a mention entity carrying their `29:` id), each
answered without an error, and no message showing its text twice."""

from __future__ import annotations

import json
import re
from typing import Any

from bot.handlers import challenges, pulse_cards, pulses
from bot.i18n import Translator
from bot.server import Runtime
from tests.support.adaptive_cards import adaptive_cards
from tests.support.commands_doc import FAILURES, examples
from tests.support.fake_connector import FakeConnector
from tests.support.teams_wire import (
    ANIM,
    BOT,
    CHANNEL_ROOT,
    Client,
    activity,
    personal_activity,
    send,
    settle,
)

PEOPLE = {
    "alice": "a11ce000-0000-4000-8000-000000000001",
    "bob": "b0b00000-0000-4000-8000-000000000002",
    "carol": "ca201000-0000-4000-8000-000000000003",
    "nina": "0a1a0000-0000-4000-8000-000000000004",
}
_AT = re.compile(r"@([a-z]+)")


def _with_mentions(made: dict[str, Any], example: str) -> dict[str, Any]:
    """Turn `@alice` into the markup and entity Teams sends for a mention of Alice."""
    entities = list(made.get("entities") or [])
    for name in _AT.findall(example):
        markup = f"<at>{name.capitalize()}</at>"
        entities.append(
            {
                "type": "mention",
                "text": markup,
                "mentioned": {"id": f"29:{PEOPLE[name]}", "name": name.capitalize()},
            }
        )
    made["text"] = _AT.sub(lambda m: f"<at>{m.group(1).capitalize()}</at>", made["text"])
    made["entities"] = entities
    return made


def _roster() -> list[dict[str, str]]:
    return [
        {"id": f"29:{aad}", "name": name.capitalize(), "aadObjectId": aad}
        for name, aad in PEOPLE.items()
    ]


def _texts(fake: FakeConnector, since: int) -> list[str]:
    return [
        call.shown
        for call in fake.calls[since:]
        if call.method in ("send", "update") and call.body.get("type") == "message"
    ]


async def _walk(
    client: Client, fake: FakeConnector, runtime: Runtime, personal: bool
) -> list[tuple[str, list[str]]]:
    answered = []
    for role, example in examples():
        who = ANIM if role == "animator" else PEOPLE["alice"]
        build = personal_activity if personal else activity
        made = _with_mentions(build(fake, who, example), example)
        since = len(fake.calls)
        assert (await send(client, fake, made)).status == 202, example
        await settle(runtime)
        await runtime.clock.advance(3)  # Teams' per-conversation windows move on
        await settle(runtime)
        answered.append((example, _texts(fake, since)))
    return answered


def _check(answered: list[tuple[str, list[str]]]) -> None:
    for example, texts in answered:
        assert texts, f"no answer to {example!r}"
        for text in texts:
            assert not any(marker in text for marker in FAILURES), (example, text)
    said = dict(answered)
    # The people mentioned are the right ones, under their Teams names.
    assert any("Alice now holds the Confirmed badge" in t for t in said[_example("badge grant")])
    assert any("Nina and Bob may be paired" in t for t in said[_example("pair allow")])
    assert any("Carol is now animator" in t for t in said[_example("role add")])
    # The audit log knows the changes came from Teams.
    audit = said[_example("audit")]
    assert any("took the animator role back from Carol (Teams)" in t for t in audit), audit


def _each_text_shown_once(fake: FakeConnector) -> None:
    """No message shows its text twice: a card carries it as the summary notifications
    show, never as a text Teams would put above the card."""
    sent = [
        call
        for call in fake.calls
        if call.method in ("send", "update") and call.body.get("type") == "message"
    ]
    assert any(call.body.get("attachments") for call in sent)
    for call in sent:
        if call.body.get("attachments"):
            assert "text" not in call.body and call.body["summary"].strip(), call.body
        else:
            assert call.body["text"].strip() and call.body["textFormat"] == "markdown"


def _example(start: str) -> str:
    return next(example for _who, example in examples() if example.startswith(start))


async def test_every_command_in_a_team_channel(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    fake.rosters[CHANNEL_ROOT] = _roster()
    _check(await _walk(client, fake, runtime, personal=False))
    _each_text_shown_once(fake)
    # People mentioned were looked up once each (Alice, who writes, was already known).
    looked_up = {call.body["id"] for call in fake.calls if call.method == "member"}
    assert looked_up == {f"29:{PEOPLE[n]}" for n in ("bob", "carol", "nina")}


async def test_every_command_in_the_personal_chat(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    fake.rosters[CHANNEL_ROOT] = _roster()
    added = activity(fake, ANIM, type="conversationUpdate")
    added["membersAdded"] = [{"id": BOT}]
    assert (await send(client, fake, added)).status == 202  # the bot is in the team
    await settle(runtime)
    _check(await _walk(client, fake, runtime, personal=True))
    _each_text_shown_once(fake)
    # Mentioned in a 1:1 chat, people are found in the team the bot is in.
    found = [call for call in fake.calls if call.method == "member"]
    assert {call.conversation for call in found} >= {CHANNEL_ROOT}


async def test_a_person_teams_cannot_find_gets_a_clear_answer_and_nothing_changes(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    fake.rosters[CHANNEL_ROOT] = _roster()  # Zoe is not in the team
    made = activity(fake, ANIM, "badge grant <at>Zoe</at> confirmed Great")
    made["entities"].append(
        {"type": "mention", "text": "<at>Zoe</at>", "mentioned": {"id": "29:zoe", "name": "Zoe"}}
    )
    since = len(fake.calls)
    assert (await send(client, fake, made)).status == 202
    await settle(runtime)
    texts = _texts(fake, since)
    assert len(texts) == 1 and "badge grant @" in texts[0], texts
    assert not any("Confirmed ambassador" in text for text in _texts(fake, 0))


async def test_people_named_in_what_someone_shares_are_shown_by_name(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    fake.rosters[CHANNEL_ROOT] = _roster()
    text = "share Thanks @bob for the tip"
    made = _with_mentions(activity(fake, PEOPLE["alice"], text), text)
    assert (await send(client, fake, made)).status == 202
    await settle(runtime)
    post = next(c for c in fake.sent(CHANNEL_ROOT) if "for the tip" in c.shown)
    assert "Thanks Bob for the tip" in post.shown
    assert "<@" not in json.dumps(post.body), "no raw reference left, card included"


def _person_in(fake: FakeConnector, conversation: str) -> str:
    """Who reads `conversation`: the person of a 1:1 chat, else the animator (a channel)."""
    if conversation.startswith("a:1:1-with-"):
        return conversation.removeprefix("a:1:1-with-")
    opened = {
        c.conversation: c.body["members"][0]["id"] for c in fake.calls if c.method == "create"
    }
    return str(opened.get(conversation, f"29:{ANIM}")).removeprefix("29:")


def _submits(card: dict[str, Any]) -> list[dict[str, Any]]:
    """The Action.Submit data of a card: its buttons, and a form's submit filled with each
    input's initial value (what Teams sends when the reader submits it untouched)."""
    found = []
    for action in [e for e in cards_of(card) if e.get("type") == "Action.Submit"]:
        data = dict(action["data"])
        if data.get("form"):
            for element in card["body"]:
                if str(element.get("type", "")).startswith("Input."):
                    data[element["id"]] = element.get("value", "")
        found.append(data)
    return found


def cards_of(node: Any) -> list[dict[str, Any]]:
    """Every typed object in a card, depth first."""
    if isinstance(node, dict):
        return ([node] if "type" in node else []) + [
            found for value in node.values() for found in cards_of(value)
        ]
    if isinstance(node, list):
        return [found for item in node for found in cards_of(item)]
    return []


async def test_every_card_and_form_the_commands_lead_to_is_valid(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    """The documented examples in a channel, and after each one every new kind of button on
    the cards it caused clicked once by their reader, every form submitted once: each card
    the bot sent on the way (the welcome card, the forms the buttons open) validates against
    the official Adaptive Card 1.5 schema and keeps Teams' rules (the fake Bot Connector
    checks each, tests/support/adaptive_cards.py)."""
    client, fake, runtime = teams
    fake.rosters[CHANNEL_ROOT] = _roster()
    added = activity(fake, ANIM, type="conversationUpdate")
    added["membersAdded"] = [{"id": BOT}]
    assert (await send(client, fake, added)).status == 202
    await settle(runtime)
    clicked: set[str] = set()
    forms: set[str] = set()
    seen = 0
    # The examples, then a challenge posted now: its answer buttons open the answer form.
    steps = [*examples(), ("animator", "challenge post Share one win with the team")]
    for role, example in steps:
        who = ANIM if role == "animator" else PEOPLE["alice"]
        made = _with_mentions(activity(fake, who, example), example)
        assert (await send(client, fake, made)).status == 202
        await settle(runtime)
        await runtime.clock.advance(3)
        await settle(runtime)
        while seen < len(fake.calls):  # the cards the example caused, then the clicks'
            call = fake.calls[seen]
            seen += 1
            if call.method not in ("send", "update"):
                continue
            for card in adaptive_cards(call.body):
                for data in _submits(card):
                    kind = str(data["action_id"]).split(":")[0]
                    if data.get("form"):
                        forms.add(kind)
                    if kind in clicked:
                        continue
                    clicked.add(kind)
                    reader = _person_in(fake, call.conversation)
                    if call.conversation.startswith(CHANNEL_ROOT):
                        click = activity(fake, reader, value=data)
                    else:
                        click = personal_activity(fake, reader, value=data)
                        click["conversation"]["id"] = call.conversation
                    assert (await send(client, fake, click)).status == 202
                    await settle(runtime)
                    await runtime.clock.advance(3)
                    await settle(runtime)
    assert fake.card_problems == []
    welcome = Translator("en")("teams.welcome_title")
    sent = [card for call in fake.calls[:seen] for card in adaptive_cards(call.body)]
    assert any(card["body"][0]["text"] == welcome for card in sent)
    # Every form a button still opens, reached (and submitted) on the way (hiding is the
    # animators' `hide` command now: no post carries a Hide button, issue 16 item 6).
    assert forms >= {
        challenges.FORM_ACTION,
        challenges.ANSWER_ACTION,
        pulses.FORM_ACTION,
        pulse_cards.DETAILS_ACTION,
    }, forms
    assert len(sent) > 30, len(sent)
