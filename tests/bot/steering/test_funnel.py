"""The sign-up funnel on a hand-made community (tests/bot/steering/activity_community.py),
figures computed by hand, with filters changing them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.steering.filters import Filters
from bot.steering.funnel import funnel
from bot.steering.model import Funnel, FunnelStep
from bot.steering.scope import resolve
from tests.bot.steering.activity_community import Made


async def _funnel(made: Made, filters: Filters, zone: str = "UTC") -> Funnel:
    db_sessions, community = made
    async with db_sessions() as db:
        scope = await resolve(db, community.workspace_id, filters, zone)
        return await funnel(db, community.workspace_id, scope)


def _steps(s: FunnelStep) -> tuple[int | None, ...]:
    return (s.present, s.joined, s.contributed, s.junior, s.confirmed)


async def test_the_whole_workspace(made: Made) -> None:
    result = await _funnel(made, Filters())
    assert result.sessions_in_scope == 3
    rows = result.sessions
    assert [(r.session_code, r.training) for r in rows] == [
        ("EXC2", "Excel"),
        ("PYT1", "Python"),
        ("EXC1", "Excel"),
    ]
    # present, joined, contributed, junior, confirmed
    assert _steps(rows[0]) == (None, 3, 2, 2, 2)  # dan (senior), eve (left), ann again
    assert _steps(rows[1]) == (4, 2, 1, 0, 0)  # fay's badge revoked: not counted
    assert _steps(rows[2]) == (5, 3, 2, 2, 1)  # the animator who joined is no learner
    assert rows[2].opened_at == datetime(2026, 9, 1, 9, tzinfo=UTC)
    # Each learner once: ann took part in two sessions.
    assert _steps(result.total) == (9, 7, 4, 3, 2)


async def test_a_training(made: Made) -> None:
    result = await _funnel(made, Filters(training="Excel"))
    assert result.sessions_in_scope == 2
    assert [r.session_code for r in result.sessions] == ["EXC2", "EXC1"]
    assert _steps(result.total) == (5, 5, 3, 3, 2)


async def test_a_session(made: Made) -> None:
    result = await _funnel(made, Filters(session="PYT1"))
    assert _steps(result.total) == (4, 2, 1, 0, 0)


async def test_a_period_keeps_the_sessions_opened_in_it(made: Made) -> None:
    period = Filters(start=date(2026, 9, 7), end=date(2026, 9, 13))
    result = await _funnel(made, period, "Europe/Paris")
    assert [r.session_code for r in result.sessions] == ["PYT1"]
    assert _steps(result.total) == (4, 2, 1, 0, 0)


async def test_nothing_in_scope(made: Made) -> None:
    result = await _funnel(made, Filters(training="Cobol"))
    assert result.sessions == () and result.sessions_in_scope == 0
    assert _steps(result.total) == (None, 0, 0, 0, 0)


async def test_the_page_shows_the_latest_and_the_csv_every_session(made: Made) -> None:
    db_sessions, community = made
    async with db_sessions() as db:
        scope = await resolve(db, community.workspace_id, Filters(), "UTC")
        shown = await funnel(db, community.workspace_id, scope, shown=2)
        every = await funnel(db, community.workspace_id, scope, shown=None)
    assert [r.session_code for r in shown.sessions] == ["EXC2", "PYT1"]
    assert [r.session_code for r in every.sessions] == ["EXC2", "PYT1", "EXC1"]
    assert _steps(shown.total) == _steps(every.total) == (9, 7, 4, 3, 2)
