"""community voice: each contribution's language, sentiment and vector; each workspace's themes

Issue 19's themes and sentiment (bot/voice/). Two tables:

- contribution_voice: one row per contribution the voice has read (its primary key is the
  contribution's id, ON DELETE CASCADE: the vector is derived from the text and goes with
  it), the workspace (the themes are per workspace), the language, the sentiment (the
  vocabulary `Sentiment`, CHECK ck_contribution_voice_sentiment), the content words'
  vector (float16 bytes) and the theme it is in (nullable);
- theme_map: one row per workspace, its latest themes (centres, each language's mean, key
  words per theme and language, how many posts, which encoder, when).

No data to move: the rows are made by the voice's catch-up after the upgrade (every
contribution without a voice row is read then). Downgrade drops both tables.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# (table, column) → the values allowed from this revision on (frozen; tests/storage/
# test_vocabulary.py compares them with storage/vocabulary.py).
VOCABULARIES: dict[tuple[str, str], tuple[str, ...]] = {
    ("contribution_voice", "sentiment"): ("positive", "neutral", "negative"),
}


def _one_of(column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(
        f"{column} IN ({listed})", name=op.f(f"ck_contribution_voice_{column}")
    )


def upgrade() -> None:
    op.create_table(
        "contribution_voice",
        sa.Column("contribution_id", ID, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("sentiment", sa.String(length=16), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("theme", sa.Integer(), nullable=True),
        _one_of("sentiment", VOCABULARIES[("contribution_voice", "sentiment")]),
        sa.ForeignKeyConstraint(
            ["contribution_id"],
            ["contribution.id"],
            name=op.f("fk_contribution_voice_contribution_id_contribution"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_contribution_voice_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("contribution_id", name=op.f("pk_contribution_voice")),
    )
    op.create_index(
        "ix_contribution_voice_workspace_id", "contribution_voice", ["workspace_id", "theme"]
    )
    op.create_table(
        "theme_map",
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=32), nullable=False),
        sa.Column("centres", sa.LargeBinary(), nullable=False),
        sa.Column("means", sa.LargeBinary(), nullable=False),
        sa.Column("languages", sa.String(length=64), nullable=False),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_theme_map_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_theme_map")),
    )


def downgrade() -> None:
    op.drop_table("theme_map")
    op.drop_index("ix_contribution_voice_workspace_id", table_name="contribution_voice")
    op.drop_table("contribution_voice")
