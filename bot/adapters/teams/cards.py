"""Neutral replies → Adaptive Cards for Teams, and card submissions → neutral actions.

Pure functions (the activity around a card is shaped by protocol.py). Rules they keep
(https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/cards-reference,
https://adaptivecards.io/explorer/):
- schema 1.5, the highest Teams renders on desktop, web and mobile alike, and every card
  valid against Microsoft's official 1.5 JSON schema (the tests check each card the bot
  sends with it): nothing outside it, so no `msteams` property (`width: Full` and
  mentions in cards are Teams' additions the schema refuses: the card's root allows no
  other property);
- the text of the message is always set too (notifications, screen readers, clients
  without cards): `fallbackText` on the card, and the activity's `summary` (its `text`
  would show above the card: message());
- at most 6 buttons per ActionSet (Teams hides the rest behind "…"): more buttons, more
  rows — a 0–10 score is a row of 6 and a row of 5;
- an Input.ChoiceSet always has a choice (a select without options is a text input),
  its initial value only one of its choices; an Input.Date's value is YYYY-MM-DD and an
  Input.Time's HH:MM, or none; input ids are unique in a card;
- a whole activity stays under Teams' message size (about 28 KB): long texts are cut;
- what people typed cannot turn into a link: `](` is broken apart.

A button is an Action.Submit whose data is {"action_id", "value"}: the same pair as on
Slack, which the core gets back unchanged. A form is a card of inputs whose submit carries
{"action_id": <the form's submit action>, "form": 1}; Teams adds each input's value under
its id. Date-times are an Input.Date and an Input.Time (there is no date-time input).

People: the people the bot knows (the field's options: name and member id) as a
multi-select Input.ChoiceSet, plus a text input for anyone else (names, comma separated;
the core finds a member by a unique name); only the text input when the bot knows nobody
to offer. Not Teams' people picker: its `choices.data` (Data.Query on
graph.microsoft.com/users,
https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/people-picker)
exists only in the 1.6 schema, above the 1.5 Teams renders
(https://learn.microsoft.com/microsoft-copilot-studio/guidance/adaptive-cards-overview), and a
client below a card's version shows only its fallbackText: the form would be lost. And a
colleague the picker finds whom the bot has never met could not be invited anyway (the bot
opens a 1:1 chat only with people it has seen). Both give the same value, member ids comma
separated, so a form an earlier version posted with the picker still reads back.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.adapters.teams import protocol, rendering
from bot.core.replies import Button, Card, Form, FormField
from bot.i18n import Translator

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
MAX_ACTIONS_PER_SET = 6
MAX_TEXT = 12_000  # a card body; fields and titles are cut shorter
MAX_FIELD = 1_000
MAX_TITLE = 300
MAX_CHOICES = 100
MAX_VALUE = 2_000
MAX_PEOPLE = 100  # people offered in a form…
MAX_PEOPLE_BYTES = 10_000  # …in at most this much of the ~28 KB an activity may weigh
MAX_PERSON = 80  # characters of a name offered
DATE, TIME, PEOPLE, FREE = "__date", "__time", "__people", "__free"
_STYLES = {"primary": "positive", "danger": "destructive"}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_TIME = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?")


def cut(text: str, limit: int) -> str:
    """At most `limit` characters, an ellipsis marking a cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def safe(text: str) -> str:
    """What people typed, unable to become a Markdown link in a TextBlock."""
    return text.replace("](", "]\u200b(")


def _some(text: str) -> str:
    """Never an empty text: Teams would show a blank bubble and readers hear nothing."""
    return text if text.strip() else "…"


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _action(button: Button) -> dict[str, Any]:
    title = cut(button.label, 80) or "…"
    if button.url:
        return {"type": "Action.OpenUrl", "title": title, "url": button.url}
    if len(button.value) > MAX_VALUE:
        raise ValueError(f"button value of {button.action_id} is over {MAX_VALUE}")
    action: dict[str, Any] = {
        "type": "Action.Submit",
        "title": title,
        "data": {"action_id": button.action_id, "value": button.value},
    }
    if button.style in _STYLES:
        action["style"] = _STYLES[button.style]
    return action


