"""The core's neutral text as Teams shows it: in a text message, in a card, in a notification.

The core writes plain text with a little markup, the same for every platform: `\\n` ends a
line (the lines of `help`, the lines of `badges`), `` `code` `` marks what to type, a
line starting with "• " is an item, `<name>` is a placeholder in a command's usage, and
`<@id>` names a person (turned into their name by the sender, after this module).

Teams reads a message's text as Markdown (https://learn.microsoft.com/microsoftteams/platform/bots/how-to/format-your-bot-messages):
- a single `\\n` is a soft break and disappears, so the lines of a paragraph end in a
  CommonMark hard break (two spaces before the `\\n`, https://spec.commonmark.org/0.31.2/#hard-line-breaks)
  and a blank line stays a paragraph break;
- `<name>` looks like an HTML tag: outside code Teams may drop it, inside a code span it
  shows `&lt;name&gt;`; placeholders are written ‹name› (single guillemets) instead, in
  code and out of it;
- leading spaces would start an indented code block: they are kept as no-break spaces.
"• " is not Markdown, so item lines stay as they are (Teams' Markdown lists show on
desktop only).

An Adaptive Card's TextBlock (and a fact's title and value) reads a smaller Markdown
(https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/cards-format):
a single `\\n` is ignored outside a list, and Teams asks for `\\n\\n` there; code spans are
not rendered, so the backticks show as typed — which is what the reader types.

A notification shows the activity's `summary` as plain text on one line.
"""

from __future__ import annotations

import re
from typing import Any

# A placeholder or anything else shaped like an HTML tag: `<name>`, `<what happened>`, but
# `</b>`, but not a person (`<@id>`, for the sender) nor `a < b` (no letter after `<`).
_TAG_LIKE = re.compile(r"<(/?[^\W\d_][^<>\n]{0,80})>")
_CODE = re.compile(r"`([^`\n]+)`")
_BLANK_LINES = re.compile(r"\n[ \t]*\n\s*")
_LEADING = re.compile(r"^[ \t]+")
HARD_BREAK = "  \n"
_STOPS = (".", "!", "?", ":", ";", "…")
MAX_SUMMARY = 250


def _placeholders(text: str) -> str:
    return _TAG_LIKE.sub(lambda m: f"‹{m.group(1)}›", text)


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _indent(line: str) -> str:
    """Leading spaces kept visible without starting a Markdown code block."""
    return _LEADING.sub(lambda m: "\u00a0" * len(m.group(0).expandtabs(4)), line)


def message_text(text: str) -> str:
    """The text of a text-only message (sent with textFormat "markdown"): one line shown
    for each line of `text`, blank lines as paragraph breaks, placeholders visible."""
    paragraphs = _BLANK_LINES.split(_placeholders(_lines(text)).strip("\n"))
    return "\n\n".join(
        HARD_BREAK.join(_indent(line.rstrip()) for line in paragraph.split("\n"))
        for paragraph in paragraphs
    )


def card_text(text: str) -> str:
    """The text of a TextBlock or a fact: each line of `text` on a line of its own."""
    paragraphs = _BLANK_LINES.split(_placeholders(_lines(text)).strip("\n"))
    lines = [line.rstrip() for paragraph in paragraphs for line in paragraph.split("\n")]
    return "\n\n".join(_indent(line) for line in lines if line.strip())


def summary(text: str) -> str:
    """What a notification (and the chat list) shows for a card: the text on one line (a
    line that ends without a full stop is followed by a dash), its code spans without their
    backticks, at most MAX_SUMMARY characters."""
    flat = ""
    for line in _lines(_CODE.sub(r"\1", _placeholders(text))).split("\n"):
        words = " ".join(line.split())
        if words:
            flat += (" " if not flat or flat.endswith(_STOPS) else " — ") + words
    flat = flat.strip()
    return flat if len(flat) <= MAX_SUMMARY else flat[: MAX_SUMMARY - 1] + "…"


def adaptive_card(card: dict[str, Any]) -> dict[str, Any]:
    """`card` with every TextBlock's text and every fact rendered by `card_text` (inputs,
    their labels and the fallback text are plain text: left as they are)."""
    return _walk(card)


def _walk(element: Any) -> Any:
    if isinstance(element, list):
        return [_walk(item) for item in element]
    if not isinstance(element, dict):
        return element
    rendered = {key: _walk(value) for key, value in element.items()}
    if element.get("type") == "TextBlock" and isinstance(element.get("text"), str):
        rendered["text"] = card_text(element["text"])
    if element.get("type") == "FactSet" and isinstance(element.get("facts"), list):
        rendered["facts"] = [
            {
                **fact,
                **{
                    part: card_text(fact[part])
                    for part in ("title", "value")
                    if isinstance(fact.get(part), str)
                },
            }
            if isinstance(fact, dict)
            else fact
            for fact in element["facts"]
        ]
    return rendered
