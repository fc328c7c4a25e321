"""the dashboard's activity rollup: activity_week, activity_occurrence,
member.first_contributed_at, indexes

The steering dashboard must not scan the contributions on each page load: `activity_week`
holds their counts per UTC week and contributor's session, `activity_occurrence` the
answers per challenge occurrence and answerer's session, both kept by the writers
(storage/activity.py). `member.first_contributed_at` gives the funnel's "first
contribution" step. Both are backfilled here from the existing rows (the same statements
as `storage.activity.rebuild`). Indexes: the community's sizes per week read from
`ix_member_cohort` alone; answers per occurrence and outcome; the latest posted
occurrences; a member's likes given.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "activity_week",
        sa.Column("id", BigId, nullable=False),
        sa.Column("workspace_id", BigId, nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("session_id", sa.BigInteger(), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("successes", sa.Integer(), nullable=False),
        sa.Column("not_yets", sa.Integer(), nullable=False),
        sa.Column("shares", sa.Integer(), nullable=False),
        sa.Column("likes_given", sa.Integer(), nullable=False),
        sa.Column("likes_received", sa.Integer(), nullable=False),
        sa.Column("arrivals", sa.Integer(), nullable=False),
        sa.Column("departures", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name="fk_activity_week_workspace_id_workspace",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_activity_week"),
        sa.UniqueConstraint("workspace_id", "week", "session_id", name="uq_activity_week"),
    )
    op.create_index(
        "ix_activity_week_sums",
        "activity_week",
        [
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
        ],
    )
    op.create_table(
        "activity_occurrence",
        sa.Column("id", BigId, nullable=False),
        sa.Column("workspace_id", BigId, nullable=False),
        sa.Column("occurrence_id", BigId, nullable=False),
        sa.Column("session_id", sa.BigInteger(), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("successes", sa.Integer(), nullable=False),
        sa.Column("not_yets", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name="fk_activity_occurrence_workspace_id_workspace",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["occurrence_id"],
            ["challenge_occurrence.id"],
            name="fk_activity_occurrence_occurrence_id_challenge_occurrence",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_activity_occurrence"),
        sa.UniqueConstraint("occurrence_id", "session_id", name="uq_activity_occurrence"),
    )
    # Added in place (no batch rebuild on SQLite: it would let the foreign keys cascade).
    op.add_column(
        "member", sa.Column("first_contributed_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index(
        "ix_member_cohort",
        "member",
        [
            "workspace_id",
            "joined_session_id",
            "joined_at",
            "left_at",
            "created_at",
            "first_contributed_at",
        ],
    )
    op.create_index(
        "ix_contribution_occurrence", "contribution", ["occurrence_id", "outcome", "hidden_at"]
    )
    op.create_index(
        "ix_challenge_occurrence_posted", "challenge_occurrence", ["workspace_id", "posted_at"]
    )
    op.create_index("ix_contribution_like_member", "contribution_like", ["member_id"])

    from storage.activity import rebuild_statements

    bind = op.get_bind()
    for (workspace_id,) in bind.execute(sa.text("SELECT id FROM workspace")).all():
        # As the schema is at this revision (migration 0025 adds reaction kinds later).
        for statement in rebuild_statements(int(workspace_id), reaction_kinds=False):
            bind.execute(statement)


def downgrade() -> None:
    op.drop_index("ix_contribution_like_member", table_name="contribution_like")
    op.drop_index("ix_challenge_occurrence_posted", table_name="challenge_occurrence")
    op.drop_index("ix_contribution_occurrence", table_name="contribution")
    op.drop_index("ix_member_cohort", table_name="member")
    op.drop_column("member", "first_contributed_at")
    op.drop_table("activity_occurrence")
    op.drop_index("ix_activity_week_sums", table_name="activity_week")
    op.drop_table("activity_week")
