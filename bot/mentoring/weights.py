"""The matcher's weights, apart from the matcher so that reading settings imports no numpy."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Weights:
    """What makes a pair better (config/ambassador.toml, [mentoring])."""

    pair: float = 10.0
    topic: float = 3.0
    session: float = 2.0
    timezone: float = 1.0
    spread: float = 1.0
