"""The outbox table: enqueue once per idempotency key (leased already when handed over),
claim with a lease, record results, release leases not used."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, false, func, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import leases
from storage.models import OutboxMessage
from storage.upsert import InsertInto, Prepared, table_of
from storage.vocabulary import OutboxKind, OutboxStatus


async def enqueue(
    db: AsyncSession,
    *,
    key: str,
    platform: str,
    workspace_id: int,
    target: str,
    payload: dict[str, Any],
    now: datetime,
    kind: OutboxKind = OutboxKind.POST,
    update_of: str | None = None,
    coalesce_key: str | None = None,
    refresh: dict[str, Any] | None = None,
    urgent: bool = False,
    claimed_until: datetime | None = None,
) -> int | None:
    """Add a message; its id, or None (and nothing changed) when `key` was already
    enqueued. An `urgent` one (a reply to a person's own request) is sent in the urgent
    lane. With `claimed_until`, it is inserted already leased until then: this process's
    sender is handed it once the transaction commits (bot/outbox/handoff.py), and no
    claim takes it before that lease runs out."""
    params = dict(
        urgent=urgent,
        idempotency_key=key,
        platform=platform,
        workspace_id=workspace_id,
        target=target,
        kind=kind,
        update_of=update_of,
        coalesce_key=coalesce_key,
        payload=payload,
        refresh=refresh,
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        claimed_until=claimed_until,
        created_at=now,
    )
    added = (await _ENQUEUE.execute(db, params)).scalar_one_or_none()
    return int(added) if added is not None else None


_ENQUEUE = Prepared(
    lambda insert_into: (
        insert_into(table_of(OutboxMessage))
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(table_of(OutboxMessage).c.id)
    )
)


async def claim_due(
    db: AsyncSession, now: datetime, lease: timedelta, limit: int, *, urgent: bool = False
) -> list[OutboxMessage]:
    """Take up to `limit` due messages of one lane (the urgent replies, or everything else)
    for `lease`, oldest first; other senders skip them.

    One statement (UPDATE … WHERE id IN (SELECT … [FOR UPDATE SKIP LOCKED]) RETURNING).
    A message whose lease ran out (its sender crashed) is due again: at-least-once.
    """
    statement = _CLAIM_URGENT if urgent else _CLAIM
    return await leases.claim(db, statement, OutboxMessage, now, lease, limit)


_CLAIM = leases.claim_statement(
    OutboxMessage, OutboxStatus.PENDING, lambda table: table.c.urgent == false()
)
# Both lanes served by the index ix_outbox_message_lane (status, urgent, id).
_CLAIM_URGENT = leases.claim_statement(
    OutboxMessage, OutboxStatus.PENDING, lambda table: table.c.urgent == true()
)


async def newest_pending(db: AsyncSession, coalesce_key: str) -> int | None:
    """The id of the newest pending message with `coalesce_key` (the one worth sending)."""
    result = await _NEWEST_PENDING.execute(db, {"coalesce_key": coalesce_key})
    value = result.scalar_one_or_none()
    return int(value) if value is not None else None


_NEWEST_PENDING = Prepared(
    lambda _insert_into: select(func.max(table_of(OutboxMessage).c.id)).where(
        table_of(OutboxMessage).c.coalesce_key == bindparam("coalesce_key"),
        table_of(OutboxMessage).c.status == OutboxStatus.PENDING,
    )
)


async def platform_id_of(db: AsyncSession, key: str) -> tuple[OutboxStatus, str | None] | None:
    """(status, platform message id) of the message enqueued under `key`, or None."""
    row = (await _STATUS_OF.execute(db, {"key": key})).one_or_none()
    return (OutboxStatus(row.status), row.platform_message_id) if row is not None else None


_STATUS_OF = Prepared(
    lambda _insert_into: select(
        table_of(OutboxMessage).c.status, table_of(OutboxMessage).c.platform_message_id
    ).where(table_of(OutboxMessage).c.idempotency_key == bindparam("key"))
)


@dataclass(frozen=True)
class Outcome:
    """What became of one claimed message."""

    message_id: int
    status: OutboxStatus  # SENT, SUPERSEDED, FAILED, or PENDING (a retry)
    error: str | None = None
    platform_message_id: str | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None


async def record(db: AsyncSession, outcomes: list[Outcome], now: datetime) -> None:
    """Write the outcomes of a batch (one statement per kind of outcome)."""
    finished = [
        {
            "b_id": o.message_id,
            "b_status": o.status,
            "b_error": o.error,
            "b_platform_id": o.platform_message_id,
            "b_sent_at": now if o.status == OutboxStatus.SENT else None,
        }
        for o in outcomes
        if o.status != OutboxStatus.PENDING
    ]
    retries = [
        {
            "b_id": o.message_id,
            "b_attempts": o.attempts,
            "b_next": o.next_attempt_at,
            "b_error": o.error,
        }
        for o in outcomes
        if o.status == OutboxStatus.PENDING
    ]
    if finished:
        await db.execute(_FINISH.for_session(db), finished)
    if retries:
        await db.execute(_RETRY.for_session(db), retries)


async def release(db: AsyncSession, ids: list[int]) -> None:
    """Give back the leases of messages a sender held but did not send (it stops, or let a
    held one go): due again at once for any sender's claim. A message finished meanwhile
    is left as it is."""
    if ids:
        await db.execute(_RELEASE.for_session(db), [{"b_id": message_id} for message_id in ids])


def _build_release(_insert_into: InsertInto) -> Any:
    outbox = table_of(OutboxMessage)
    return (
        update(outbox)
        .where(outbox.c.id == bindparam("b_id"), outbox.c.status == OutboxStatus.PENDING)
        .values(claimed_until=None)
    )


def _build_finish(_insert_into: InsertInto) -> Any:
    outbox = table_of(OutboxMessage)
    return (
        update(outbox)
        .where(outbox.c.id == bindparam("b_id"))
        .values(
            status=bindparam("b_status"),
            claimed_until=None,
            last_error=bindparam("b_error"),
            platform_message_id=func.coalesce(
                bindparam("b_platform_id", type_=outbox.c.platform_message_id.type),
                outbox.c.platform_message_id,
            ),
            sent_at=bindparam("b_sent_at", type_=outbox.c.sent_at.type),
        )
    )


def _build_retry(_insert_into: InsertInto) -> Any:
    outbox = table_of(OutboxMessage)
    return (
        update(outbox)
        .where(outbox.c.id == bindparam("b_id"))
        .values(
            attempts=bindparam("b_attempts"),
            next_attempt_at=bindparam("b_next", type_=outbox.c.next_attempt_at.type),
            claimed_until=None,
            last_error=bindparam("b_error"),
        )
    )


_FINISH = Prepared(_build_finish)
_RETRY = Prepared(_build_retry)
_RELEASE = Prepared(_build_release)


async def by_key(db: AsyncSession, key: str) -> OutboxMessage | None:
    """The message enqueued under `key`."""
    query = select(OutboxMessage).where(OutboxMessage.idempotency_key == key)
    return (await db.execute(query)).scalar_one_or_none()
