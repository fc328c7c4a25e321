"""pulse.final_grid: a closed pulse's answers counted by (score, LSAT), kept at close

The steering dashboard's NPS × LSAT scatter counts answers by (score, LSAT). A closed
pulse's answers never change again, so closing keeps those counts next to its sums
(`final_sums`): the scatter over years of pulses then reads only the open ones' answers.
Pulses closed before this revision have no grid; it is computed from their answers when
asked (nothing to backfill).

Revision ID: 0020
Revises: 0018 (the integrator re-chains it onto 0019)
Create Date: 2026-12-02 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # In place (no batch rebuild on SQLite: that would let the foreign keys take rows along).
    op.add_column("pulse", sa.Column("final_grid", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("pulse", "final_grid")
