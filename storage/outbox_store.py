"""The outbox table: enqueue once per idempotency key, claim with a lease, record results."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage
from storage.upsert import insert_for


async def enqueue(
    session: AsyncSession,
    *,
    key: str,
    platform: str,
    workspace_id: int,
    target: str,
    payload: dict[str, Any],
    now: datetime,
    kind: str = "post",
    update_of: str | None = None,
    coalesce_key: str | None = None,
    refresh: dict[str, Any] | None = None,
) -> bool:
    """Add a message; False (and nothing changed) when `key` was already enqueued."""
    insert = insert_for(session, OutboxMessage).values(
        idempotency_key=key,
        platform=platform,
        workspace_id=workspace_id,
        target=target,
        kind=kind,
        update_of=update_of,
        coalesce_key=coalesce_key,
        payload=payload,
        refresh=refresh,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    statement = insert.on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(
        OutboxMessage.id
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def claim_due(
    session: AsyncSession, now: datetime, lease: timedelta, limit: int
) -> list[OutboxMessage]:
    """Take up to `limit` due messages for `lease`; another sender skips them meanwhile.

    A message whose lease ran out (its sender crashed) is due again: at-least-once.
    """
    due = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status == "pending",
            OutboxMessage.next_attempt_at <= now,
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    bind = session.bind
    if bind is not None and bind.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list((await session.execute(due)).scalars())
    if not ids:
        return []
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .values(claimed_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    query = select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)
    result = await session.execute(query, execution_options={"populate_existing": True})
    return list(result.scalars())


async def newer_pending_exists(session: AsyncSession, message: OutboxMessage) -> bool:
    """True when a later pending message with the same coalesce key makes this one redundant."""
    if not message.coalesce_key:
        return False
    query = select(OutboxMessage.id).where(
        and_(
            OutboxMessage.coalesce_key == message.coalesce_key,
            OutboxMessage.status == "pending",
            OutboxMessage.id > message.id,
        )
    )
    return (await session.execute(query.limit(1))).first() is not None


async def by_key(session: AsyncSession, key: str) -> OutboxMessage | None:
    """The message enqueued under `key`."""
    query = select(OutboxMessage).where(OutboxMessage.idempotency_key == key)
    return (await session.execute(query)).scalar_one_or_none()


async def finish(
    session: AsyncSession,
    message_id: int,
    *,
    status: str,
    now: datetime,
    platform_message_id: str | None = None,
    error: str | None = None,
) -> None:
    """Record the outcome: sent, superseded or failed (kept, never deleted)."""
    values: dict[str, Any] = {"status": status, "claimed_until": None, "last_error": error}
    if status == "sent":
        values["sent_at"] = now
        values["platform_message_id"] = platform_message_id
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def retry_later(
    session: AsyncSession, message_id: int, attempts: int, when: datetime, error: str
) -> None:
    """Schedule another attempt at `when`."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(attempts=attempts, next_attempt_at=when, claimed_until=None, last_error=error)
        .execution_options(synchronize_session=False)
    )


async def count_by_status(session: AsyncSession) -> dict[str, int]:
    """How many messages are in each status (for /readyz and tests)."""
    query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    return {status: int(n) for status, n in (await session.execute(query)).all()}
