"""Workspaces (Slack teams, Teams tenants, the local playground)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Workspace
from storage.upsert import insert_for


async def get_or_create(
    session: AsyncSession, platform: str, external_id: str, now: datetime
) -> Workspace:
    """The workspace `platform`/`external_id`, created on first sight (race-safe)."""
    query = select(Workspace).where(
        Workspace.platform == platform, Workspace.external_id == external_id
    )
    workspace = (await session.execute(query)).scalar_one_or_none()
    if workspace is not None:
        return workspace
    insert = insert_for(session, Workspace).values(
        platform=platform, external_id=external_id, created_at=now
    )
    await session.execute(insert.on_conflict_do_nothing(index_elements=["platform", "external_id"]))
    return (await session.execute(query)).scalar_one()


async def find(session: AsyncSession, platform: str, external_id: str) -> Workspace | None:
    """The workspace `platform`/`external_id`, if it was ever seen."""
    query = select(Workspace).where(
        Workspace.platform == platform, Workspace.external_id == external_id
    )
    return (await session.execute(query)).scalar_one_or_none()
