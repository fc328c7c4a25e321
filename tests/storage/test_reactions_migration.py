"""Migration 0025 on a database holding likes, on both databases: every existing like
stays a like (the column's default), a dislike can be stored and nothing else, the
rollup's new counter starts at 0; the downgrade drops the dislikes (a dislike has no
meaning before it) and keeps the likes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from storage.db import create_engine
from tests.support import migrations

T = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
# The revision before 0025.
BEFORE = "0024"


async def _run(url: str, *statements: str) -> list[list[tuple[object, ...]]]:
    engine = create_engine(url)
    try:
        async with engine.begin() as db:
            found = []
            for statement in statements:
                result = await db.execute(sa.text(statement), {"t": T})
                found.append([tuple(row) for row in result.all()] if result.returns_rows else [])
            return found
    finally:
        await engine.dispose()


async def test_likes_stay_likes_dislikes_come_and_go_with_the_revision(
    empty_database: str,
) -> None:
    url = empty_database
    await migrations.migrate_to(url, BEFORE)
    await _run(
        url,
        "INSERT INTO workspace (id, platform, external_id, public_id, legacy_badge_urls,"
        " created_at) VALUES (1, 'local', 'w', 'p', false, :t)",
        *(
            "INSERT INTO member (id, workspace_id, user_id, display_name, role, created_at)"
            f" VALUES ({n}, 1, 'u{n}', 'U{n}', 'learner', :t)"
            for n in (1, 2, 3)
        ),
        "INSERT INTO contribution (id, workspace_id, member_id, kind, text, created_at,"
        " updated_at) VALUES (1, 1, 1, 'share', 'Tip', :t, :t)",
        "INSERT INTO contribution_like (id, contribution_id, member_id, created_at)"
        " VALUES (1, 1, 2, :t)",
        "INSERT INTO activity_week (workspace_id, week, session_id, answers, successes,"
        " not_yets, shares, likes_given, likes_received, arrivals, departures)"
        " VALUES (1, '2026-11-30', 0, 0, 0, 0, 1, 1, 1, 0, 0)",
    )

    await migrations.migrate_to(url, "0025")
    [kinds, weeks] = await _run(
        url,
        "SELECT member_id, kind FROM contribution_like",
        "SELECT week, likes_received, dislikes_received FROM activity_week",
    )
    assert kinds == [(2, "like")]
    assert [(str(week)[:10], likes, dislikes) for week, likes, dislikes in weeks] == [
        (str(date(2026, 11, 30)), 1, 0)
    ]
    await _run(
        url,
        "INSERT INTO contribution_like (id, contribution_id, member_id, kind, created_at)"
        " VALUES (2, 1, 3, 'dislike', :t)",
    )
    try:
        await _run(url, "UPDATE contribution_like SET kind = 'meh' WHERE id = 2")
        raise AssertionError("a kind outside the vocabulary was stored")
    except IntegrityError as refused:
        assert "ck_contribution_like_kind" in str(refused)
    try:
        await _run(
            url,
            "INSERT INTO contribution_like (id, contribution_id, member_id, kind, created_at)"
            " VALUES (3, 1, 3, 'like', :t)",
        )
        raise AssertionError("two reactions of one person")
    except IntegrityError:
        pass

    await migrations.downgrade_to(url, BEFORE)
    [left] = await _run(url, "SELECT id, member_id FROM contribution_like")
    assert left == [(1, 2)]
    await migrations.migrate_to(url, "0025")
    [kinds] = await _run(url, "SELECT member_id, kind FROM contribution_like")
    assert kinds == [(2, "like")]
