"""The playground's "reset demo": forget everything the local workspace holds.

Only the local platform's rows go (its workspace, members, sessions, challenges, pulses,
badges… and the playground's messages); Slack and Teams workspaces sharing the database
are untouched. Children are deleted before their parents, as the retention purge does.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import LocalMessage, Workspace
from storage.retention import rows_of


async def reset(db: AsyncSession, platform: str, external_id: str) -> int:
    """Delete the playground workspace with all its rows and every playground message;
    how many rows went. Run it in one transaction: a failure leaves the demo as it was."""
    deleted = 0
    workspace = (
        await db.execute(
            select(Workspace).where(
                Workspace.platform == platform, Workspace.external_id == external_id
            )
        )
    ).scalar_one_or_none()
    if workspace is not None:
        for model, where in rows_of(workspace):
            deleted += int((await db.execute(delete(model).where(where))).rowcount or 0)  # type: ignore[attr-defined]
        await db.execute(delete(Workspace).where(Workspace.id == workspace.id))
        db.expunge(workspace)
        deleted += 1
    deleted += int((await db.execute(delete(LocalMessage))).rowcount or 0)  # type: ignore[attr-defined]
    return deleted
