"""personal data rights: members who left, and the badges of people who were erased

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # In place (no batch rebuild: on SQLite that drops the table, and the foreign keys would
    # take every member's rows with it).
    op.add_column("member", sa.Column("left_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "erased_badge",
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("level", sa.String(length=32), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_erased_badge_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("uid", name=op.f("pk_erased_badge")),
    )
    op.create_table(
        "erasure_sweep",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("traces", sa.JSON(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_erasure_sweep_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_sweep")),
    )


def downgrade() -> None:
    op.drop_table("erasure_sweep")
    op.drop_table("erased_badge")
    op.drop_column("member", "left_at")
