"""`forget me`: a person's data erased everywhere (GDPR Art. 17), in two steps.

1. `erase`, in the confirming click's own transaction: the member row and everything that
   hangs from it (sessions joined, contributions and their likes, pulse answers and their
   history, referrals made and received, mentoring, downloads, badge awards — each award's
   random uid kept in `erased_badge` so its Open Badge answers 410); the sessions,
   challenges and pulses they ran pass to the workspace's "former member"; the raw
   requests, messages and playground posts that carry their ids, names or texts are
   deleted or emptied. Counts (pulse totals, rounds) keep numbers only.
2. `sweep`, a few minutes later (the scheduler): the goodbye message was still to be
   delivered through the person's platform references; those references, that message's
   record and any request recorded meanwhile go too. Until then only the sweep row holds
   their ids and names, for that purpose.

On SQLite, `secure_delete` (storage/db.py) zeroes deleted content in the file and the sweep
truncates the write-ahead log, so no byte of the person remains in the database files.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, Text, cast, delete, false, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from storage import activity
from storage.members import FORMER_MEMBER_ID
from storage.models import (
    BadgeAward,
    Challenge,
    Contribution,
    ConversationPresence,
    ErasedBadge,
    ErasureSweep,
    InboxEvent,
    LocalMessage,
    Member,
    MenteeWish,
    MentorProfile,
    OutboxMessage,
    Pulse,
    PulseAnswer,
    Referral,
    SlackInstallation,
    TeamsConversation,
    TeamsMember,
    TrainingSession,
    Workspace,
)
from storage.personal_data import received_condition
from storage.vocabulary import InboxStatus, MemberRole, OutboxStatus

log = logging.getLogger(__name__)

# truncate_wal's tries: a minute at most (each waits up to inline_sqlite.BUSY_TIMEOUT_MS,
# with 0.2 s between them), longer than a dashboard read.
CHECKPOINT_TRIES = 240
CHECKPOINT_PAUSE_SECONDS = 0.2

SWEEP_AFTER = timedelta(minutes=10)
# Texts shorter than this are not searched for in other records (too many false matches).
MIN_TEXT = 12
# Nor names shorter than this: "Jo" is in "Rejoindre"; the records about the person are
# found by their ids anyway (exact), only other people's records that merely mention such a
# short name keep it (PRIVACY.md says so).
MIN_NAME = 4
REMOVED = "…"


@dataclass(frozen=True)
class Erased:
    """What `erase` did: the contribution posts to empty on the platform, and counts."""

    posts: list[tuple[str, str]]  # (outbox key of the post, its target)
    badges: int
    contributions: int


async def ids_of(db: AsyncSession, workspace: Workspace, member: Member) -> list[str]:
    """The person's exact identifiers: user id (and Teams' own id for them), email."""
    found = {member.user_id, member.email or ""}
    if workspace.platform == "teams":
        teams_ids = await db.execute(
            select(TeamsMember.user_id).where(
                TeamsMember.tenant_id == workspace.external_id,
                TeamsMember.aad_object_id == member.user_id,
            )
        )
        found.update(teams_ids.scalars())
    return sorted(t for t in found if t)


async def traces_of(db: AsyncSession, workspace: Workspace, member: Member) -> list[str]:
    """What identifies the person in free text: their ids, names, email and what they wrote."""
    found = set(await ids_of(db, workspace, member))
    if len(member.display_name) >= MIN_NAME:
        found.add(member.display_name)
    texts = await db.execute(select(Contribution.text).where(Contribution.member_id == member.id))
    found.update(t for t in texts.scalars() if len(t) >= MIN_TEXT)
    comments = await db.execute(
        select(PulseAnswer.comment).where(
            PulseAnswer.member_id == member.id, PulseAnswer.comment.is_not(None)
        )
    )
    found.update(c for c in comments.scalars() if c and len(c) >= MIN_TEXT)
    return sorted(t for t in found if t and len(t) >= 2)


async def erase(
    db: AsyncSession, workspace: Workspace, member: Member, now: datetime
) -> tuple[Erased, list[str]]:
    """Erase the person in the caller's transaction; what was done and their traces."""
    traces = await traces_of(db, workspace, member)
    former = await _former_member(db, workspace, now)
    badges = await _keep_badge_uids(db, member, now)
    posts = await _contribution_posts(db, member)
    contributions = len(posts)
    for model, column in (
        (TrainingSession, TrainingSession.opened_by_id),
        (TrainingSession, TrainingSession.closed_by_id),
        (Challenge, Challenge.created_by_id),
        (Pulse, Pulse.created_by_id),
    ):
        await db.execute(update(model).where(column == member.id).values({column.key: former}))
    await db.execute(
        delete(Referral).where(or_(Referral.referrer_id == member.id, received_condition(member)))
    )
    await db.execute(
        delete(ConversationPresence).where(
            ConversationPresence.workspace_id == workspace.id,
            ConversationPresence.user_id == member.user_id,
        )
    )
    if workspace.platform == "slack":
        await db.execute(
            update(SlackInstallation)
            .where(
                SlackInstallation.team_id == workspace.external_id,
                SlackInstallation.installer_user_id == member.user_id,
            )
            .values(installer_user_id=None)
        )
    # The rest hangs from the member row (ON DELETE CASCADE / SET NULL).
    await db.execute(delete(MentorProfile).where(MentorProfile.member_id == member.id))
    await db.execute(delete(MenteeWish).where(MenteeWish.member_id == member.id))
    # Their contributions and likes go with the member row: the dashboard's rollup too.
    await activity.forget_member(db, member.id)
    await db.execute(delete(Member).where(Member.id == member.id))
    ids = await ids_of(db, workspace, member)
    renamed = await forget_traces(db, workspace, member.user_id, traces, ids, {k for k, _ in posts})
    posts = [(renamed.get(key, key), target) for key, target in posts]
    db.add(
        ErasureSweep(
            workspace_id=workspace.id,
            user_id=member.user_id,
            traces={"all": traces, "ids": ids},
            due_at=now + SWEEP_AFTER,
        )
    )
    return Erased(posts, badges, contributions), traces


