"""retention: uninstalled workspaces, the teams of Teams channels, indexes for the purge

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Columns added in place (no batch rebuild on SQLite: that would drop the tables and let
    # the foreign keys take their rows along).
    op.add_column(
        "workspace", sa.Column("uninstalled_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("teams_conversation", sa.Column("team_id", sa.String(length=200), nullable=True))
    op.create_index("ix_teams_conversation_team", "teams_conversation", ["tenant_id", "team_id"])
    op.create_index("ix_outbox_message_age", "outbox_message", ["status", "created_at"])
    op.create_index("ix_inbox_event_age", "inbox_event", ["status", "received_at"])
    op.create_index("ix_inbound_event_received", "inbound_event", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_inbound_event_received", table_name="inbound_event")
    op.drop_index("ix_inbox_event_age", table_name="inbox_event")
    op.drop_index("ix_outbox_message_age", table_name="outbox_message")
    op.drop_index("ix_teams_conversation_team", table_name="teams_conversation")
    op.drop_column("teams_conversation", "team_id")
    op.drop_column("workspace", "uninstalled_at")
