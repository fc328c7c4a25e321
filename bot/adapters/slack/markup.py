"""Slack's message markup ↔ the core's neutral text: people, channels and links stay real,
whatever else people typed shows as typed.

Slack sends the text of commands (with `should_escape`, config/slack/manifest.json) and of
messages in its markup (https://api.slack.com/reference/surfaces/formatting#retrieving-messages):
`<@U123|bob>` a person, `<#C123|general>` a channel, `<https://…|text>` a link,
`<!here>` a broadcast, and `&`, `<`, `>` that people typed as `&amp;`, `&lt;`, `&gt;`.
The core keeps neutral text (what a Teams message becomes too):

- a person: `<@U123>` (bot/core/parsing.py reads it; Teams' sender names them);
- a channel: `<#C123>` (the `in #channel` clause reads it);
- a link: `<https://…>` when it shows its address, `[text](https://…)` when it shows a text
  (CommonMark's autolink and inline link, readable as they are in the playground or an
  export); http, https and mailto only;
- anything else as typed: `&`, `<`, `>` themselves. A broadcast someone wrote (`<!here>`,
  `<!channel>`, a user group) becomes the words `@here`, `@channel`, `@group`: the bot
  repeats what people share, and must not ping a channel or a group in their name.

On the way out (`to_mrkdwn`), people, channels and links are written as Slack's markup and
everything else escaped (https://api.slack.com/reference/surfaces/formatting#escaping), so
that `<script>` or `&` typed by someone shows as typed, and a literal `<!channel>` pings
nobody.
"""

from __future__ import annotations

import re

# Slack's markup: a token in angle brackets (what people typed has its `<` escaped).
_SLACK_TOKEN = re.compile(r"<([^<>]*)>")
_SLACK_ID = re.compile(r"^[A-Z0-9]+$")
_BROADCASTS = {"here": "@here", "channel": "@channel", "everyone": "@everyone"}
_LINK_SCHEMES = ("http://", "https://", "mailto:")
# A URL as the neutral text holds it: no space, angle bracket, parenthesis or pipe.
_URL = r"(?:https?://|mailto:)[^\s<>()|]+"
_NEUTRAL = re.compile(
    r"<@(?P<person>[A-Z0-9]+)(?:\|[^<>]*)?>"
    r"|<#(?P<channel>[A-Z0-9]+)(?:\|[^<>]*)?>"
    rf"|<(?P<auto>{_URL})>"
    rf"|\[(?P<label>(?:\\.|[^\[\]\\])*)\]\((?P<target>{_URL})\)"
)
_LABEL_ESCAPED = re.compile(r"\\([\\\[\]])")


def unescape(text: str) -> str:
    """Slack's three escaped characters back to what people typed (`&amp;` last)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def escape(text: str) -> str:
    """Slack's three control characters escaped, so that what people typed shows as typed:
    a shared "<!channel>" must not ping everyone.

    https://api.slack.com/reference/surfaces/formatting#escaping
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_neutral(text: str) -> str:
    """Slack's markup (a command's or a message's text) → the core's neutral text."""
    parts: list[str] = []
    at = 0
    for token in _SLACK_TOKEN.finditer(text):
        parts += [unescape(text[at : token.start()]), _neutral_token(token.group(1))]
        at = token.end()
    parts.append(unescape(text[at:]))
    return "".join(parts)


def _neutral_token(inner: str) -> str:
    target, _, label = inner.partition("|")
    label = unescape(label)
    kind, rest = target[:1], target[1:]
    if kind == "@" and _SLACK_ID.match(rest):
        return f"<@{rest}>"
    if kind == "#" and _SLACK_ID.match(rest):
        return f"<#{rest}>"
    if kind == "!":
        # <!here>, <!subteam^S123|@team>, <!date^1392734382^{date}|Feb 18th>: their words.
        name = rest.split("^")[0]
        if name in _BROADCASTS:
            return _BROADCASTS[name]
        if name == "subteam":
            return label if label.startswith("@") else f"@{label or 'group'}"
        return label or name
    url = unescape(target)
    if not url.startswith(_LINK_SCHEMES) or not re.fullmatch(r"\S+", url):
        return label or url  # slack://…, tel:…, or not a link at all: its words
    url = url.replace("(", "%28").replace(")", "%29").replace("|", "%7C")
    if not label or label in (url, url.removeprefix("mailto:")):
        return f"<{url}>"
    escaped = label.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    return f"[{escaped}]({url})"


def to_mrkdwn(text: str) -> str:
    """The core's neutral text → Slack mrkdwn: people, channels and links as Slack's markup,
    everything else escaped."""
    parts: list[str] = []
    at = 0
    for found in _NEUTRAL.finditer(text):
        parts += [escape(text[at : found.start()]), _slack_token(found)]
        at = found.end()
    parts.append(escape(text[at:]))
    return "".join(parts)


def _slack_token(found: re.Match[str]) -> str:
    if found.group("person"):
        return f"<@{found.group('person')}>"
    if found.group("channel"):
        return f"<#{found.group('channel')}>"
    if found.group("auto"):
        return f"<{escape(found.group('auto'))}>"
    label = _LABEL_ESCAPED.sub(r"\1", found.group("label"))
    url = escape(found.group("target"))
    return f"<{url}|{escape(label)}>" if label.strip() else f"<{url}>"


def safe_cut(text: str, at: int) -> int:
    """Where to cut rendered mrkdwn at or before `at` without splitting a `<…>` token or an
    `&…;` entity (Slack would show the broken half as text)."""
    opened = text.rfind("<", 0, at)
    if opened > 0 and text.rfind(">", opened, at) == -1:
        at = opened
    entity = text.rfind("&", max(0, at - 8), at)
    if entity > 0 and text.find(";", entity, at) == -1:
        at = entity
    return at


def cut(text: str, limit: int) -> str:
    """Rendered mrkdwn within `limit` characters, an ellipsis marking a cut made between
    tokens."""
    if len(text) <= limit:
        return text
    return text[: safe_cut(text, limit - 1)] + "…"
