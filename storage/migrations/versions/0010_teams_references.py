"""teams: conversation references and members (proactive messages after a restart)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 03:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "teams_conversation",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=400), nullable=False),
        sa.Column("service_url", sa.String(length=400), nullable=False),
        sa.Column("conversation_type", sa.String(length=16), nullable=False),
        sa.Column("bot_id", sa.String(length=200), nullable=False),
        sa.Column("aad_object_id", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.String(length=200), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams_conversation")),
        sa.UniqueConstraint("tenant_id", "conversation_id", name="uq_teams_conversation"),
    )
    op.create_index(
        "ix_teams_conversation_personal", "teams_conversation", ["tenant_id", "aad_object_id"]
    )
    op.create_table(
        "teams_member",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("aad_object_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("service_url", sa.String(length=400), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams_member")),
        sa.UniqueConstraint("tenant_id", "aad_object_id", name="uq_teams_member"),
    )


def downgrade() -> None:
    op.drop_table("teams_member")
    op.drop_index("ix_teams_conversation_personal", table_name="teams_conversation")
    op.drop_table("teams_conversation")
