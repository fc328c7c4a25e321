"""Adaptive Cards as Teams receives them, checked two ways: against Microsoft's official
JSON schema of the version each card declares (tests/bot/adapters/teams/schemas, sources
in its SOURCES.md), and against Teams' rules the schema does not state (the docstring of
bot/adapters/teams/cards.py). The fake Bot Connector checks every activity it receives
with `activity_problems`, so every card any Teams test makes the bot send is checked."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator

SCHEMAS = Path(__file__).resolve().parents[1] / "bot" / "adapters" / "teams" / "schemas"
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
# Teams answers 413 MessageSizeTooBig over its message size: 28 KB, then 40 KB, now 100 KB
# (https://learn.microsoft.com/microsoftteams/platform/bots/how-to/format-your-bot-messages
# over the years): the bot keeps to the smallest.
MAX_ACTIVITY_BYTES = 28_000
# Teams shows at most 6 actions in a set, the rest behind "…"
# (https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/cards-reference).
MAX_ACTIONS = 6
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"\d{2}:\d{2}")


# The 1.6 schema's own two slips against the draft-06 meta-schema: `"required": false` on
# two properties (draft-03's way of saying optional). Kept verbatim; harmless to checking
# cards, since `required` looks only at objects and these properties are a string and an
# array. Any other problem in a schema stops the tests.
KNOWN_SCHEMA_SLIPS = {
    "1.6": {
        ("definitions", "Media", "properties", "captionSources", "required"),
        ("definitions", "MediaSource", "properties", "mimeType", "required"),
    }
}


@functools.cache
def validator(version: str) -> Validator:
    """The validator of the official schema of `version` ("1.5" → adaptive-card-1.5.0.json),
    of the JSON Schema draft the schema names (draft-06), the schema itself checked first
    against that draft's meta-schema."""
    path = SCHEMAS / f"adaptive-card-{version}.0.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    kind = jsonschema.validators.validator_for(schema)
    slips = {tuple(e.absolute_path) for e in kind(kind.META_SCHEMA).iter_errors(schema)}
    assert slips == KNOWN_SCHEMA_SLIPS.get(version, set()), f"{path.name}: {slips}"
    made: Validator = kind(schema, format_checker=kind.FORMAT_CHECKER)
    return made


def versions() -> list[str]:
    """The versions there is a schema for ("1.5", "1.6")."""
    return sorted(
        path.name.removeprefix("adaptive-card-").removesuffix(".0.json")
        for path in SCHEMAS.glob("adaptive-card-*.json")
    )


def schema_problems(card: Any) -> list[str]:
    """Where `card` is off the official schema of the version it declares, each error
    followed down to its reason (`_reason`)."""
    version = card.get("version") if isinstance(card, dict) else None
    if version not in versions():
        return [f"version {version!r}: no official schema for it ({versions()})"]
    found = []
    for error in validator(version).iter_errors(card):
        reason = _reason(error)
        where = "/".join(str(part) for part in reason.absolute_path) or "(card)"
        found.append(f"{where}: {reason.message[:300]}")
    return found


def _reason(error: ValidationError) -> ValidationError:
    """The error that says why: the schema lists each element and action kind in an anyOf,
    whose own message is only "not valid under any of the given schemas". Follow the
    branches of the element's own `type` (the others fail on it), down to the deepest."""
    while error.context:
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        own = [
            sub
            for subs in branches.values()
            if not any(s.validator == "enum" and list(s.relative_path) == ["type"] for s in subs)
            for sub in subs
        ]
        if not own:
            break
        error = max(own, key=lambda sub: len(sub.absolute_path))
    return error


def _elements(node: Any) -> Iterator[dict[str, Any]]:
    """Every typed object of a card (elements, actions, inputs), depth first."""
    if isinstance(node, dict):
        if "type" in node:
            yield node
        for value in node.values():
            yield from _elements(value)
    elif isinstance(node, list):
        for item in node:
            yield from _elements(item)


def teams_problems(card: dict[str, Any]) -> list[str]:
    """Teams' rules the schema does not state, on one card."""
    found = []
    if not str(card.get("fallbackText") or "").strip():
        found.append("no fallbackText (clients without cards, screen readers)")
    if len(card.get("actions") or []) > MAX_ACTIONS:
        found.append(f"more than {MAX_ACTIONS} actions at the card's foot")
    ids: list[str] = []
    for element in _elements(card.get("body") or []):
        kind = element["type"]
        if kind == "ActionSet" and not 1 <= len(element.get("actions") or []) <= MAX_ACTIONS:
            found.append(f"an ActionSet of {len(element.get('actions') or [])} actions")
        if kind.startswith("Input."):
            ids.append(str(element.get("id")))
        if kind == "Input.ChoiceSet":
            values = [c.get("value") for c in element.get("choices") or []]
            if not values:
                found.append(f"{element.get('id')}: an Input.ChoiceSet without a choice")
            chosen = element.get("value")
            if chosen is not None and not set(str(chosen).split(",")) <= set(values):
                found.append(f"{element.get('id')}: initial value {chosen!r} is not a choice")
        if kind == "Input.Date" and "value" in element and not _DATE.fullmatch(element["value"]):
            found.append(f"{element.get('id')}: date {element['value']!r} is not YYYY-MM-DD")
        if kind == "Input.Time" and "value" in element and not _TIME.fullmatch(element["value"]):
            found.append(f"{element.get('id')}: time {element['value']!r} is not HH:MM")
    for element in _elements([card.get("body") or [], card.get("actions") or []]):
        data = element.get("data")
        if element["type"] == "Action.Submit" and not (
            isinstance(data, dict) and isinstance(data.get("action_id"), str)
        ):
            found.append(f"an Action.Submit whose data the bot cannot read back: {data!r}")
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        found.append(f"input ids used twice: {duplicates}")
    return found


def card_problems(card: Any) -> list[str]:
    """Both checks on one card."""
    found = schema_problems(card)
    return found + teams_problems(card) if isinstance(card, dict) else found


def activity_problems(activity: dict[str, Any]) -> list[str]:
    """Both checks on every Adaptive Card of a message activity, and the activity's own
    rules: its text set once — alone, or as a card's `summary` (what notifications show),
    never beside the card, which Teams would show twice —, its size under Teams' limit."""
    if activity.get("type") != "message":
        return []
    found = []
    if activity.get("attachments"):
        if "text" in activity:
            found.append("a card with a text beside it (Teams shows both)")
        if not str(activity.get("summary") or "").strip():
            found.append("a card without a summary (notifications, clients without cards)")
    elif not str(activity.get("text") or "").strip():
        found.append("a message without text")
    size = len(json.dumps(activity).encode())
    if size > MAX_ACTIVITY_BYTES:
        found.append(f"{size} bytes, over Teams' {MAX_ACTIVITY_BYTES}")
    for n, attachment in enumerate(activity.get("attachments") or []):
        if attachment.get("contentType") == ADAPTIVE_CARD:
            found += [f"attachment {n}: {p}" for p in card_problems(attachment.get("content"))]
    return found


def adaptive_cards(activity: dict[str, Any]) -> list[dict[str, Any]]:
    """The Adaptive Cards a message activity carries."""
    return [
        attachment["content"]
        for attachment in activity.get("attachments") or []
        if attachment.get("contentType") == ADAPTIVE_CARD
    ]
