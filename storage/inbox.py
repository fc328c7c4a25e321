"""The inbox table: record many requests in one statement, claim due ones with a lease,
mark them done or due again later."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage.models import InboxEvent
from storage.upsert import InsertInto, Prepared, table_of


async def record_many(
    connection: AsyncConnection, entries: list[tuple[str, str, dict[str, Any]]], now: datetime
) -> list[int]:
    """Insert (platform, kind, payload) entries; their ids, in the same order.

    On a bare connection (no ORM session): this runs before every acknowledgement, where
    each tenth of a millisecond counts.
    """
    rows = [
        {
            "platform": platform,
            "kind": kind,
            "payload": payload,
            "status": "pending",
            "attempts": 0,
            "received_at": now,
            "next_attempt_at": now,
        }
        for platform, kind, payload in entries
    ]
    inbox = table_of(InboxEvent)
    statement = insert(inbox).returning(inbox.c.id, sort_by_parameter_order=True)
    result = await connection.execute(statement, rows)
    return [int(row_id) for row_id in result.scalars().all()]


async def claim_due(
    session: AsyncSession, now: datetime, lease: timedelta, limit: int
) -> list[InboxEvent]:
    """Take up to `limit` due requests for `lease`, oldest first; other workers skip them."""
    params = {"now": now, "until": now + lease, "limit": limit}
    rows = (await _CLAIM.execute(session, params)).all()
    return sorted((InboxEvent(**row._asdict()) for row in rows), key=lambda event: event.id)


def _build_claim(insert_into: InsertInto) -> Any:
    inbox = table_of(InboxEvent)
    due = (
        select(inbox.c.id)
        .where(
            inbox.c.status == "pending",
            inbox.c.next_attempt_at <= bindparam("now"),
            or_(inbox.c.claimed_until.is_(None), inbox.c.claimed_until < bindparam("now")),
        )
        .order_by(inbox.c.id)
        .limit(bindparam("limit"))
    )
    if insert_into is postgresql.insert:
        due = due.with_for_update(skip_locked=True)
    return (
        update(inbox)
        .where(inbox.c.id.in_(due.scalar_subquery()))
        .values(claimed_until=bindparam("until"))
        .returning(*inbox.c)
    )


_CLAIM = Prepared(_build_claim)


async def finish(session: AsyncSession, event_id: int, now: datetime) -> None:
    """The request was handled."""
    await session.execute(
        update(InboxEvent)
        .where(InboxEvent.id == event_id)
        .values(status="done", done_at=now, claimed_until=None)
    )


async def retry_later(
    session: AsyncSession, event_id: int, attempts: int, error: str, at: datetime, give_up: bool
) -> None:
    """Handling failed: due again at `at`, or parked as failed with its error."""
    await session.execute(
        update(InboxEvent)
        .where(InboxEvent.id == event_id)
        .values(
            status="failed" if give_up else "pending",
            attempts=attempts,
            last_error=error[:2000],
            next_attempt_at=at,
            claimed_until=None,
        )
    )
