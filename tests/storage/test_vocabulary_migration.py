"""Migration 0021 on a database with rows already, on both databases: every row stays
(SQLite rebuilds the tables, which foreign keys with ON DELETE CASCADE point at), indexes
and the AUTOINCREMENT counter are kept, and a value outside its vocabulary stops the
migration with a clear message, changing nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from storage.db import create_engine
from storage.migrate import alembic_config, upgrade
from tests.support import migrations

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

# Rows of the tables rebuilt on SQLite and of those that reference them (ON DELETE CASCADE).
ROWS = [
    "INSERT INTO workspace (id, platform, external_id, public_id, legacy_badge_urls,"
    " created_at) VALUES (1, 'local', 'w', 'p', false, :now)",
    "INSERT INTO member (id, workspace_id, user_id, display_name, role, created_at)"
    " VALUES (1, 1, 'u1', 'U1', 'animator', :now), (2, 1, 'u2', 'U2', 'learner', :now)",
    "INSERT INTO challenge (id, workspace_id, created_by_id, text, conversation, locale,"
    " status, open_days, created_at) VALUES (1, 1, 1, 'Try', 'general', 'en', 'active', 7,"
    " :now)",
    "INSERT INTO challenge_occurrence (id, challenge_id, workspace_id, conversation,"
    " planned_at, status) VALUES (1, 1, 1, 'general', :now, 'posted')",
    "INSERT INTO contribution (id, workspace_id, member_id, kind, outcome, occurrence_id,"
    " text, created_at, updated_at) VALUES (1, 1, 2, 'answer', 'success', 1, 'Done', :now,"
    " :now), (2, 1, 2, 'share', NULL, NULL, 'Look', :now, :now)",
    "INSERT INTO contribution_like (id, contribution_id, member_id, created_at)"
    " VALUES (1, 1, 1, :now)",
    "INSERT INTO activity_occurrence (id, workspace_id, occurrence_id, session_id, answers,"
    " successes, not_yets) VALUES (1, 1, 1, 0, 1, 1, 0)",
    "INSERT INTO pulse (id, workspace_id, created_by_id, conversation, status,"
    " reminders_sent, recipients, created_at) VALUES (1, 1, 1, 'general', 'open', 0, 1, :now)",
    "INSERT INTO pulse_recipient (id, pulse_id, member_id, asked_at) VALUES (1, 1, 2, :now)",
    "INSERT INTO pulse_answer (id, pulse_id, member_id, score, lsat, created_at, updated_at)"
    " VALUES (1, 1, 2, 9, 5, :now, :now)",
    "INSERT INTO pulse_answer_change (id, pulse_id, member_id, field, value, created_at)"
    " VALUES (1, 1, 2, 'score', '9', :now)",
    "INSERT INTO referral (id, workspace_id, pulse_id, referrer_id, referred_name,"
    " referred_key, response, created_at) VALUES (1, 1, 1, 2, 'Ann', 'n:ann', NULL, :now)",
    "INSERT INTO badge_award (id, uid, workspace_id, member_id, level, rank, awarded_at,"
    " source) VALUES (1, 'a1', 1, 2, 'junior', 1, :now, 'auto')",
    "INSERT INTO mentor_profile (id, workspace_id, member_id, status, capacity, languages,"
    " topics, updated_at) VALUES (1, 1, 1, 'active', 2, 'en', '', :now)",
    "INSERT INTO mentee_wish (id, workspace_id, member_id, status, languages, updated_at)"
    " VALUES (1, 1, 2, 'paired', '', :now)",
    "INSERT INTO mentoring_round (id, workspace_id, pairs, waiting, repeats_avoided, score,"
    " created_at) VALUES (1, 1, 1, 0, 0, 1.0, :now)",
    "INSERT INTO mentoring_pair (id, workspace_id, round_id, mentor_id, novice_id,"
    " created_at, check_in_at, mentor_answer) VALUES (1, 1, 1, 1, 2, :now, :now, 'met')",
    "INSERT INTO outbox_message (id, idempotency_key, platform, workspace_id, target, kind,"
    " payload, status, attempts, next_attempt_at, created_at)"
    " VALUES (1, 'k', 'local', 1, 'general', 'post', '{}', 'sent', 1, :now, :now)",
    "INSERT INTO inbox_event (id, platform, kind, payload, status, attempts, received_at,"
    " next_attempt_at) VALUES (41, 'local', 'command', '{}', 'done', 1, :now, :now),"
    " (42, 'local', 'command', '{}', 'done', 1, :now, :now)",
    # The purge took the newest request: its id must still never be given again.
    "DELETE FROM inbox_event WHERE id = 42",
    "INSERT INTO audit_entry (id, workspace_id, at, platform, actor_kind, actor_member_id,"
    " action) VALUES (1, 1, :now, 'local', 'member', 1, 'role.add')",
]

COUNTED = [
    "workspace",
    "member",
    "challenge",
    "challenge_occurrence",
    "contribution",
    "contribution_like",
    "activity_occurrence",
    "pulse",
    "pulse_recipient",
    "pulse_answer",
    "pulse_answer_change",
    "referral",
    "badge_award",
    "mentor_profile",
    "mentee_wish",
    "mentoring_round",
    "mentoring_pair",
    "outbox_message",
    "inbox_event",
    "audit_entry",
]


def _revisions(url: str) -> tuple[str, str]:
    scripts = ScriptDirectory.from_config(alembic_config(url))
    found = next(
        s for s in scripts.walk_revisions() if Path(s.path).name.endswith("_vocabulary_checks.py")
    )
    assert isinstance(found.down_revision, str)
    return found.revision, found.down_revision


async def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return {
                table: int(
                    (await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
                )
                for table in COUNTED
            }
    finally:
        await engine.dispose()


async def _sqlite_schema(url: str) -> set[tuple[str, str, str]]:
    """(type, name, sql) of SQLite's indexes, and the names of its tables."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT type, name, coalesce(sql, '') FROM sqlite_master WHERE type = 'index'")
            )
            return {(str(kind), str(name), str(sql)) for kind, name, sql in rows}
    finally:
        await engine.dispose()


