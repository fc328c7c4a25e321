"""Enqueueing outbound messages inside the caller's database transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.replies import OutboundMessage
from storage import members, outbox_store
from storage.vocabulary import OutboxKind


class Outbox:
    """Adds messages to the outbox in the same transaction as what caused them.

    Nothing is sent until that transaction commits, and a retry of the same cause
    (same idempotency key) adds nothing.
    """

    def __init__(self, db: AsyncSession, platform: str, workspace_id: int, now: datetime) -> None:
        self._session = db
        self._platform = platform
        self._workspace_id = workspace_id
        self._now = now
        self.enqueued = 0
        # Who has left, as read once per person in this transaction (a join sends two DMs).
        self._left: dict[str, bool] = {}

    async def post(
        self,
        key: str,
        target: str,
        message: OutboundMessage,
        *,
        refresh: dict[str, Any] | None = None,
        solicited: bool = False,
    ) -> bool:
        """Post `message` to `target` once per `key`; False when `key` was already used, or
        when `target` is the DM of someone who left (`leave`) and the message is not the
        answer to their own request (`solicited`)."""
        if not solicited and await self._has_left(target):
            return False
        return await self._enqueue(key, target, message, kind=OutboxKind.POST, refresh=refresh)

    async def reply(self, key: str, target: str, message: OutboundMessage) -> bool:
        """Post the answer to a person's own request (once per `key`): urgent, so that it
        never waits behind a fan-out (bot/outbox/sender.py), and sent even to someone who
        said `leave`, since they asked."""
        return await self._enqueue(key, target, message, kind=OutboxKind.POST, urgent=True)

    async def _has_left(self, target: str) -> bool:
        # `leave` means no message of any kind (GDPR Art. 21): checked where every message
        # is queued, so no handler can forget it. One indexed lookup per DM.
        if not target.startswith("dm:"):
            return False
        user_id = target[3:]
        if user_id not in self._left:
            self._left[user_id] = await members.has_left(self._session, self._workspace_id, user_id)
        return self._left[user_id]

    def note_left(self, user_id: str, left: bool) -> None:
        """What this transaction just wrote of whether `user_id` has left (a join clears
        it): their next DM is checked against it, without a lookup."""
        self._left[user_id] = left

    async def update(
        self,
        key: str,
        update_of: str,
        target: str,
        message: OutboundMessage,
        *,
        coalesce_key: str | None = None,
        refresh: dict[str, Any] | None = None,
    ) -> bool:
        """Edit, in place, the message posted under `update_of` (coalescing bursts of edits)."""
        return await self._enqueue(
            key,
            target,
            message,
            kind=OutboxKind.UPDATE,
            update_of=update_of,
            coalesce_key=coalesce_key,
            refresh=refresh,
        )

    async def _enqueue(
        self, key: str, target: str, message: OutboundMessage, **options: Any
    ) -> bool:
        added = await outbox_store.enqueue(
            self._session,
            key=key,
            platform=self._platform,
            workspace_id=self._workspace_id,
            target=target,
            payload=message.to_json(),
            now=self._now,
            **options,
        )
        self.enqueued += int(added)
        return added
