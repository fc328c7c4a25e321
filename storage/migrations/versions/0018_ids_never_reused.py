"""inbox_event and local_message ids are never given again (SQLite AUTOINCREMENT)

SQLite gives a new row the largest id + 1: once the retention purge has emptied a table
(a bot idle for a week), ids would start again. A request's id names its effects' keys
(`inbox-<id>` in the dispatcher, `teams:<id>:reply:<n>` in the outbox, kept longer), and
a playground message's id is what later edits of it name: a new one must never reuse an
old one. AUTOINCREMENT keeps the highest id ever given (sqlite_sequence); PostgreSQL's
identity columns never reuse ids already. Neither table is referenced by a foreign key,
so rebuilding them is safe.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 00:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("inbox_event", "local_message")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ):
            pass


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(table, recreate="always"):
            pass
