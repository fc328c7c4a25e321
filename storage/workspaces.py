"""Workspaces (Slack teams, Teams tenants, the local playground)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Workspace
from storage.upsert import Prepared, insert_for


async def get_or_create(
    db: AsyncSession, platform: str, external_id: str, now: datetime
) -> Workspace:
    """The workspace `platform`/`external_id`, created on first sight (race-safe)."""
    workspace = await find(db, platform, external_id)
    if workspace is not None:
        return workspace
    insert = insert_for(db, Workspace).values(
        platform=platform, external_id=external_id, created_at=now
    )
    await db.execute(insert.on_conflict_do_nothing(index_elements=["platform", "external_id"]))
    found = await find(db, platform, external_id)
    assert found is not None
    return found


async def find(db: AsyncSession, platform: str, external_id: str) -> Workspace | None:
    """The workspace `platform`/`external_id`, if it was ever seen."""
    params = {"platform": platform, "external_id": external_id}
    return (await _FIND.execute(db, params)).scalar_one_or_none()


_FIND = Prepared(
    lambda _insert_into: select(Workspace).where(
        Workspace.platform == bindparam("platform"),
        Workspace.external_id == bindparam("external_id"),
    )
)


async def mark_uninstalled(
    db: AsyncSession, platform: str, external_id: str, now: datetime
) -> Workspace | None:
    """The platform says the bot was removed: the retention delay of the workspace's data
    starts now (or still runs from the first time it said so). None: never seen."""
    workspace = await find(db, platform, external_id)
    if workspace is not None and workspace.uninstalled_at is None:
        workspace.uninstalled_at = now
    return workspace


async def mark_installed(db: AsyncSession, platform: str, external_id: str) -> None:
    """The bot is (again) installed there: its data is no longer due for deletion."""
    await db.execute(
        update(Workspace)
        .where(
            Workspace.platform == platform,
            Workspace.external_id == external_id,
            Workspace.uninstalled_at.is_not(None),
        )
        .values(uninstalled_at=None)
    )
