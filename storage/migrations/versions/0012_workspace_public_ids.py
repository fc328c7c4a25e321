"""workspace: a random public id for the Open Badges URLs; numeric URLs kept where badges exist

Before this revision the issuer URLs were /badges/issuers/<workspace id>: sequential, so
walking 1, 2, 3… gave every installed workspace's name. Each workspace now gets a random
public id (128 bits). Workspaces that already issued badges keep their numeric URLs
(`legacy_badge_urls`), because an issued Open Badge names its BadgeClass and issuer by
URL and must keep verifying; every other workspace, and every new one, only ever has the
random id. See bot/open_badges/documents.py (`issuer_key`).

No table is rebuilt: on SQLite a rebuild drops the table, and with foreign keys on, the
drop would cascade to every member. So the columns are added in place: `public_id` NOT NULL
with an empty default that is overwritten at once (PostgreSQL then drops the default; SQLite
cannot without a rebuild, and its unique index refuses a second empty id anyway).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 09:00:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_workspace = sa.table(
    "workspace",
    sa.column("id", sa.BigInteger()),
    sa.column("public_id", sa.String(32)),
    sa.column("legacy_badge_urls", sa.Boolean()),
)
_badge_award = sa.table("badge_award", sa.column("workspace_id", sa.BigInteger()))


def upgrade() -> None:
    op.add_column(
        "workspace",
        sa.Column("public_id", sa.String(length=32), nullable=False, server_default=""),
    )
    op.add_column(
        "workspace",
        sa.Column("legacy_badge_urls", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    bind = op.get_bind()
    for (workspace_id,) in bind.execute(sa.select(_workspace.c.id)).all():
        bind.execute(
            _workspace.update()
            .where(_workspace.c.id == workspace_id)
            .values(public_id=secrets.token_urlsafe(16))
        )
    issued = sa.select(_badge_award.c.workspace_id).distinct()
    bind.execute(
        _workspace.update().where(_workspace.c.id.in_(issued)).values(legacy_badge_urls=True)
    )
    if bind.dialect.name == "postgresql":
        op.alter_column("workspace", "public_id", server_default=None)
    op.create_index("ix_workspace_public_id", "workspace", ["public_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_workspace_public_id", table_name="workspace")
    # ALTER TABLE … DROP COLUMN in place (SQLite 3.35+): no rebuild, see the module's note.
    op.execute("ALTER TABLE workspace DROP COLUMN legacy_badge_urls")
    op.execute("ALTER TABLE workspace DROP COLUMN public_id")
