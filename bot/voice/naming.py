"""A theme's name: its key words, in the reader's language where the theme has posts in it.

Key words by class-based TF-IDF (as BERTopic names its topics): a word weighs by how often
the theme's posts use it, against how common it is across all themes, so that "team" or
"équipe", said everywhere, names nothing.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from bot.voice.text import content_words

KEY_WORDS = 3


def _stem(word: str) -> str:
    """Plural and feminine endings folded, so that "réunion" and "réunions" are one word."""
    if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def key_words(
    texts: Sequence[str],
    languages: Sequence[str],
    labels: Sequence[int],
    themes: int,
) -> dict[tuple[int, str], list[str]]:
    """For each theme and language that has posts in it, its `KEY_WORDS` key words (the
    most frequent spelling of each)."""
    counts: dict[tuple[int, str], Counter[str]] = {}
    spellings: dict[str, Counter[str]] = {}
    across: Counter[str] = Counter()
    for text, language, label in zip(texts, languages, labels, strict=True):
        seen = counts.setdefault((int(label), language), Counter())
        for word in content_words(text):
            stem = _stem(word)
            seen[stem] += 1
            across[stem] += 1
            spellings.setdefault(stem, Counter())[word] += 1
    total = sum(across.values()) or 1
    average = total / max(1, themes)
    # A word found in most themes of a language ("équipe", "team") names none of them.
    spread: Counter[tuple[str, str]] = Counter(
        (language, stem) for (_, language), seen in counts.items() for stem in seen
    )
    themes_of: Counter[str] = Counter(language for _, language in counts)
    names: dict[tuple[int, str], list[str]] = {}
    for key, seen in counts.items():
        language = key[1]
        common = max(2, themes_of[language] // 2)
        size = sum(seen.values()) or 1
        scored = sorted(
            seen,
            key=lambda stem: (
                -(seen[stem] / size) * math.log(1 + average / across[stem]),
                stem,
            ),
        )
        # A word said once in the theme names it only when the theme is that small.
        distinctive = [s for s in scored if spread[(language, s)] <= common] or scored
        chosen = [stem for stem in distinctive if seen[stem] > 1] or distinctive
        names[key] = [spellings[stem].most_common(1)[0][0] for stem in chosen[:KEY_WORDS]]
    return names


def name_for(names: dict[tuple[int, str], list[str]], theme: int, language: str) -> list[str]:
    """The theme's key words for a reader of `language`: in that language when the theme
    has posts in it, else in the other."""
    own = names.get((theme, language))
    if own:
        return own
    for (label, _), words in sorted(names.items()):
        if label == theme and words:
            return words
    return []
