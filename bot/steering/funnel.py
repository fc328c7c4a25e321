"""The sign-up funnel per session: present → joined → first contribution → Junior →
Confirmed.

- sessions in scope: the scope's sessions (all the workspace's without one) opened in the
  period; the latest `shown` (default `LATEST`; None, the CSV's: all), by opening, newest
  first, get a row each;
- present: what the platform counted when the join window closed (None when it could not);
- joined: the session's participants but its trainers (who opened it, who closed it), the
  rule of `storage.training_sessions.learner_count`, so the figure is the chat's;
- contributed: those with a contribution not hidden, at any time
  (`member.first_contributed_at`, kept by storage/activity.py);
- Junior and Confirmed: those whose current level (`member.level`, their highest award not
  revoked) is at or above the ladder's first and second rung. A revoked award does not
  count: the funnel shows who holds the level, the badges section shows promotions. A
  Junior now Senior counts at both steps.
- the total counts each learner once, however many sessions in scope they took part in;
  its `present` is the sum of the sessions' known counts (None when none is known).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.ladder import DEFAULT_LADDER, Ladder
from bot.steering.model import Funnel, FunnelStep, Scope
from storage.models import Member, SessionParticipation, TrainingSession

LATEST = 20
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def in_scope(query: Any, workspace_id: int, scope: Scope) -> Any:
    """`query` on training_session narrowed to the scope's sessions opened in its period."""
    query = query.where(TrainingSession.workspace_id == workspace_id)
    if scope.session_ids is not None:
        query = query.where(TrainingSession.id.in_(scope.session_ids or (-1,)))
    if scope.start is not None:
        query = query.where(TrainingSession.opened_at >= scope.start)
    if scope.end is not None:
        query = query.where(TrainingSession.opened_at < scope.end)
    return query


def _level_rank(ladder: Ladder) -> Any:
    """member.level as its rung on the ladder (0: no level)."""
    return case(
        *((Member.level == level.id, rank) for rank, level in enumerate(ladder.levels, 1)),
        else_=0,
    )


def _learner() -> Any:
    """A participation of someone other than the session's trainers."""
    closer = func.coalesce(TrainingSession.closed_by_id, TrainingSession.opened_by_id)
    return and_(
        SessionParticipation.member_id != TrainingSession.opened_by_id,
        SessionParticipation.member_id != closer,
    )


def _steps(rank: Any) -> list[Any]:
    return [
        func.count(Member.first_contributed_at),
        func.coalesce(func.sum(case((rank >= 1, 1), else_=0)), 0),
        func.coalesce(func.sum(case((rank >= 2, 1), else_=0)), 0),
    ]


async def funnel(
    db: AsyncSession,
    workspace_id: int,
    scope: Scope,
    ladder: Ladder = DEFAULT_LADDER,
    shown: int | None = LATEST,
) -> Funnel:
    """The funnel of the `shown` latest sessions in scope (None: every one, for the CSV) and of
    all of them."""
    # The latest sessions (a row each), and the others only counted: thousands at scale.
    latest = (
        await db.execute(
            in_scope(
                select(
                    TrainingSession.id,
                    TrainingSession.code,
                    TrainingSession.name,
                    TrainingSession.opened_at,
                    TrainingSession.present_count,
                ),
                workspace_id,
                scope,
            )
            .order_by(TrainingSession.opened_at.desc(), TrainingSession.id.desc())
            .limit(shown)
        )
    ).all()
    counted, present, known, first = (
        await db.execute(
            in_scope(
                select(
                    func.count(),
                    func.sum(TrainingSession.present_count),
                    func.count(TrainingSession.present_count),
                    func.min(TrainingSession.opened_at),
                ),
                workspace_id,
                scope,
            )
        )
    ).one()
    sessions = _Sessions(int(counted), int(present) if known else None, first)
    rank = _level_rank(ladder)
    per_session: dict[int, tuple[int, int, int, int]] = {}
    if latest:
        query = (
            select(SessionParticipation.session_id, func.count(), *_steps(rank))
            .join(TrainingSession, TrainingSession.id == SessionParticipation.session_id)
            .join(Member, Member.id == SessionParticipation.member_id)
            .where(SessionParticipation.session_id.in_([s.id for s in latest]), _learner())
            .group_by(SessionParticipation.session_id)
        )
        for session_id, *counts in (await db.execute(query)).all():
            per_session[int(session_id)] = tuple(int(n) for n in counts)  # type: ignore[assignment]
    rows = tuple(
        _step(s.code, s.name, s.opened_at, s.present_count, per_session.get(s.id)) for s in latest
    )
    total = await _total(db, workspace_id, scope, rank, sessions)
    return Funnel(sessions=rows, total=total, sessions_in_scope=sessions.count)


def _step(
    code: str,
    training: str,
    opened_at: datetime,
    present: int | None,
    counts: tuple[int, int, int, int] | None,
) -> FunnelStep:
    joined, contributed, junior, confirmed = counts or (0, 0, 0, 0)
    return FunnelStep(code, training, opened_at, present, joined, contributed, junior, confirmed)


@dataclass(frozen=True)
class _Sessions:
    """The sessions in scope counted: how many, those present (None: nobody counted them),
    the first one's opening."""

    count: int
    present: int | None
    first_opened_at: datetime | None


async def _total(
    db: AsyncSession, workspace_id: int, scope: Scope, rank: Any, sessions: _Sessions
) -> FunnelStep:
    present = sessions.present
    # The total's "opened" is the first session's opening (the start of what it covers).
    opened_at = sessions.first_opened_at or scope.start or EPOCH
    if not sessions.count:
        return FunnelStep("", "", opened_at, present, 0, 0, 0, 0)
    # Each learner once: the members with a learner's participation in a session in scope
    # (an uncorrelated IN: the database builds the set once, then reads each member by key).
    learners = in_scope(
        select(SessionParticipation.member_id)
        .join(TrainingSession, TrainingSession.id == SessionParticipation.session_id)
        .where(_learner()),
        workspace_id,
        scope,
    )
    query = select(func.count(), *_steps(rank)).where(Member.id.in_(learners))
    joined, contributed, junior, confirmed = (await db.execute(query)).one()
    return FunnelStep(
        "",
        "",
        opened_at,
        present,
        int(joined),
        int(contributed),
        int(junior),
        int(confirmed),
    )