def action_rows(buttons: tuple[Button, ...]) -> list[dict[str, Any]]:
    """Buttons as ActionSets of at most six, in order."""
    return [
        {
            "type": "ActionSet",
            "actions": [_action(b) for b in buttons[start : start + MAX_ACTIONS_PER_SET]],
        }
        for start in range(0, len(buttons), MAX_ACTIONS_PER_SET)
    ]


def _card(body: list[dict[str, Any]], fallback: str) -> dict[str, Any]:
    return {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "fallbackText": _some(cut(safe(fallback), MAX_TEXT)),
        "body": body,
    }


def card(card: Card, fallback: str) -> dict[str, Any]:
    """The Adaptive Card of a neutral card: title, body, facts, image, rows of buttons."""
    body = [_text(cut(safe(card.title), MAX_TITLE), weight="Bolder", size="Medium")]
    if card.body:
        body.append(_text(cut(safe(card.body), MAX_TEXT)))
    if card.fields:
        facts = [
            {"title": cut(safe(f.label), MAX_TITLE), "value": cut(safe(f.value), MAX_FIELD)}
            for f in card.fields
        ]
        body.append({"type": "FactSet", "facts": facts})
    if card.image_url:
        body.append(
            {
                "type": "Image",
                "url": card.image_url,
                "altText": cut(card.title, 200),
                "size": "Medium",
            }
        )
    body += action_rows(card.buttons)
    return _card(body, fallback or card.title)


def message(text: str, card_: Card | None) -> dict[str, Any]:
    """A message activity's content: the text alone, as Teams shows it (rendering.py), or
    the card with the text as its notification summary — never the text beside the card,
    which Teams would show twice."""
    if card_ is None:
        return protocol.message(_some(cut(rendering.message_text(text), MAX_TEXT)))
    return message_with_card(text if text.strip() else card_.title, card(card_, text))


def message_with_card(text: str, adaptive_card: dict[str, Any]) -> dict[str, Any]:
    """A message activity carrying an Adaptive Card (a card or a form), its text lines
    rendered for Teams, `text` as the summary that notifications show (the card's
    fallbackText stays for clients without cards)."""
    return protocol.message(
        None, rendering.adaptive_card(adaptive_card), summary=_some(rendering.summary(text))
    )


def _inputs(field: FormField, t: Translator) -> list[dict[str, Any]]:
    label = cut(field.label or field.id, MAX_TITLE)
    common: dict[str, Any] = {"label": label, "isRequired": field.required}
    if field.required:
        common["errorMessage"] = t("teams.required")
    if field.kind == "datetime":
        return _date_and_time(field, common, t)
    if field.kind == "select" and field.options:
        return [_choices(field, common)]
    if field.kind == "users":
        return _people(field, label, t)
    return [
        {
            "type": "Input.Text",
            "id": field.id,
            "isMultiline": field.kind == "multiline",
            "value": field.value[:MAX_TEXT],
            **common,
        }
    ]


def _date_and_time(field: FormField, common: dict[str, Any], t: Translator) -> list[dict[str, Any]]:
    """An Input.Date and an Input.Time, their values in the shapes the schema names
    (YYYY-MM-DD, HH:MM) or none."""
    date, _, time = field.value.partition("T")
    day: dict[str, Any] = {"type": "Input.Date", "id": field.id + DATE, **common}
    hour: dict[str, Any] = {
        "type": "Input.Time",
        "id": field.id + TIME,
        **{**common, "label": t("teams.time")},
    }
    if _ISO_DATE.fullmatch(date):
        day["value"] = date
    if _ISO_TIME.fullmatch(time):
        hour["value"] = time[:5]
    return [day, hour]


def _choices(field: FormField, common: dict[str, Any]) -> dict[str, Any]:
    """A select: a compact Input.ChoiceSet (never empty: see `_inputs`), its initial value
    one of its choices."""
    choices = [
        {"title": cut(title, MAX_TITLE) or "…", "value": value[:MAX_VALUE]}
        for title, value in field.options[:MAX_CHOICES]
    ]
    chosen: dict[str, Any] = {
        "type": "Input.ChoiceSet",
        "id": field.id,
        "choices": choices,
        "style": "compact",
        **common,
    }
    if any(choice["value"] == field.value for choice in choices):
        chosen["value"] = field.value
    return chosen


