"""LGC density week by week on a hand-made community (tests/bot/steering/activity_community.py),
figures computed by hand, with filters changing them."""

from __future__ import annotations

from datetime import date

from bot.steering.activity import activity
from bot.steering.filters import Filters
from bot.steering.model import Activity, ActivityWeek
from bot.steering.scope import resolve
from tests.bot.steering.activity_community import Made

W1, W2, W3 = date(2026, 8, 31), date(2026, 9, 7), date(2026, 9, 14)


async def _activity(
    made: Made, filters: Filters, zone: str = "UTC", trainings: int | None = None
) -> Activity:
    db_sessions, community = made
    async with db_sessions() as db:
        scope = await resolve(db, community.workspace_id, filters, zone)
        return await activity(db, community.workspace_id, scope, trainings=trainings)


async def test_the_whole_workspace(made: Made) -> None:
    result = await _activity(made, Filters())
    # week, members, answers, successes, not-yets, shares, likes given, likes received,
    # dislikes received
    assert result.weeks == (
        ActivityWeek(W1, 3, 2, 1, 1, 0, 1, 1),  # ann, bob, cat joined; bob liked ann's
        # fay's share hidden: not counted; ann's answer edited to a success in its week
        ActivityWeek(W2, 5, 2, 2, 0, 0, 0, 0),
        # dan and eve joined, eve left by Sunday: ann, bob, cat, fay, gus, dan; gus found
        # ann's share not useful to him (a dislike is neither a like nor a contribution)
        ActivityWeek(W3, 6, 1, 1, 0, 1, 2, 2, dislikes_received=1),
    )
    assert [w.density for w in result.weeks] == [2 / 3, 2 / 5, 2 / 6]
    # The community now: the six above; contributed at least once: ann, bob, fay, dan.
    assert (result.members, result.contributors) == (6, 4)
    assert result.heat == {
        (W1, "Excel"): 2 / 3,
        (W2, "Excel"): 1 / 3,
        (W2, "Python"): 1 / 2,
        (W3, "Excel"): 2 / 4,  # ann's share, dan's answer; ann, bob, cat, dan
        (W3, "Python"): 0.0,
    }
    assert result.heat_trainings is None


async def test_the_pages_heat_map_keeps_the_biggest_trainings(made: Made) -> None:
    whole = await _activity(made, Filters())
    cut = await _activity(made, Filters(), trainings=1)
    # Excel has four members in the last week, Python two: Excel stays, said of two.
    assert cut.heat == {key: value for key, value in whole.heat.items() if key[1] == "Excel"}
    assert cut.heat_trainings == 2 and cut.weeks == whole.weeks
    assert (await _activity(made, Filters(), trainings=2)).heat == whole.heat


async def test_a_training(made: Made) -> None:
    result = await _activity(made, Filters(training="Python"))
    assert result.weeks == (
        ActivityWeek(W2, 2, 1, 1, 0, 0, 0, 0),
        ActivityWeek(W3, 2, 0, 0, 0, 0, 1, 0),  # fay liked ann's share: given, by Python
    )
    assert (result.members, result.contributors) == (2, 1)
    assert result.heat == {(W2, "Python"): 1 / 2, (W3, "Python"): 0.0}


async def test_a_session(made: Made) -> None:
    result = await _activity(made, Filters(session="EXC2"))
    # dan's answer, liked by ann (her cohort is EXC1: received here, given there)
    assert result.weeks == (ActivityWeek(W3, 1, 1, 1, 0, 0, 0, 1),)
    assert result.weeks[0].density == 1.0
    assert (result.members, result.contributors) == (1, 1)


async def test_a_period_in_the_viewer_zone(made: Made) -> None:
    period = Filters(start=date(2026, 9, 7), end=date(2026, 9, 13))
    result = await _activity(made, period, "Europe/Paris")
    assert result.weeks == (ActivityWeek(W2, 5, 2, 2, 0, 0, 0, 0),)
    # At the period's end: ann, bob, cat, fay, gus; of them ann, bob, fay had contributed.
    assert (result.members, result.contributors) == (5, 3)
    assert set(result.heat) == {(W2, "Excel"), (W2, "Python")}


async def test_a_period_without_activity_still_lists_its_weeks(made: Made) -> None:
    period = Filters(start=date(2026, 10, 5), end=date(2026, 10, 18))
    result = await _activity(made, period)
    assert [(w.week, w.members, w.contributions) for w in result.weeks] == [
        (date(2026, 10, 5), 6, 0),
        (date(2026, 10, 12), 6, 0),
    ]


async def test_nothing_in_scope(made: Made) -> None:
    result = await _activity(made, Filters(training="Cobol"))
    assert result.weeks == () and result.members == 0 and result.heat == {}
