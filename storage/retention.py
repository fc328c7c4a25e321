"""What the daily purge deletes ([retention], bot/retention.py), one small batch at a time.

Every function here has the same shape, `(db, cutoff, limit) -> rows`: it deletes (or
empties) at most `limit` rows past `cutoff` in the caller's transaction, and says how many.
The caller runs it again, in a new short transaction, until fewer than `limit` come back,
so no statement ever holds locks for long. Each batch is one statement of the form
`DELETE FROM t WHERE id IN (SELECT id FROM t WHERE … LIMIT n)` (PostgreSQL and SQLite alike),
its inner SELECT served by an index on the row's age (migration 0017).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    AuditEntry,
    BadgeAward,
    Base,
    Challenge,
    ChallengeOccurrence,
    Contribution,
    ContributionLike,
    ContributionVoice,
    ConversationPresence,
    Download,
    ErasedBadge,
    ErasureSweep,
    InboxEvent,
    LocalMessage,
    Member,
    MembershipEvent,
    MenteeWish,
    MentoringAllowance,
    MentoringPair,
    MentoringRound,
    MentorProfile,
    OccurrenceActivity,
    OutboxMessage,
    Pulse,
    PulseAnswer,
    PulseAnswerChange,
    PulseRecipient,
    Referral,
    ReplayKey,
    SessionParticipation,
    SlackInstallation,
    TeamsConversation,
    TeamsMember,
    ThemeMap,
    TrainingSession,
    WeeklyActivity,
    Workspace,
)
from storage.upsert import table_of
from storage.vocabulary import InboxStatus, OutboxKind, OutboxStatus

Batch = Callable[[AsyncSession, datetime, int], Awaitable[int]]
"""Deletes (or empties) up to `limit` rows older than the cutoff; how many it did."""

# What a sent post keeps once emptied: no text, nothing of what it said.
EMPTIED_PAYLOAD: dict[str, Any] = {"text": ""}

# Tables with a workspace_id, in the order an uninstalled workspace's rows are deleted:
# what points at a row goes before it (sessions, challenges and pulses name their author,
# without ON DELETE, so they go before the members). A new table with a workspace_id is
# added here, one line (tests/storage/test_retention.py checks that none is missing).
WORKSPACE_ROWS: list[type[Base]] = [
    AuditEntry,
    Referral,
    Download,
    BadgeAward,
    ErasedBadge,
    ErasureSweep,
    MentoringPair,
    MentoringAllowance,
    MentoringRound,
    MentorProfile,
    MenteeWish,
    WeeklyActivity,
    OccurrenceActivity,
    ContributionVoice,
    ThemeMap,
    Contribution,
    ChallengeOccurrence,
    Challenge,
    Pulse,
    TrainingSession,
    OutboxMessage,
    ConversationPresence,
    Member,
]


async def delete_some(db: AsyncSession, model: type[Base], limit: int, *where: Any) -> int:
    """Delete at most `limit` rows of `model` matching `where`; how many were deleted."""
    table = table_of(model)
    [key] = list(table.primary_key.columns)
    chosen = select(key).where(*where).limit(limit)
    result = await db.execute(delete(table).where(key.in_(chosen.scalar_subquery())))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def handled_requests(db: AsyncSession, cutoff: datetime, limit: int) -> int:
    """Raw platform requests handled before `cutoff` (inbox_event, done)."""
    inbox = table_of(InboxEvent).c
    # received_at <= done_at: the first condition lets the age index narrow the scan.
    return await delete_some(
        db,
        InboxEvent,
        limit,
        inbox.status == InboxStatus.DONE,
        inbox.received_at < cutoff,
        inbox.done_at < cutoff,
    )


async def failed_requests(db: AsyncSession, cutoff: datetime, limit: int) -> int:
    """Raw platform requests that failed for good and arrived before `cutoff`."""
    inbox = table_of(InboxEvent).c
    return await delete_some(
        db,
        InboxEvent,
        limit,
        inbox.status == InboxStatus.FAILED,
        inbox.received_at < cutoff,
    )


def _is_direct(target: Any) -> ColumnElement[bool]:
    """A DM or a group DM (bot/outbox/targets.py): never edited, replied to or reacted to."""
    return or_(target.startswith("dm:"), target.startswith("group:"))


async def empty_sent_posts(db: AsyncSession, cutoff: datetime, limit: int) -> int:
    """Posts to a conversation sent before `cutoff`: their content removed, the rest kept.

    The row is what lets the bot edit the post later (the sign-up card's count, a
    contribution's likes, hiding it, erasing it), post an answer in its thread, and know a
    reaction on it: its key, target and platform message id stay; its text goes.
    """
    outbox = table_of(OutboxMessage).c
    chosen = (
        select(outbox.id)
        .where(
            outbox.status == OutboxStatus.SENT,
            outbox.created_at < cutoff,
            outbox.sent_at < cutoff,
            outbox.kind == OutboxKind.POST,
            ~_is_direct(outbox.target),
        )
        .limit(limit)
    )
    result = await db.execute(
        update(table_of(OutboxMessage))
        .where(outbox.id.in_(chosen.scalar_subquery()))
        .values(status=OutboxStatus.EMPTIED, payload=EMPTIED_PAYLOAD, last_error=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def sent_messages(db: AsyncSession, cutoff: datetime, limit: int) -> int:
    """Messages sent before `cutoff` that nothing refers to any more: DMs and edits (an
    edit is never itself edited); and edits superseded by a newer one before `cutoff`."""
    outbox = table_of(OutboxMessage).c
    sent = (
        (outbox.status == OutboxStatus.SENT)
        & (outbox.sent_at < cutoff)
        & ((outbox.kind != OutboxKind.POST) | _is_direct(outbox.target))
    )
    return await delete_some(
        db,
        OutboxMessage,
        limit,
        outbox.status.in_((OutboxStatus.SENT, OutboxStatus.SUPERSEDED)),
        outbox.created_at < cutoff,
        sent | (outbox.status == OutboxStatus.SUPERSEDED),
    )


async def failed_messages(db: AsyncSession, cutoff: datetime, limit: int) -> int:
    """Messages parked as failed, queued before `cutoff`."""
    outbox = table_of(OutboxMessage).c
    return await delete_some(
        db, OutboxMessage, limit, outbox.status == OutboxStatus.FAILED, outbox.created_at < cutoff
    )


async def replay_keys(db: AsyncSession, cutoff: datetime, limit: int) -> int:
    """Replay keys recorded before `cutoff` (replay_key).

    Never one recorded after the oldest request still waiting in the inbox arrived: the
    keys of its effects must still answer "already done" when it is finally handled.
    """
    waiting = await db.scalar(
        select(func.min(InboxEvent.received_at)).where(InboxEvent.status == InboxStatus.PENDING)
    )
    before = min(cutoff, waiting) if waiting is not None else cutoff
    events = table_of(ReplayKey).c
    return await delete_some(db, ReplayKey, limit, events.received_at < before)


async def expired_downloads(db: AsyncSession, cutoff: datetime, limit: int) -> int:
    """Download links that expired before `cutoff` (their tokens no longer open anything)."""
    return await delete_some(db, Download, limit, table_of(Download).c.expires_at < cutoff)


async def playground_messages(db: AsyncSession, cutoff: datetime, limit: int) -> int:
    """Playground messages last changed before `cutoff` (demo data)."""
    return await delete_some(db, LocalMessage, limit, table_of(LocalMessage).c.updated_at < cutoff)


async def uninstalled_workspaces(db: AsyncSession, cutoff: datetime, limit: int) -> int:
    """Up to `limit` rows of the workspaces uninstalled before `cutoff`, oldest first: one
    table after the other, then the workspace row itself. Each batch locks the workspace row
    (PostgreSQL) and checks it again, so a reinstall stops the deletion at the next batch."""
    query = (
        select(Workspace)
        .where(Workspace.uninstalled_at.is_not(None), Workspace.uninstalled_at < cutoff)
        .order_by(Workspace.id)
        .limit(1)
        .with_for_update()
    )
    done = 0
    while done < limit:
        workspace = (await db.execute(query)).scalar_one_or_none()
        if workspace is None:
            break
        for model, where in _hanging_from(workspace):
            done += await delete_some(db, model, limit - done, where)
            if done >= limit:
                return done
        await db.execute(delete(Workspace).where(Workspace.id == workspace.id))
        db.expunge(workspace)
        done += 1
    return done


def rows_of(workspace: Workspace) -> list[tuple[type[Base], ColumnElement[bool]]]:
    """Every table holding rows of `workspace` (see `_hanging_from`); the playground's
    "reset demo" deletes them too."""
    return _hanging_from(workspace)


def _hanging_from(workspace: Workspace) -> list[tuple[type[Base], ColumnElement[bool]]]:
    """Every table holding rows of `workspace`, each with the condition naming them,
    children first (so that no single DELETE cascades into an unbounded number of rows)."""
    w = workspace.id
    pulses = select(Pulse.id).where(Pulse.workspace_id == w)
    contributions = select(Contribution.id).where(Contribution.workspace_id == w)
    sessions = select(TrainingSession.id).where(TrainingSession.workspace_id == w)
    members = select(Member.id).where(Member.workspace_id == w)
    found: list[tuple[type[Base], ColumnElement[bool]]] = [
        (PulseAnswerChange, PulseAnswerChange.pulse_id.in_(pulses)),
        (PulseAnswer, PulseAnswer.pulse_id.in_(pulses)),
        (PulseRecipient, PulseRecipient.pulse_id.in_(pulses)),
        (ContributionLike, ContributionLike.contribution_id.in_(contributions)),
        (SessionParticipation, SessionParticipation.session_id.in_(sessions)),
        (MembershipEvent, MembershipEvent.member_id.in_(members)),
    ]
    found += [(model, table_of(model).c.workspace_id == w) for model in WORKSPACE_ROWS]
    # What the platforms' adapters keep under the workspace's platform id.
    if workspace.platform == "teams":
        found.append((TeamsConversation, TeamsConversation.tenant_id == workspace.external_id))
        found.append((TeamsMember, TeamsMember.tenant_id == workspace.external_id))
    elif workspace.platform == "slack":
        found.append((SlackInstallation, SlackInstallation.team_id == workspace.external_id))
    return found
