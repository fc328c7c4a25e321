"""Who is present in a playground conversation: the people who spoke there.

The playground has no member list to ask (Teams has its roster): the observer records each
person the first time they speak in a conversation, in that event's transaction, and the
counter counts them. Given to the dispatcher by the platform registry (bot/platforms.py).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.context import Context
from storage import presence


class LocalPresence:
    """The playground's presence observer and counter."""

    def __init__(self) -> None:
        # People already recorded as present in a conversation (saves a write per command).
        self._seen: set[tuple[str, str]] = set()

    async def observe(self, ctx: Context) -> None:
        """In each event's transaction: the playground counts who spoke in a conversation."""
        key = (ctx.origin.conversation, ctx.user.id)
        if ctx.origin.is_direct or key in self._seen:
            return
        inserted = await presence.mark_seen(
            ctx.db, ctx.workspace.id, ctx.origin.conversation, ctx.user.id, ctx.now
        )
        # Remember only what is surely committed: a refused command rolls its insert back.
        if not inserted:
            self._seen.add(key)

    async def count_present(self, db: AsyncSession, workspace_id: int, conversation: str) -> int:
        """How many people spoke in the conversation."""
        return await presence.count(db, workspace_id, conversation)

    def forget(self) -> None:
        """The presence rows are gone (a reset): record who speaks again."""
        self._seen.clear()
