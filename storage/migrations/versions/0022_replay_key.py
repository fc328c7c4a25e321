"""inbound_event becomes replay_key

The table of platform events already handled was named `inbound_event`, beside
`inbox_event` (the requests recorded before they are handled) and the core's neutral
`InboundEvent` union: three things, two names. What it holds is a replay key — a Slack
request's signature, an event or activity id, an OAuth state — so it is named for that.

A new table is made with its own constraint names (a renamed table keeps its old ones on
both databases), the keys are copied (at most `dedupe_days` of them: the daily purge
deletes older ones), under new ids, and the old table is dropped; nothing refers to it
by a foreign key.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _create(name: str) -> None:
    op.create_table(
        name,
        sa.Column("id", BigId, nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.UniqueConstraint("key", name=op.f(f"uq_{name}_key")),
    )
    op.create_index(f"ix_{name}_received", name, ["received_at"])


def _move(source: str, target: str) -> None:
    _create(target)
    op.execute(
        # New ids (the table's own sequence): a key's id means nothing, and copying them
        # would leave PostgreSQL's sequence behind them.
        f"INSERT INTO {target} (key, received_at) SELECT key, received_at FROM {source} ORDER BY id"
    )
    op.drop_index(f"ix_{source}_received", table_name=source)
    op.drop_table(source)


def upgrade() -> None:
    _move("inbound_event", "replay_key")


def downgrade() -> None:
    _move("replay_key", "inbound_event")
