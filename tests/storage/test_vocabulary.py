"""The closed vocabularies (storage/vocabulary.py): typed in the code, enforced by the
database, frozen in migration 0021 (and in the later migrations that add one).

- the code names a vocabulary's values by their enum members, never by string literals
  (an `ast` scan of bot/ and storage/);
- on both databases, a value outside a column's vocabulary is refused (IntegrityError);
- the lists migration 0021 froze, with those of later migrations, equal the enums, and
  their constraints are the models';
- a row read back holds the enum member itself.
"""

from __future__ import annotations

import ast
import importlib.util
import itertools
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import CheckConstraint, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from storage.db import create_engine, session_factory
from storage.models import Base, InboxEvent, Member, OutboxMessage, Pulse, Vocabulary, Workspace
from storage.vocabulary import InboxStatus, MemberRole, OutboxKind, OutboxStatus, PulseStatus

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def _vocabulary_columns() -> dict[tuple[str, str], type[StrEnum]]:
    """(table, column) → its vocabulary, for every column the models type with one."""
    found: dict[tuple[str, str], type[StrEnum]] = {}
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, Vocabulary):
                found[(table.name, column.name)] = column.type.vocabulary
    return found


def _migration(name: str) -> ModuleType:
    path = REPO / "storage" / "migrations" / "versions" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"migration_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _migration_0021() -> ModuleType:
    return _migration("0021_vocabulary_checks")


# The migrations after 0021 that add or change a vocabulary, each freezing its own lists.
LATER_VOCABULARIES = (
    "0024_contribution_kinds",
    "0025_contribution_reactions",
    "0026_question_replies",
    "0027_community_voice",
)


def _frozen() -> dict[tuple[str, str], tuple[str, ...]]:
    """The vocabularies as the migrations froze them, applied in order."""
    frozen = dict(_migration_0021().VOCABULARIES)
    for name in LATER_VOCABULARIES:
        frozen.update(_migration(name).VOCABULARIES)
    return frozen


# (a) No string literal stands for a vocabulary's value in bot/ or storage/.


def _values_by_name() -> dict[str, set[str]]:
    """A column name → the values of the vocabularies of the columns of that name (e.g.
    `status`: every status). Literals are flagged only against these: `field.kind ==
    "datetime"` (a form field) is no vocabulary's value, so it is not flagged."""
    values: dict[str, set[str]] = {}
    for (_table, column), vocabulary in _vocabulary_columns().items():
        values.setdefault(column, set()).update(member.value for member in vocabulary)
    return values


def _named(node: ast.expr) -> str | None:
    """The column name `node` reads: `x.status`, `table.c.status`, `row["status"]`."""
    if isinstance(node, ast.Attribute):
        return node.attr
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, str)
    ):
        return node.slice.value
    return None


