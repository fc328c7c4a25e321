"""How well themes and sentiment do on labelled posts (issue 19's evaluation figures).

Three measures, pure functions of labels, and `evaluate`, which runs the bot's own
pipeline on labelled posts (the held-out set in `tests/fixtures/learner_voice/`) and
measures them with the CPU and memory it took. The themes are unsupervised: the topics
are read only to score them, never given to the pipeline.
"""

from __future__ import annotations

import resource
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.voice import clustering
from bot.voice.encoder import Encoder
from bot.voice.sentiment import SentimentModel
from bot.voice.text import content_text, language_of


def _check_lengths(*columns: Sequence[object]) -> int:
    lengths = {len(column) for column in columns}
    if len(lengths) != 1:
        raise ValueError(f"the columns differ in length: {sorted(lengths)}")
    count = lengths.pop()
    if count == 0:
        raise ValueError("nothing to evaluate: no post")
    return count


def purity(labels: Sequence[int], topics: Sequence[str]) -> float:
    """The share of posts whose theme's most common topic is their own: for each theme,
    the count of its most common topic; summed over themes; divided by the number of posts.

    1.0 when every theme holds one topic only (however many themes a topic is split into:
    purity does not punish splitting, only mixing); 1/topics at worst for equal topics."""
    count = _check_lengths(labels, topics)
    by_theme: dict[int, Counter[str]] = {}
    for label, topic in zip(labels, topics, strict=True):
        by_theme.setdefault(int(label), Counter())[topic] += 1
    return sum(counts.most_common(1)[0][1] for counts in by_theme.values()) / count


def majority_themes(labels: Sequence[int], topics: Sequence[str]) -> dict[str, int]:
    """Each topic's majority theme: the theme holding the most of the topic's posts (the
    smallest theme number among equals)."""
    _check_lengths(labels, topics)
    by_topic: dict[str, Counter[int]] = {}
    for label, topic in zip(labels, topics, strict=True):
        by_topic.setdefault(topic, Counter())[int(label)] += 1
    return {
        topic: min(counts, key=lambda theme: (-counts[theme], theme))
        for topic, counts in by_topic.items()
    }


def cross_lingual_share(
    labels: Sequence[int], topics: Sequence[str], languages: Sequence[str]
) -> float:
    """The share of topics gathered across languages in one theme.

    Exactly: a topic counts when its majority theme (`majority_themes`: the theme holding
    the most of the topic's posts, the smallest number among equals) holds at least one of
    the topic's posts in every language the topic has posts in, and those are at least two
    languages. The share is the topics that count over all topics (a topic written in one
    language only cannot count: it says nothing of crossing languages, and lowers the share).
    """
    _check_lengths(labels, topics, languages)
    majority = majority_themes(labels, topics)
    written: dict[str, set[str]] = {}
    in_majority: dict[str, set[str]] = {}
    for label, topic, language in zip(labels, topics, languages, strict=True):
        written.setdefault(topic, set()).add(language)
        if int(label) == majority[topic]:
            in_majority.setdefault(topic, set()).add(language)
    gathered = sum(
        1
        for topic, spoken in written.items()
        if len(spoken) >= 2 and in_majority.get(topic, set()) == spoken
    )
    return gathered / len(written)


def sentiment_accuracy(predicted: Sequence[str], expected: Sequence[str]) -> float:
    """The share of posts whose predicted sentiment is the expected one (compared as
    strings: `Sentiment.POSITIVE` equals "positive")."""
    count = _check_lengths(predicted, expected)
    return sum(str(p) == str(e) for p, e in zip(predicted, expected, strict=True)) / count


@dataclass(frozen=True)
class Figures:
    """What `evaluate` measured.

    `themes`: themes holding at least one post. `themes_cpu_s`: process CPU (every thread)
    from the texts to the themes (content words, vectors, phrasing directions, grouping),
    the encoder already loaded (`encoder_load_cpu_s`: loading it, once per process).
    `sentiment_cpu_s`: the whole texts' vectors and the classifier, including its training
    on the seeds when this process had not trained it yet. `peak_rss_mib`: the process's
    peak resident memory so far (the whole process: run it alone to read it as the
    pipeline's)."""

    posts: int
    themes: int
    purity: float
    cross_lingual: float
    sentiment_accuracy: float
    themes_cpu_s: float
    sentiment_cpu_s: float
    encoder_load_cpu_s: float
    peak_rss_mib: float


def peak_rss_mib() -> float:
    """This process's peak resident memory so far, in MiB (getrusage's ru_maxrss)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes vs KiB


def evaluate(
    posts: Sequence[Mapping[str, str]],
    encoder: Encoder,
    sentiment: SentimentModel | None = None,
) -> Figures:
    """Themes and sentiment of `posts` (each with "text", "lang", "topic", "sentiment"),
    by the pipeline the bot runs, scored against their labels.

    Themes: each post's language as the bot reads it (`language_of`, the writer's language
    "lang" as default), its `content_text` embedded, then `clustering.group` with the
    encoder's phrasing directions (k = `clustering.theme_count`). Sentiment:
    `SentimentModel.predict` on the whole texts (a model trained on this encoder unless
    `sentiment` is given). The cross-lingual share reads the posts' "lang"."""
    texts = [post["text"] for post in posts]
    topics = [post["topic"] for post in posts]
    written = [post["lang"] for post in posts]
    _check_lengths(texts)
    started = time.process_time()
    encoder.embed([" "])
    load_cpu = time.process_time() - started

    started = time.process_time()
    languages = [language_of(text, default) for text, default in zip(texts, written, strict=True)]
    vectors = encoder.embed([content_text(text) for text in texts])
    grouping = clustering.group(vectors, languages, clustering.phrasing_directions(encoder))
    themes_cpu = time.process_time() - started
    labels = [int(label) for label in grouping.labels]

    started = time.process_time()
    model = sentiment if sentiment is not None else SentimentModel(encoder)
    predicted = model.predict(texts)
    sentiment_cpu = time.process_time() - started

    return Figures(
        posts=len(texts),
        themes=len(set(labels)),
        purity=round(purity(labels, topics), 4),
        cross_lingual=round(cross_lingual_share(labels, topics, written), 4),
        sentiment_accuracy=round(
            sentiment_accuracy(predicted, [post["sentiment"] for post in posts]), 4
        ),
        themes_cpu_s=round(themes_cpu, 3),
        sentiment_cpu_s=round(sentiment_cpu, 3),
        encoder_load_cpu_s=round(load_cpu, 3),
        peak_rss_mib=round(peak_rss_mib(), 1),
    )