async def forget_traces(
    db: AsyncSession,
    workspace: Workspace,
    user_id: str,
    traces: list[str],
    ids: list[str],
    keep_posts: set[str] | frozenset[str] = frozenset(),
) -> dict[str, str]:
    """Delete or empty the records that carry the person: messages to them or about them,
    requests they sent, playground posts. A post the bot may still edit (its platform id
    is needed) is emptied instead of deleted, under a new key: {old key: new key}."""
    everything = _patterns(traces, ids)
    # Messages not yet sent are only matched by the person's ids (exact): a colleague's
    # pending message that merely contains the same first name is not touched.
    precise = _patterns([t for t in traces if t in ids], ids)
    outbox = [
        OutboxMessage.target,
        OutboxMessage.idempotency_key,
        OutboxMessage.payload,
        OutboxMessage.refresh,
        OutboxMessage.last_error,
    ]
    matching = (
        select(OutboxMessage.id, OutboxMessage.target, OutboxMessage.idempotency_key)
        .where(OutboxMessage.workspace_id == workspace.id)
        .where(
            or_(
                OutboxMessage.idempotency_key.in_(keep_posts),
                OutboxMessage.target == f"dm:{user_id}",
                (OutboxMessage.status != OutboxStatus.PENDING) & _any_like(outbox, everything),
                _any_like(outbox, precise),
            )
        )
    )
    theirs = {f"dm:{user_id}"}
    renamed: dict[str, str] = {}
    for row_id, target, key in (await db.execute(matching)).all():
        posted_elsewhere = target not in theirs and not target.startswith("group:")
        if key in keep_posts or posted_elsewhere:
            # Kept for its platform id (the post can still be edited), emptied, and under a
            # new key: the old one names ids of rows now deleted, which SQLite may give
            # again to someone new, whose message would then pass for already sent.
            renamed[key] = f"erased:{uuid.uuid4().hex}"
            await db.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id)
                .values(
                    idempotency_key=renamed[key],
                    payload={"text": REMOVED},
                    coalesce_key=None,
                    last_error=None,
                )
            )
        else:
            await db.execute(delete(OutboxMessage).where(OutboxMessage.id == row_id))
    inbox = [InboxEvent.payload, InboxEvent.last_error]
    await db.execute(
        delete(InboxEvent).where(
            InboxEvent.platform == workspace.platform,
            or_(
                (InboxEvent.status != InboxStatus.PENDING) & _any_like(inbox, everything),
                _any_like(inbox, precise),
            ),
        )
    )
    if workspace.platform == "local":
        await db.execute(delete(LocalMessage).where(LocalMessage.conversation == f"dm:{user_id}"))
        await db.execute(
            update(LocalMessage)
            .where(_any_like([LocalMessage.text, LocalMessage.card], everything))
            .values(text=REMOVED, card=None, dedupe_key=None)
        )
    return renamed


async def due_sweeps(db: AsyncSession, now: datetime, limit: int = 50) -> list[ErasureSweep]:
    """Sweeps whose time has come."""
    query = select(ErasureSweep).where(ErasureSweep.due_at <= now).order_by(ErasureSweep.id)
    return list((await db.execute(query.limit(limit))).scalars())


async def next_sweep(db: AsyncSession) -> datetime | None:
    """When the next sweep is due."""
    return (await db.execute(select(func.min(ErasureSweep.due_at)))).scalar_one()


async def sweep(db: AsyncSession, row: ErasureSweep) -> None:
    """The second step: the person's platform references and the last records about them."""
    workspace = await db.get(Workspace, row.workspace_id)
    if workspace is not None:
        if workspace.platform == "teams":
            await db.execute(
                delete(TeamsMember).where(
                    TeamsMember.tenant_id == workspace.external_id,
                    TeamsMember.aad_object_id == row.user_id,
                )
            )
            await db.execute(
                delete(TeamsConversation).where(
                    TeamsConversation.tenant_id == workspace.external_id,
                    TeamsConversation.aad_object_id == row.user_id,
                )
            )
        # Someone who wrote again since is a new member: leave what is theirs now.
        again = await db.execute(
            select(Member.id).where(
                Member.workspace_id == workspace.id, Member.user_id == row.user_id
            )
        )
        if again.scalar_one_or_none() is None:
            traces = row.traces
            await forget_traces(db, workspace, row.user_id, traces["all"], traces["ids"])
    await db.delete(row)


