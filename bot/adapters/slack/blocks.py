"""Neutral replies → Block Kit: pure functions, no Slack client.

Text shown as mrkdwn goes through markup.to_mrkdwn: the core's people, channels and links
become Slack's, everything else is escaped (what people typed shows as typed).

Every rendered payload stays within Block Kit's limits whatever the content (a long
session name, a 40,000-character share), because Slack rejects the whole message
otherwise (https://api.slack.com/reference/block-kit/blocks):
50 blocks per message, 100 per modal or Home tab, 3,000 characters of section text,
2,000 per section field and at most 10 fields, 25 elements per actions block, 75
characters of button text, 2,000 of button value, 255 of action_id, 24 of modal title,
150 of block title text, 100 options per select (75-character text, 150-character value).

Slack wants action_ids unique within a block, while neutral buttons of one card may share
theirs (the eleven score buttons of a pulse): the k-th button of a block gets
`<action_id>#<k>`, which `neutral_action_id` strips on the way back.
"""

from __future__ import annotations

from typing import Any

from bot.adapters.slack import images, markup
from bot.core.replies import Button, Card, Form, FormField, Reply
from bot.i18n import Translator

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_ACTIONS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTION_ID = 255
MAX_MODAL_TITLE = 24
MAX_HEADER_TEXT = 150
MAX_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_LABEL = 2000
MAX_FALLBACK = 40_000  # chat.postMessage truncates `text` beyond this
FREE_NAMES_SUFFIX = "__free"


