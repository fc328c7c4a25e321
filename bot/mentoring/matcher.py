"""The mentoring matcher: an optimal assignment of waiting novices to mentors' free places.

Hard constraints: a shared language, the mentor's capacity, never a pair made before
(`excluded`), never someone with themselves. Among the assignments that respect them, the
matcher returns one of maximal total score, where a pair scores

    pair + topic·[a shared topic] + session·[a shared training session]
         + timezone·(1 − |Δ UTC offset| / 12)⁺ − spread·(the mentee's rank at that mentor)

with the weights of `Weights` (config/ambassador.toml, [mentoring]). The last term spreads
mentees: a mentor's first new mentee costs nothing, the second `spread`, and so on, so
places are filled across mentors before anyone is loaded up.

How: each mentor's free places become rows (the k-th place carries the k-th spread
penalty), each novice a column; forbidden cells score 0, which is what leaving the novice
waiting scores, so the maximum-weight assignment of that matrix (scipy's
linear_sum_assignment, a shortest augmenting path solver) is the maximum-score set of
pairs. Every novice left waiting gets a reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from bot.mentoring.weights import Weights

# Reasons a novice is left waiting (translated by the caller).
NO_LANGUAGE = "no_mentor_language"  # no active mentor speaks any of their languages
LANGUAGE_FULL = "mentors_full"  # some do, but their places are all taken
ONLY_PREVIOUS = "only_previous_mentors"  # the only mentors with room were theirs before
OUTNUMBERED = "more_novices_than_places"  # places went to other novices


@dataclass(frozen=True)
class Person:
    """What the matcher knows of someone: languages, topics, sessions, UTC offset (hours)."""

    id: int
    languages: frozenset[str]
    topics: frozenset[str] = frozenset()
    sessions: frozenset[int] = frozenset()
    utc_offset: float = 0.0


@dataclass(frozen=True)
class Mentor(Person):
    """A volunteer, with the places they offer and the mentees they already have."""

    capacity: int = 1
    load: int = 0

    @property
    def free(self) -> int:
        """Places left."""
        return max(self.capacity - self.load, 0)


@dataclass(frozen=True)
class Proposal:
    """A round's pairs (novice id, mentor id), who waits and why, and the total score."""

    pairs: list[tuple[int, int]]
    waiting: dict[int, str] = field(default_factory=dict)
    score: float = 0.0


def pair_score(novice: Person, mentor: Mentor, rank: int, weights: Weights) -> float | None:
    """The score of `novice` as `mentor`'s `rank`-th new mentee (0 = first), None when a
    hard constraint forbids it (capacity and history are checked by the caller)."""
    if novice.id == mentor.id or not (novice.languages & mentor.languages):
        return None
    closeness = max(0.0, 1.0 - abs(novice.utc_offset - mentor.utc_offset) / 12.0)
    return (
        weights.pair
        + weights.topic * bool(novice.topics & mentor.topics)
        + weights.session * bool(novice.sessions & mentor.sessions)
        + weights.timezone * closeness
        - weights.spread * (mentor.load + rank)
    )


def _membership(people: list[Person] | list[Mentor], attribute: str) -> np.ndarray:
    """One row per person, one column per value seen: True where the person has it."""
    values = sorted({v for p in people for v in getattr(p, attribute)}, key=str)
    index = {v: i for i, v in enumerate(values)}
    matrix = np.zeros((len(people), max(len(values), 1)), dtype=np.float32)
    for row, person in enumerate(people):
        for value in getattr(person, attribute):
            matrix[row, index[value]] = 1.0
    return matrix


def _shared(novices: list[Person], mentors: list[Mentor], attribute: str) -> np.ndarray:
    """novices × mentors: True where they share at least one value of `attribute`."""
    everyone: list[Person] = [*novices, *mentors]
    membership = _membership(everyone, attribute)
    shared: np.ndarray = membership[: len(novices)] @ membership[len(novices) :].T > 0
    return shared


