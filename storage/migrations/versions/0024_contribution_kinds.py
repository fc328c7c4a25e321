"""kinds of contribution: question, experience, watch; their weekly counters

A free contribution was one undifferentiated share (issue 19). `contribution.kind` now also
takes `question`, `experience` (an experience report, "retour d'expérience") and `watch`
(a link the learner found worth reading, in `contribution.link`): its CHECK constraint
ck_contribution_kind is replaced by one with the new list, frozen below as
storage/vocabulary.py has it at this revision (a test keeps it equal to the enum).

`activity_week` gains `questions`, `experiences` and `watches` (of `shares`, which still
counts every free contribution, those of each kind), 0 for the rows already there: no
contribution could be of these kinds before. Its covering index `ix_activity_week_sums`
is made again with them, so that the dashboard's sums still read the index alone.

PostgreSQL: the constraint dropped and added in the migration's transaction. SQLite cannot
change a constraint: the `contribution` table is rebuilt from its own CREATE TABLE text with
the new condition, by migration 0021's procedure (foreign keys off outside a transaction,
since `contribution_like` cascades from it; `PRAGMA foreign_key_check` before the commit).

Downgrade: the contributions of the new kinds become shares (their text and link stay),
then the old constraint, index and columns come back.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 14:00:00
"""

import importlib.util
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column) → the values allowed from this revision on (0021's other lists stand).
VOCABULARIES: dict[tuple[str, str], tuple[str, ...]] = {
    ("contribution", "kind"): ("answer", "share", "question", "experience", "watch"),
}
BEFORE: dict[tuple[str, str], tuple[str, ...]] = {
    ("contribution", "kind"): ("answer", "share"),
}
COUNTERS = ("questions", "experiences", "watches")
SUMS = [
    "workspace_id",
    "week",
    "session_id",
    "answers",
    "successes",
    "not_yets",
    "shares",
    "likes_given",
    "likes_received",
    "arrivals",
    "departures",
]


def _migration_0021() -> ModuleType:
    """Migration 0021, for its constraint names, conditions and SQLite table rebuild."""
    path = Path(__file__).with_name("0021_vocabulary_checks.py")
    spec = importlib.util.spec_from_file_location("_migration_0021", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    bind = op.get_bind()
    _set_kinds(bind, BEFORE, VOCABULARIES)
    for name in COUNTERS:
        # In place (no batch rebuild on SQLite: it would let the foreign keys cascade).
        op.add_column(
            "activity_week",
            sa.Column(name, sa.Integer(), nullable=False, server_default=sa.text("0")),
        )
    op.drop_index("ix_activity_week_sums", table_name="activity_week")
    op.create_index("ix_activity_week_sums", "activity_week", [*SUMS, *COUNTERS])


def downgrade() -> None:
    bind = op.get_bind()
    op.drop_index("ix_activity_week_sums", table_name="activity_week")
    op.create_index("ix_activity_week_sums", "activity_week", SUMS)
    for name in reversed(COUNTERS):
        op.drop_column("activity_week", name)
    new = ", ".join(f"'{kind}'" for kind in VOCABULARIES[("contribution", "kind")][2:])
    bind.exec_driver_sql(f"UPDATE contribution SET kind = 'share' WHERE kind IN ({new})")
    _set_kinds(bind, VOCABULARIES, BEFORE)


def _set_kinds(
    bind: sa.Connection,
    old: dict[tuple[str, str], tuple[str, ...]],
    new: dict[tuple[str, str], tuple[str, ...]],
) -> None:
    """Replace each column's CHECK constraint of `old` values by one of `new` values."""
    m0021 = _migration_0021()
    if bind.dialect.name != "sqlite":
        for (table, column), values in new.items():
            name = m0021.constraint_name(table, column)
            op.drop_constraint(op.f(name), table, type_="check")
            op.create_check_constraint(op.f(name), table, m0021.condition(column, values))
        return

    def rewrite(table: str, create: str) -> str:
        for (at, column), values in new.items():
            if at != table:
                continue
            before = m0021.condition(column, old[(at, column)])
            assert create.count(before) == 1, f"unexpected CHECK text in {table}: {create!r}"
            create = create.replace(before, m0021.condition(column, values))
        return create

    _rebuild_sqlite(bind, m0021, sorted({table for table, _ in new}), rewrite)


def _rebuild_sqlite(
    bind: sa.Connection,
    m0021: ModuleType,
    tables: list[str],
    rewrite: Callable[[str, str], str],
) -> None:
    """Rebuild `tables` from their rewritten CREATE TABLE text, foreign keys off (migration
    0021's docstring says why and how)."""
    enforced = bool(bind.exec_driver_sql("PRAGMA foreign_keys").scalar())
    # SQLite ignores PRAGMA foreign_keys inside a transaction: end the migration run's.
    bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        if bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
            raise RuntimeError("migration 0024: SQLite did not turn foreign keys off")
        bind.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            for table in tables:
                m0021._rebuild_sqlite_table(bind, table, rewrite)
            broken = bind.exec_driver_sql("PRAGMA foreign_key_check").all()
            if broken:
                raise RuntimeError(f"migration 0024: foreign keys broken by the rebuild: {broken}")
        except BaseException:
            bind.exec_driver_sql("ROLLBACK")
            raise
        bind.exec_driver_sql("COMMIT")
    finally:
        if enforced:
            bind.exec_driver_sql("PRAGMA foreign_keys=ON")
        # The migration run goes on (Alembic records the revision) in a transaction again.
        bind.exec_driver_sql("BEGIN IMMEDIATE")
