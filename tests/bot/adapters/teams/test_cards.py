"""Adaptive Cards for Teams, rendered from the same neutral replies as Slack's Block Kit:
golden files pin the JSON; every card, for any content, validates against Microsoft's
official schema of the version it declares and keeps Teams' rules (six actions per set,
a choice in every choice set, the text set once — alone, or as a card's summary —, size
under Teams' limit: tests/support/adaptive_cards.py, which these tests also show refusing
wrong cards); a submission reads back as the neutral action and form values, including
the Action.Submit shape Teams sends (protocol samples) and the people picker of cards
sent before."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.teams import cards
from bot.core.replies import Button, Card, Field, Form, FormField
from bot.handlers import challenges, pulse_cards, signup
from bot.i18n import Translator
from storage.models import Pulse, TrainingSession
from tests.support.adaptive_cards import activity_problems, card_problems, validator
from tests.support.sample_forms import CHALLENGE_FORM

GOLDEN = Path(__file__).parent / "golden"
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
ALICE, BOB = "a8e9a1f2-0000-4000-8000-000000000002", "b1c2d3e4-0000-4000-8000-000000000003"


def _golden(name: str, payload: dict[str, Any]) -> None:
    path = GOLDEN / f"{name}.json"
    text = json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
    if os.environ.get("UPDATE_GOLDEN") == "1":  # after a deliberate change: rewrite them
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name}: rendering changed"


def _within_rules(activity: dict[str, Any]) -> None:
    """The official schema and Teams' rules, checked on a rendered message activity."""
    assert activity_problems(activity) == []
    if not activity.get("attachments"):
        assert activity["textFormat"] == "markdown"
    for attachment in activity.get("attachments", []):
        assert attachment["content"]["version"] == cards.VERSION


def _form_within_rules(card: dict[str, Any]) -> None:
    _within_rules(cards.message_with_card(card["fallbackText"], card))


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


def test_the_pulse_details_form_offers_the_people_the_bot_knows() -> None:
    people = (("Alice Martin", ALICE), ("Bob Durand", BOB))
    form = pulse_cards.details_form(Translator("en"), 12, "Great", people)
    card = cards.form(form, Translator("en"))
    _golden("pulse_details_form", card)
    _form_within_rules(card)
    picker = next(e for e in card["body"] if e.get("id") == "referrals__people")
    assert picker["choices"] == [
        {"title": "Alice Martin", "value": ALICE},
        {"title": "Bob Durand", "value": BOB},
    ]
    assert picker["isMultiSelect"] is True and "choices.data" not in picker
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
        "referrals": [ALICE, BOB, "Eve Martin", "Zoé"],
    }


def test_with_nobody_to_offer_the_form_asks_for_names() -> None:
    card = cards.form(pulse_cards.details_form(Translator("fr"), 12, ""), Translator("fr"))
    _form_within_rules(card)
    inputs = [e for e in card["body"] if e["type"].startswith("Input.")]
    assert [(e["type"], e["id"]) for e in inputs] == [
        ("Input.Text", "comment"),
        ("Input.Text", "referrals__free"),
    ]
    names = inputs[1]
    assert names["label"] == Translator("fr")("pulses.referrals_label")
    assert names["placeholder"] == "Noms, séparés par des virgules"
    value = {"action_id": "pulse.details:12", "form": 1, "comment": "", "referrals__free": "Zoé"}
    assert cards.submission(value) == ("pulse.details:12", '{"comment": "", "referrals": ["Zoé"]}')


def test_a_form_posted_with_teams_people_picker_still_reads_back() -> None:
    """Cards sent before carried the dynamic people picker; Teams sends its picks the same
    way (AAD object ids, comma separated) under the same id."""
    old_card = json.loads((GOLDEN / "pulse_details_form_people_picker.json").read_text())
    picker = next(e for e in old_card["body"] if e.get("id") == "referrals__people")
    assert picker["choices.data"]["dataset"] == "graph.microsoft.com/users"
    value = {**old_card["actions"][0]["data"], "referrals__people": f"{BOB},{ALICE}"}
    action_id, submitted = cards.submission({**value, "referrals__free": ""}) or ("", "")
    assert action_id == "pulse.details:12"
    assert json.loads(submitted) == {"referrals": [BOB, ALICE]}


def test_people_offered_stay_valid_and_within_teams_size() -> None:
    many = tuple(
        (f"Person {n} " + "é" * 200, f"{n:08d}-0000-4000-8000-000000000000") for n in range(300)
    )
    odd = (("", "e1"), ("Comma", "a,b"), ("No id", ""))
    field = FormField("referrals", "Who?", "users", odd + many, required=False)
    card = cards.form(Form("Details", "pulse.details:1", (field,)), Translator("en"))
    _form_within_rules(card)
    choices = card["body"][1]["choices"]
    assert choices[0] == {"title": "e1", "value": "e1"}, "a nameless person shows their id"
    assert all("," not in c["value"] and c["value"] for c in choices)
    assert 10 <= len(choices) <= cards.MAX_PEOPLE
    assert all(len(c["title"]) <= cards.MAX_PERSON for c in choices)


def test_every_field_kind_of_the_challenge_form() -> None:
    card = cards.form(CHALLENGE_FORM, Translator("fr"))
    _golden("challenge_form_fr", card)
    _form_within_rules(card)
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