def match(
    novices: list[Person],
    mentors: list[Mentor],
    weights: Weights,
    excluded: Iterable[tuple[int, int]] = (),
) -> Proposal:
    """The maximum-score pairs of a round; `excluded` holds (novice, mentor) pairs made
    before (never again)."""
    banned = set(excluded)
    open_mentors = [m for m in mentors if m.free > 0]
    if not novices:
        return Proposal([])
    if not open_mentors:
        return Proposal([], _reasons(novices, mentors, open_mentors, banned, set()))
    # Mentor-level scores (novices × mentors), then one column per free place.
    language = _shared(novices, open_mentors, "languages")
    topic = _shared(novices, open_mentors, "topics")
    session = _shared(novices, open_mentors, "sessions")
    n_offset = np.array([n.utc_offset for n in novices], dtype=np.float64)
    m_offset = np.array([m.utc_offset for m in open_mentors], dtype=np.float64)
    closeness = np.clip(1.0 - np.abs(n_offset[:, None] - m_offset[None, :]) / 12.0, 0.0, None)
    base = (
        weights.pair
        + weights.topic * topic
        + weights.session * session
        + weights.timezone * closeness
    )
    allowed = language.copy()
    novice_row = {n.id: i for i, n in enumerate(novices)}
    mentor_col = {m.id: j for j, m in enumerate(open_mentors)}
    for novice_id, mentor_id in banned:
        if novice_id in novice_row and mentor_id in mentor_col:
            allowed[novice_row[novice_id], mentor_col[mentor_id]] = False
    for novice_id, row in novice_row.items():
        if novice_id in mentor_col:
            allowed[row, mentor_col[novice_id]] = False
    owner = np.repeat(np.arange(len(open_mentors)), [m.free for m in open_mentors])
    rank = np.concatenate([np.arange(m.free) for m in open_mentors])
    loads = np.array([m.load for m in open_mentors], dtype=np.float64)[owner]
    # One row per place, one column per novice, as costs (negated scores), built in place:
    # this matrix is the round's memory (places × novices × 8 bytes), so no second copy is
    # made — the solver takes it as it is (rows ≤ columns, C order, already minimising).
    del topic, session, closeness, language
    costs = np.ascontiguousarray(base.T[owner], dtype=np.float64)
    del base
    costs -= (weights.spread * (loads + rank))[:, None]
    np.negative(costs, out=costs)
    usable = allowed.T[owner]
    usable &= costs < 0  # a pair worth nothing (or less) is no better than waiting
    costs[~usable] = 0.0  # forbidden cells cost what waiting costs: nothing
    transpose = costs.shape[0] > costs.shape[1]
    rows, cols = linear_sum_assignment(costs.T if transpose else costs)
    if transpose:
        rows, cols = cols, rows
    chosen = [(r, c) for r, c in zip(rows, cols, strict=True) if usable[r, c]]
    pairs = [(novices[c].id, open_mentors[owner[r]].id) for r, c in chosen]
    total = float(-sum(costs[r, c] for r, c in chosen))
    matched = {novice_id for novice_id, _ in pairs}
    return Proposal(pairs, _reasons(novices, mentors, open_mentors, banned, matched), total)


def _reasons(
    novices: list[Person],
    mentors: list[Mentor],
    open_mentors: list[Mentor],
    banned: set[tuple[int, int]],
    matched: set[int],
) -> dict[int, str]:
    """Why each novice not in `matched` waits."""
    speakers: dict[str, set[int]] = {}
    for mentor in mentors:
        for language in mentor.languages:
            speakers.setdefault(language, set()).add(mentor.id)
    with_places = {m.id for m in open_mentors}
    reasons = {}
    for novice in novices:
        if novice.id in matched:
            continue
        speaking = set().union(*(speakers.get(lang, set()) for lang in novice.languages))
        speaking.discard(novice.id)
        with_room = speaking & with_places
        if not speaking:
            reasons[novice.id] = NO_LANGUAGE
        elif not with_room:
            reasons[novice.id] = LANGUAGE_FULL
        elif all((novice.id, mentor_id) in banned for mentor_id in with_room):
            reasons[novice.id] = ONLY_PREVIOUS
        else:
            reasons[novice.id] = OUTNUMBERED
    return reasons


def greedy(
    novices: list[Person],
    mentors: list[Mentor],
    weights: Weights,
    excluded: Iterable[tuple[int, int]] = (),
) -> Proposal:
    """The obvious baseline: each novice in turn takes the best mentor with room left."""
    banned = set(excluded)
    taken = {m.id: 0 for m in mentors}
    pairs, total = [], 0.0
    for novice in novices:
        best: tuple[float, Mentor] | None = None
        for mentor in mentors:
            if taken[mentor.id] >= mentor.free or (novice.id, mentor.id) in banned:
                continue
            score = pair_score(novice, mentor, taken[mentor.id], weights)
            if score is not None and score > 0 and (best is None or score > best[0]):
                best = (score, mentor)
        if best is not None:
            pairs.append((novice.id, best[1].id))
            taken[best[1].id] += 1
            total += best[0]
    return Proposal(pairs, {}, total)
