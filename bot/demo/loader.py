"""`ambassador-bot demo`: a generated community loaded into the playground's workspace.

What counts as real data (the demo is refused there without `--force`): members in any
workspace other than the playground's (a Slack or Teams community). The playground's own
trials (anim1 and the preset learners typing commands) are not real data: the demo is added
next to them. A playground that already holds a demo community is refused too (a second one
would double every figure), unless `--force` adds another one; the playground's reset
button (or `POST /local/api/reset`) starts again from nothing.

Everything goes in one transaction through SQLAlchemy Core (one executemany per table), on
SQLite and PostgreSQL alike; ids continue after the highest ids already there.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.adapters import local
from bot.demo.generator import (
    ANIMATOR_NAME,
    ANIMATOR_USER_ID,
    COMMUNITY_CONVERSATION,
    TABLES,
    Rows,
    community,
)
from bot.ladder import DEFAULT_LADDER, Ladder
from storage import workspaces
from storage.badges import fill_joined_days
from storage.db import session_factory
from storage.models import Base, Member, Workspace
from storage.vocabulary import MemberRole

log = logging.getLogger(__name__)
DEFAULT_MEMBERS = 300
DEFAULT_SEED = 2026
DEMO_USER_PREFIX = "demo-"


class Refused(Exception):
    """The database holds data the demo must not be mixed with; `key` is the catalogue key
    of the explanation (`demo.refused_real`, `demo.refused_again`)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class Loaded:
    """What `load_demo` made."""

    workspace_id: int
    counts: Mapping[str, int]  # rows per table
    learners: int  # members who joined (the trainers and referred colleagues left out)


async def real_data(db: AsyncSession) -> str | None:
    """Why the demo must not go into this database without `--force` (a catalogue key), or
    None when it may."""
    playground = (Workspace.platform == local.PLATFORM) & (Workspace.external_id == local.WORKSPACE)
    others = (
        select(Member.id)
        .join(Workspace, Workspace.id == Member.workspace_id)
        .where(~playground)
        .limit(1)
    )
    if (await db.execute(others)).first() is not None:
        return "demo.refused_real"
    demo = (
        select(Member.id)
        .join(Workspace, Workspace.id == Member.workspace_id)
        .where(playground, Member.user_id.startswith(DEMO_USER_PREFIX, autoescape=True))
        .limit(1)
    )
    if (await db.execute(demo)).first() is not None:
        return "demo.refused_again"
    return None


async def next_ids(db: AsyncSession) -> dict[str, int]:
    """The first free id of every table the demo fills (after the highest one there)."""
    found = {}
    for table in TABLES:
        column = Base.metadata.tables[table].c.id
        highest = (await db.execute(select(func.max(column)))).scalar_one_or_none()
        found[table] = int(highest or 0) + 1
    return found


async def load_demo(
    engine: AsyncEngine,
    now: datetime,
    *,
    members: int = DEFAULT_MEMBERS,
    seed: int = DEFAULT_SEED,
    force: bool = False,
    ladder: Ladder = DEFAULT_LADDER,
    timezone: str = "Europe/Paris",
) -> Loaded:
    """Generate a community and load it into the playground's workspace, in one
    transaction; raises `Refused` on real data (or a second demo) unless `force`."""
    async with session_factory(engine)() as db, db.begin():
        if not force:
            reason = await real_data(db)
            if reason is not None:
                raise Refused(reason)
        workspace = await workspaces.get_or_create(db, local.PLATFORM, local.WORKSPACE, now)
        if workspace.community_conversation is None:
            # As if anim1 had typed `community here` where the demo's challenges are posted.
            workspace.community_conversation = COMMUNITY_CONVERSATION
        animator_id = await _animator(db, workspace.id, now)
        first_ids = await next_ids(db)
        rows = community(
            members,
            now,
            seed,
            first_ids,
            workspace_id=workspace.id,
            animator_id=animator_id,
            ladder=ladder,
            timezone=workspace.timezone or timezone,
        )
        await insert_rows(db, rows)
        await move_sequences(db, rows)
        await rebuild_rollups(db, workspace.id)
        learners = sum(1 for member in rows["member"] if member["joined_at"] is not None)
        return Loaded(workspace.id, {table: len(found) for table, found in rows.items()}, learners)


async def _animator(db: AsyncSession, workspace_id: int, now: datetime) -> int:
    """The playground's animator, anim1: made an animator with a name if it was not one."""
    found = (
        await db.execute(
            select(Member).where(
                Member.workspace_id == workspace_id, Member.user_id == ANIMATOR_USER_ID
            )
        )
    ).scalar_one_or_none()
    if found is None:
        result = await db.execute(
            insert(Member)
            .values(
                workspace_id=workspace_id,
                user_id=ANIMATOR_USER_ID,
                display_name=ANIMATOR_NAME,
                platform_locale="en",
                role=MemberRole.ANIMATOR,
                created_at=now,
            )
            .returning(Member.id)
        )
        return int(result.scalar_one())
    values: dict[str, Any] = {}
    if found.role == MemberRole.LEARNER:
        values["role"] = MemberRole.ANIMATOR
    if found.display_name == found.user_id:
        values["display_name"] = ANIMATOR_NAME
    if values:
        await db.execute(update(Member).where(Member.id == found.id).values(**values))
    return int(found.id)


async def insert_rows(db: AsyncSession, rows: Rows) -> None:
    """Insert every table's rows (parents first), one executemany per table and shape.

    A JSON column left empty is left out of the statement (SQL NULL, as the bot's own
    inserts leave it), not bound as None (which JSON stores as the value `null`)."""
    for table_name in TABLES:
        found = rows.get(table_name)
        if not found:
            continue
        table = Base.metadata.tables[table_name]
        json_columns = [c.name for c in table.columns if isinstance(c.type, JSON)]
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in found:
            empty = tuple(name for name in json_columns if row.get(name) is None)
            groups.setdefault(empty, []).append(
                {k: v for k, v in row.items() if k not in empty} if empty else row
            )
        for batch in groups.values():
            for start in range(0, len(batch), 5_000):
                await db.execute(insert(table), batch[start : start + 5_000])


async def move_sequences(db: AsyncSession, rows: Rows) -> None:
    """PostgreSQL: move each id sequence past the explicit ids just inserted."""
    bind = db.bind
    if bind is None or bind.dialect.name != "postgresql":
        return
    for table in rows:
        if rows[table]:
            await db.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )


async def rebuild_rollups(db: AsyncSession, workspace_id: int) -> bool:
    """Recompute the dashboard's rollups from the rows just loaded
    (`storage.activity.rebuild`, when this version of the bot has it) and the awards' days
    after joining (`storage.badges.fill_joined_days`: the bot writes them with each award,
    a bulk load does not); whether the rollups were rebuilt."""
    await fill_joined_days(db, workspace_id)
    try:
        activity = importlib.import_module("storage.activity")
    except ModuleNotFoundError:
        return False
    rebuild = getattr(activity, "rebuild", None)
    if rebuild is None:
        return False
    await rebuild(db, workspace_id)
    return True
