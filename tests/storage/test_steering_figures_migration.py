"""Migration 0020 on a database with pulses and badges already, on both databases: the
pulses already closed get their (score, LSAT) grid, the awards already made their days
after joining (from the members' joining; unknown for those who left)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from storage import pulses
from storage.db import create_engine, session_factory
from storage.migrate import alembic_config, upgrade
from storage.models import BadgeAward, Pulse, UtcDateTime
from tests.support import migrations

JOINED = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
AWARDED = datetime(2026, 9, 11, 21, 0, tzinfo=UTC)  # 10.5 days after joining


def _table(name: str, **columns: Any) -> sa.TableClause:
    return sa.table(name, *(sa.column(key, kind) for key, kind in columns.items()))


WHEN = UtcDateTime()
_workspace = _table(
    "workspace",
    id=sa.Integer(),
    platform=sa.String(),
    external_id=sa.String(),
    public_id=sa.String(),
    created_at=WHEN,
)
_member = _table(
    "member",
    id=sa.Integer(),
    workspace_id=sa.Integer(),
    user_id=sa.String(),
    display_name=sa.String(),
    role=sa.String(),
    joined_at=WHEN,
    created_at=WHEN,
)
_pulse = _table(
    "pulse",
    id=sa.Integer(),
    workspace_id=sa.Integer(),
    created_by_id=sa.Integer(),
    conversation=sa.String(),
    status=sa.String(),
    reminders_sent=sa.Integer(),
    recipients=sa.Integer(),
    final_sums=sa.JSON(),
    created_at=WHEN,
)
_answer = _table(
    "pulse_answer",
    pulse_id=sa.Integer(),
    member_id=sa.Integer(),
    score=sa.Integer(),
    lsat=sa.Integer(),
    created_at=WHEN,
    updated_at=WHEN,
)
_award = _table(
    "badge_award",
    id=sa.Integer(),
    uid=sa.String(),
    workspace_id=sa.Integer(),
    member_id=sa.Integer(),
    level=sa.String(),
    rank=sa.Integer(),
    awarded_at=WHEN,
    source=sa.String(),
)


def _revisions(url: str) -> tuple[str, str]:
    scripts = ScriptDirectory.from_config(alembic_config(url))
    found = next(
        s for s in scripts.walk_revisions() if Path(s.path).name.endswith("_steering_figures.py")
    )
    assert isinstance(found.down_revision, str)
    return found.revision, found.down_revision


async def test_closed_pulses_get_their_grid_and_awards_their_days(empty_database: str) -> None:
    url = empty_database
    this, before = _revisions(url)
    await migrations.migrate_to(url, before)
    engine = create_engine(url)
    answers = [(2, 10, 5), (3, 10, 5), (4, 6, None)]
    try:
        async with engine.begin() as db:
            common = {"created_at": JOINED}
            await db.execute(
                _workspace.insert().values(
                    id=1, platform="local", external_id="w", public_id="p", **common
                )
            )
            for member_id, joined in ((1, None), (2, JOINED), (3, JOINED), (4, None)):
                await db.execute(
                    _member.insert().values(
                        id=member_id,
                        workspace_id=1,
                        user_id=f"u{member_id}",
                        display_name=f"U{member_id}",
                        role="learner",
                        joined_at=joined,
                        **common,
                    )
                )
            for pulse_id, status in ((1, "closed"), (2, "open")):
                await db.execute(
                    _pulse.insert().values(
                        id=pulse_id,
                        workspace_id=1,
                        created_by_id=1,
                        conversation="general",
                        status=status,
                        reminders_sent=0,
                        recipients=3,
                        final_sums={"answers": 3} if status == "closed" else None,
                        **common,
                    )
                )
                for member_id, score, lsat in answers:
                    await db.execute(
                        _answer.insert().values(
                            pulse_id=pulse_id,
                            member_id=member_id,
                            score=score,
                            lsat=lsat,
                            created_at=JOINED,
                            updated_at=JOINED,
                        )
                    )
            # Member 2 joined 10.5 days before their award; member 4 left (joining unknown).
            for award_id, member_id in ((1, 2), (2, 4)):
                await db.execute(
                    _award.insert().values(
                        id=award_id,
                        uid=f"a{award_id}",
                        workspace_id=1,
                        member_id=member_id,
                        level="junior",
                        rank=1,
                        awarded_at=AWARDED,
                        source="auto",
                    )
                )
    finally:
        await engine.dispose()
    await migrations.migrate_to(url, this)
    engine = create_engine(url)
    try:
        await upgrade(engine)  # and whatever comes after it
        async with session_factory(engine)() as db:
            closed, still_open = (await db.get(Pulse, 1)), (await db.get(Pulse, 2))
            assert closed is not None and still_open is not None
            assert closed.final_grid is not None
            assert pulses.thawed_grid(closed.final_grid) == {(10, 5): 2, (6, None): 1}
            assert still_open.final_grid is None
            days = dict((await db.execute(sa.select(BadgeAward.id, BadgeAward.joined_days))).all())
            assert days == {1: 10, 2: None}
    finally:
        await engine.dispose()
