"""Migration 0026 on a database with rows already, on both databases: every contribution and
reaction stays (SQLite rebuilds `contribution`), a reply can point at its question and is
deleted with it, the rollup gains `replies` at 0; the downgrade deletes the replies and
restores the old constraint."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from tests.storage.test_vocabulary_migration import ROWS, _run
from tests.support import migrations

COUNT = [
    "SELECT count(*) FROM contribution",
    "SELECT count(*) FROM contribution_like",
]


def _insert(n: int, kind: str, parent: str = "NULL") -> str:
    return (
        "INSERT INTO contribution (id, workspace_id, member_id, kind, text, created_at,"
        f" updated_at, parent_id) VALUES ({n}, 1, 2, '{kind}', 'x', :now, :now, {parent})"
    )


async def test_replies_come_and_go(empty_database: str) -> None:
    url = empty_database
    await migrations.migrate_to(url, "0025")
    await _run(url, ROWS[:6])
    before = await _run(url, COUNT)
    await migrations.migrate_to(url, "0026")
    assert await _run(url, COUNT) == before == [[(2,)], [(1,)]]
    await _run(url, [_insert(3, "question"), _insert(4, "reply", "3"), _insert(5, "reply", "3")])
    await _run(url, ["UPDATE contribution SET helped_at = :now WHERE id = 4"])
    [helped] = await _run(url, ["SELECT id FROM contribution WHERE helped_at IS NOT NULL"])
    assert helped == [(4,)]
    with pytest.raises(IntegrityError, match="ck_contribution_kind"):
        await _run(url, ["UPDATE contribution SET kind = 'rumour' WHERE id = 4"])
    # The foreign key holds (SQLite enforces it: the engine turns foreign keys on).
    with pytest.raises(IntegrityError):
        await _run(url, [_insert(6, "reply", "999")])
    await _run(url, ["DELETE FROM contribution WHERE id = 3"])  # its thread goes with it
    assert await _run(url, ["SELECT count(*) FROM contribution"]) == [[(2,)]]
    await _run(url, [_insert(3, "question"), _insert(4, "reply", "3")])
    [[replies]] = await _run(url, ["SELECT count(*) FROM activity_week WHERE replies <> 0"])
    assert replies == (0,)

    await migrations.downgrade_to(url, "0025")
    [kinds, likes] = await _run(
        url,
        ["SELECT kind FROM contribution ORDER BY id", "SELECT count(*) FROM contribution_like"],
    )
    assert kinds == [("answer",), ("share",), ("question",)]
    assert likes == [(1,)]
    with pytest.raises(IntegrityError, match="ck_contribution_kind"):
        await _run(url, ["UPDATE contribution SET kind = 'reply' WHERE id = 3"])
    await migrations.migrate_to(url, "0026")  # and up again
    assert await _run(url, ["SELECT count(*) FROM contribution"]) == [[(3,)]]