def _literals(node: ast.expr | None) -> list[str]:
    """The str literals `node` is or holds: "a", ("a", "b"), {"a"}, ["a"], "a" if c else "b"."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [value for element in node.elts for value in _literals(element)]
    if isinstance(node, ast.IfExp):
        return _literals(node.body) + _literals(node.orelse)
    return []


def violations(source: str, values: dict[str, set[str]]) -> list[tuple[int, str]]:
    """(line, what) for each vocabulary value written as a literal in `source`: compared
    (==, !=, in, not in, SQL's in_ and not_in) with a column of that name, assigned to one
    (`x.status = "open"`, also in a tuple assignment), passed as a keyword argument
    (`status="open"`), or given as a dict item (`{"status": "open"}`)."""
    found: list[tuple[int, str]] = []

    def check(name: str | None, value: ast.expr | None, line: int) -> None:
        if name in values:
            for literal in _literals(value):
                if literal in values[name]:
                    found.append((line, f"{name} {literal!r}"))

    def assigned(target: ast.expr, value: ast.expr, line: int) -> None:
        if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
            for one, other in zip(target.elts, value.elts, strict=False):
                assigned(one, other, line)
        else:
            check(_named(target), value, line)

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for (left, right), operator in zip(itertools.pairwise(operands), node.ops, strict=True):
                if isinstance(operator, ast.Eq | ast.NotEq | ast.In | ast.NotIn):
                    check(_named(left), right, node.lineno)
                    check(_named(right), left, node.lineno)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                assigned(target, node.value, node.lineno)
        elif isinstance(node, ast.keyword):
            check(node.arg, node.value, node.value.lineno)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"in_", "not_in", "notin_"}
        ):
            for argument in node.args:
                check(_named(node.func.value), argument, node.lineno)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    check(key.value, value, value.lineno)
    return found


def _scanned_files() -> list[Path]:
    skipped = {REPO / "storage" / "vocabulary.py"}
    files = [*(REPO / "bot").rglob("*.py"), *(REPO / "storage").rglob("*.py")]
    return [
        path
        for path in sorted(files)
        if path not in skipped and (REPO / "storage" / "migrations") not in path.parents
    ]


def test_the_code_names_vocabulary_values_by_their_enum_members() -> None:
    values = _values_by_name()
    found = [
        f"{path.relative_to(REPO)}:{line}: {what}"
        for path in _scanned_files()
        for line, what in violations(path.read_text(encoding="utf-8"), values)
    ]
    assert found == [], "use the enum of storage/vocabulary.py:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "source",
    [
        'if pulse.status == "open": pass',
        'if "open" != pulse.status: pass',
        'ok = wish.status in ("stopped", "declined")',
        'ok = wish.status not in {"stopped"}',
        'query = select(t).where(t.c.outcome == "success")',
        'query = select(t).where(t.c.status.in_(("sent", "superseded")))',
        'query = select(t).where(Pulse.status.not_in(["closed"]))',
        'pulse.status = "closed"',
        'wish.status, wish.updated_at = "waiting", now',
        'Pulse(status="scheduled")',
        'update(outbox).values(status="failed" if give_up else "pending")',
        'row = {"role": "learner"}',
        'if row["kind"] == "answer": pass',
    ],
)
def test_the_scan_finds_literals(source: str) -> None:
    assert violations(source, _values_by_name()) != []


@pytest.mark.parametrize(
    "source",
    [
        'if field.kind == "datetime": pass',  # a form field's kind: no vocabulary's value
        'if recurrence.kind == "once": pass',
        "if pulse.status == PulseStatus.OPEN: pass",
        'Command("pair", role=ANIMATOR)',
        'log.info("x", extra={"status": code})',
    ],
)
def test_the_scan_leaves_other_strings_alone(source: str) -> None:
    assert violations(source, _values_by_name()) == []


# (b) The database refuses a value outside a column's vocabulary.


async def _one_row_each(connection: Any) -> None:
    """A workspace, a member, and one row of each table the constraints below are on."""
    common = {"now": NOW}
    statements = [
        "INSERT INTO workspace (id, platform, external_id, public_id, legacy_badge_urls,"
        " created_at) VALUES (1, 'local', 'w', 'p', false, :now)",
        "INSERT INTO member (id, workspace_id, user_id, display_name, role, created_at)"
        " VALUES (1, 1, 'u1', 'U1', 'learner', :now)",
        "INSERT INTO outbox_message (id, idempotency_key, platform, workspace_id, target, kind,"
        " payload, status, attempts, next_attempt_at, created_at)"
        " VALUES (1, 'k', 'local', 1, 'general', 'post', '{}', 'pending', 0, :now, :now)",
        "INSERT INTO inbox_event (id, platform, kind, payload, status, attempts, received_at,"
        " next_attempt_at) VALUES (1, 'local', 'command', '{}', 'pending', 0, :now, :now)",
        "INSERT INTO pulse (id, workspace_id, created_by_id, conversation, status,"
        " reminders_sent, recipients, created_at)"
        " VALUES (1, 1, 1, 'general', 'scheduled', 0, 0, :now)",
        "INSERT INTO challenge (id, workspace_id, created_by_id, text, conversation, locale,"
        " status, open_days, created_at) VALUES (1, 1, 1, 'Try', 'general', 'en', 'active',"
        " 7, :now)",
        "INSERT INTO mentee_wish (id, workspace_id, member_id, status, languages, updated_at)"
        " VALUES (1, 1, 1, 'waiting', '', :now)",
        "INSERT INTO contribution (id, workspace_id, member_id, kind, text, created_at,"
        " updated_at) VALUES (1, 1, 1, 'share', 'Tip', :now, :now)",
        # No kind: the column's default (every like before migration 0025 became one).
        "INSERT INTO contribution_like (id, contribution_id, member_id, created_at)"
        " VALUES (1, 1, 1, :now)",
    ]
    for statement in statements:
        await connection.execute(text(statement), common)


CONSTRAINED = [
    ("member", "role"),
    ("outbox_message", "status"),
    ("outbox_message", "kind"),
    ("inbox_event", "status"),
    ("pulse", "status"),
    ("challenge", "status"),
    ("mentee_wish", "status"),
    ("contribution_like", "kind"),
]


@pytest.mark.parametrize(("table", "column"), CONSTRAINED)
async def test_the_database_refuses_a_value_outside_the_vocabulary(
    database_url: str, table: str, column: str
) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await _one_row_each(connection)
        # Raw SQL: the models' own check (ValueError before the statement) is not in the way.
        with pytest.raises(IntegrityError, match=f"ck_{table}_{column}"):
            async with engine.begin() as connection:
                await connection.execute(text(f"UPDATE {table} SET {column} = 'bogus'"))
        async with engine.begin() as connection:
            # A value of the vocabulary is taken (the row was valid, and still is).
            stored = (await connection.execute(text(f"SELECT {column} FROM {table}"))).scalar()
            vocabulary = _vocabulary_columns()[(table, column)]
            other = next(member for member in vocabulary if member != stored)
            await connection.execute(text(f"UPDATE {table} SET {column} = :v"), {"v": other})
    finally:
        await engine.dispose()


async def test_the_models_refuse_a_value_outside_the_vocabulary(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await _one_row_each(connection)
        with pytest.raises(StatementError, match="'boss' is not a valid MemberRole"):
            async with session_factory(engine)() as db, db.begin():
                member = await db.get(Member, 1)
                assert member is not None
                member.role = "boss"  # type: ignore[assignment]
    finally:
        await engine.dispose()


# (c) The migration's frozen lists are the enums; its constraints are the models'.


def test_the_migration_froze_the_vocabularies_as_they_are() -> None:
    assert {
        key: tuple(member.value for member in vocabulary)
        for key, vocabulary in _vocabulary_columns().items()
    } == _frozen()


def test_the_models_declare_the_migration_s_constraints() -> None:
    migration = _migration_0021()
    declared = {
        str(constraint.name): str(constraint.sqltext)
        for table in Base.metadata.sorted_tables
        for constraint in table.constraints
        if isinstance(constraint, CheckConstraint)
    }
    assert declared == {
        migration.constraint_name(table, column): migration.condition(column, values)
        for (table, column), values in _frozen().items()
    }


async def test_the_migrated_database_has_the_models_constraints(database_url: str) -> None:
    expected = {
        (table.name, str(constraint.name))
        for table in Base.metadata.sorted_tables
        for constraint in table.constraints
        if isinstance(constraint, CheckConstraint)
    }

    def present(connection: Any) -> set[tuple[str, str]]:
        inspector = inspect(connection)
        return {
            (table, str(check["name"]))
            for table in inspector.get_table_names()
            for check in inspector.get_check_constraints(table)
        }

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(present) == expected
    finally:
        await engine.dispose()


# (d) A row read back holds the enum member.


async def test_rows_read_back_hold_the_enum_members(database_url: str) -> None:
    engine = create_engine(database_url)
    db_sessions = session_factory(engine)
    try:
        async with db_sessions() as db, db.begin():
            workspace = Workspace(platform="local", external_id="w", created_at=NOW)
            db.add(workspace)
            await db.flush()
            member = Member(
                workspace_id=workspace.id, user_id="u1", display_name="U1", created_at=NOW
            )
            db.add(member)
            await db.flush()
            db.add(
                Pulse(
                    workspace_id=workspace.id,
                    created_by_id=member.id,
                    conversation="general",
                    status=PulseStatus.OPEN,
                    created_at=NOW,
                )
            )
            # A bulk insert through the table, with the values as plain strings.
            await db.execute(
                insert(InboxEvent),
                [
                    {
                        "platform": "local",
                        "kind": "command",
                        "payload": {},
                        "status": status,
                        "received_at": NOW,
                        "next_attempt_at": NOW,
                    }
                    for status in ("pending", "done")
                ],
            )
        async with db_sessions() as db:
            pulse = (await db.execute(select(Pulse))).scalar_one()
            assert pulse.status is PulseStatus.OPEN
            stored_member = (await db.execute(select(Member))).scalar_one()
            assert stored_member.role is MemberRole.LEARNER  # the column's default
            statuses = list(
                (await db.execute(select(InboxEvent.status).order_by(InboxEvent.id))).scalars()
            )
            assert statuses == [InboxStatus.PENDING, InboxStatus.DONE]
            assert all(isinstance(status, InboxStatus) for status in statuses)
        async with engine.connect() as connection:
            # Core queries on the table read members too; raw SQL reads the plain strings.
            table = OutboxMessage.__table__
            assert (await connection.execute(select(table.c.status))).all() == []
            raw = (await connection.execute(text("SELECT status FROM pulse"))).scalar()
            assert raw == "open" and type(raw) is str
    finally:
        await engine.dispose()


def test_a_member_is_its_value() -> None:
    assert OutboxStatus.SENT == "sent"
    assert f"{OutboxKind.POST}" == "post"
    assert MemberRole("admin") is MemberRole.ADMIN
