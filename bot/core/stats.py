"""NPS, LSAT and their correlation, from sums the database computes.

The database returns counts and sums (additive, so per-pulse sums add up to per-session
or per-month figures); these functions turn them into the figures animators read.
Integer sums keep the arithmetic exact until the final division.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from storage.pulses import PulseSums

# Fewer answers than this and a percentage or a correlation says more about chance than
# about the training: results say "not enough answers" instead.
MIN_ANSWERS = 3


def nps(sums: PulseSums) -> float | None:
    """% promoters − % detractors, from −100 to +100; None with too few answers."""
    if sums.answers < MIN_ANSWERS:
        return None
    return 100.0 * (sums.promoters - sums.detractors) / sums.answers


def lsat_mean(sums: PulseSums) -> float | None:
    """Mean satisfaction (1-5); None with too few LSAT answers."""
    if sums.lsat_count < MIN_ANSWERS:
        return None
    return sums.lsat_sum / sums.lsat_count


@dataclass(frozen=True)
class Correlation:
    """Pearson's r between NPS score and LSAT, or why there is none."""

    n: int
    r: float | None
    # "" when r is given; else "too_few" or "no_variance".
    reason: str = ""


def correlation(sums: PulseSums) -> Correlation:
    """Pearson's r = (nΣxy − ΣxΣy) / √((nΣx² − (Σx)²)(nΣy² − (Σy)²)).

    Undefined when every score (or every LSAT) is the same: there is nothing to
    correlate, and saying 0 would be a misleading figure.
    """
    n = sums.pairs
    if n < MIN_ANSWERS:
        return Correlation(n, None, "too_few")
    covariance = n * sums.sum_xy - sums.sum_x * sums.sum_y
    spread_x = n * sums.sum_xx - sums.sum_x**2
    spread_y = n * sums.sum_yy - sums.sum_y**2
    if spread_x == 0 or spread_y == 0:
        return Correlation(n, None, "no_variance")
    r = covariance / math.sqrt(spread_x * spread_y)
    return Correlation(n, max(-1.0, min(1.0, r)))
