"""Where community-wide announcements go."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage import training_sessions
from storage.models import Workspace


async def community_conversation(db: AsyncSession, workspace: Workspace) -> str | None:
    """The conversation set by `community here`, else the latest session's, else None."""
    if workspace.community_conversation:
        return workspace.community_conversation
    latest = await training_sessions.latest(db, workspace.id)
    return latest.conversation if latest else None
