"""Filters resolved against a hand-made community: sessions, trainings, the period in the
viewer's zone, the menus; an unknown session refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.steering.filters import FilterError, Filters
from bot.steering.scope import resolve
from storage.db import create_engine, session_factory
from tests.bot.steering.activity_community import Community, build


@pytest.fixture
async def made(
    database_url: str,
) -> AsyncIterator[tuple[async_sessionmaker[AsyncSession], Community]]:
    engine = create_engine(database_url)
    db_sessions = session_factory(engine)
    async with db_sessions.begin() as db:
        community = await build(db)
    yield db_sessions, community
    await engine.dispose()


async def test_the_whole_workspace_and_its_menus(
    made: tuple[async_sessionmaker[AsyncSession], Community],
) -> None:
    db_sessions, community = made
    async with db_sessions() as db:
        scope = await resolve(db, community.workspace_id, Filters(), "Europe/Paris")
    assert scope.session_ids is None
    assert scope.start is None and scope.end is None
    assert scope.timezone == "Europe/Paris"
    assert scope.trainings == ("Excel", "Python")
    assert [code for code, _, _ in scope.sessions] == ["EXC2", "PYT1", "EXC1"]
    assert scope.sessions[0] == ("EXC2", "Excel", datetime(2026, 9, 15, 9, tzinfo=UTC))


async def test_a_training_a_session_and_both(
    made: tuple[async_sessionmaker[AsyncSession], Community],
) -> None:
    db_sessions, community = made
    ids, w = community.ids, community.workspace_id
    async with db_sessions() as db:
        excel = await resolve(db, w, Filters(training="Excel"), "UTC")
        one = await resolve(db, w, Filters(session="pyt1"), "UTC")
        both = await resolve(db, w, Filters(training="Excel", session="EXC2"), "UTC")
        mismatch = await resolve(db, w, Filters(training="Python", session="EXC2"), "UTC")
        unknown = await resolve(db, w, Filters(training="Cobol"), "UTC")
    assert excel.session_ids == (ids["EXC1"], ids["EXC2"])
    assert one.session_ids == (ids["PYT1"],)
    assert both.session_ids == (ids["EXC2"],)
    assert mismatch.session_ids == ()
    assert unknown.session_ids == ()  # the page says nothing matches


async def test_the_period_is_days_in_the_viewer_zone(
    made: tuple[async_sessionmaker[AsyncSession], Community],
) -> None:
    db_sessions, community = made
    period = Filters(start=date(2026, 9, 7), end=date(2026, 9, 13))
    async with db_sessions() as db:
        paris = await resolve(db, community.workspace_id, period, "Europe/Paris")
        nowhere = await resolve(db, community.workspace_id, period, "Mars/Olympus")
    assert paris.start == datetime(2026, 9, 6, 22, tzinfo=UTC)
    assert paris.end == datetime(2026, 9, 13, 22, tzinfo=UTC)  # the midnight after the 13th
    assert nowhere.timezone == "UTC"
    assert nowhere.start == datetime(2026, 9, 7, tzinfo=UTC)


async def test_an_unknown_session_is_refused(
    made: tuple[async_sessionmaker[AsyncSession], Community],
) -> None:
    db_sessions, community = made
    async with db_sessions() as db:
        with pytest.raises(FilterError) as refused:
            await resolve(db, community.workspace_id, Filters(session="NOPE9"), "UTC")
    assert refused.value.key == "dashboard.filter_session_unknown"
    assert refused.value.name == "session"


async def test_another_workspace_sessions_are_unknown(
    made: tuple[async_sessionmaker[AsyncSession], Community],
) -> None:
    db_sessions, community = made
    async with db_sessions() as db:
        with pytest.raises(FilterError):
            await resolve(db, community.workspace_id + 1, Filters(session="EXC1"), "UTC")
        other = await resolve(db, community.workspace_id + 1, Filters(training="Excel"), "UTC")
    assert other.session_ids == () and other.trainings == ()
