"""secrets sealed at rest: the key check row; Slack token columns wide enough for sealed values

The values themselves are sealed at start-up (storage/sealed_columns.py), where the key is
known; a migration never sees the key.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "secret_key_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("sealed_check", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_secret_key_check")),
    )
    with op.batch_alter_table("slack_installation") as batch:
        batch.alter_column("bot_token", type_=sa.Text(), existing_nullable=False)
        batch.alter_column("bot_refresh_token", type_=sa.Text(), existing_nullable=True)


def downgrade() -> None:
    # Sealed tokens do not fit 255 characters: going back needs the tokens unsealed first.
    with op.batch_alter_table("slack_installation") as batch:
        batch.alter_column("bot_refresh_token", type_=sa.String(length=255))
        batch.alter_column("bot_token", type_=sa.String(length=255))
    op.drop_table("secret_key_check")
