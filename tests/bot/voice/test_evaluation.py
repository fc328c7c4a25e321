"""Issue 19's evaluation figures: the three measures on hand-made cases, then the bot's
pipeline on the held-out set (tests/fixtures/learner_voice/, 250 posts, 10 topics)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from bot.voice.encoder import Encoder
from bot.voice.evaluation import (
    Figures,
    cross_lingual_share,
    evaluate,
    majority_themes,
    purity,
    sentiment_accuracy,
)
from bot.voice.sentiment import Sentiment

HELD_OUT = Path(__file__).resolve().parents[2] / "fixtures/learner_voice/learner_posts.json"

# The targets.
PURITY_TARGET = 0.8
CROSS_LINGUAL_TARGET = 0.75
SENTIMENT_TARGET = 0.8

# What the pipeline reaches on the held-out set, measured on this machine (2026-12-03, the
# seeds of bot/voice/data/ and the settings chosen on bench/voice_tuning/): purity 0.456 —
# the target 0.8 is NOT reached (README, "Themes: what the packaged models reach": the
# encoder is the limit) —, cross-lingual share 1.0 (10 topics of 10), sentiment accuracy
# 0.808 (target met). The purity floor sits just under what is reached, so that a
# regression fails; raise it when the pipeline improves.
PURITY_FLOOR = 0.44
SENTIMENT_FLOOR = SENTIMENT_TARGET


# --- the measures ------------------------------------------------------------------------


def test_purity_counts_each_themes_most_common_topic() -> None:
    # theme 0: a, a, b (2 of its largest topic); theme 1: b, b, c (2): 4 of 6.
    assert purity([0, 0, 0, 1, 1, 1], ["a", "a", "b", "b", "b", "c"]) == pytest.approx(4 / 6)


def test_purity_is_one_for_pure_themes_even_split_and_low_for_one_mixed_theme() -> None:
    assert purity([0, 1, 2, 3], ["a", "a", "b", "b"]) == 1.0
    assert purity([5, 5, 5, 5], ["a", "a", "b", "c"]) == 0.5


def test_purity_refuses_columns_of_different_lengths_or_nothing() -> None:
    with pytest.raises(ValueError):
        purity([0, 1], ["a"])
    with pytest.raises(ValueError):
        purity([], [])


def test_majority_theme_is_the_fullest_then_the_smallest_number() -> None:
    labels = [2, 2, 1, 3, 0, 4, 4]
    topics = ["a", "a", "a", "b", "b", "c", "c"]
    assert majority_themes(labels, topics) == {"a": 2, "b": 0, "c": 4}


def test_cross_lingual_share_counts_topics_whose_majority_theme_holds_both_languages() -> None:
    labels = [0, 0, 0, 1, 1, 2, 3, 3]
    topics = ["a", "a", "a", "b", "b", "b", "c", "c"]
    languages = ["fr", "en", "fr", "fr", "fr", "en", "en", "en"]
    # a: theme 0 holds fr and en, counts; b: theme 1 holds only its French posts (its English
    # post is in theme 2), does not; c: written in English only, cannot count.
    assert cross_lingual_share(labels, topics, languages) == pytest.approx(1 / 3)


def test_cross_lingual_share_breaks_ties_towards_the_smallest_theme() -> None:
    # Topic a: one post in theme 1 (fr), one in theme 0 (en) and one in theme 0 (fr)...
    assert cross_lingual_share([1, 0, 0], ["a", "a", "a"], ["fr", "en", "fr"]) == 1.0
    # ...but with its posts split one-one, the majority is theme 0, which holds only "en".
    assert cross_lingual_share([1, 0], ["a", "a"], ["fr", "en"]) == 0.0
    assert cross_lingual_share([0, 1], ["a", "a"], ["fr", "en"]) == 0.0
    with pytest.raises(ValueError):
        cross_lingual_share([0, 1], ["a", "a"], ["fr"])


def test_sentiment_accuracy_compares_enums_and_strings() -> None:
    predicted = [Sentiment.POSITIVE, Sentiment.NEUTRAL, Sentiment.NEGATIVE, Sentiment.POSITIVE]
    expected = ["positive", "neutral", "positive", "positive"]
    assert sentiment_accuracy(predicted, expected) == 0.75
    assert sentiment_accuracy(["negative"], ["neutral"]) == 0.0
    with pytest.raises(ValueError):
        sentiment_accuracy([], [])


# --- the held-out set --------------------------------------------------------------------


@pytest.fixture(scope="module")
def figures() -> Figures:
    """The pipeline run once on the held-out set."""
    if not resources.files("bot.voice").joinpath("data/sentiment_seeds.json").is_file():
        pytest.fail("bot/voice/data/sentiment_seeds.json is missing: sentiment cannot train")
    posts = json.loads(HELD_OUT.read_text(encoding="utf-8"))
    return evaluate(posts, Encoder())


def test_held_out_set_is_evaluated_whole(figures: Figures) -> None:
    assert figures.posts == 250
    assert 2 <= figures.themes <= 30
    assert figures.themes_cpu_s > 0 and figures.sentiment_cpu_s > 0
    assert figures.peak_rss_mib > 0


def test_themes_purity_on_the_held_out_set(figures: Figures) -> None:
    """Target 0.8 NOT reached: the pipeline reaches 0.456 (see the README, "Themes: what
    the packaged models reach"); this asserts a floor just under it, so that a regression
    fails."""
    assert figures.purity >= PURITY_FLOOR, figures
    assert PURITY_FLOOR <= PURITY_TARGET


def test_themes_gather_both_languages_of_three_topics_in_four(figures: Figures) -> None:
    """The issue's target (>= 75 % of topics with both languages in one theme): met."""
    assert figures.cross_lingual >= CROSS_LINGUAL_TARGET, figures


def test_sentiment_accuracy_on_the_held_out_set(figures: Figures) -> None:
    """The issue's target: accuracy >= 0.8 — met (0.808 on this machine)."""
    assert figures.sentiment_accuracy >= SENTIMENT_FLOOR, figures
