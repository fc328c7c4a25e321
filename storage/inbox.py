"""The inbox table: record many requests in one statement (some already leased to this
process's worker, which is handed them in memory), claim due ones with a lease, extend or
release a lease, mark them done or due again later, or forget them at once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage import leases
from storage.models import InboxEvent
from storage.upsert import table_of
from storage.vocabulary import InboxStatus


async def record_many(
    connection: AsyncConnection,
    entries: list[tuple[str, str, dict[str, Any]]],
    now: datetime,
    leased: int = 0,
    leased_until: datetime | None = None,
) -> list[int]:
    """Insert (platform, kind, payload) entries; their ids, in the same order. The first
    `leased` are inserted already claimed until `leased_until` (handed to this process's
    worker, bot/inbox/worker.py: no claim needed, and no other worker takes them); the
    others are due at once, for whichever worker claims them.

    On a bare connection (no ORM session): this runs before every acknowledgement, where
    each tenth of a millisecond counts.
    """
    if not entries:
        return []
    rows = [
        {
            "platform": platform,
            "kind": kind,
            "payload": payload,
            "status": InboxStatus.PENDING,
            "attempts": 0,
            "received_at": now,
            "next_attempt_at": now,
            "claimed_until": leased_until if n < leased else None,
        }
        for n, (platform, kind, payload) in enumerate(entries)
    ]
    inbox = table_of(InboxEvent)
    statement = insert(inbox).returning(inbox.c.id, sort_by_parameter_order=True)
    result = await connection.execute(statement, rows)
    return [int(row_id) for row_id in result.scalars().all()]


async def claim_due(
    db: AsyncSession, now: datetime, lease: timedelta, limit: int
) -> list[InboxEvent]:
    """Take up to `limit` due requests for `lease`, oldest first; other workers skip them."""
    return await leases.claim(db, _CLAIM, InboxEvent, now, lease, limit)


_CLAIM = leases.claim_statement(InboxEvent, InboxStatus.PENDING)


async def finish(db: AsyncSession, event_id: int, now: datetime) -> None:
    """The request was handled."""
    await finish_many(db, [event_id], now)


async def finish_many(db: AsyncSession, event_ids: list[int], now: datetime) -> None:
    """These requests were handled (one statement for a worker's round)."""
    await db.execute(
        update(InboxEvent)
        .where(InboxEvent.id.in_(event_ids))
        .values(status=InboxStatus.DONE, done_at=now, claimed_until=None)
    )


async def forget_many(db: AsyncSession, event_ids: list[int]) -> None:
    """Delete these handled requests, raw payload and all, instead of keeping them until the
    retention purge: what turned out not to be for the bot (a channel message that is no
    reply to a question) leaves nothing behind. Ids are never given again (the table's
    autoincrement), so no effect's key can name another request."""
    await db.execute(delete(InboxEvent).where(InboxEvent.id.in_(event_ids)))


async def extend(db: AsyncSession, event_id: int, held: datetime, until: datetime) -> bool:
    """Extend a lease to `until` if it is still the one held (`claimed_until` unchanged
    since: nobody claimed the row after it ran out, and it is not done); whether it was."""
    result = await db.execute(
        update(InboxEvent)
        .where(
            InboxEvent.id == event_id,
            InboxEvent.status == InboxStatus.PENDING,
            InboxEvent.claimed_until == held,
        )
        .values(claimed_until=until)
        .returning(InboxEvent.id)
    )
    return result.first() is not None


async def release(db: AsyncSession, event_ids: list[int]) -> None:
    """Give up the leases of requests not handled (a worker stopping): due at once again,
    for the next start or another worker. Handled ones (done) are left alone."""
    await db.execute(
        update(InboxEvent)
        .where(InboxEvent.id.in_(event_ids), InboxEvent.status == InboxStatus.PENDING)
        .values(claimed_until=None)
    )


async def retry_later(
    db: AsyncSession, event_id: int, attempts: int, error: str, at: datetime, give_up: bool
) -> None:
    """Handling failed: due again at `at`, or parked as failed with its error."""
    await db.execute(
        update(InboxEvent)
        .where(InboxEvent.id == event_id)
        .values(
            status=InboxStatus.FAILED if give_up else InboxStatus.PENDING,
            attempts=attempts,
            last_error=error[:2000],
            next_attempt_at=at,
            claimed_until=None,
        )
    )


async def is_done(db: AsyncSession, event_id: int) -> bool:
    """Whether the request no longer waits: handled (its replies are in the outbox), or
    gone (forgotten at once, or purged)."""
    status = await db.scalar(select(InboxEvent.status).where(InboxEvent.id == event_id))
    return status is None or status == InboxStatus.DONE
