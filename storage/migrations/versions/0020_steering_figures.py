"""steering figures: a closed pulse's (score, LSAT) grid, days to each badge, two indexes

The steering dashboard (issue 17) must draw a workspace of 100,000 members quickly:

- pulse.final_grid: a closed pulse's answers counted by (score, LSAT), kept at close next
  to its sums (`final_sums`), so the NPS × LSAT scatter over years of pulses reads only
  the open ones' answers. Filled here for the pulses already closed (one pass over their
  answers); a closed pulse without one is still counted when asked.
- badge_award.joined_days: whole days from the member's joining to the award, written
  with the award (time to each level without joining every award to its member); filled
  here for the awards already made, from the members' joining as it stands.
- ix_badge_award_months and ix_badge_award_days (awards not revoked, per level: by
  instant, by days after joining) and ix_member_level (the ladder's distribution): the
  ladder's figures read indexes only, in order.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DAYS = {
    "postgresql": "CAST(floor(extract(epoch FROM badge_award.awarded_at - member.joined_at)"
    " / 86400) AS INTEGER)",
    "sqlite": "CAST(julianday(badge_award.awarded_at) - julianday(member.joined_at) AS INTEGER)",
}


def upgrade() -> None:
    # Columns added in place (no batch rebuild on SQLite: that would drop the tables and let
    # the foreign keys take their rows along).
    op.add_column("pulse", sa.Column("final_grid", sa.JSON(), nullable=True))
    _keep_grids_of_closed_pulses()
    op.add_column("badge_award", sa.Column("joined_days", sa.Integer(), nullable=True))
    days = DAYS[op.get_bind().dialect.name]
    op.execute(
        f"UPDATE badge_award SET joined_days = (SELECT {days} FROM member"
        " WHERE member.id = badge_award.member_id AND member.joined_at IS NOT NULL)"
    )
    for name, columns in (
        (
            "ix_badge_award_months",
            ["workspace_id", "level", "awarded_at", "joined_days", "member_id"],
        ),
        (
            "ix_badge_award_days",
            ["workspace_id", "level", "joined_days", "awarded_at", "member_id"],
        ),
    ):
        op.create_index(
            name,
            "badge_award",
            columns,
            sqlite_where=sa.text("revoked_at IS NULL"),
            postgresql_where=sa.text("revoked_at IS NULL"),
        )
    op.create_index("ix_member_level", "member", ["workspace_id", "level", "joined_at", "left_at"])


def _keep_grids_of_closed_pulses() -> None:
    """What closing now keeps (storage.pulses.freeze_sums), for the pulses already closed."""
    bind = op.get_bind()
    counted = bind.execute(
        sa.text(
            "SELECT a.pulse_id, a.score, a.lsat, count(*) FROM pulse_answer a"
            " JOIN pulse p ON p.id = a.pulse_id WHERE p.status = 'closed'"
            " GROUP BY a.pulse_id, a.score, a.lsat"
        )
    ).all()
    grids: dict[int, list[list[int | None]]] = {}
    for pulse_id, score, lsat, n in counted:
        grids.setdefault(int(pulse_id), []).append(
            [int(score), int(lsat) if lsat is not None else None, int(n)]
        )
    pulse = sa.table("pulse", sa.column("id", sa.Integer()), sa.column("final_grid", sa.JSON()))
    for pulse_id, grid in grids.items():
        grid.sort(key=lambda cell: (cell[0], cell[1] or 0))
        bind.execute(pulse.update().where(pulse.c.id == pulse_id).values(final_grid=grid))


def downgrade() -> None:
    op.drop_index("ix_member_level", table_name="member")
    op.drop_index("ix_badge_award_days", table_name="badge_award")
    op.drop_index("ix_badge_award_months", table_name="badge_award")
    op.drop_column("badge_award", "joined_days")
    op.drop_column("pulse", "final_grid")