def test_inputs_take_only_values_of_their_shape() -> None:
    t = Translator("en")

    def body(*fields: FormField) -> list[dict[str, Any]]:
        card = cards.form(Form("Edit", "x.form", fields), t)
        _form_within_rules(card)
        return list(card["body"][1:])

    date, time = body(FormField("at", "When", "datetime", value="2026-12-01T09:30:00"))
    assert (date["value"], time["value"]) == ("2026-12-01", "09:30")
    for odd in ("", "tomorrow", "2026-12-01", "01/12/2026T9h"):
        date, time = body(FormField("at", "When", "datetime", value=odd))
        assert date.get("value") in (None, "2026-12-01") and "value" not in time
    # A select offers its options; its initial value only when it is one of them.
    (chosen,) = body(FormField("r", "Repeat", "select", (("Once", "once"),), value="never"))
    assert chosen["type"] == "Input.ChoiceSet" and "value" not in chosen
    # Without options a choice set would be empty (Teams shows nothing to pick): a text.
    (typed,) = body(FormField("r", "Repeat", "select", (), value="weekly"))
    assert typed["type"] == "Input.Text" and typed["value"] == "weekly"


def test_the_schema_is_draft_06_and_enforced() -> None:
    """The checker itself: the schema's draft, and wrong cards refused, each for its reason."""
    assert isinstance(validator("1.5"), jsonschema.Draft6Validator)
    assert isinstance(validator("1.6"), jsonschema.Draft6Validator)
    good = cards.card(Card(title="Hello", buttons=(Button("Go", "a.b", "1"),)), "Hello")
    assert card_problems(good) == []


def _broken(change: str) -> dict[str, Any]:
    card = cards.form(CHALLENGE_FORM, Translator("en"))
    body = card["body"]
    if change == "msteams":
        card["msteams"] = {"width": "Full"}  # Teams' addition, outside the schema
    elif change == "type":
        body[1]["isRequired"] = "yes"
    elif change == "unknown element":
        body.append({"type": "Input.Rating", "id": "stars"})
    elif change == "empty choice set":
        body[4]["choices"] = []
    elif change == "seven buttons":
        card["body"] += cards.action_rows(tuple(Button(str(n), "a.b", "1") for n in range(7)))
        card["body"][-2]["actions"].append(card["body"].pop()["actions"][0])
    elif change == "date":
        body[2]["value"] = "01/12/2026"
    elif change == "same id":
        body[5]["id"] = "text"
    elif change == "no fallback":
        card["fallbackText"] = " "
    elif change == "version":
        card["version"] = "1.7"
    return card


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ("msteams", "Additional properties are not allowed ('msteams' was unexpected)"),
        ("type", "'yes' is not of type 'boolean'"),
        ("unknown element", "body/6"),
        ("empty choice set", "recurrence: an Input.ChoiceSet without a choice"),
        ("seven buttons", "an ActionSet of 7 actions"),
        ("date", "first__date: date '01/12/2026' is not YYYY-MM-DD"),
        ("same id", "input ids used twice: ['text']"),
        ("no fallback", "no fallbackText"),
        ("version", "version '1.7': no official schema for it"),
    ],
)
def test_a_wrong_card_is_refused(change: str, said: str) -> None:
    problems = card_problems(_broken(change))
    assert any(said in problem for problem in problems), problems


def test_teams_people_picker_needs_the_1_6_schema() -> None:
    """Why the forms offer known people instead: the dynamic picker (`choices.data`) is
    off the 1.5 schema Teams renders, valid only in 1.6 — and even there its empty
    `choices` break Teams' rule of at least one choice."""
    old_card = json.loads((GOLDEN / "pulse_details_form_people_picker.json").read_text())
    problems = card_problems(old_card)
    assert any("choices.data" in p for p in problems), problems
    as_1_6 = {**old_card, "version": "1.6"}
    assert [p for p in card_problems(as_1_6) if "without a choice" not in p] == []


_TEXT = st.text(max_size=120)
_FIELDS = st.builds(
    FormField,
    id=st.from_regex(r"[a-z]{1,12}", fullmatch=True),
    label=_TEXT,
    kind=st.sampled_from(["text", "multiline", "datetime", "select", "users"]),
    options=st.lists(st.tuples(_TEXT, st.text(max_size=60)), max_size=12).map(tuple),
    required=st.booleans(),
    value=st.one_of(_TEXT, st.sampled_from(["2026-12-01T09:00", "weekly", ""])),
)


@settings(max_examples=80, deadline=None)
@given(
    title=_TEXT,
    fields=st.lists(_FIELDS, max_size=6, unique_by=lambda f: f.id),
    language=st.sampled_from(["en", "fr"]),
)
def test_any_form_is_a_valid_card(title: str, fields: list[FormField], language: str) -> None:
    card = cards.form(Form(title, "some.form", tuple(fields)), Translator(language))
    _form_within_rules(card)


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
    buttons=st.lists(
        st.tuples(st.text(max_size=120), st.text(max_size=200), st.booleans()), max_size=20
    ),
    image=st.sampled_from(["", "https://bot.example/badges/abc.png"]),
)
def test_any_card_keeps_teams_rules(
    title: str,
    body: str,
    fields: list[tuple[str, str]],
    buttons: list[tuple[str, str, bool]],
    image: str,
) -> None:
    card = Card(
        title=title,
        body=body,
        fields=tuple(Field(label, value) for label, value in fields),
        buttons=tuple(
            Button(label, "some.action", value, url="https://bot.example/x" if link else None)
            for label, value, link in buttons
        ),
        image_url=image or None,
    )
    _within_rules(cards.message(body or title, card))