async def _run(url: str, statements: list[str]) -> list[Any]:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            results = [await connection.execute(text(sql), {"now": NOW}) for sql in statements]
            return [r.all() if r.returns_rows else None for r in results]
    finally:
        await engine.dispose()


async def test_every_row_stays_and_the_constraints_hold(empty_database: str) -> None:
    url = empty_database
    this, before = _revisions(url)
    await migrations.migrate_to(url, before)
    await _run(url, ROWS)
    counts = await _counts(url)
    assert all(counts.values()), counts
    sqlite = url.startswith("sqlite")
    indexes = await _sqlite_schema(url) if sqlite else set()

    enforced = None
    engine = create_engine(url)
    try:
        # This migration as start-up runs it (later ones change other tables' indexes).
        await upgrade(engine, this)
        if sqlite:
            async with engine.connect() as connection:
                # The connection that migrated (SQLite's engine has one) enforces them again.
                enforced = (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar()
    finally:
        await engine.dispose()

    assert await _counts(url) == counts
    if sqlite:
        assert enforced == 1
        assert await _sqlite_schema(url) == indexes
        [[(sequence,)]] = await _run(
            url, ["SELECT seq FROM sqlite_sequence WHERE name = 'inbox_event'"]
        )
        assert sequence == 42
    with pytest.raises(IntegrityError, match="ck_contribution_outcome"):
        await _run(url, ["UPDATE contribution SET outcome = 'maybe'"])
    # The foreign keys still hold: deleting the workspace takes every row along (but the
    # inbox's, which belong to no workspace).
    await _run(url, ["DELETE FROM workspace"])
    remaining = await _counts(url)
    assert remaining.pop("inbox_event") == 1
    assert set(remaining.values()) == {0}, remaining


async def test_a_value_outside_its_vocabulary_stops_the_migration(empty_database: str) -> None:
    url = empty_database
    this, before = _revisions(url)
    await migrations.migrate_to(url, before)
    await _run(url, ROWS[:2])
    await _run(url, ["UPDATE member SET role = 'boss' WHERE id = 2"])
    with pytest.raises(RuntimeError, match=r"member\.role: 'boss' \(allowed: learner, animator"):
        await migrations.migrate_to(url, this)
    [[(version,)], rows] = await _run(
        url, ["SELECT version_num FROM alembic_version", "SELECT role FROM member ORDER BY id"]
    )
    assert version == before
    assert rows == [("animator",), ("boss",)]
    if url.startswith("sqlite"):
        # Nothing rebuilt: no constraint yet, the value can still be written.
        await _run(url, ["UPDATE member SET role = 'chief' WHERE id = 2"])


async def test_the_downgrade_removes_the_constraints(empty_database: str) -> None:
    url = empty_database
    this, before = _revisions(url)
    await migrations.migrate_to(url, this)
    await _run(url, ROWS)

    def down(connection: Any) -> None:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.downgrade(config, before)

    def checks(connection: Any) -> set[str]:
        inspector = inspect(connection)
        return {
            str(check["name"])
            for table in inspector.get_table_names()
            for check in inspector.get_check_constraints(table)
        }

    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(down)
        async with engine.connect() as connection:
            assert await connection.run_sync(checks) == set()
    finally:
        await engine.dispose()
    await _run(url, ["UPDATE contribution SET outcome = 'maybe'"])
    assert (await _counts(url))["contribution_like"] == 1
