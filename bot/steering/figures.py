"""The whole dashboard for one scope: each section's figures, gathered in one read.

The page, its CSV exports and its PDF snapshot draw from this one result; the chat's
`pulse results all` and `mentoring stats` read the same section functions, so a figure is
the same wherever it is read.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.ladder import Ladder
from bot.steering.activity import activity
from bot.steering.badges import badges
from bot.steering.challenges import challenges
from bot.steering.funnel import funnel
from bot.steering.mentoring import mentoring
from bot.steering.model import Dashboard, Scope
from bot.steering.pulses import pulses
from bot.steering.referrals import referrals

# What the page lists (a steering committee reads the trends; each CSV holds every row):
# the latest pulses, the biggest trainings of the heat map, the novices waiting longest
# and the busiest mentors. The page says when a list is cut, and how long it is.
PAGE_PULSES = 24
PAGE_HEAT_TRAININGS = 12
PAGE_MENTORING = 20


async def gather(
    db: AsyncSession,
    workspace_id: int,
    scope: Scope,
    now: datetime,
    ladder: Ladder,
    *,
    full: bool = False,
) -> Dashboard:
    """Every section's figures for `scope`, section after section on one connection (the
    sections are small indexed reads; one connection keeps them one consistent picture on
    PostgreSQL when the caller opens a repeatable-read transaction).

    The page's view cuts the long lists (PAGE_*); `full` gives them whole (the CSVs)."""
    return Dashboard(
        scope=scope,
        generated_at=now,
        funnel=await funnel(db, workspace_id, scope, ladder),
        pulses=await pulses(
            db, workspace_id, scope, named=True, latest=None if full else PAGE_PULSES
        ),
        activity=await activity(
            db, workspace_id, scope, trainings=None if full else PAGE_HEAT_TRAININGS
        ),
        challenges=await challenges(db, workspace_id, scope),
        referrals=await referrals(db, workspace_id, scope),
        badges=await badges(db, workspace_id, scope, ladder),
        mentoring=await mentoring(
            db, workspace_id, scope, now, limit=None if full else PAGE_MENTORING
        ),
    )
