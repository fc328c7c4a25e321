"""Enqueueing outbound messages inside the caller's database transaction."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.replies import OutboundMessage
from bot.outbox import handoff
from storage import members, outbox_store
from storage.models import OutboxMessage
from storage.vocabulary import OutboxKind, OutboxStatus

log = logging.getLogger(__name__)

# Rows one transaction hands to the sender at most: a fan-out beyond (a pulse to thousands)
# goes to the claim path, which takes it in batches and paces it (the sender's own cap on
# what it holds is bot/outbox/sender.py's MAX_HELD).
MAX_HANDED_PER_TRANSACTION = 100


class Outbox:
    """Adds messages to the outbox in the same transaction as what caused them.

    Nothing is sent until that transaction commits, and a retry of the same cause
    (same idempotency key) adds nothing. A post is inserted leased to this process's
    sender when it runs, and handed to it once the transaction commits, unclaimed
    (bot/outbox/handoff.py); edits and coalesced messages are left to a claim.
    """

    def __init__(self, db: AsyncSession, platform: str, workspace_id: int, now: datetime) -> None:
        self._session = db
        self._platform = platform
        self._workspace_id = workspace_id
        self._now = now
        self.enqueued = 0
        # Who has left, as read once per person in this transaction (a join sends two DMs).
        self._left: dict[str, bool] = {}
        self._handoff = handoff.of(db)
        self._held: list[OutboxMessage] = []  # inserted leased: handed over on commit
        self._leasing = self._handoff is not None  # until the sender first says no
        self._to_claim: set[bool] = set()  # lanes (urgent or not) of rows left unleased

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
        lease = self._lease(options)
        payload = message.to_json()
        added = await outbox_store.enqueue(
            self._session,
            key=key,
            platform=self._platform,
            workspace_id=self._workspace_id,
            target=target,
            payload=payload,
            now=self._now,
            claimed_until=lease,
            **options,
        )
        if added is None:
            return False
        self.enqueued += 1
        if self._handoff is None:
            return True
        handoff.watch(self._session, self)
        if lease is None:
            self._to_claim.add(bool(options.get("urgent")))
            return True
        self._held.append(
            OutboxMessage(
                id=added,
                idempotency_key=key,
                platform=self._platform,
                workspace_id=self._workspace_id,
                target=target,
                kind=OutboxKind.POST,
                update_of=None,
                coalesce_key=None,
                payload=payload,
                refresh=options.get("refresh"),
                urgent=bool(options.get("urgent")),
                status=OutboxStatus.PENDING,
                attempts=0,
                next_attempt_at=self._now,
                claimed_until=lease,
                last_error=None,
                platform_message_id=None,
                created_at=self._now,
                sent_at=None,
            )
        )
        return True

    def _lease(self, options: dict[str, Any]) -> datetime | None:
        """The lease a new row gets from this process's sender, or None (a claim finds it).

        Only posts are handed over: an edit may be coalesced with later ones, and a claim
        of the newest is what keeps a burst of edits to one (bot/outbox/sender.py)."""
        if (
            self._handoff is None
            or not self._leasing
            or options.get("kind", OutboxKind.POST) != OutboxKind.POST
            or options.get("coalesce_key")
        ):
            return None
        lease = None
        if len(self._held) < MAX_HANDED_PER_TRANSACTION:
            lease = self._handoff.lease_until(self._now, self._platform)
        # Once one is refused, the rest of the transaction goes to the claims too: handed
        # rows are sent before the claims find the later ones, as they were enqueued.
        self._leasing = lease is not None
        return lease

    def committed(self) -> None:
        """The transaction committed (called by bot/outbox/handoff.py): hand the leased rows
        to the sender, and tell it which lanes have rows to claim."""
        held, lanes = self._held, self._to_claim
        self._held, self._to_claim = [], set()
        if self._handoff is None:
            return
        try:
            if held:
                self._handoff.take(held)
            for urgent in lanes:
                self._handoff.poll(urgent)
        except Exception:
            # Committed whatever happens here: the rows are claimed once their lease runs out.
            log.exception("outbox_handoff_failed")

    def rolled_back(self) -> None:
        """The transaction rolled back: its rows never existed; nothing is handed."""
        self._held, self._to_claim = [], set()
