"""The audit log: who changed roles, badges and pulses, exported or erased data.

Entries hold ids and codes only. Names are joined from the member rows when the log is
read, so an erased person (member row deleted, ids set to NULL by the foreign keys) shows
as a former member; nothing here can bring their identity back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import AuditEntry, Member
from storage.vocabulary import ActorKind

ACTOR_MEMBER = ActorKind.MEMBER
ACTOR_SYSTEM = ActorKind.SYSTEM


async def add(
    db: AsyncSession,
    *,
    workspace_id: int,
    platform: str,
    at: datetime,
    action: str,
    actor_member_id: int | None,
    subject_member_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record one entry in the caller's transaction (a rolled back change records nothing).

    `actor_member_id` None means the bot acted on its own (a "system" entry).
    """
    db.add(
        AuditEntry(
            workspace_id=workspace_id,
            at=at,
            platform=platform,
            actor_kind=ACTOR_SYSTEM if actor_member_id is None else ACTOR_MEMBER,
            actor_member_id=actor_member_id,
            action=action,
            subject_member_id=subject_member_id,
            detail=detail or None,
        )
    )
    await db.flush()


@dataclass(frozen=True)
class Listed:
    """An entry as the log shows it, with the names the member rows hold today.

    A name is None when that member row is gone (the person was erased) or when there is
    nobody to name (the bot acted: `by_system`; an action without a subject).
    """

    id: int
    at: datetime
    platform: str
    action: str
    by_system: bool
    actor_name: str | None
    subject_name: str | None
    detail: dict[str, Any]


async def latest(db: AsyncSession, workspace_id: int, limit: int) -> list[Listed]:
    """The workspace's `limit` latest entries, newest first, with today's names."""
    actor = aliased(Member)
    subject = aliased(Member)
    query = (
        select(AuditEntry, actor.display_name, subject.display_name)
        .outerjoin(actor, actor.id == AuditEntry.actor_member_id)
        .outerjoin(subject, subject.id == AuditEntry.subject_member_id)
        .where(AuditEntry.workspace_id == workspace_id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
    )
    return [
        Listed(
            id=entry.id,
            at=entry.at,
            platform=entry.platform,
            action=entry.action,
            by_system=entry.actor_kind == ACTOR_SYSTEM,
            actor_name=actor_name,
            subject_name=subject_name,
            detail=dict(entry.detail or {}),
        )
        for entry, actor_name, subject_name in await db.execute(query)
    ]


async def purge_older_than(db: AsyncSession, cutoff: datetime, limit: int) -> int:
    """Delete at most `limit` entries older than `cutoff` (oldest first); the number deleted.

    One batch per call, so that the caller commits between batches and never holds a long
    transaction: call it again, in a new transaction, while it returns `limit`.
    """
    oldest = (
        select(AuditEntry.id)
        .where(AuditEntry.at < cutoff)
        .order_by(AuditEntry.at, AuditEntry.id)
        .limit(limit)
    )
    result = await db.execute(
        delete(AuditEntry)
        .where(AuditEntry.id.in_(oldest.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
