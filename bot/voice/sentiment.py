"""How people feel about what they write: positive, neutral or negative, for each post.

A logistic regression over the post's sentence vector (the whole post: its mood is in how
it is phrased) and a few cues the vector reads poorly (negations, exclamation and question
marks, a small lexicon of moods in both languages). It is trained when first used, in a
fraction of a second, on `data/sentiment_seeds.json`: posts written for it in French and
English (not the evaluation set), so the model is in the repository as text anyone can
read and correct.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from importlib import resources

import numpy as np
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression

from bot.voice.encoder import Encoder, Vectors
from bot.voice.text import word_set, words
from storage.vocabulary import Sentiment

POSITIVE_CUES = word_set(
    """merci super génial top ravi ravie content contente fier fière réussi réussie
    bravo efficace pratique utile clair claire adore aimé apprécié soulagé soulagée
    enfin marché fonctionne aidé recommande excellent parfait chouette
    thanks thank great awesome proud finally worked works helped helpful useful love
    loved happy glad relieved recommend excellent perfect clear nice amazing enjoyed
    """
)
NEGATIVE_CUES = word_set(
    """frustré frustrée frustrant frustration galère galère déçu déçue raté échec
    inquiet inquiète stress stressé stressée marre fatigué fatiguée épuisé épuisée
    difficile compliqué compliquée bloqué bloquée peur perdu perdue grrr pire nul
    agacé agacée énervé énervée dur rien
    frustrated frustrating annoyed annoying disappointed disappointing failed fail
    worried stressed stuck struggling struggle tired exhausted hard difficult lost
    worse worst bad useless ugh grrr nothing afraid
    """
)
NEGATIONS = word_set("pas plus jamais aucun aucune not never no don't doesn't didn't haven't")
CUES = 6


def cues(text: str) -> NDArray[np.float32]:
    """The cue features of one post."""
    found = words(text)
    positive = sum(word in POSITIVE_CUES for word in found)
    negative = sum(word in NEGATIVE_CUES for word in found)
    negation = sum(word in NEGATIONS for word in found)
    return np.array(
        [
            min(positive, 3) / 3,
            min(negative, 3) / 3,
            min(negation, 3) / 3,
            min(text.count("!"), 3) / 3,
            float("?" in text),
            float(any(ord(char) > 0x2600 for char in text)),
        ],
        dtype=np.float32,
    )


def features(texts: Sequence[str], vectors: Vectors) -> NDArray[np.float32]:
    """What the classifier reads: the vector of the whole post, then its cues."""
    cue_rows = np.vstack([cues(text) for text in texts]) if texts else np.zeros((0, CUES))
    return np.hstack([vectors, cue_rows]).astype(np.float32)


def seeds() -> list[dict[str, str]]:
    """The posts the classifier learns from (language, sentiment, text)."""
    source = resources.files("bot.voice").joinpath("data/sentiment_seeds.json")
    loaded: list[dict[str, str]] = json.loads(source.read_text(encoding="utf-8"))
    return loaded


class SentimentModel:
    """The classifier, trained on first use."""

    def __init__(self, encoder: Encoder) -> None:
        self._encoder = encoder
        self._model: LogisticRegression | None = None
        self._lock = threading.Lock()

    def _trained(self) -> LogisticRegression:
        with self._lock:
            if self._model is None:
                rows = seeds()
                texts = [row["text"] for row in rows]
                model = LogisticRegression(C=1.0, max_iter=2_000, class_weight="balanced")
                labels = [row["sentiment"] for row in rows]
                model.fit(features(texts, self._encoder.embed(texts)), labels)
                self._model = model
            return self._model

    def predict(self, texts: Sequence[str], vectors: Vectors | None = None) -> list[Sentiment]:
        """Each post's sentiment (`vectors`: the posts' whole-text vectors, when known)."""
        if not texts:
            return []
        if vectors is None:
            vectors = self._encoder.embed(texts)
        labels = self._trained().predict(features(texts, vectors))
        return [Sentiment(str(label)) for label in labels]


_shared: SentimentModel | None = None


def shared_sentiment(encoder: Encoder) -> SentimentModel:
    """The process's sentiment classifier."""
    global _shared
    if _shared is None:
        _shared = SentimentModel(encoder)
    return _shared
