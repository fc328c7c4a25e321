"""replies to questions: contribution kind `reply`, its question, the "helped" mark

A question can be answered in its thread (issue 19). A reply is a contribution of the new
kind `reply` (ck_contribution_kind gains it, by migration 0024's procedure), with:

- contribution.parent_id: the question replied to (FK to contribution, ON DELETE CASCADE:
  a question erased takes its thread with it), indexed (a question's replies);
- contribution.helped_at: when the asker marked this reply as the one that helped. The mark
  lives on the reply rather than as a `helpful_reply_id` on the question: no second
  self-reference to keep consistent, the replier's `me` counts their helpful replies from
  their own rows, and moving the mark is one UPDATE over the question's replies.

`activity_week.replies` counts the replies per week (not in `shares`: nothing shared with
`share`), 0 for the rows already there (no reply before this revision), and the covering
index ix_activity_week_sums is made again with it.

SQLite: the two columns are plain ADD COLUMNs, then `contribution` is rebuilt from its
CREATE TABLE text with the new CHECK and the foreign key as a named table constraint, foreign
keys off (migration 0024's `_rebuild_sqlite`; the copy is `SELECT *`, so the columns are
added first). Downgrade: the replies are deleted (a reply has no meaning before this
revision), the old constraint comes back, and on SQLite the rebuild also takes the foreign
key off so that DROP COLUMN accepts `parent_id`.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03 15:00:00
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column) → the values allowed from this revision on (frozen as the vocabulary has
# them at this revision; tests/storage/test_vocabulary.py compares).
VOCABULARIES: dict[tuple[str, str], tuple[str, ...]] = {
    ("contribution", "kind"): ("answer", "share", "question", "experience", "watch", "reply"),
}
BEFORE: dict[tuple[str, str], tuple[str, ...]] = {
    ("contribution", "kind"): ("answer", "share", "question", "experience", "watch"),
}
FK = "fk_contribution_parent_id_contribution"
# SQLite: the foreign key as a table constraint, the form SQLAlchemy's inspector reads
# names from (a column constraint's name would read as None), after the primary key's.
SQLITE_PK = "CONSTRAINT pk_contribution PRIMARY KEY (id), "
SQLITE_FK = (
    f"CONSTRAINT {FK} FOREIGN KEY(parent_id) REFERENCES contribution (id) ON DELETE CASCADE, "
)
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
    "dislikes_received",
    "arrivals",
    "departures",
    "questions",
    "experiences",
    "watches",
]


def _migration_0024() -> ModuleType:
    """Migration 0024, for its constraint replacement and SQLite table rebuild."""
    path = Path(__file__).with_name("0024_contribution_kinds.py")
    spec = importlib.util.spec_from_file_location("_migration_0024", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    bind = op.get_bind()
    m0024 = _migration_0024()
    if bind.dialect.name == "sqlite":
        op.execute("ALTER TABLE contribution ADD COLUMN parent_id INTEGER")
        op.execute("ALTER TABLE contribution ADD COLUMN helped_at DATETIME")
        _rebuild_sqlite(bind, m0024, BEFORE, VOCABULARIES, add_fk=True)
    else:
        op.add_column("contribution", sa.Column("parent_id", sa.BigInteger(), nullable=True))
        op.create_foreign_key(
            op.f(FK), "contribution", "contribution", ["parent_id"], ["id"], ondelete="CASCADE"
        )
        op.add_column(
            "contribution", sa.Column("helped_at", sa.DateTime(timezone=True), nullable=True)
        )
        m0024._set_kinds(bind, BEFORE, VOCABULARIES)
    op.create_index(op.f("ix_contribution_parent_id"), "contribution", ["parent_id"])
    op.add_column(
        "activity_week",
        sa.Column("replies", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.drop_index("ix_activity_week_sums", table_name="activity_week")
    op.create_index("ix_activity_week_sums", "activity_week", [*SUMS, "replies"])


def downgrade() -> None:
    bind = op.get_bind()
    op.drop_index("ix_activity_week_sums", table_name="activity_week")
    op.create_index("ix_activity_week_sums", "activity_week", SUMS)
    op.execute("ALTER TABLE activity_week DROP COLUMN replies")
    op.drop_index(op.f("ix_contribution_parent_id"), table_name="contribution")
    bind.exec_driver_sql("DELETE FROM contribution WHERE kind = 'reply'")
    m0024 = _migration_0024()
    if bind.dialect.name != "sqlite":
        m0024._set_kinds(bind, VOCABULARIES, BEFORE)
        op.drop_constraint(op.f(FK), "contribution", type_="foreignkey")
    else:
        _rebuild_sqlite(bind, m0024, VOCABULARIES, BEFORE, add_fk=False)
    op.execute("ALTER TABLE contribution DROP COLUMN helped_at")
    op.execute("ALTER TABLE contribution DROP COLUMN parent_id")


def _rebuild_sqlite(
    bind: sa.Connection,
    m0024: ModuleType,
    old: dict[tuple[str, str], tuple[str, ...]],
    new: dict[tuple[str, str], tuple[str, ...]],
    *,
    add_fk: bool,
) -> None:
    """Rebuild `contribution` with the CHECK of `new` kinds, with (or without) the foreign
    key of `parent_id`."""
    m0021 = m0024._migration_0021()
    column = ("contribution", "kind")

    def rewrite(table: str, create: str) -> str:
        before = m0021.condition("kind", old[column])
        assert create.count(before) == 1, f"unexpected CHECK text in {table}: {create!r}"
        create = create.replace(before, m0021.condition("kind", new[column]))
        if add_fk:
            assert create.count(SQLITE_PK) == 1, create
            return create.replace(SQLITE_PK, SQLITE_PK + SQLITE_FK)
        assert create.count(SQLITE_FK) == 1, create
        return create.replace(SQLITE_FK, "")

    m0024._rebuild_sqlite(bind, m0021, ["contribution"], rewrite)
