"""Training sessions, their join windows and who took part."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import conversations
from storage.models import Member, SessionParticipation, TrainingSession
from storage.upsert import Prepared, attach, insert_for, keep, table_of


async def create(
    db: AsyncSession,
    workspace_id: int,
    name: str,
    code: str,
    conversation: str,
    opened_by_id: int,
    now: datetime,
) -> TrainingSession | None:
    """Open a session; None when `code` is already taken in the workspace (pick another)."""
    insert = insert_for(db, TrainingSession).values(
        workspace_id=workspace_id,
        name=name,
        code=code,
        conversation=conversation,
        opened_by_id=opened_by_id,
        opened_at=now,
    )
    statement = insert.on_conflict_do_nothing(index_elements=["workspace_id", "code"]).returning(
        *table_of(TrainingSession).c
    )
    row = (await db.execute(statement)).one_or_none()
    return attach(db, TrainingSession, row) if row is not None else None


async def by_code(db: AsyncSession, workspace_id: int, code: str) -> TrainingSession | None:
    """The session with join code `code` (codes are stored upper case)."""
    found = await by_code_counted(db, workspace_id, code)
    return found[0] if found is not None else None


async def by_code_counted(
    db: AsyncSession, workspace_id: int, code: str
) -> tuple[TrainingSession, int] | None:
    """`by_code`, with its `learner_count` as the statement read it (see `_with_opener`)."""
    params = {"workspace_id": workspace_id, "code": code.upper()}
    found = _kept_sessions(db, (await _BY_CODE.execute(db, params)).all())
    return found[0] if found else None


def _with_opener(query: Select[Any]) -> Select[Any]:
    """`query` of sessions, with each one's opener and learner count read in the same
    statement, for a join: the language of a session's posts is its opener's
    (bot/handlers/signup.session_translator), and a member loaded here is then found in the
    session's identity map, with no SELECT of its own; the count is the card's, plus the
    join itself."""
    participation = table_of(SessionParticipation)
    learners = (
        select(func.count())
        .where(
            participation.c.session_id == TrainingSession.id,
            participation.c.member_id.not_in(
                [
                    TrainingSession.opened_by_id,
                    func.coalesce(TrainingSession.closed_by_id, TrainingSession.opened_by_id),
                ]
            ),
        )
        .correlate(TrainingSession)
        .scalar_subquery()
    )
    return query.add_columns(Member, learners).outerjoin(
        Member, Member.id == TrainingSession.opened_by_id
    )


def _kept_sessions(db: AsyncSession, rows: Sequence[Any]) -> list[tuple[TrainingSession, int]]:
    """The sessions of `_with_opener` rows with their counts, their openers kept in the
    session's identity map."""
    keep(db, *(opener for _session, opener, _count in rows if opener is not None))
    return [(session, int(count)) for session, _opener, count in rows]


_BY_CODE = Prepared(
    lambda _insert_into: _with_opener(
        select(TrainingSession).where(
            TrainingSession.workspace_id == bindparam("workspace_id"),
            TrainingSession.code == bindparam("code"),
        )
    )
)


async def by_id(db: AsyncSession, session_id: int) -> TrainingSession | None:
    """The session with primary key `session_id`."""
    return await db.get(TrainingSession, session_id)


async def open_in_conversation(
    db: AsyncSession, workspace_id: int, conversation: str
) -> list[TrainingSession]:
    """Sessions whose join window is open in `conversation` (or, stored before the core was
    given a Teams thread's channel, in one of its threads: storage/conversations.py),
    oldest first."""
    return [session for session, _count in await open_counted(db, workspace_id, conversation)]


async def open_counted(
    db: AsyncSession, workspace_id: int, conversation: str
) -> list[tuple[TrainingSession, int]]:
    """`open_in_conversation`, each with its `learner_count` as the statement read it."""
    params = {
        "workspace_id": workspace_id,
        "conversation": conversation,
        "threads": conversations.threads_pattern(conversation),
    }
    return _kept_sessions(db, (await _OPEN_IN_CONVERSATION.execute(db, params)).all())


_OPEN_IN_CONVERSATION = Prepared(
    lambda _insert_into: _with_opener(
        select(TrainingSession)
        .where(
            TrainingSession.workspace_id == bindparam("workspace_id"),
            or_(
                TrainingSession.conversation == bindparam("conversation"),
                TrainingSession.conversation.like(bindparam("threads"), escape="\\"),
            ),
            TrainingSession.closed_at.is_(None),
        )
        .order_by(TrainingSession.id)
    )
)


async def open_in_workspace(db: AsyncSession, workspace_id: int) -> list[TrainingSession]:
    """Sessions whose join window is open anywhere in the workspace, newest first."""
    query = (
        select(TrainingSession)
        .where(TrainingSession.workspace_id == workspace_id, TrainingSession.closed_at.is_(None))
        .order_by(TrainingSession.id.desc())
    )
    return list((await db.execute(query)).scalars())


