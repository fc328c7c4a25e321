"""Random JSON shapes for the "never a 500" tests of the doors: nested objects and lists
made of the keys and words a platform's payloads use, so that handlers are tried with
right names holding wrong types."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any


def random_shape(
    rng: random.Random, keys: Sequence[str], words: Sequence[str], depth: int = 0
) -> Any:
    """A JSON value: a scalar, a list or an object keyed by `keys`, at most five deep."""
    roll = rng.random()
    if depth > 4 or roll < 0.3:
        return rng.choice([None, True, 5, -1, 1.5, rng.choice(words)])
    if roll < 0.5:
        return [random_shape(rng, keys, words, depth + 1) for _ in range(rng.randint(0, 3))]
    return {
        rng.choice(keys): random_shape(rng, keys, words, depth + 1)
        for _ in range(rng.randint(0, 6))
    }
