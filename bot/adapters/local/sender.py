"""Delivers outbox messages to the playground's conversations (the local_message table)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.core.replies import OutboundMessage
from bot.outbox.delivery import PermanentFailure
from storage import local_messages


class LocalSender:
    """Posts and edits playground messages; what a chat platform does, in our own table."""

    def __init__(self, db_sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._db_sessions = db_sessions
        self._clock = clock

    async def post(
        self, workspace: str, target: str, message: OutboundMessage, *, key: str = ""
    ) -> str:
        """Add the message to conversation `target` (dm:<id> for a DM); return its id.

        A second delivery of the same outbox `key` returns the first message's id.
        """
        raw_reply_to = message.in_reply_to or ""
        reply_to = int(raw_reply_to) if raw_reply_to.isdigit() else None
        async with self._db_sessions() as db, db.begin():
            posted_id = await local_messages.post(
                db,
                target,
                message.text,
                message.card.to_json() if message.card else None,
                reply_to,
                self._clock.now(),
                dedupe_key=key or None,
            )
            return str(posted_id)

    async def update(
        self, workspace: str, target: str, message_id: str, message: OutboundMessage
    ) -> None:
        """Replace the message in place (the playground shows the latest version)."""
        async with self._db_sessions() as db, db.begin():
            found = await local_messages.edit(
                db,
                int(message_id),
                message.text,
                message.card.to_json() if message.card else None,
                self._clock.now(),
            )
        if not found:
            raise PermanentFailure(f"local message {message_id} does not exist")
