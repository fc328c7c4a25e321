"""The whole dashboard for one scope: each section's figures, gathered in one read.

The page, its CSV exports and its PDF snapshot draw from this one result; the chat's
`pulse results all` and `mentoring stats` read the same section functions, so a figure is
the same wherever it is read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.ladder import Ladder
from bot.steering.activity import activity
from bot.steering.badges import badges
from bot.steering.challenges import challenges
from bot.steering.funnel import funnel
from bot.steering.mentoring import mentoring
from bot.steering.model import Dashboard, Scope
from bot.steering.pulses import pulses
from bot.steering.referrals import referrals
from bot.steering.themes import themes

# What the page lists (a steering committee reads the trends; each CSV holds every row):
# the latest pulses, the biggest trainings of the heat map, the novices waiting longest
# and the busiest mentors. The page says when a list is cut, and how long it is.
PAGE_SESSIONS = 20
PAGE_CHALLENGES = 30
PAGE_PULSES = 24
PAGE_HEAT_TRAININGS = 12
PAGE_MENTORING = 20


Section = Callable[[AsyncSession], Awaitable[Any]]


def _sections(
    workspace_id: int, scope: Scope, now: datetime, ladder: Ladder, full: bool
) -> dict[str, Section]:
    """Each section's read, by its field in `Dashboard`."""
    return {
        "funnel": lambda db: funnel(
            db, workspace_id, scope, ladder, shown=None if full else PAGE_SESSIONS
        ),
        "pulses": lambda db: pulses(
            db, workspace_id, scope, named=True, latest=None if full else PAGE_PULSES
        ),
        "activity": lambda db: activity(
            db, workspace_id, scope, trainings=None if full else PAGE_HEAT_TRAININGS
        ),
        "challenges": lambda db: challenges(
            db, workspace_id, scope, shown=None if full else PAGE_CHALLENGES
        ),
        "referrals": lambda db: referrals(db, workspace_id, scope),
        "badges": lambda db: badges(db, workspace_id, scope, ladder),
        "mentoring": lambda db: mentoring(
            db, workspace_id, scope, now, limit=None if full else PAGE_MENTORING
        ),
        "voice": lambda db: themes(db, workspace_id, scope, now, None, with_names=True),
    }


async def gather(
    db: AsyncSession,
    workspace_id: int,
    scope: Scope,
    now: datetime,
    ladder: Ladder,
    *,
    full: bool = False,
) -> Dashboard:
    """Every section's figures for `scope`, section after section on one connection.

    The page's view cuts the long lists (PAGE_*); `full` gives them whole (the CSVs)."""
    found = {
        name: await read(db)
        for name, read in _sections(workspace_id, scope, now, ladder, full).items()
    }
    return Dashboard(scope=scope, generated_at=now, **found)


async def gather_side_by_side(
    db_sessions: async_sessionmaker[AsyncSession],
    workspace_id: int,
    scope: Scope,
    now: datetime,
    ladder: Ladder,
    *,
    full: bool = False,
) -> Dashboard:
    """The same figures as `gather`, each section on its own connection at the same time
    (what the page does: the sections are independent reads, and the database works on
    them in parallel; a dashboard does not need them from one instant)."""

    async def one(read: Section) -> Any:
        async with db_sessions() as db:
            return await read(db)

    sections = _sections(workspace_id, scope, now, ladder, full)
    found = await asyncio.gather(*(one(read) for read in sections.values()))
    return Dashboard(scope=scope, generated_at=now, **dict(zip(sections, found, strict=True)))
