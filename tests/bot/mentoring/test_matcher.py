"""The matcher: known optima on small cases, every hard constraint on random instances,
and the same total score as an independent exact method (networkx's maximum-weight
matching on the mentors' places: a different algorithm and a different code path)."""

from __future__ import annotations

import random

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.mentoring.matcher import (
    LANGUAGE_FULL,
    NO_LANGUAGE,
    ONLY_PREVIOUS,
    OUTNUMBERED,
    Mentor,
    Person,
    Weights,
    greedy,
    match,
    pair_score,
)

W = Weights()  # pair 10, topic 3, session 2, timezone 1, spread 1


def novice(id_: int, *languages: str, topics: tuple[str, ...] = (), offset: float = 0) -> Person:
    return Person(id_, frozenset(languages), frozenset(topics), utc_offset=offset)


def mentor(
    id_: int, *languages: str, capacity: int = 1, load: int = 0, topics: tuple[str, ...] = ()
) -> Mentor:
    return Mentor(id_, frozenset(languages), frozenset(topics), capacity=capacity, load=load)


def test_the_optimum_is_not_what_greedy_finds() -> None:
    # Ann prefers Marc (shared topic), but Bea can only be paired with Marc (French).
    marc = mentor(100, "fr", "en", topics=("sales",))
    nina = mentor(101, "en")
    ann = novice(1, "fr", "en", topics=("sales",))
    bea = novice(2, "fr")
    best = match([ann, bea], [marc, nina], W)
    assert sorted(best.pairs) == [(1, 101), (2, 100)]
    assert best.score == pytest.approx(11 + 11)  # 10 + 1 (same time zone) each
    assert greedy([ann, bea], [marc, nina], W).score == pytest.approx(14)
    assert best.waiting == {}


def test_mentees_are_spread_across_mentors() -> None:
    first, second = mentor(100, "en", capacity=2), mentor(101, "en", capacity=2)
    proposal = match([novice(1, "en"), novice(2, "en")], [first, second], W)
    assert sorted(m for _, m in proposal.pairs) == [100, 101]
    busy = mentor(100, "en", capacity=3, load=2)  # already two mentees: its next costs 2
    proposal = match([novice(1, "en")], [busy, mentor(101, "en")], W)
    assert proposal.pairs == [(1, 101)]


def test_each_novice_left_waiting_gets_its_reason() -> None:
    full = mentor(100, "fr", capacity=1, load=1)
    previous = mentor(101, "de")
    open_en = mentor(102, "en")
    novices = [
        novice(1, "pt"),  # nobody speaks Portuguese
        novice(2, "fr"),  # the French mentor is full
        novice(3, "de"),  # the only German mentor was theirs before
        novice(4, "en"),
        novice(5, "en"),  # two English novices, one English place
    ]
    proposal = match(novices, [full, previous, open_en], W, excluded={(3, 101)})
    assert len(proposal.pairs) == 1 and proposal.pairs[0][1] == 102
    outnumbered = 5 if proposal.pairs[0][0] == 4 else 4
    assert proposal.waiting == {
        1: NO_LANGUAGE,
        2: LANGUAGE_FULL,
        3: ONLY_PREVIOUS,
        outnumbered: OUTNUMBERED,
    }


def test_nobody_mentors_themselves() -> None:
    both = mentor(7, "en")
    assert match([novice(7, "en")], [both], W).pairs == []


def _instance(rng: random.Random, n: int, m: int) -> tuple[list[Person], list[Mentor], set]:
    languages = ["fr", "en", "pt"]
    topics = ["sales", "lead", "data", "care"]
    novices = [
        Person(
            i,
            frozenset(rng.sample(languages, rng.randint(1, 2))),
            frozenset(rng.sample(topics, rng.randint(0, 2))),
            frozenset(rng.sample(range(3), rng.randint(0, 1))),
            float(rng.choice([-5, 0, 1, 9])),
        )
        for i in range(n)
    ]
    mentors = [
        Mentor(
            1000 + j,
            frozenset(rng.sample(languages, rng.randint(1, 3))),
            frozenset(rng.sample(topics, rng.randint(0, 3))),
            frozenset(rng.sample(range(3), rng.randint(0, 2))),
            float(rng.choice([-5, 0, 1, 9])),
            capacity=rng.randint(1, 4),
            load=rng.randint(0, 2),
        )
        for j in range(m)
    ]
    excluded = {(rng.randrange(n), 1000 + rng.randrange(m)) for _ in range(rng.randint(0, n))}
    return novices, mentors, excluded


def _exact_by_networkx(novices: list[Person], mentors: list[Mentor], excluded: set) -> float:
    graph = nx.Graph()
    for person in novices:
        for helper in mentors:
            if (person.id, helper.id) in excluded:
                continue
            for rank in range(helper.free):
                score = pair_score(person, helper, rank, W)
                if score is not None and score > 0:
                    graph.add_edge(("n", person.id), ("m", helper.id, rank), weight=score)
    matching = nx.max_weight_matching(graph)
    return float(sum(graph.edges[a, b]["weight"] for a, b in matching))


@pytest.mark.parametrize("seed", range(40))
def test_the_total_score_equals_an_independent_exact_optimum(seed: int) -> None:
    rng = random.Random(seed)
    novices, mentors, excluded = _instance(rng, rng.randint(1, 14), rng.randint(1, 6))
    proposal = match(novices, mentors, W, excluded)
    assert proposal.score == pytest.approx(_exact_by_networkx(novices, mentors, excluded))
    assert proposal.score >= greedy(novices, mentors, W, excluded).score - 1e-9


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(0, 25), m=st.integers(0, 8))
def test_every_proposal_respects_every_hard_constraint(seed: int, n: int, m: int) -> None:
    novices, mentors, excluded = _instance(random.Random(seed), max(n, 1), max(m, 1))
    novices = novices[:n]
    proposal = match(novices, mentors, W, excluded)
    by_id = {p.id: p for p in novices}
    helpers = {h.id: h for h in mentors}
    paired = [n for n, _ in proposal.pairs]
    assert len(paired) == len(set(paired)), "a novice is paired once"
    for novice_id, mentor_id in proposal.pairs:
        person, helper = by_id[novice_id], helpers[mentor_id]
        assert person.languages & helper.languages, "a shared language"
        assert (novice_id, mentor_id) not in excluded, "never the same pair again"
        assert novice_id != mentor_id
    for helper in mentors:
        taken = sum(1 for _, mentor_id in proposal.pairs if mentor_id == helper.id)
        assert taken <= helper.free, "within capacity"
    assert set(proposal.waiting) == set(by_id) - set(paired), "everyone else waits, with a reason"
