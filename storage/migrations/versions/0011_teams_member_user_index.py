"""teams_member: index on (tenant, Teams user id) (a mention names a person by that id)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 05:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_teams_member_user", "teams_member", ["tenant_id", "user_id"])


def downgrade() -> None:
    op.drop_index("ix_teams_member_user", table_name="teams_member")
