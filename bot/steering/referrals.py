"""The referrals section: per training, the colleagues learners recommended it to in
pulses ("NPS with names becomes operational"), and what became of it.

A referral belongs to its pulse's training: the sessions of one name add up; pulses about
the whole community are one row, `training` = COMMUNITY with `community` set. Counts, as
`pulse results` tells them for one pulse (storage.referrals.counts):

- made: every colleague named;
- invited: those on the platform (the bot can invite them; a free name cannot be);
- interested: those who answered the invitation "interested";
- converted: those who joined a later session.

In scope: referrals of pulses about the scope's sessions, made in the period.
"""

from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.steering.in_scope import in_period, nothing_matches
from bot.steering.model import COMMUNITY, ReferralRow, Scope
from storage.models import Referral, TrainingSession
from storage.vocabulary import ReferralResponse


async def referrals(db: AsyncSession, workspace_id: int, scope: Scope) -> tuple[ReferralRow, ...]:
    """One row per training with referrals in scope, the most referrals first."""
    if nothing_matches(scope):
        return ()
    # Grouped by training in the database (sessions of one name add up): a row per
    # training comes back, not one per session with a second query for their names.
    query = (
        select(
            TrainingSession.name,
            func.count(),
            func.count(Referral.referred_member_id),
            func.coalesce(
                func.sum(case((Referral.response == ReferralResponse.INTERESTED, 1), else_=0)), 0
            ),
            func.count(Referral.converted_at),
        )
        .outerjoin(TrainingSession, TrainingSession.id == Referral.session_id)
        .where(Referral.workspace_id == workspace_id, in_period(Referral.created_at, scope))
    )
    if scope.session_ids is not None:
        query = query.where(Referral.session_id.in_(scope.session_ids))
    counted = (await db.execute(query.group_by(TrainingSession.name))).all()
    rows: dict[tuple[bool, str], list[int]] = {}
    for name, *figures in counted:
        key = (name is None, name if name is not None else COMMUNITY)
        so_far = rows.setdefault(key, [0, 0, 0, 0])
        for index, value in enumerate(figures):
            so_far[index] += int(value or 0)
    ordered = sorted(rows.items(), key=lambda item: (-item[1][0], item[0][0], item[0][1]))
    return tuple(
        ReferralRow(name, made, invited, interested, converted, community)
        for (community, name), (made, invited, interested, converted) in ordered
    )
