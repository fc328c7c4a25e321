"""Migration 0019 on a database that already holds contributions, on both databases: the
rollup and the first contributions are backfilled, the same as `rebuild` gives them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from storage import activity
from storage.db import create_engine, session_factory
from storage.models import (
    ContributionLike,
    Member,
    OccurrenceActivity,
    UtcDateTime,
    WeeklyActivity,
)
from storage.vocabulary import ReactionKind
from tests.support import migrations

T = datetime(2026, 9, 2, 10, 0, tzinfo=UTC)  # a Wednesday: week of Monday 08-31


def _table(table_name: str, /, **columns: Any) -> sa.TableClause:
    return sa.table(table_name, *(sa.column(key, kind) for key, kind in columns.items()))


_rows = {
    "workspace": _table(
        "workspace",
        id=sa.Integer(),
        platform=sa.String(),
        external_id=sa.String(),
        created_at=UtcDateTime(),
        public_id=sa.String(),
    ),
    "member": _table(
        "member",
        id=sa.Integer(),
        workspace_id=sa.Integer(),
        user_id=sa.String(),
        display_name=sa.String(),
        role=sa.String(),
        joined_at=UtcDateTime(),
        joined_session_id=sa.Integer(),
        created_at=UtcDateTime(),
    ),
    "training_session": _table(
        "training_session",
        id=sa.Integer(),
        workspace_id=sa.Integer(),
        name=sa.String(),
        code=sa.String(),
        conversation=sa.String(),
        opened_by_id=sa.Integer(),
        opened_at=UtcDateTime(),
    ),
    "challenge": _table(
        "challenge",
        id=sa.Integer(),
        workspace_id=sa.Integer(),
        created_by_id=sa.Integer(),
        text=sa.String(),
        conversation=sa.String(),
        locale=sa.String(),
        status=sa.String(),
        open_days=sa.Integer(),
        created_at=UtcDateTime(),
    ),
    "challenge_occurrence": _table(
        "challenge_occurrence",
        id=sa.Integer(),
        challenge_id=sa.Integer(),
        workspace_id=sa.Integer(),
        conversation=sa.String(),
        planned_at=UtcDateTime(),
        status=sa.String(),
        posted_at=UtcDateTime(),
    ),
    "contribution": _table(
        "contribution",
        id=sa.Integer(),
        workspace_id=sa.Integer(),
        member_id=sa.Integer(),
        kind=sa.String(),
        outcome=sa.String(),
        occurrence_id=sa.Integer(),
        text=sa.String(),
        created_at=UtcDateTime(),
        updated_at=UtcDateTime(),
        hidden_at=UtcDateTime(),
    ),
    "contribution_like": _table(
        "contribution_like",
        id=sa.Integer(),
        contribution_id=sa.Integer(),
        member_id=sa.Integer(),
        created_at=UtcDateTime(),
    ),
}


async def test_the_rollup_is_backfilled(empty_database: str) -> None:
    url = empty_database
    await migrations.migrate_to(url, "0018")
    engine = create_engine(url)
    try:
        async with engine.begin() as db:

            async def put(table: str, /, **values: Any) -> None:
                await db.execute(sa.insert(_rows[table]).values(**values))

            await put(
                "workspace", id=1, platform="local", external_id="x", created_at=T, public_id="p"
            )
            await put(
                "member",
                id=1,
                workspace_id=1,
                user_id="anim",
                display_name="A",
                role="animator",
                created_at=T,
            )
            await put(
                "training_session",
                id=7,
                workspace_id=1,
                name="Excel",
                code="EXC1",
                conversation="c",
                opened_by_id=1,
                opened_at=T,
            )
            for member_id, name in ((2, "ann"), (3, "bob")):
                await put(
                    "member",
                    id=member_id,
                    workspace_id=1,
                    user_id=name,
                    display_name=name,
                    role="learner",
                    joined_at=T,
                    joined_session_id=7,
                    created_at=T,
                )
            await put(
                "challenge",
                id=1,
                workspace_id=1,
                created_by_id=1,
                text="t",
                conversation="c",
                locale="en",
                status="finished",
                open_days=7,
                created_at=T,
            )
            await put(
                "challenge_occurrence",
                id=1,
                challenge_id=1,
                workspace_id=1,
                conversation="c",
                planned_at=T,
                status="posted",
                posted_at=T,
            )
            await put(
                "contribution",
                id=1,
                workspace_id=1,
                member_id=2,
                kind="answer",
                outcome="success",
                occurrence_id=1,
                text="x",
                created_at=T,
                updated_at=T,
            )
            await put(
                "contribution",
                id=2,
                workspace_id=1,
                member_id=3,
                kind="answer",
                outcome="not_yet",
                occurrence_id=1,
                text="x",
                created_at=T,
                updated_at=T,
                hidden_at=T,
            )
            await put(
                "contribution",
                id=3,
                workspace_id=1,
                member_id=3,
                kind="share",
                text="x",
                created_at=T.replace(day=9),
                updated_at=T,
            )
            await put("contribution_like", id=1, contribution_id=1, member_id=3, created_at=T)
            await put("contribution_like", id=2, contribution_id=2, member_id=2, created_at=T)
    finally:
        await engine.dispose()

    # 0019 backfills; on to the head, whose models the reading below uses (0024 adds
    # counters, 0 for these rows).
    await migrations.migrate_to(url, "head")

    # The columns as they are at 0019 (migration 0025 adds dislikes_received).
    t = WeeklyActivity
    at_0019 = (t.answers, t.successes, t.not_yets, t.shares, t.likes_given, t.likes_received)
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as db:
            weeks = {
                (week, session_id): (*counts,)
                for week, session_id, *counts in (
                    await db.execute(
                        sa.select(t.week, t.session_id, *at_0019, t.arrivals, t.departures)
                    )
                ).all()
            }
            # bob's hidden not-yet and ann's like on it do not count
            assert weeks == {
                (date(2026, 8, 31), 7): (1, 1, 0, 0, 1, 1, 2, 0),
                (date(2026, 9, 7), 7): (0, 0, 0, 1, 0, 0, 0, 0),
            }
            per_occurrence = [
                (row.occurrence_id, row.session_id, row.answers, row.successes, row.not_yets)
                for row in (await db.execute(sa.select(OccurrenceActivity))).scalars()
            ]
            assert per_occurrence == [(1, 7, 1, 1, 0)]
            firsts = dict(
                (await db.execute(sa.select(Member.id, Member.first_contributed_at))).all()
            )
            assert firsts == {1: None, 2: T, 3: T.replace(day=9)}
    finally:
        await engine.dispose()

    # Up to the head: every reaction so far a like (migration 0025), the counts unchanged,
    # and the same as a rebuild of today's gives them.
    await migrations.migrate_to(url, "head")
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as db:
            kinds = (await db.execute(sa.select(ContributionLike.kind))).scalars().all()
            assert kinds == [ReactionKind.LIKE, ReactionKind.LIKE]
            counted = sa.select(t.week, t.session_id, *at_0019, t.dislikes_received)
            before = (await db.execute(counted)).all()
            await activity.rebuild(db, 1)
            await db.commit()
            again = {
                (row.week, row.session_id): row.answers
                for row in (await db.execute(sa.select(WeeklyActivity))).scalars()
            }
            assert again == {(date(2026, 8, 31), 7): 1, (date(2026, 9, 7), 7): 0}
            assert sorted((await db.execute(counted)).all()) == sorted(before)
    finally:
        await engine.dispose()
