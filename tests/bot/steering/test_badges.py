"""The badges section on a hand-made community, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.ladder import Ladder, LevelSpec
from bot.steering import badges as section
from bot.steering.badges import _median, badges
from bot.steering.model import Badges, LevelFigures
from storage import badges as stored
from storage.models import BadgeAward
from tests.bot.steering.handmade import T0, Community, database, scope

LADDER = Ladder(
    levels=(
        LevelSpec("junior", "Junior", "Junior"),
        LevelSpec("confirmed", "Confirmed", "Confirmé·e"),
        LevelSpec("senior", "Senior", "Senior"),
    )
)
PARIS = "Europe/Paris"


def _day(days: float) -> datetime:
    return T0 + timedelta(days=days)


async def _build(db: object) -> dict[str, int]:
    """Everyone joined on T0 (1 June 2026, 09:00 UTC) but Learner 5 (1 July) and Learner 6
    (who left). Awards, in days after joining:

        L1  junior 10, confirmed 30                    level confirmed     (S1)
        L2  junior 20                                  level junior        (S1)
        L3  junior 29.6 (30 June 23:30 UTC: 1 July in Paris), confirmed revoked   junior
        L4  —                                          no level            (S1)
        L5  junior 4 (joined 1 July)                   level junior
        L6  junior on 15 June, then left               (not a holder any more)
        L7  junior 4, confirmed 19, senior 92          level senior
    """
    c = await Community.create(db)  # type: ignore[arg-type]
    m1 = await c.member("Learner 1", level="confirmed")
    m2 = await c.member("Learner 2", level="junior")
    m3 = await c.member("Learner 3", level="junior")
    m4 = await c.member("Learner 4")
    m5 = await c.member("Learner 5", level="junior", joined_at=_day(30))
    m6 = await c.member("Learner 6", level="junior", joined_at=None, left_at=_day(40))
    m7 = await c.member("Learner 7", level="senior")
    s1 = await c.session("Excel", "S1", T0, [m1, m2, m4])
    await c.award(m1, "junior", 1, _day(10))
    await c.award(m1, "confirmed", 2, _day(30))
    await c.award(m2, "junior", 1, _day(20))
    await c.award(m3, "junior", 1, datetime(2026, 6, 30, 23, 30, tzinfo=UTC))
    await c.award(m3, "confirmed", 2, _day(61), revoked_at=_day(65))
    await c.award(m5, "junior", 1, _day(34))
    await c.award(m6, "junior", 1, _day(14))
    await c.award(m7, "junior", 1, _day(4))
    await c.award(m7, "confirmed", 2, _day(19))
    await c.award(m7, "senior", 3, _day(92))
    return {"ws": c.workspace_id, "s1": s1}


async def test_distribution_promotions_and_time_to_each_level(database_url: str) -> None:
    async with database(database_url) as db_sessions:
        async with db_sessions() as db, db.begin():
            ids = await _build(db)
        async with db_sessions() as db:
            paris = await badges(db, ids["ws"], scope(timezone=PARIS), LADDER)
            utc = await badges(db, ids["ws"], scope(), LADDER)
            excel = await badges(db, ids["ws"], scope((ids["s1"],), timezone=PARIS), LADDER)
            july_on = await badges(
                db,
                ids["ws"],
                scope(start=datetime(2026, 6, 30, 22, 0, tzinfo=UTC), timezone=PARIS),
                LADDER,
            )
            nothing = await badges(db, ids["ws"], scope(()), LADDER)
    # Holders: L2, L3, L5 (L6 left); L1; L7. Learner 4 has no level; the animator is no member.
    # Junior awards not revoked: 10, 20, 29, 4, 4 days, and L6's (joining forgotten):
    # 6 awarded, median of (4, 4, 10, 20, 29) = 10. Confirmed: 30 and 19 (L3's revoked):
    # median 24.5. Senior: 92.
    assert paris.levels == (
        LevelFigures("junior", holders=3, awarded=6, median_days=10.0),
        LevelFigures("confirmed", holders=1, awarded=2, median_days=24.5),
        LevelFigures("senior", holders=1, awarded=1, median_days=92.0),
    )
    assert paris.without_level == 1
    # In Paris, L3's junior (30 June 23:30 UTC) is a July promotion.
    assert paris.per_month == {
        ("2026-06", "junior"): 4,
        ("2026-07", "junior"): 2,
        ("2026-06", "confirmed"): 1,
        ("2026-07", "confirmed"): 1,
        ("2026-09", "senior"): 1,
    }
    assert utc.per_month[("2026-06", "junior")] == 5
    assert utc.per_month[("2026-07", "junior")] == 1
    # Excel's participants: L1, L2, L4. Junior 10 and 20 days: median 15.
    assert excel == Badges(
        levels=(
            LevelFigures("junior", holders=1, awarded=2, median_days=15.0),
            LevelFigures("confirmed", holders=1, awarded=1, median_days=30.0),
            LevelFigures("senior", holders=0, awarded=0, median_days=None),
        ),
        per_month={("2026-06", "junior"): 2, ("2026-07", "confirmed"): 1},
        without_level=1,
    )
    # From 1 July in Paris: L3's and L5's junior, L1's confirmed, L7's senior; holders are
    # who holds what now, whatever the period.
    assert [(f.level, f.holders, f.awarded, f.median_days) for f in july_on.levels] == [
        ("junior", 3, 2, 16.5),
        ("confirmed", 1, 1, 30.0),
        ("senior", 1, 1, 92.0),
    ]
    assert nothing.levels == (
        LevelFigures("junior", 0, 0, None),
        LevelFigures("confirmed", 0, 0, None),
        LevelFigures("senior", 0, 0, None),
    )
    assert nothing.per_month == {} and nothing.without_level == 0


async def test_one_grouped_scan_gives_what_the_index_ranges_give(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with database(database_url) as db_sessions:
        async with db_sessions() as db, db.begin():
            ids = await _build(db)
        # The whole workspace, and a period that cuts months in two.
        views = [
            scope(timezone=PARIS),
            scope(
                start=datetime(2026, 6, 15, tzinfo=UTC),
                end=datetime(2026, 7, 3, tzinfo=UTC),
                timezone=PARIS,
            ),
        ]
        async with db_sessions() as db:
            ranges = [await badges(db, ids["ws"], view, LADDER) for view in views]
            monkeypatch.setattr(section, "MAX_RANGES", 0)
            grouped = [await badges(db, ids["ws"], view, LADDER) for view in views]
    assert grouped == ranges
    # From 15 June to 3 July: L6's (15 June) and L2's junior and L7's confirmed in June,
    # L3's junior and L1's confirmed in July.
    assert ranges[1].per_month == {
        ("2026-06", "junior"): 2,
        ("2026-06", "confirmed"): 1,
        ("2026-07", "junior"): 1,
        ("2026-07", "confirmed"): 1,
    }


async def test_days_are_kept_with_each_award_and_filled_after_bulk_loads(
    database_url: str,
) -> None:
    async with database(database_url) as db_sessions:
        async with db_sessions() as db, db.begin():
            c = await Community.create(db)
            ann = await c.member("Ann", joined_at=_day(0))
            ben = await c.member("Ben", joined_at=_day(0))
            # A grant 12.75 days after joining keeps 12 whole days.
            granted = await stored.grant(
                db,
                workspace_id=c.workspace_id,
                member_id=ann,
                level="junior",
                rank=1,
                granted_by_id=c.animator_id,
                reason=None,
                now=_day(12.75),
            )
            # A bulk-loaded award without them: computed when read, then filled.
            loaded = await c.award(ben, "junior", 1, _day(3.5))
            ws = c.workspace_id
        async with db_sessions() as db:
            before = await badges(db, ws, scope(), LADDER)
            rows = dict((await db.execute(select(BadgeAward.id, BadgeAward.joined_days))).all())
        assert rows == {granted: 12, loaded: None}
        async with db_sessions() as db, db.begin():
            await stored.fill_joined_days(db, ws)
        async with db_sessions() as db:
            after = await badges(db, ws, scope(), LADDER)
            rows = dict((await db.execute(select(BadgeAward.id, BadgeAward.joined_days))).all())
    assert rows == {granted: 12, loaded: 3}
    assert before == after
    assert after.levels[0] == LevelFigures("junior", holders=0, awarded=2, median_days=7.5)


def test_median_of_a_histogram() -> None:
    assert _median({}) is None
    assert _median({7: 1}) == 7
    assert _median({1: 2, 5: 1, 9: 1}) == 3  # 1 1 5 9
    assert _median({1: 1, 2: 1, 30: 3}) == 30  # 1 2 30 30 30
