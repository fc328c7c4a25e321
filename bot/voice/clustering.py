"""Themes from sentence vectors: posts grouped by meaning, across languages, without
labels — and a new post placed in the nearest theme afterwards.

The encoder puts French and English in one space, but each language keeps an offset, and
every post carries how it is phrased (a question, "finally managed", a shared link, a
mood) besides what it is about. So, before grouping: each language's mean is removed, then
the directions in which generic, topic-free learner phrasing varies (`PHRASINGS`, both
languages) are projected out. The groups are found by spectral clustering on a sample of
at most `SAMPLE` posts (k = √(n/2) themes, at least 2, at most `MAX_THEMES`); every post,
then every new one, goes to its nearest theme centre (cosine).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sklearn.cluster import SpectralClustering

from bot.voice.encoder import DIMENSIONS, Encoder, Vectors

SAMPLE = 5_000
MAX_THEMES = 30
MIN_POSTS = 6
NUISANCE_DIRECTIONS = 8
NEIGHBOURS = 10
_SLICE = 8_192

# How learners phrase things whatever the topic: kinds of post, moods, chat filler. Their
# variation is what themes must not follow (written for this, not taken from any post).
PHRASINGS = (
    "J'ai enfin réussi !",
    "Finally managed it!",
    "Pas encore réussi, je réessaie la semaine prochaine.",
    "Still haven't managed, I'll try again next week.",
    "Petite question pour vous tous :",
    "Quick question for everyone:",
    "Vous avez des conseils ?",
    "Any tips?",
    "Je partage un lien intéressant.",
    "Sharing an interesting link.",
    "Je vous fais un retour d'expérience.",
    "Here is how it went for me.",
    "Merci pour vos réponses, ça m'a aidé.",
    "Thanks for your answers, it helped.",
    "Je suis vraiment content du résultat.",
    "I'm really happy with the result.",
    "C'est frustrant, ça ne marche pas.",
    "This is frustrating, it doesn't work.",
    "Je ne sais pas trop quoi en penser.",
    "Not sure what to think about it.",
    "Hier j'ai testé ce qu'on a vu en formation.",
    "Yesterday I tried what we saw in the training.",
    "Quelqu'un a déjà essayé ?",
    "Has anyone tried this?",
    "Bon, ça n'a rien donné.",
    "Well, that went nowhere.",
    "Trop bien, je recommande !",
    "Great, I recommend it!",
    "Je suis un peu inquiet pour la suite.",
    "I'm a bit worried about what comes next.",
    "À lire absolument.",
    "A must read.",
)


@dataclass(frozen=True)
class Space:
    """The corrections applied to every vector before grouping: each language's mean and
    the phrasing directions removed."""

    language_means: dict[str, NDArray[np.float32]]
    nuisance: NDArray[np.float32]  # (directions, DIMENSIONS), orthonormal rows

    def adjust(self, vectors: Vectors, languages: Sequence[str]) -> Vectors:
        """The vectors as themes compare them (unit length)."""
        adjusted = np.array(vectors, dtype=np.float32, copy=True)
        for language, mean in self.language_means.items():
            rows = np.fromiter((lang == language for lang in languages), bool, len(languages))
            adjusted[rows] -= mean
        # In place, a slice at a time: 100,000 posts take one copy of their vectors, not three.
        for start in range(0, len(adjusted), _SLICE):
            part = adjusted[start : start + _SLICE]
            part -= (part @ self.nuisance.T) @ self.nuisance
            norms = np.linalg.norm(part, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            part /= norms
        return adjusted


@dataclass(frozen=True)
class Grouping:
    """The themes found: each post's theme (0…k-1) and each theme's centre."""

    labels: NDArray[np.int64]
    centres: Vectors  # (k, DIMENSIONS), unit rows, in the adjusted space
    space: Space

    def place(self, vectors: Vectors, languages: Sequence[str]) -> NDArray[np.int64]:
        """The nearest theme of each (new) post."""
        return nearest(self.space.adjust(vectors, languages), self.centres)


def _unit(vectors: Vectors) -> Vectors:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (vectors / norms).astype(np.float32)


def nearest(adjusted: Vectors, centres: Vectors) -> NDArray[np.int64]:
    """The index of each row's nearest centre (cosine: rows and centres are unit)."""
    if len(adjusted) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.asarray(np.argmax(adjusted @ centres.T, axis=1), dtype=np.int64)


def phrasing_directions(encoder: Encoder) -> NDArray[np.float32]:
    """The main directions of topic-free phrasing (`PHRASINGS`), orthonormal."""
    phrasing = encoder.embed(list(PHRASINGS))
    phrasing = phrasing - phrasing.mean(axis=0)
    _, _, basis = np.linalg.svd(phrasing, full_matrices=False)
    return basis[:NUISANCE_DIRECTIONS].astype(np.float32)


def make_space(vectors: Vectors, languages: Sequence[str], nuisance: NDArray[np.float32]) -> Space:
    """The corrections for this body of posts (each language's mean over it)."""
    means: dict[str, NDArray[np.float32]] = {}
    for language in sorted(set(languages)):
        rows = np.fromiter((lang == language for lang in languages), bool, len(languages))
        means[language] = vectors[rows].mean(axis=0).astype(np.float32)
    return Space(language_means=means, nuisance=nuisance)


def theme_count(posts: int) -> int:
    """How many themes for this many posts: √(n/2), at least 2, at most `MAX_THEMES`."""
    return max(2, min(MAX_THEMES, round(math.sqrt(posts / 2))))


def group(
    vectors: Vectors,
    languages: Sequence[str],
    nuisance: NDArray[np.float32],
    *,
    themes: int | None = None,
    seed: int = 0,
) -> Grouping:
    """Group the posts (at least `MIN_POSTS`) into themes."""
    count = len(vectors)
    if count < MIN_POSTS:
        raise ValueError(f"themes need at least {MIN_POSTS} posts, got {count}")
    space = make_space(vectors, languages, nuisance)
    adjusted = space.adjust(vectors, languages)
    k = themes if themes is not None else theme_count(count)
    rng = np.random.default_rng(seed)
    sample = (
        np.sort(rng.choice(count, size=SAMPLE, replace=False))
        if count > SAMPLE
        else np.arange(count)
    )
    clustering = SpectralClustering(
        n_clusters=k,
        affinity="nearest_neighbors",
        n_neighbors=min(NEIGHBOURS, len(sample) - 1),
        assign_labels="cluster_qr",
        random_state=seed,
    )
    with warnings.catch_warnings():
        # A small community's neighbourhood graph is often in pieces: scikit-learn warns,
        # and the pieces are exactly what spectral clustering then finds.
        warnings.filterwarnings("ignore", message="Graph is not fully connected")
        sample_labels = clustering.fit_predict(adjusted[sample])
    centres = np.zeros((k, DIMENSIONS), dtype=np.float32)
    for theme in range(k):
        members = adjusted[sample][sample_labels == theme]
        if len(members):
            centres[theme] = members.mean(axis=0)
    centres = _unit(centres)
    labels = nearest(adjusted, centres)
    return Grouping(labels=labels, centres=centres, space=space)
