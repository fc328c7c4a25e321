"""Block Kit rendering: golden files pin the JSON, and whatever the content, every payload
stays within the limits Slack enforces (https://api.slack.com/reference/block-kit/blocks —
the numbers below are written from Slack's documentation, not imported from the code)."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.slack import blocks
from bot.core.replies import Button, Card, Field, Reply
from bot.handlers import challenges, pulse_cards, signup
from bot.i18n import Translator
from storage.models import Pulse, TrainingSession
from tests.support.sample_forms import CHALLENGE_FORM

GOLDEN = Path(__file__).parent / "golden"
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def _golden(name: str, payload: dict[str, Any]) -> None:
    path = GOLDEN / f"{name}.json"
    text = json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
    if os.environ.get("UPDATE_GOLDEN") == "1":  # after a deliberate change: rewrite them
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name}: rendering changed"


def _within_limits(payload: dict[str, Any], max_blocks: int) -> None:
    """Slack's documented limits, checked on a rendered payload."""
    found = payload.get("blocks", [])
    assert len(found) <= max_blocks
    for block in found:
        if block["type"] == "section":
            if "text" in block:
                assert len(block["text"]["text"]) <= 3000
            assert len(block.get("fields", [])) <= 10
            assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "actions":
            assert 1 <= len(block["elements"]) <= 25
            ids = [e["action_id"] for e in block["elements"]]
            assert len(ids) == len(set(ids)), "action_ids unique in a block"
            for element in block["elements"]:
                assert len(element["text"]["text"]) <= 75
                assert len(element.get("value", "")) <= 2000
                assert len(element["action_id"]) <= 255


def test_the_join_card() -> None:
    session = TrainingSession(
        id=7, name="Management 101", code="K7P2QX", conversation="C1", opened_at=NOW
    )
    posted = signup.join_card(Translator("fr"), session, 3)
    payload = blocks.message(posted.text, posted.card)
    _golden("join_card_fr", payload)
    _within_limits(payload, 50)


def test_the_pulse_question_lays_out_eleven_score_buttons() -> None:
    pulse = Pulse(id=12)
    posted = pulse_cards.question(
        Translator("en"), pulse, "Management 101", NOW, "Europe/Paris", reminder=False
    )
    payload = blocks.message(posted.text, posted.card)
    _golden("pulse_question_en", payload)
    _within_limits(payload, 50)
    actions = [b for b in payload["blocks"] if b["type"] == "actions"]
    assert [e["value"] for e in actions[0]["elements"]] == [f"12:{n}" for n in range(11)]
    assert {blocks.neutral_action_id(e["action_id"]) for e in actions[0]["elements"]} == {
        "pulse.score"
    }


def test_the_challenge_card() -> None:
    posted = challenges.challenge_card(
        Translator("en"), "Share one feedback you gave", challenge_id=4, occurrence_id=4
    )
    payload = blocks.message(posted.text, posted.card)
    _golden("challenge_card_en", payload)
    _within_limits(payload, 50)


def test_forms_become_modals_and_their_submission_comes_back_as_the_form_values() -> None:
    form = pulse_cards.details_form(Translator("en"), 12, "Great")
    view = blocks.modal(form, Translator("en"), private_metadata="dm:U1")
    _golden("pulse_details_modal", view)
    assert view["callback_id"] == "pulse.details:12"
    assert len(view["title"]["text"]) <= 24 and len(view["blocks"]) <= 100
    state = {
        "comment": {"value": {"type": "plain_text_input", "value": "Très concret"}},
        "referrals": {"value": {"type": "multi_users_select", "selected_users": ["U2", "U3"]}},
        "referrals__free": {"value": {"type": "plain_text_input", "value": "Eve Martin, Zoé"}},
    }
    assert blocks.form_values(state) == {
        "comment": "Très concret",
        "referrals": ["U2", "U3", "Eve Martin", "Zoé"],
    }


def test_every_field_kind_of_the_challenge_form() -> None:
    view = blocks.modal(CHALLENGE_FORM, Translator("fr"))
    _golden("challenge_form_modal", view)
    assert view["title"]["text"] == "Schedule a challenge fo…"
    state = {
        "text": {"value": {"type": "plain_text_input", "value": "Share one win"}},
        "first": {"value": {"type": "datetimepicker", "selected_date_time": 1796112000}},
        "recurrence": {"value": {"type": "static_select", "selected_option": {"value": "weekly"}}},
        "until": {"value": {"type": "plain_text_input", "value": None}},
    }
    assert blocks.form_values(state) == {
        "text": "Share one win",
        "first": "2026-12-01T08:00:00+00:00",
        "recurrence": "weekly",
        "until": "",
    }


