"""contribution reactions: a like or a dislike ("not useful to me"), and the dislikes received

- contribution_like.kind: 'like' or 'dislike' (storage/vocabulary.py ReactionKind), with
  the CHECK constraint ck_contribution_like_kind like the vocabularies of migration 0021;
  every existing row was a like, so it is 'like' (the column's server default). The
  unique (contribution, member) stays: one reaction per person, a switch changes `kind`.
- activity_week.dislikes_received: the dashboard's rollup counter, 0 for existing rows
  (there was no dislike before this revision, so nothing to backfill), and the covering
  index ix_activity_week_sums made again with it.

Both are plain ADD COLUMNs on SQLite too (no table rebuild: SQLite accepts a column's
CHECK constraint in ADD COLUMN and tests it against the existing rows, which hold the
default); the constraint then reads, in the table's stored CREATE TABLE text, as a column
constraint named ck_contribution_like_kind, which SQLAlchemy's inspector lists like the
others, and which DROP COLUMN takes away with its column on downgrade.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column) → the values allowed, as storage/vocabulary.py has them at this revision
# (frozen here, as migration 0021 froze its own; tests/storage/test_vocabulary.py compares).
VOCABULARIES: dict[tuple[str, str], tuple[str, ...]] = {
    ("contribution_like", "kind"): ("like", "dislike"),
}
KIND_CHECK = "kind IN ('like', 'dislike')"

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
    # migration 0024's
    "questions",
    "experiences",
    "watches",
]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE contribution_like ADD COLUMN kind VARCHAR(16) DEFAULT 'like' NOT NULL"
            f" CONSTRAINT ck_contribution_like_kind CHECK ({KIND_CHECK})"
        )
    else:
        op.add_column(
            "contribution_like",
            sa.Column("kind", sa.String(16), nullable=False, server_default="like"),
        )
        op.create_check_constraint(
            op.f("ck_contribution_like_kind"), "contribution_like", KIND_CHECK
        )
    op.add_column(
        "activity_week",
        sa.Column("dislikes_received", sa.Integer(), nullable=False, server_default="0"),
    )
    op.drop_index("ix_activity_week_sums", table_name="activity_week")
    with_dislikes = [*SUMS[:9], "dislikes_received", *SUMS[9:]]
    op.create_index("ix_activity_week_sums", "activity_week", with_dislikes)


def downgrade() -> None:
    # A dislike has no meaning before this revision (it would read as a like): gone.
    op.execute("DELETE FROM contribution_like WHERE kind <> 'like'")
    op.drop_index("ix_activity_week_sums", table_name="activity_week")
    op.create_index("ix_activity_week_sums", "activity_week", SUMS)
    # SQLite drops a column natively since 3.35 (Python 3.11's is newer), with the CHECK
    # constraint that is its own (a column constraint, as upgrade() declared it there).
    op.execute("ALTER TABLE activity_week DROP COLUMN dislikes_received")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_contribution_like_kind"), "contribution_like", type_="check")
    op.execute("ALTER TABLE contribution_like DROP COLUMN kind")
