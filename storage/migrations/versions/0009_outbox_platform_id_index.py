"""outbox: index on the platform message id (reactions name the message they are on)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 03:05:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_outbox_message_platform_id", "outbox_message", ["platform_message_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_message_platform_id", table_name="outbox_message")