def test_a_real_view_submission_state_reads_back() -> None:
    # Slack's own payload (bolt-python's test suite; golden/SOURCES.md): any action_id.
    body = json.loads((GOLDEN / "view_submission_bolt.json").read_text())
    assert blocks.form_values(body["view"]["state"]["values"]) == {"hspI": "test"}


def test_action_ids_round_trip() -> None:
    assert blocks.neutral_action_id(blocks.slack_action_id("pulse.score", 3)) == "pulse.score"
    assert blocks.neutral_action_id("challenge.answer:12:success") == "challenge.answer:12:success"
    long_id = "x" * 300
    assert len(blocks.slack_action_id(long_id, 24)) == 255


@settings(max_examples=80, deadline=None)
@given(
    title=st.text(max_size=400),
    body=st.text(max_size=40_000),
    fields=st.lists(st.tuples(st.text(max_size=300), st.text(max_size=3000)), max_size=25),
    buttons=st.lists(st.tuples(st.text(max_size=120), st.text(max_size=2000)), max_size=60),
    image=st.booleans(),
)
def test_any_card_stays_within_block_kit_limits(
    title: str,
    body: str,
    fields: list[tuple[str, str]],
    buttons: list[tuple[str, str]],
    image: bool,
) -> None:
    card = Card(
        title=title,
        body=body,
        fields=tuple(Field(label, value) for label, value in fields),
        buttons=tuple(Button(label, "some.action", value) for label, value in buttons),
        image_url="https://example.org/badge.png" if image else None,
    )
    payload = blocks.message(body or title, card)
    _within_limits(payload, 50)
    assert payload["text"].strip() or payload["text"] == " "


def test_what_people_type_cannot_ping_everyone_or_fake_a_link() -> None:
    """Slack's markup typed as text stays text; the core's neutral people and links (what
    Slack's own mentions and links became, markup.py) are Slack's again."""
    card = Card(
        title="<!here>",
        body="<!channel> & <https://evil.example|bank> <javascript:alert(1)>",
        fields=(Field("<@U1>", "a > b"), Field("Guide", "[the guide](https://example.org/g)")),
    )
    payload = blocks.message("<!channel>", card)
    assert payload["text"] == "&lt;!channel&gt;"
    assert payload["blocks"][1]["text"]["text"] == (
        "&lt;!channel&gt; &amp; &lt;https://evil.example|bank&gt; &lt;javascript:alert(1)&gt;"
    )
    assert payload["blocks"][2]["fields"][0]["text"] == "*<@U1>*\na &gt; b"
    assert payload["blocks"][2]["fields"][1]["text"] == (
        "*Guide*\n<https://example.org/g|the guide>"
    )
    assert payload["blocks"][0]["text"]["type"] == "plain_text"  # not parsed by Slack


def test_a_long_body_is_never_cut_inside_a_link_or_an_escaped_character() -> None:
    link = "[the guide](https://example.org/guide)"
    body = ("a & b " * 200 + link + " ") * 5
    sections = [b for b in blocks.message("x", Card(title="t", body=body))["blocks"][1:]]
    for section in sections:
        text = section["text"]["text"]
        assert len(text) <= blocks.MAX_SECTION_TEXT
        assert text.count("<") == text.count(">"), "no link split in two"
        assert not re.search(r"&[a-z]*$", text), "no &amp; split in two"
    joined = "".join(s["text"]["text"] for s in sections)
    assert joined.count("<https://example.org/guide|the guide>") == 5


def test_a_value_slack_would_refuse_is_an_error_not_a_silent_cut() -> None:
    with pytest.raises(ValueError, match="over 2000"):
        blocks.message("x", Card(title="t", buttons=(Button("b", "a", "v" * 2001),)))


def test_the_home_tab_stays_within_a_views_hundred_blocks() -> None:
    many = [
        Reply(
            "x" * 7000,
            card=Card(title=f"Card {n}", body="y" * 9000, buttons=(Button("Go", "a", "v"),)),
        )
        if n % 2
        else Reply("z" * 7000)
        for n in range(60)
    ]
    view = blocks.home(many)
    assert view["type"] == "home" and 99 <= len(view["blocks"]) <= 100
    _within_limits(view, 100)
    assert [b["type"] for b in view["blocks"][:5]] == ["section"] * 3 + ["divider", "header"]
