"""Challenges: participation per posted occurrence, success vs not-yet.

- The latest `shown` occurrences (default `LATEST`; None, the CSV's: every one) posted
  in the period (`posted_at`), newest first, each
  with its answers not hidden, successes and not-yets, read from the rollup
  `activity_occurrence` (storage/activity.py: a popular occurrence has thousands of
  answers, too many to count on each page load).
- Challenges are posted to the whole community: a training or session scope keeps every
  occurrence and counts the answers of the scope's members (its cohort, as the activity
  section: storage/activity.py files contributions under the session their author joined
  through).
- `occurrences`: how many were posted in the period; the totals (answers, successes,
  not-yets) come from the rollup, over the weeks the period's days touch (whole UTC
  weeks, each answer in the week it was first given), so they cover every occurrence,
  not only those listed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.steering.activity import week_range
from bot.steering.model import ChallengeRun, Challenges, Scope
from storage.models import Challenge, ChallengeOccurrence, OccurrenceActivity, WeeklyActivity
from storage.vocabulary import OccurrenceStatus

LATEST = 30
EXCERPT = 80


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """The challenge's first line, cut at a word under `limit` characters."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    if line[limit - 1] != " ":  # not at a word's end: back to the last whole word
        cut = cut.rsplit(" ", 1)[0] or cut
    return cut.rstrip(" ,;:.") + "…"


def _posted(query: Any, workspace_id: int, scope: Scope) -> Any:
    query = query.where(
        ChallengeOccurrence.workspace_id == workspace_id,
        ChallengeOccurrence.status == OccurrenceStatus.POSTED,
    )
    if scope.start is not None:
        query = query.where(ChallengeOccurrence.posted_at >= scope.start)
    if scope.end is not None:
        query = query.where(ChallengeOccurrence.posted_at < scope.end)
    return query


async def challenges(
    db: AsyncSession, workspace_id: int, scope: Scope, shown: int | None = LATEST
) -> Challenges:
    """The `shown` latest occurrences in scope (None: every one, for the CSV) and the totals."""
    latest = (
        await db.execute(
            _posted(
                select(
                    ChallengeOccurrence.id,
                    ChallengeOccurrence.posted_at,
                    Challenge.id,
                    Challenge.text,
                ).join(Challenge, Challenge.id == ChallengeOccurrence.challenge_id),
                workspace_id,
                scope,
            )
            .order_by(ChallengeOccurrence.posted_at.desc(), ChallengeOccurrence.id.desc())
            .limit(shown)
        )
    ).all()
    occurrences = int(
        (await db.execute(_posted(select(func.count()), workspace_id, scope))).scalar_one()
    )
    counts: dict[int, tuple[int, int, int]] = {}
    if latest:
        rollup = OccurrenceActivity
        query = select(
            rollup.occurrence_id,
            func.sum(rollup.answers),
            func.sum(rollup.successes),
            func.sum(rollup.not_yets),
        ).where(rollup.occurrence_id.in_([row[0] for row in latest]))
        if scope.session_ids is not None:
            query = query.where(rollup.session_id.in_(scope.session_ids or (-1,)))
        query = query.group_by(rollup.occurrence_id)
        for occurrence_id, answers, successes, not_yets in (await db.execute(query)).all():
            counts[int(occurrence_id)] = (int(answers), int(successes), int(not_yets))
    runs = []
    for occurrence_id, posted_at, number, text in latest:
        answers, successes, not_yets = counts.get(int(occurrence_id), (0, 0, 0))
        runs.append(
            ChallengeRun(
                number=int(number),
                posted_at=posted_at,
                excerpt=excerpt(text),
                answers=answers,
                successes=successes,
                not_yets=not_yets,
            )
        )
    answers, successes, not_yets = await _totals(db, workspace_id, scope)
    return Challenges(
        runs=tuple(runs),
        occurrences=occurrences,
        answers=answers,
        successes=successes,
        not_yets=not_yets,
    )


async def _totals(db: AsyncSession, workspace_id: int, scope: Scope) -> tuple[int, int, int]:
    rollup = WeeklyActivity
    query = select(
        func.coalesce(func.sum(rollup.answers), 0),
        func.coalesce(func.sum(rollup.successes), 0),
        func.coalesce(func.sum(rollup.not_yets), 0),
    ).where(rollup.workspace_id == workspace_id)
    if scope.session_ids is not None:
        query = query.where(rollup.session_id.in_(scope.session_ids or (-1,)))
    first, last = week_range(scope)
    if first is not None:
        query = query.where(rollup.week >= first)
    if last is not None:
        query = query.where(rollup.week <= last)
    answers, successes, not_yets = (await db.execute(query)).one()
    return int(answers), int(successes), int(not_yets)
