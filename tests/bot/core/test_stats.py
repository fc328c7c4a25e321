"""NPS, LSAT mean and Pearson's r on hand-made data sets, results worked out by hand."""

from __future__ import annotations

import math

import pytest

from bot.core.stats import correlation, lsat_mean, nps
from storage.pulses import PulseSums


def sums_of(answers: list[tuple[int, int | None]]) -> PulseSums:
    """What the database computes, computed naively (a second, independent implementation)."""
    paired = [(x, y) for x, y in answers if y is not None]
    return PulseSums(
        answers=len(answers),
        promoters=sum(1 for x, _ in answers if x >= 9),
        detractors=sum(1 for x, _ in answers if x <= 6),
        lsat_count=len(paired),
        lsat_sum=sum(y for _, y in paired),
        pairs=len(paired),
        sum_x=sum(x for x, _ in paired),
        sum_y=sum(y for _, y in paired),
        sum_xx=sum(x * x for x, _ in paired),
        sum_yy=sum(y * y for _, y in paired),
        sum_xy=sum(x * y for x, y in paired),
    )


def test_one_of_each_category_is_an_nps_of_zero() -> None:
    # x = (10, 8, 3), y = (4, 5, 2): deviations (3, 1, -4) and (1/3, 4/3, -5/3);
    # Σdxdy = 9, Σdx² = 26, Σdy² = 42/9, so r = 9 / √(26 · 42/9) = 0.81706…
    sums = sums_of([(10, 4), (8, 5), (3, 2)])
    assert (sums.promoters, sums.passives, sums.detractors) == (1, 1, 1)
    assert nps(sums) == 0
    assert lsat_mean(sums) == pytest.approx(11 / 3)
    found = correlation(sums)
    assert found.n == 3 and found.r == pytest.approx(9 / math.sqrt(26 * 42 / 9))
    assert found.r == pytest.approx(0.81706, abs=1e-5)


def test_all_promoters_and_all_detractors() -> None:
    assert nps(sums_of([(9, 5), (10, 5), (10, 4)])) == 100
    assert nps(sums_of([(0, 1), (6, 2), (3, 1), (5, None)])) == -100
    assert nps(sums_of([(7, 3), (8, 3), (7, 4)])) == 0


def test_a_quarter_more_promoters() -> None:
    # 9, 7, 6, 10: two promoters, one detractor out of four = +25. Deviations (1, -1, -2, 2)
    # and (0.25, -0.75, -0.75, 1.25): Σdxdy = 5, Σdx² = 10, Σdy² = 2.75, r = 5/√27.5.
    sums = sums_of([(9, 4), (7, 3), (6, 3), (10, 5)])
    assert nps(sums) == 25
    assert lsat_mean(sums) == 3.75
    assert correlation(sums).r == pytest.approx(5 / math.sqrt(27.5))


def test_no_variance_means_no_correlation_not_zero() -> None:
    same_lsat = correlation(sums_of([(10, 4), (2, 4), (7, 4)]))
    assert (same_lsat.r, same_lsat.reason, same_lsat.n) == (None, "no_variance", 3)
    same_score = correlation(sums_of([(9, 1), (9, 5), (9, 3)]))
    assert (same_score.r, same_score.reason) == (None, "no_variance")
    assert lsat_mean(sums_of([(10, 4), (2, 4), (7, 4)])) == 4


def test_a_perfect_line_is_one_or_minus_one() -> None:
    assert correlation(sums_of([(0, 5), (5, 3), (10, 1)])).r == pytest.approx(-1)
    assert correlation(sums_of([(2, 1), (4, 2), (6, 3), (8, 4)])).r == pytest.approx(1)


def test_fewer_than_three_answers_give_no_figure() -> None:
    sums = sums_of([(10, 5), (0, 1)])
    assert nps(sums) is None and lsat_mean(sums) is None
    assert correlation(sums).reason == "too_few"
    # Scores without LSAT count for NPS only.
    partial = sums_of([(10, None), (9, None), (3, 2)])
    assert nps(partial) == pytest.approx(100 / 3)
    assert lsat_mean(partial) is None and correlation(partial).n == 1


def test_sums_add_up_across_pulses() -> None:
    first, second = [(10, 4), (8, 5)], [(3, 2), (9, 1)]
    assert sums_of(first) + sums_of(second) == sums_of(first + second)