def _people(field: FormField, label: str, t: Translator) -> list[dict[str, Any]]:
    """The people the bot knows to pick from, and a text input for names (see the module's
    docstring). Never required: Teams cannot require one of two inputs."""
    choices: list[dict[str, str]] = []
    size = 0
    for name, id_ in field.options[:MAX_PEOPLE]:
        # A multi-select sends its values comma separated: an id with a comma cannot be one.
        if not id_ or "," in id_ or len(id_) > MAX_VALUE:
            continue
        choice = {"title": cut(name, MAX_PERSON) or id_, "value": id_}
        size += len(json.dumps(choice))  # as on the wire: non-ASCII escaped
        if size > MAX_PEOPLE_BYTES:
            break
        choices.append(choice)
    names: dict[str, Any] = {"type": "Input.Text", "id": field.id + FREE}
    if not choices:
        return [
            {
                **names,
                "label": label,
                "placeholder": t("teams.names_placeholder"),
                "isRequired": False,
            }
        ]
    picker = {
        "type": "Input.ChoiceSet",
        "id": field.id + PEOPLE,
        "choices": choices,
        "isMultiSelect": True,
        "style": "compact",
        "label": label,
        "isRequired": False,
    }
    return [picker, {**names, "label": t("slack.other_people"), "isRequired": False}]


def form(form_: Form, t: Translator) -> dict[str, Any]:
    """The Adaptive Card form of a neutral form, in the reader's language."""
    body = [_text(cut(form_.title, MAX_TITLE), weight="Bolder", size="Medium")]
    body += [element for field in form_.fields for element in _inputs(field, t)]
    submit = {
        "type": "Action.Submit",
        "title": t("slack.submit"),
        "style": "positive",
        "data": {"action_id": form_.submit_action_id, "form": 1},
    }
    card_ = _card(body, form_.title)
    card_["actions"] = [submit]
    return card_


def submission(data: Any) -> tuple[str, str] | None:
    """What a card sent back (Action.Submit's `value`, or Action.Execute's `action.data`)
    → the neutral (action_id, value): a button's value, or a form's values (`is_form`);
    None when it is not one of ours."""
    if not isinstance(data, dict) or not isinstance(data.get("action_id"), str):
        return None
    action_id = data["action_id"]
    if not is_form(data):
        value = data.get("value", "")
        return action_id, value if isinstance(value, str) else json.dumps(value)
    return action_id, json.dumps(form_values(data), ensure_ascii=False)


def is_form(data: Any) -> bool:
    """Whether a card sent back a form's submission (its submit carries `form`), not a click."""
    return isinstance(data, dict) and bool(data.get("form"))


def form_values(data: dict[str, Any]) -> dict[str, Any]:
    """A submitted form's inputs → the neutral form's values (as the playground sends them)."""
    values: dict[str, Any] = {}
    dates: dict[str, dict[str, str]] = {}
    people: dict[str, list[str]] = {}
    for key, raw in data.items():
        if key in ("action_id", "form", "msteams") or not isinstance(raw, str | int | float):
            continue
        text = str(raw).strip()
        for suffix in (DATE, TIME):
            if key.endswith(suffix):
                dates.setdefault(key[: -len(suffix)], {})[suffix] = text
                break
        else:
            if key.endswith(PEOPLE) or key.endswith(FREE):
                base = key[: -len(PEOPLE)] if key.endswith(PEOPLE) else key[: -len(FREE)]
                people.setdefault(base, []).extend(n.strip() for n in text.split(",") if n.strip())
            else:
                values[key] = text
    for base, parts in dates.items():
        date, time = parts.get(DATE, ""), parts.get(TIME, "")
        values[base] = f"{date}T{time or '00:00'}" if date else ""
    for base, names in people.items():
        values[base] = names
    return values
