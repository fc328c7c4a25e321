"""The scheduler's pulse work: send them (by batches), remind, close at the deadline.

One pulse at a time, one step of it per transaction, in the context of its workspace.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.context import WorkspaceContext
from bot.core.replies import OutboundMessage
from bot.handlers.pulse_cards import question, training_name
from bot.handlers.pulse_rounds import BATCH, close, send_batch, start_sending
from bot.jobs.job import Job, in_workspace
from bot.settings import Settings
from storage import outbox_keys, pulses
from storage.models import Member, Pulse
from storage.vocabulary import PulseStatus

Claim = Callable[[AsyncSession, datetime, int], Awaitable[list[Pulse]]]
Step = Callable[[WorkspaceContext, Pulse], Awaitable[bool]]


def job(db_sessions: async_sessionmaker[AsyncSession], settings: Settings) -> Job:
    """Pulses to send, remind or close."""

    async def run_due(now: datetime) -> int:
        done = 0
        done += await _each(db_sessions, settings, pulses.claim_sending, now, _send_some)
        done += await _each(db_sessions, settings, pulses.claim_reminders, now, _remind)
        done += await _each(db_sessions, settings, pulses.claim_closing, now, _close)
        return done

    async def next_due() -> datetime | None:
        async with db_sessions() as db:
            return await pulses.next_due(db)

    return Job(run_due, next_due)


async def _each(
    db_sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    claim: Claim,
    now: datetime,
    step: Step,
) -> int:
    """Claim one pulse at a time and run one step of it per transaction, until none is due."""
    done = 0
    for _ in range(10_000):  # bounded: a bug must not spin the scheduler forever
        async with db_sessions() as db, db.begin():
            claimed = await claim(db, now, 1)
            if not claimed:
                return done
            pulse = claimed[0]
            ctx = await in_workspace(db, settings, pulse.workspace_id, now)
            assert ctx is not None
            if pulse.status == PulseStatus.SCHEDULED:
                start_sending(pulse, settings, now)
            await step(ctx, pulse)
            done += 1
    return done


async def _send_some(ctx: WorkspaceContext, pulse: Pulse) -> bool:
    if pulse.closes_at is not None and pulse.closes_at <= ctx.now:
        # Sent so late that its deadline has passed (the bot was down): ask nobody.
        await close(ctx.db, pulse, ctx.now)
        return True
    return await send_batch(ctx, pulse)


async def _remind(ctx: WorkspaceContext, pulse: Pulse) -> bool:
    """Remind every recipient who has not answered (never more than settings allow)."""
    settings = ctx.settings
    number = pulse.reminders_sent + 1
    assert pulse.closes_at is not None
    after = 0
    while True:
        batch = await pulses.non_respondents(ctx.db, pulse.id, after, BATCH)
        for member in batch:
            t = ctx.translator_for(member)
            training = await training_name(ctx.db, pulse, t)
            zone = ctx.timezone_of(member)
            message = question(t, pulse, training, pulse.closes_at, zone, reminder=True)
            key = outbox_keys.pulse_reminder(pulse.id, number, member.id)
            await ctx.outbox.post(key, f"dm:{member.user_id}", message)
        if len(batch) < BATCH:
            break
        after = batch[-1].id
    pulse.reminders_sent = number
    following = ctx.now + timedelta(days=settings.pulse.reminder_after_days)
    more = number < settings.pulse.reminders and following < pulse.closes_at
    pulse.next_reminder_at = following if more else None
    return True


async def _close(ctx: WorkspaceContext, pulse: Pulse) -> bool:
    await close(ctx.db, pulse, ctx.now)
    creator = await ctx.db.get(Member, pulse.created_by_id)
    if creator is not None:
        t = ctx.translator_for(creator)
        answered = int((pulse.final_sums or {}).get("answers", 0))
        text = t("pulses.closed_notice", id=pulse.id, answered=answered, sent=pulse.recipients)
        await ctx.outbox.post(
            outbox_keys.pulse_closed(pulse.id), f"dm:{creator.user_id}", OutboundMessage(text)
        )
    return True
