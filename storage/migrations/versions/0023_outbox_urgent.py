"""outbox_message.urgent: the replies to a person's own request, sent in their own lane

A reply (the answer to a slash command, a click, a form) is written to the outbox with
the request's effects (issue 18). It must not wait behind a fan-out of paced DMs or card
edits: the outbox sender claims urgent rows in a lane of their own, each lane through
the index (status, urgent, id).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases (no table rebuild: the CHECK constraints of
    # migration 0021 stay as they are).
    op.add_column(
        "outbox_message",
        sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_outbox_message_lane", "outbox_message", ["status", "urgent", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_message_lane", table_name="outbox_message")
    # SQLite drops a column natively since 3.35 (Python 3.11's is newer).
    op.execute("ALTER TABLE outbox_message DROP COLUMN urgent")
