"""A post's words as the themes read them: its language, and its content words (links,
mentions, numbers and the function words of both languages removed), so that posts group
by what they talk about rather than by how they are phrased."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources


def word_set(spaced: str) -> frozenset[str]:
    """The words of a space-separated list (lists of words read better that way)."""
    return frozenset(spaced.split())


# Slack's <https://…|label> and <@U123>, Teams' and plain addresses: not words of the post.
_MARKUP = re.compile(r"<[^>\s]*>|<[^>]*\|[^>]*>|https?://\S+|www\.\S+", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*", re.UNICODE)
# French elisions glued to the next word: l'équipe → équipe.
_ELISION = re.compile(r"^(?:[ldjmtsnc]|qu|jusqu|lorsqu|puisqu)['’]", re.IGNORECASE)
# Words typed in chat that the stop-word lists do not carry but that say nothing of a topic.
_CHAT_WORDS = word_set(
    "jsuis chui bcp tjrs svp stp merci thanks thank thx pls plz tbh lol mdr grrr hello "
    "bonjour salut coucou hey ok okay yeah ouais oui non yes no enfin finally still encore "
    "toujours question questions help aide idée idea idées ideas conseil conseils tips tip "
    "astuce astuces lien link article vidéo video podcast"
)
_FRENCH_MARKS = frozenset("éèêàçùâîôûëïœ")
MIN_WORD = 3


@cache
def function_words_of(language: str) -> frozenset[str]:
    """The function words of one language ("en", "fr"), from data/function_words.txt."""
    source = resources.files("bot.voice").joinpath("data/function_words.txt")
    for line in source.read_text(encoding="utf-8").splitlines():
        code, _, listed = line.partition(":")
        if code.strip() == language and not line.startswith("#"):
            return frozenset(listed.split())
    return frozenset()


@cache
def function_words() -> frozenset[str]:
    """The words a post's topic is not in, in both languages, and chat filler."""
    return function_words_of("en") | function_words_of("fr") | _CHAT_WORDS


def words(text: str) -> list[str]:
    """The post's words, lower-cased, without links, mentions or numbers."""
    found: list[str] = []
    for match in _WORD.finditer(_MARKUP.sub(" ", text)):
        word = _ELISION.sub("", match.group(0).lower()).replace("’", "'")
        if word:
            found.append(word)
    return found


def language_of(text: str, default: str = "en") -> str:
    """ "fr" or "en": the language whose function words the text uses most (accents count
    for French); `default` (the writer's own language) when the text says nothing."""
    french = english = 0
    for word in words(text):
        in_french = word in function_words_of("fr")
        in_english = word in function_words_of("en")
        if in_french and not in_english:
            french += 1
        elif in_english and not in_french:
            english += 1
        if any(mark in word for mark in _FRENCH_MARKS):
            french += 1
    if french == english:
        return default if default in ("fr", "en") else "en"
    return "fr" if french > english else "en"


def content_words(text: str) -> list[str]:
    """The words that carry the topic: function words of both languages and chat filler
    removed (a post is grouped by what it talks about, not by "I finally managed")."""
    stop = function_words()
    return [word for word in words(text) if len(word) >= MIN_WORD and word not in stop]


def content_text(text: str) -> str:
    """The content words joined, what the encoder is given for themes; the cleaned post
    when it has no content word (a post of function words still has a meaning)."""
    kept = content_words(text)
    return " ".join(kept) if kept else " ".join(words(text))
