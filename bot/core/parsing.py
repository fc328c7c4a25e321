"""Command text → tokens, tolerant of anything a person can type.

Rules (docs/COMMANDS.md): words are separated by spaces; quotes ("…", “…”, «…», '…')
make one explicit piece of text; a lone or unbalanced quote is just a character.
`@id` (playground), `<@U123>` / `<@U123|name>` (Slack) are user references.
Matching of command words ignores case and accents (`rôle` = `role`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

PREFIXES = ("/ambassador", "/ambassadeur")
_QUOTES = {'"': '"', "“": "”", "«": "»", "'": "'", "„": "“"}
_SLACK_MENTION = re.compile(r"^<@([A-Za-z0-9._-]+)(?:\|[^>]*)?>$")
_PLAIN_MENTION = re.compile(r"^@([^\s@]+)$")
MAX_COMMAND_CHARS = 4000


@dataclass(frozen=True)
class Token:
    """One piece of a command: its text, and whether quotes made it explicit."""

    value: str
    quoted: bool = False

    @property
    def key(self) -> str:
        """The token as compared with command words: lower case, accents removed."""
        return fold(self.value)

    @property
    def mention(self) -> str | None:
        """The user id when the token names a user, else None."""
        if self.quoted:
            return None
        match = _SLACK_MENTION.match(self.value) or _PLAIN_MENTION.match(self.value)
        return match.group(1) if match else None


def fold(text: str) -> str:
    """Lower case without accents, for matching words typed in either language."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def strip_prefix(text: str) -> str:
    """Remove a leading `/ambassador` so that typed and slash-command text look alike."""
    stripped = text.strip()
    lowered = stripped.lower()
    for prefix in PREFIXES:
        if lowered == prefix:
            return ""
        if lowered.startswith(prefix + " ") or lowered.startswith(prefix + "\n"):
            return stripped[len(prefix) :].strip()
    return stripped


def tokenize(text: str) -> list[Token]:
    """Split `text` into tokens, honouring balanced quotes; never raises."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        closing = _QUOTES.get(ch)
        if closing is not None:
            end = text.find(closing, i + 1)
            # A quote only opens a quoted piece when it is closed and followed by a space
            # (or the end): `l'équipe` stays one word.
            if end > i and (end + 1 == n or text[end + 1].isspace()):
                tokens.append(Token(text[i + 1 : end], quoted=True))
                i = end + 1
                continue
        start = i
        while i < n and not text[i].isspace():
            i += 1
        tokens.append(Token(text[start:i]))
    return tokens


def join_tokens(tokens: list[Token]) -> str:
    """Rebuild free text from tokens (a single quoted token keeps its exact text)."""
    return " ".join(token.value for token in tokens).strip()
