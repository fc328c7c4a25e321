"""Adaptive Cards for Teams, rendered from the same neutral replies as Slack's Block Kit:
golden files pin the JSON; Teams' rules hold for any content (six actions per set, text
always set, size under Teams' limit); a submission reads back as the neutral action and
form values, including the Action.Submit shape Teams sends (protocol samples)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.teams import cards
from bot.core.replies import Button, Card, Field
from bot.handlers import challenges, pulse_cards, signup
from bot.i18n import Translator
from storage.models import Pulse, TrainingSession
from tests.support.sample_forms import CHALLENGE_FORM

GOLDEN = Path(__file__).parent / "golden"
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
# Teams refuses an activity over about 28 KB ("Message size too large").
MAX_ACTIVITY_BYTES = 28_000
ALICE, BOB = "a8e9a1f2-0000-4000-8000-000000000002", "b1c2d3e4-0000-4000-8000-000000000003"


def _golden(name: str, payload: dict[str, Any]) -> None:
    path = GOLDEN / f"{name}.json"
    text = json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
    if os.environ.get("UPDATE_GOLDEN") == "1":  # after a deliberate change: rewrite them
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name}: rendering changed"


def _within_rules(activity: dict[str, Any]) -> None:
    """Teams' rules, checked on a rendered message activity."""
    assert activity["text"].strip()
    assert len(json.dumps(activity).encode()) <= MAX_ACTIVITY_BYTES
    for attachment in activity.get("attachments", []):
        content = attachment["content"]
        assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
        assert content["version"] == "1.5" and content["fallbackText"].strip()
        for element in content["body"]:
            if element["type"] == "ActionSet":
                assert 1 <= len(element["actions"]) <= 6


def test_the_join_card() -> None:
    session = TrainingSession(
        id=7, name="Management 101", code="K7P2QX", conversation="C1", opened_at=NOW
    )
    posted = signup.join_card(Translator("fr"), session, 3)
    activity = cards.message(posted.text, posted.card)
    _golden("join_card_fr", activity)
    _within_rules(activity)


def test_the_pulse_question_lays_out_eleven_scores_in_two_rows() -> None:
    posted = pulse_cards.question(
        Translator("en"), Pulse(id=12), "Management 101", NOW, "Europe/Paris", reminder=False
    )
    activity = cards.message(posted.text, posted.card)
    _golden("pulse_question_en", activity)
    _within_rules(activity)
    rows = [e for e in activity["attachments"][0]["content"]["body"] if e["type"] == "ActionSet"]
    assert [len(row["actions"]) for row in rows] == [6, 5]
    data = [action["data"] for row in rows for action in row["actions"]]
    assert data == [{"action_id": "pulse.score", "value": f"12:{n}"} for n in range(11)]


def test_the_challenge_card() -> None:
    posted = challenges.challenge_card(
        Translator("en"), "Share one feedback you gave", challenge_id=4, occurrence_id=4
    )
    activity = cards.message(posted.text, posted.card)
    _golden("challenge_card_en", activity)
    _within_rules(activity)


def test_the_pulse_details_form_and_its_submission() -> None:
    form = pulse_cards.details_form(Translator("en"), 12, "Great")
    card = cards.form(form, Translator("en"))
    _golden("pulse_details_form", card)
    picker = next(e for e in card["body"] if e.get("id") == "referrals__people")
    assert picker["choices.data"]["dataset"] == "graph.microsoft.com/users"
    assert card["actions"][0]["data"] == {"action_id": "pulse.details:12", "form": 1}
    # What Teams sends back: the submit's data with each input's value beside it.
    value = {
        "action_id": "pulse.details:12",
        "form": 1,
        "comment": "Très concret",
        "referrals__people": f"{ALICE},{BOB}",
        "referrals__free": "Eve Martin, Zoé",
    }
    action_id, submitted = cards.submission(value) or ("", "")
    assert action_id == "pulse.details:12"
    assert json.loads(submitted) == {
        "comment": "Très concret",
        "referrals": [
            ALICE,
            BOB,
            "Eve Martin",
            "Zoé",
        ],
    }


def test_every_field_kind_of_the_challenge_form() -> None:
    card = cards.form(CHALLENGE_FORM, Translator("fr"))
    _golden("challenge_form_fr", card)
    kinds = [(e["type"], e.get("id")) for e in card["body"][1:]]
    assert kinds == [
        ("Input.Text", "text"),
        ("Input.Date", "first__date"),
        ("Input.Time", "first__time"),
        ("Input.ChoiceSet", "recurrence"),
        ("Input.Text", "until"),
    ]
    value = {
        "action_id": "challenge.form",
        "form": 1,
        "text": "Share one win",
        "first__date": "2026-12-01",
        "first__time": "09:00",
        "recurrence": "weekly",
        "until": "",
    }
    assert cards.submission(value) == (
        "challenge.form",
        json.dumps(
            {
                "text": "Share one win",
                "recurrence": "weekly",
                "until": "",
                "first": "2026-12-01T09:00",
            }
        ),
    )


def test_a_click_reads_back_as_the_same_action_and_value_as_on_slack() -> None:
    button = cards.action_rows((Button("Join", "signup.join", "K7P2QX"),))[0]["actions"][0]
    assert cards.submission(button["data"]) == ("signup.join", "K7P2QX")
    # Teams' own message with `value` (a messageBack sample) is not one of ours: ignored.
    sample = json.loads((GOLDEN / "message_with_value_messageback_docs.json").read_text())
    assert cards.submission(sample.get("value")) is None
    for forged in (None, "x", [], {"action_id": 3}, {"value": "K7"}):
        assert cards.submission(forged) is None


def test_what_people_type_cannot_become_a_link() -> None:
    card = cards.card(Card(title="[click](https://evil.example)", body="see [here](http://x)"), "t")
    rendered = json.dumps(card)
    assert "](http" not in rendered


@settings(max_examples=60, deadline=None)
@given(
    title=st.text(max_size=400),
    body=st.text(max_size=40_000),
    fields=st.lists(st.tuples(st.text(max_size=300), st.text(max_size=3000)), max_size=8),
    buttons=st.lists(st.tuples(st.text(max_size=120), st.text(max_size=200)), max_size=20),
)
def test_any_card_keeps_teams_rules(
    title: str, body: str, fields: list[tuple[str, str]], buttons: list[tuple[str, str]]
) -> None:
    card = Card(
        title=title,
        body=body,
        fields=tuple(Field(label, value) for label, value in fields),
        buttons=tuple(Button(label, "some.action", value) for label, value in buttons),
    )
    _within_rules(cards.message(body or title, card))
