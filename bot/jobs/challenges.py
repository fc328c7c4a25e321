"""The scheduler's challenge work: post the runs that fell due, remind who has not answered.

Each batch of due challenges is one transaction; each challenge runs in the context of
its workspace (`run_challenge` is the same a `challenge edit` runs in its command's).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.replies import Card, OutboundMessage
from bot.handlers.challenges import challenge_card, run_challenge
from bot.jobs.job import Job, in_workspace
from bot.scheduling.watch import Watch
from bot.settings import Settings
from storage import challenges, outbox_keys
from storage.models import Challenge, ChallengeOccurrence
from storage.vocabulary import ChallengeStatus

BATCH = 50


def job(db_sessions: async_sessionmaker[AsyncSession], settings: Settings, watch: Watch) -> Job:
    """Due challenges posted once each (or skipped with a reason), then due reminders.

    `watch` says how late a run is through the bot's absence: a run passed over by a jump
    of the movable clock while the bot runs is posted, not counted as missed.
    """

    async def run_due(now: datetime) -> int:
        started = watch.pass_started()
        done = 0
        while True:
            async with db_sessions() as db, db.begin():
                due = await challenges.claim_due(db, now, limit=BATCH)
                for challenge in due:
                    ctx = await in_workspace(db, settings, challenge.workspace_id, now)
                    assert ctx is not None
                    done += await run_challenge(
                        ctx, challenge, lambda planned: watch.lateness(planned, now)
                    )
            if len(due) < BATCH:
                break
        while True:
            async with db_sessions() as db, db.begin():
                reminders = await challenges.claim_due_reminders(db, now, limit=BATCH)
                for occurrence in reminders:
                    done += await _remind(db, occurrence, settings, now)
            if len(reminders) < BATCH:
                break
        watch.passed(started)
        return done

    async def next_due() -> datetime | None:
        async with db_sessions() as db:
            return await challenges.next_due(db)

    return Job(run_due, next_due)


async def _remind(
    db: AsyncSession, occurrence: ChallengeOccurrence, settings: Settings, now: datetime
) -> int:
    """DM each member who has not answered yet, in their language (once per member)."""
    occurrence.reminded_at = now
    if occurrence.closes_at is not None and occurrence.closes_at <= now:
        return 0
    challenge = await db.get(Challenge, occurrence.challenge_id)
    ctx = await in_workspace(db, settings, occurrence.workspace_id, now)
    if challenge is None or ctx is None or challenge.status == ChallengeStatus.CANCELLED:
        return 0
    sent = 0
    for member in await challenges.non_respondents(db, occurrence):
        t = ctx.translator_for(member)
        card = challenge_card(
            t, challenge.text, challenge_id=challenge.id, occurrence_id=occurrence.id
        )
        closes = t.datetime(occurrence.closes_at or now, member.timezone or settings.timezone)
        title = t("challenges.reminder", closes=closes)
        message = OutboundMessage(
            text=f"{title}\n{challenge.text}",
            card=Card(
                title=title, body=challenge.text, buttons=card.card.buttons if card.card else ()
            ),
        )
        await ctx.outbox.post(
            outbox_keys.challenge_reminder(occurrence.id, member.id),
            f"dm:{member.user_id}",
            message,
        )
        sent += 1
    return sent