def cut(text: str, limit: int) -> str:
    """`text` within `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": cut(text, limit) or " ", "emoji": True}


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def _chunks(text: str, size: int) -> list[str]:
    """Split rendered mrkdwn on line ends when possible, never beyond `size`, never inside
    a mention, a link or an escaped character."""
    chunks: list[str] = []
    while text:
        if len(text) <= size:
            chunks.append(text)
            break
        cut_at = text.rfind("\n", 0, size)
        cut_at = cut_at if cut_at > size // 2 else markup.safe_cut(text, size)
        chunks.append(text[:cut_at])
        text = text[cut_at:].lstrip("\n")
    return chunks


def slack_action_id(action_id: str, index: int) -> str:
    """The action_id Slack gets for the `index`-th button of a block (unique in it)."""
    suffix = f"#{index}"
    return action_id[: MAX_ACTION_ID - len(suffix)] + suffix


def neutral_action_id(slack_id: str) -> str:
    """The neutral action_id of a Slack action_id (`pulse.score#3` → `pulse.score`)."""
    base, sep, index = slack_id.rpartition("#")
    return base if sep and index.isdigit() else slack_id


def _button(button: Button, index: int) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": _plain(button.label, MAX_BUTTON_TEXT),
        "action_id": slack_action_id(button.action_id or "link", index),
    }
    if button.url:
        element["url"] = button.url[:3000]
    else:
        # A value Slack would refuse is a bug upstream; cutting it would send a wrong one.
        if len(button.value) > MAX_BUTTON_VALUE:
            raise ValueError(f"button value of {button.action_id} is over {MAX_BUTTON_VALUE}")
        element["value"] = button.value
    if button.style in ("primary", "danger"):
        element["style"] = button.style
    return element


def card_blocks(card: Card, budget: int = MAX_MESSAGE_BLOCKS) -> list[dict[str, Any]]:
    """The blocks of a card: title, body, fields, image, buttons — within `budget` blocks."""
    blocks: list[dict[str, Any]] = [{"type": "header", "text": _plain(card.title, MAX_HEADER_TEXT)}]
    body_chunks = _chunks(markup.to_mrkdwn(card.body), MAX_SECTION_TEXT)
    button_blocks = [
        {
            "type": "actions",
            "elements": [
                _button(b, i) for i, b in enumerate(card.buttons[start : start + MAX_ACTIONS])
            ],
        }
        for start in range(0, len(card.buttons), MAX_ACTIONS)
    ]
    fields = [
        _mrkdwn(
            markup.cut(
                f"*{markup.to_mrkdwn(f.label)}*\n{markup.to_mrkdwn(f.value)}", MAX_FIELD_TEXT
            )
        )
        for f in card.fields
    ]
    field_blocks = [
        {"type": "section", "fields": fields[start : start + MAX_FIELDS]}
        for start in range(0, len(fields), MAX_FIELDS)
    ]
    # Only an image Slack can fetch: it refuses the whole message otherwise (images.py).
    image = (
        [{"type": "image", "image_url": card.image_url, "alt_text": cut(card.title, 2000) or " "}]
        if card.image_url and images.reachable(card.image_url)
        else []
    )
    fixed = 1 + len(field_blocks) + len(image) + len(button_blocks)
    room = max(budget - fixed, 1)
    if len(body_chunks) > room:  # a huge body: the rest is in the text fallback
        last = markup.cut(body_chunks[room - 1] + "…", MAX_SECTION_TEXT)
        body_chunks = [*body_chunks[: room - 1], last]
    blocks += [{"type": "section", "text": _mrkdwn(chunk)} for chunk in body_chunks]
    blocks += field_blocks + image + button_blocks
    return blocks[:budget]


def message(text: str, card: Card | None) -> dict[str, Any]:
    """The arguments of chat.postMessage / chat.update: the text fallback, and blocks."""
    fallback = markup.cut(markup.to_mrkdwn(text), MAX_FALLBACK)
    if not fallback.strip() and card is not None:
        fallback = markup.cut(markup.escape(card.title), MAX_FALLBACK)
    # Whitespace alone is no text for Slack's notifications: one space marks "none".
    payload: dict[str, Any] = {"text": fallback if fallback.strip() else " "}
    if card is not None:
        payload["blocks"] = card_blocks(card)
    return payload


def home(replies: list[Reply]) -> dict[str, Any]:
    """The App Home tab (views.publish): each reply as a card or a text section, divided,
    within the 100 blocks of a view."""
    blocks: list[dict[str, Any]] = []
    for reply in replies:
        if reply.form is not None:
            continue
        if blocks:
            if len(blocks) + 2 > MAX_VIEW_BLOCKS:
                break
            blocks.append({"type": "divider"})
        room = MAX_VIEW_BLOCKS - len(blocks)
        if reply.card is not None:
            blocks += card_blocks(reply.card, budget=room)
        else:
            chunks = _chunks(markup.to_mrkdwn(reply.text), MAX_SECTION_TEXT)[:room]
            blocks += [{"type": "section", "text": _mrkdwn(chunk)} for chunk in chunks]
    return {"type": "home", "blocks": blocks[:MAX_VIEW_BLOCKS]}


def _option(label: str, value: str) -> dict[str, Any]:
    return {"text": _plain(label, MAX_OPTION_TEXT), "value": value[:MAX_OPTION_VALUE]}


def _input(field: FormField, t: Translator) -> list[dict[str, Any]]:
    label = _plain(field.label or field.id, MAX_LABEL)
    common = {"type": "input", "block_id": field.id, "label": label, "optional": not field.required}
    if field.kind == "datetime":
        element: dict[str, Any] = {"type": "datetimepicker", "action_id": "value"}
    elif field.kind == "select":
        options = [_option(label, value) for label, value in field.options[:MAX_OPTIONS]]
        element = {"type": "static_select", "action_id": "value", "options": options}
        initial = next((o for o in options if o["value"] == field.value), None)
        if initial is not None:
            element["initial_option"] = initial
    elif field.kind == "users":
        # Colleagues in the workspace, then free names for people outside it.
        picker = {**common, "element": {"type": "multi_users_select", "action_id": "value"}}
        free = {
            "type": "input",
            "block_id": field.id + FREE_NAMES_SUFFIX,
            "label": _plain(t("slack.other_people"), MAX_LABEL),
            "optional": True,
            "element": {"type": "plain_text_input", "action_id": "value"},
        }
        return [picker, free]
    else:
        element = {
            "type": "plain_text_input",
            "action_id": "value",
            "multiline": field.kind == "multiline",
        }
        if field.value:
            element["initial_value"] = field.value[:3000]
    return [{**common, "element": element}]


def modal(form: Form, t: Translator, private_metadata: str = "") -> dict[str, Any]:
    """The modal view of a neutral form, in the reader's language; its callback_id is the
    form's submit action."""
    blocks = [block for field in form.fields for block in _input(field, t)][:MAX_VIEW_BLOCKS]
    return {
        "type": "modal",
        "callback_id": form.submit_action_id[:MAX_ACTION_ID],
        "title": _plain(form.title, MAX_MODAL_TITLE),
        "submit": _plain(t("slack.submit"), MAX_MODAL_TITLE),
        "close": _plain(t("slack.cancel"), MAX_MODAL_TITLE),
        "private_metadata": private_metadata[:3000],
        "blocks": blocks,
    }


def form_values(state: dict[str, Any]) -> dict[str, Any]:
    """A submitted modal's `view.state.values` → the neutral form's values (its JSON)."""
    values: dict[str, Any] = {}
    free: dict[str, list[str]] = {}
    for block_id, actions in (state or {}).items():
        # One element per input block; its action_id is ours ("value") or anything Slack sent.
        element = next(iter((actions or {}).values()), None) or {}
        kind = element.get("type")
        if kind == "plain_text_input":
            value: Any = element.get("value") or ""
        elif kind == "static_select":
            value = (element.get("selected_option") or {}).get("value", "")
        elif kind == "datetimepicker":
            value = _local_iso(element.get("selected_date_time"))
        elif kind == "multi_users_select":
            value = list(element.get("selected_users") or [])
        else:
            continue
        if block_id.endswith(FREE_NAMES_SUFFIX):
            base = block_id[: -len(FREE_NAMES_SUFFIX)]
            free[base] = [n.strip() for n in str(value).split(",") if n.strip()]
        else:
            values[block_id] = value
    for base, names in free.items():
        values[base] = [*values.get(base, []), *names]
    return values


def _local_iso(timestamp: Any) -> str:
    """A datetimepicker's Unix time as ISO 8601 UTC (the core reads it as an instant)."""
    from datetime import UTC, datetime

    if not isinstance(timestamp, int | float):
        return ""
    return datetime.fromtimestamp(timestamp, UTC).isoformat()