async def recent(db: AsyncSession, workspace_id: int, limit: int = 10) -> list[TrainingSession]:
    """The newest sessions of the workspace, open ones first."""
    query = (
        select(TrainingSession)
        .where(TrainingSession.workspace_id == workspace_id)
        .order_by(TrainingSession.closed_at.is_not(None), TrainingSession.id.desc())
        .limit(limit)
    )
    return list((await db.execute(query)).scalars())


async def latest_in_conversation(
    db: AsyncSession, workspace_id: int, conversation: str
) -> TrainingSession | None:
    """The session most recently opened in `conversation` (or one of its threads), open or
    closed."""
    query = (
        select(TrainingSession)
        .where(
            TrainingSession.workspace_id == workspace_id,
            conversations.here(TrainingSession.conversation, conversation),
        )
        .order_by(TrainingSession.id.desc())
        .limit(1)
    )
    return (await db.execute(query)).scalar_one_or_none()


async def latest(db: AsyncSession, workspace_id: int) -> TrainingSession | None:
    """The most recently opened session of the workspace."""
    query = (
        select(TrainingSession)
        .where(TrainingSession.workspace_id == workspace_id)
        .order_by(TrainingSession.id.desc())
        .limit(1)
    )
    return (await db.execute(query)).scalar_one_or_none()


async def close(
    db: AsyncSession,
    session_id: int,
    closed_by_id: int,
    present_count: int | None,
    now: datetime,
) -> bool:
    """Close the join window; False when it was already closed (race-safe)."""
    result = await db.execute(
        update(TrainingSession)
        .where(TrainingSession.id == session_id, TrainingSession.closed_at.is_(None))
        .values(closed_at=now, closed_by_id=closed_by_id, present_count=present_count)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def add_participant(db: AsyncSession, session_id: int, member_id: int, now: datetime) -> bool:
    """Record that the member took part; False when they already had (race-safe)."""
    params = {"session_id": session_id, "member_id": member_id, "joined_at": now}
    return (await _ADD_PARTICIPANT.execute(db, params)).scalar_one_or_none() is not None


_ADD_PARTICIPANT = Prepared(
    lambda insert_into: (
        insert_into(table_of(SessionParticipation))
        .on_conflict_do_nothing(index_elements=["session_id", "member_id"])
        .returning(table_of(SessionParticipation).c.id)
    )
)


async def learner_count(db: AsyncSession, training: TrainingSession) -> int:
    """How many learners took part: the participants other than its trainers (who opened
    it, and who closed it). The one rule behind every "N learners joined" and "out of P
    present" figure, so that a trainer who joined their own session counts in neither."""
    result = await _LEARNER_COUNT.execute(
        db,
        {
            "session_id": training.id,
            "opened_by": training.opened_by_id,
            "closed_by": training.closed_by_id or training.opened_by_id,
        },
    )
    return int(result.scalar_one())


_LEARNER_COUNT = Prepared(
    lambda _insert_into: select(func.count()).where(
        table_of(SessionParticipation).c.session_id == bindparam("session_id"),
        table_of(SessionParticipation).c.member_id.not_in(
            [bindparam("opened_by"), bindparam("closed_by")]
        ),
    )
)


async def participant_names(db: AsyncSession, session_id: int) -> list[str]:
    """Display names of the participants, in the order they joined."""
    query = (
        select(Member.display_name)
        .join(SessionParticipation, SessionParticipation.member_id == Member.id)
        .where(SessionParticipation.session_id == session_id)
        .order_by(SessionParticipation.id)
    )
    return list((await db.execute(query)).scalars())


async def counts(db: AsyncSession, session_ids: list[int]) -> dict[int, int]:
    """Learner counts (see `learner_count`) for several sessions at once."""
    if not session_ids:
        return {}
    # closed_by is NULL while open: coalesced, or NOT(... OR NULL) would drop every row.
    closer = func.coalesce(TrainingSession.closed_by_id, TrainingSession.opened_by_id)
    trainer = or_(
        SessionParticipation.member_id == TrainingSession.opened_by_id,
        SessionParticipation.member_id == closer,
    )
    query = (
        select(SessionParticipation.session_id, func.count())
        .join(TrainingSession, TrainingSession.id == SessionParticipation.session_id)
        .where(SessionParticipation.session_id.in_(session_ids), ~trainer)
        .group_by(SessionParticipation.session_id)
    )
    return {sid: int(n) for sid, n in (await db.execute(query)).all()}


async def joined_by(db: AsyncSession, member_id: int) -> list[int]:
    """The ids of the sessions a member took part in."""
    query = select(SessionParticipation.session_id).where(
        SessionParticipation.member_id == member_id
    )
    return list((await db.execute(query)).scalars())