async def truncate_wal(engine: AsyncEngine) -> bool:
    """SQLite: fold the write-ahead log into the file and empty it, so that the pages as
    they were before the erasure are gone from disk too (a no-op on PostgreSQL). Outside
    any transaction: a checkpoint cannot truncate the log while one is open.

    The checkpoint waits for the dashboard's open reads, but the writer's connection runs
    on the event loop and waits at most its busy timeout (storage.inline_sqlite): a try
    that finds a read still open answers "busy"
    (https://www.sqlite.org/pragma.html#pragma_wal_checkpoint), and the next one comes
    after a pause in which the loop, and the bot's writes, go on. True once truncated."""
    if engine.dialect.name != "sqlite":
        return True
    for _ in range(CHECKPOINT_TRIES):
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            cursor = await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy = (await cursor.fetchone())[0]
        if not busy:
            return True
        await _pause()
    log.warning("wal_not_truncated", extra={"tries": CHECKPOINT_TRIES})
    return False


async def _pause() -> None:
    await asyncio.sleep(CHECKPOINT_PAUSE_SECONDS)


async def _former_member(db: AsyncSession, workspace: Workspace, now: datetime) -> int:
    """The workspace's "former member": who ran the sessions, challenges and pulses of
    people who were erased (those rows need an author; the person is gone)."""
    query = select(Member.id).where(
        Member.workspace_id == workspace.id, Member.user_id == FORMER_MEMBER_ID
    )
    found = (await db.execute(query)).scalar_one_or_none()
    if found is not None:
        return found
    former = Member(
        workspace_id=workspace.id,
        user_id=FORMER_MEMBER_ID,
        display_name="—",
        role=MemberRole.LEARNER,
        created_at=now,
    )
    db.add(former)
    await db.flush()
    return former.id


async def _keep_badge_uids(db: AsyncSession, member: Member, now: datetime) -> int:
    awards = (
        await db.execute(select(BadgeAward).where(BadgeAward.member_id == member.id))
    ).scalars()
    count = 0
    for award in awards:
        db.add(
            ErasedBadge(
                uid=award.uid, workspace_id=award.workspace_id, level=award.level, erased_at=now
            )
        )
        count += 1
    await db.flush()
    return count


async def _contribution_posts(db: AsyncSession, member: Member) -> list[tuple[str, str]]:
    """Where their answers and shares were posted: (the post's outbox key, its target)."""
    query = (
        select(OutboxMessage.idempotency_key, OutboxMessage.target)
        .join(Contribution, Contribution.post_key == OutboxMessage.idempotency_key)
        .where(Contribution.member_id == member.id)
    )
    return [(key, target) for key, target in (await db.execute(query)).all()]


# An id this long is unlike any word: found anywhere (Slack's U0123ABCD, Entra object ids).
# A shorter one (the playground's "jo") only where it stands as an id: "jo" is in "join".
MIN_BARE_ID = 8


def _patterns(traces: list[str], ids: list[str] | None = None) -> list[str]:
    """Each trace as typed and as JSON writes it (\\u00e9 for é, \\" for a quote); each
    short id only as an id: a JSON string of its own, a mention, a DM target."""
    short = {i for i in ids or [] if len(i) < MIN_BARE_ID and "@" not in i}
    found: set[str] = set()
    for trace in traces:
        if trace in short:
            found.update((f'"{trace}"', f"<@{trace}>", f'"dm:{trace}"', f"@{trace} "))
        else:
            found.update((trace, json.dumps(trace)[1:-1]))
    return sorted(found)


def _any_like(columns: list[Any], patterns: list[str]) -> Any:
    """Whether any column holds any pattern, case-sensitively (LIKE ignores case on SQLite:
    "Jo" would match "jo" in another word): instr on SQLite, strpos on PostgreSQL."""
    if not patterns:
        return false()
    return or_(
        *(_contains(cast(column, Text), pattern) for column in columns for pattern in patterns)
    )


class _contains(FunctionElement[bool]):
    """`haystack` contains `needle`, case-sensitively, on either database."""

    type = Boolean()
    inherit_cache = True
    name = "contains"

    def __init__(self, haystack: Any, needle: str) -> None:
        super().__init__(haystack, literal(needle, Text))


@compiles(_contains, "sqlite")
def _contains_sqlite(element: _contains, compiler: Any, **kw: Any) -> str:
    return f"(instr({compiler.process(element.clauses, **kw)}) > 0)"


@compiles(_contains, "postgresql")
def _contains_postgresql(element: _contains, compiler: Any, **kw: Any) -> str:
    return f"(strpos({compiler.process(element.clauses, **kw)}) > 0)"
