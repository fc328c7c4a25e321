"""Who is in a conversation, as far as the platform lets us know."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ConversationPresence
from storage.upsert import Prepared, table_of


async def mark_seen(
    db: AsyncSession, workspace_id: int, conversation: str, user_id: str, now: datetime
) -> bool:
    """Remember that `user_id` is in `conversation`; False when it was already known."""
    params = {
        "workspace_id": workspace_id,
        "conversation": conversation,
        "user_id": user_id,
        "seen_at": now,
    }
    return (await _MARK_SEEN.execute(db, params)).scalar_one_or_none() is not None


_MARK_SEEN = Prepared(
    lambda insert_into: (
        insert_into(table_of(ConversationPresence))
        .on_conflict_do_nothing(index_elements=["workspace_id", "conversation", "user_id"])
        .returning(table_of(ConversationPresence).c.id)
    )
)


async def count(db: AsyncSession, workspace_id: int, conversation: str) -> int:
    """How many people were seen in `conversation`."""
    query = select(func.count()).where(
        ConversationPresence.workspace_id == workspace_id,
        ConversationPresence.conversation == conversation,
    )
    return int((await db.execute(query)).scalar_one())
