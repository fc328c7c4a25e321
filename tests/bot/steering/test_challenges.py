"""Participation per challenge occurrence on a hand-made community
(tests/bot/steering/activity_community.py), with filters changing the figures."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.steering.challenges import challenges, excerpt
from bot.steering.filters import Filters
from bot.steering.model import Challenges
from bot.steering.scope import resolve
from tests.bot.steering.activity_community import Made


async def _challenges(made: Made, filters: Filters, zone: str = "UTC") -> Challenges:
    db_sessions, community = made
    async with db_sessions() as db:
        scope = await resolve(db, community.workspace_id, filters, zone)
        return await challenges(db, community.workspace_id, scope)


def _runs(result: Challenges) -> list[tuple[int, int, int, int]]:
    return [(r.posted_at.day, r.answers, r.successes, r.not_yets) for r in result.runs]


async def test_the_whole_workspace(made: Made) -> None:
    result = await _challenges(made, Filters())
    # day posted, answers, successes, not-yets; newest first
    assert _runs(result) == [(16, 1, 1, 0), (9, 2, 2, 0), (2, 2, 1, 1)]
    first = result.runs[0]
    assert first.number == made[1].ids["challenge"]
    assert first.posted_at == datetime(2026, 9, 16, 9, tzinfo=UTC)
    assert first.excerpt == (
        "Build a pivot table from the sales sheet, then tell us what it showed you"
    )
    assert (result.occurrences, result.answers, result.successes, result.not_yets) == (
        3,
        5,
        4,
        1,
    )


async def test_a_training_counts_its_members_answers(made: Made) -> None:
    result = await _challenges(made, Filters(training="Excel"))
    # Every occurrence stays (challenges go to everyone); fay (Python) is not counted.
    assert _runs(result) == [(16, 1, 1, 0), (9, 1, 1, 0), (2, 2, 1, 1)]
    assert (result.occurrences, result.answers, result.successes, result.not_yets) == (
        3,
        4,
        3,
        1,
    )


async def test_a_period(made: Made) -> None:
    period = Filters(start=date(2026, 9, 7), end=date(2026, 9, 13))
    result = await _challenges(made, period, "Europe/Paris")
    assert _runs(result) == [(9, 2, 2, 0)]
    assert (result.occurrences, result.answers, result.successes, result.not_yets) == (
        1,
        2,
        2,
        0,
    )


async def test_nothing_in_scope(made: Made) -> None:
    result = await _challenges(made, Filters(training="Cobol"))
    assert [r.answers for r in result.runs] == [0, 0, 0]
    assert (result.answers, result.successes, result.not_yets) == (0, 0, 0)


def test_excerpt() -> None:
    assert excerpt("  Short\n one ") == "Short one"
    assert excerpt("word " * 40, 20) == "word word word word…"
    assert excerpt("words " * 40, 20) == "words words words…"


async def test_the_page_shows_the_latest_and_the_csv_every_post(made: Made) -> None:
    db_sessions, community = made
    async with db_sessions() as db:
        scope = await resolve(db, community.workspace_id, Filters(), "UTC")
        shown = await challenges(db, community.workspace_id, scope, shown=1)
        every = await challenges(db, community.workspace_id, scope, shown=None)
    assert _runs(shown) == [(16, 1, 1, 0)]
    assert _runs(every) == [(16, 1, 1, 0), (9, 2, 2, 0), (2, 2, 1, 1)]
    assert (shown.occurrences, shown.answers) == (every.occurrences, every.answers) == (3, 5)
