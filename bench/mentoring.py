"""The mentoring suite: one round of 10,000 waiting novices and 1,000 mentors (capacities
1-5, 3 languages, 20 topics) — time and memory (target under 10 s) and total score against
a greedy baseline — and, on instances up to 1,000 novices × 200 mentors, the total score
against an independent exact solver: the assignment written as a linear program and
solved by HiGHS (scipy.optimize.linprog), whose optimum is integral for bipartite
matching (target: 100 % of the optimum).
"""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix, vstack

from bot.mentoring.matcher import Mentor, Person, Weights, match, pair_score

TARGET_S = 10.0
LANGUAGES = ("fr", "en", "es")
TOPICS = tuple(f"topic{n}" for n in range(20))
EXACT_SIZES = ((100, 20), (500, 100), (1000, 200))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The suite's options, added to `python -m bench.run`'s parser."""
    group = parser.add_argument_group("mentoring suite")
    group.add_argument("--mentoring-novices", type=int, default=10_000, help="waiting novices")
    group.add_argument("--mentoring-mentors", type=int, default=1_000, help="mentors")


def instance(seed: int, novices: int, mentors: int) -> tuple[list[Person], list[Mentor]]:
    """A random round: most people speak one language, some two; one topic or two each."""
    rng = random.Random(seed)

    def languages() -> frozenset[str]:
        return frozenset(rng.sample(LANGUAGES, 1 if rng.random() < 0.8 else 2))

    def offset() -> float:
        return float(rng.choice((-5, -4, 0, 1, 2, 8)))

    waiting = [
        Person(
            n,
            languages(),
            frozenset(rng.sample(TOPICS, rng.randint(1, 2))),
            frozenset({rng.randrange(50)}),
            offset(),
        )
        for n in range(novices)
    ]
    volunteers = [
        Mentor(
            100_000 + m,
            languages(),
            frozenset(rng.sample(TOPICS, rng.randint(1, 3))),
            frozenset(rng.sample(range(50), rng.randint(1, 3))),
            offset(),
            capacity=rng.randint(1, 5),
            load=0,
        )
        for m in range(mentors)
    ]
    return waiting, volunteers


def greedy_score(novices: list[Person], mentors: list[Mentor], weights: Weights) -> float:
    """The baseline: each novice in turn takes the best mentor with room (vectorised)."""
    free = np.array([m.free for m in mentors])
    taken = np.zeros(len(mentors))
    total = 0.0
    for novice in novices:
        scores = np.array(
            [
                s if (s := pair_score(novice, m, 0, weights)) is not None else -np.inf
                for m in mentors
            ]
        )
        scores = scores - weights.spread * taken
        scores[taken >= free] = -np.inf
        best = int(np.argmax(scores))
        if scores[best] > 0:
            total += float(scores[best])
            taken[best] += 1
    return total


def exact_score(novices: list[Person], mentors: list[Mentor], weights: Weights) -> float:
    """The optimum of the same objective as a linear program over (novice, place) edges."""
    rows, cols, gains = [], [], []
    place = 0
    for mentor in mentors:
        for rank in range(mentor.free):
            for n, novice in enumerate(novices):
                score = pair_score(novice, mentor, rank, weights)
                if score is not None and score > 0:
                    rows.append(n)
                    cols.append(place)
                    gains.append(score)
            place += 1
    edges = len(gains)
    if edges == 0:
        return 0.0
    index = np.arange(edges)
    by_novice = coo_matrix((np.ones(edges), (rows, index)), shape=(len(novices), edges))
    by_place = coo_matrix((np.ones(edges), (cols, index)), shape=(place, edges))
    constraints = vstack([by_novice, by_place]).tocsr()
    result = linprog(
        -np.array(gains),
        A_ub=constraints,
        b_ub=np.ones(constraints.shape[0]),
        bounds=(0, 1),
        method="highs",
    )
    if not result.success:
        raise RuntimeError(f"linprog: {result.message}")
    return float(-result.fun)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """The big round, then the exact comparisons."""
    weights = Weights()
    novices, mentors = instance(1, args.mentoring_novices, args.mentoring_mentors)
    tracemalloc.start()
    started = time.perf_counter()
    proposal = match(novices, mentors, weights)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    started = time.perf_counter()
    baseline = greedy_score(novices, mentors, weights)
    greedy_s = time.perf_counter() - started
    places = sum(m.free for m in mentors)
    big = {
        "novices": len(novices),
        "mentors": len(mentors),
        "places": places,
        "seconds": round(seconds, 2),
        "peak_memory_mib": round(peak / 2**20, 1),
        "pairs": len(proposal.pairs),
        "score": round(proposal.score, 1),
        "greedy_score": round(baseline, 1),
        "greedy_seconds": round(greedy_s, 1),
        "vs_greedy_percent": round(100 * proposal.score / baseline, 2) if baseline else None,
        "met": seconds < TARGET_S,
    }
    exact = []
    for n, m in EXACT_SIZES:
        small_novices, small_mentors = instance(n + m, n, m)
        found = match(small_novices, small_mentors, weights).score
        optimum = exact_score(small_novices, small_mentors, weights)
        exact.append(
            {
                "novices": n,
                "mentors": m,
                "score": round(found, 4),
                "optimum": round(optimum, 4),
                "percent_of_optimum": round(100 * found / optimum, 4) if optimum else 100.0,
            }
        )
    return {"round": big, "exact": exact}


async def run_suite(
    args: argparse.Namespace, _workdir: Path, results: dict[str, Any], _skipped: dict[str, str]
) -> None:
    """In-process: the matcher needs no database."""
    print(
        f"  mentoring: a round of {args.mentoring_novices} novices and "
        f"{args.mentoring_mentors} mentors…",
        flush=True,
    )
    figures = measure(args)
    results["mentoring"] = {"target_s": TARGET_S, **figures}
    big = figures["round"]
    print(
        f"  mentoring: {big['seconds']} s, peak {big['peak_memory_mib']} MiB, "
        f"{big['pairs']} pairs, {big['vs_greedy_percent']} % of greedy's score "
        f"({'met' if big['met'] else 'NOT met'}); exact: "
        + ", ".join(
            f"{e['novices']}×{e['mentors']} {e['percent_of_optimum']} %" for e in figures["exact"]
        ),
        flush=True,
    )


def summary_lines(section: dict[str, Any]) -> list[str]:
    """The mentoring suite in a few lines, for the terminal."""
    big = section["round"]
    return [
        f"mentoring: {big['novices']} novices × {big['mentors']} mentors in {big['seconds']} s "
        f"(target < {section['target_s']:g} s), peak {big['peak_memory_mib']} MiB, score "
        f"{big['vs_greedy_percent']} % of greedy's",
        "  vs exact LP: "
        + ", ".join(
            f"{e['novices']}×{e['mentors']} {e['percent_of_optimum']} %" for e in section["exact"]
        ),
    ]
