"""The scheduler's mentoring work: check-ins when due, a round every N days.

A workspace's round is the one `pair` runs (bot/handlers/mentoring_rounds.py), in the
context of that workspace, in its own transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.replies import Button, Card, OutboundMessage
from bot.handlers.mentoring_rounds import CHECK_IN_ACTION, run
from bot.jobs.job import Job, in_workspace
from bot.settings import Settings
from storage import mentoring, outbox_keys
from storage.models import Member, MentoringPair

BATCH = 50


def job(db_sessions: async_sessionmaker[AsyncSession], settings: Settings) -> Job:
    """Check-ins when due; a round in each workspace where someone has waited N days."""
    every = timedelta(days=settings.mentoring.round_every_days)

    async def run_due(now: datetime) -> int:
        done = 0
        while True:
            async with db_sessions() as db, db.begin():
                due = await mentoring.due_check_ins(db, now, BATCH)
                for pair in due:
                    await _check_in(db, pair, settings, now)
                    done += 1
            if len(due) < BATCH:
                break
        async with db_sessions() as db:
            candidates = await mentoring.workspaces_waiting(db)
        for workspace_id, since in candidates:
            if now - since < every:
                continue
            async with db_sessions() as db, db.begin():
                ctx = await in_workspace(db, settings, workspace_id, now)
                if ctx is not None:
                    done += len((await run(ctx, None)).pairs)
        return done

    async def next_due() -> datetime | None:
        async with db_sessions() as db:
            moments = [await mentoring.next_check_in(db)]
            moments += [since + every for _, since in await mentoring.workspaces_waiting(db)]
        found = [m for m in moments if m is not None]
        return min(found) if found else None

    return Job(run_due, next_due)


async def _check_in(
    db: AsyncSession, pair: MentoringPair, settings: Settings, now: datetime
) -> None:
    """Ask both "Have you met?"; the novice may also ask for another mentor."""
    pair.checked_at = now
    ctx = await in_workspace(db, settings, pair.workspace_id, now)
    mentor = await db.get(Member, pair.mentor_id)
    novice = await db.get(Member, pair.novice_id)
    if ctx is None or mentor is None or novice is None:
        return
    for who, other, role in ((novice, mentor, "novice"), (mentor, novice, "mentor")):
        t = ctx.translator_for(who)
        title = t("mentoring.check_in_title", other=other.display_name)
        buttons = [
            Button(t("mentoring.met"), CHECK_IN_ACTION, f"{pair.id}:met", style="primary"),
            Button(t("mentoring.not_yet"), CHECK_IN_ACTION, f"{pair.id}:not_yet"),
        ]
        if role == "novice":
            buttons.append(Button(t("mentoring.another"), CHECK_IN_ACTION, f"{pair.id}:another"))
        await ctx.outbox.post(
            outbox_keys.pair_check_in(pair.id, role),
            f"dm:{who.user_id}",
            OutboundMessage(text=title, card=Card(title=title, buttons=tuple(buttons))),
        )
