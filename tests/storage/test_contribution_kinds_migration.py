"""Migration 0024 on a database with rows already, on both databases: every contribution and
like stays (SQLite rebuilds `contribution`, which `contribution_like` cascades from), the
new kinds are allowed and nothing else is, the weekly rollup gains its counters at 0; the
downgrade turns the new kinds into shares and restores the old constraint."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from tests.storage.test_vocabulary_migration import ROWS, _run
from tests.support import migrations

COUNT = [
    "SELECT count(*) FROM contribution",
    "SELECT count(*) FROM contribution_like",
]


async def test_kinds_come_and_go(empty_database: str) -> None:
    url = empty_database
    await migrations.migrate_to(url, "0023")
    await _run(
        url,
        [
            *ROWS[:6],
            "INSERT INTO activity_week (id, workspace_id, week,"
            " session_id, answers, successes, not_yets, shares, likes_given,"
            " likes_received, arrivals, departures) VALUES (1, 1, '2026-11-30', 0,"
            " 1, 1, 0, 1, 1, 1, 2, 0)",
        ],
    )
    before = await _run(url, COUNT)
    await migrations.migrate_to(url, "0024")
    assert await _run(url, COUNT) == before == [[(2,)], [(1,)]]
    [week] = await _run(url, ["SELECT shares, questions, experiences, watches FROM activity_week"])
    assert week == [(1, 0, 0, 0)]
    new: list[Any] = [
        "INSERT INTO contribution (id, workspace_id, member_id, kind, text, link, created_at,"
        f" updated_at) VALUES ({n}, 1, 2, '{kind}', 'x', NULL, :now, :now)"
        for n, kind in ((3, "question"), (4, "experience"), (5, "watch"))
    ]
    await _run(url, new)
    with pytest.raises(IntegrityError, match="ck_contribution_kind"):
        await _run(url, ["UPDATE contribution SET kind = 'rumour' WHERE id = 3"])

    await migrations.downgrade_to(url, "0023")
    [kinds, likes] = await _run(
        url,
        ["SELECT kind FROM contribution ORDER BY id", "SELECT count(*) FROM contribution_like"],
    )
    assert kinds == [("answer",), ("share",), ("share",), ("share",), ("share",)]
    assert likes == [(1,)]
    with pytest.raises(IntegrityError, match="ck_contribution_kind"):
        await _run(url, ["UPDATE contribution SET kind = 'question' WHERE id = 3"])
