"""A pulse going out: its deadline fixed, its recipients asked by batches, closed.

Each batch is one transaction that records the recipients and enqueues their DMs
together, under one outbox key per pulse and member: a crash (or a second replica)
resumes where the last commit left off and never enqueues a second ask (delivery is at
least once: bot/outbox/). `pulse send` runs the
first batch in its command's transaction; the scheduler (bot/jobs/pulses.py) the rest,
the reminders and the closing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.context import WorkspaceContext
from bot.core.replies import OutboundMessage
from bot.handlers.pulse_cards import question, training_name
from bot.settings import Settings
from storage import outbox_keys, pulses
from storage.models import Member, Pulse
from storage.vocabulary import PulseStatus

BATCH = 200


def start_sending(pulse: Pulse, settings: Settings, now: datetime) -> None:
    """Fix the deadline and the reminder when the pulse goes out."""
    pulse.status = PulseStatus.SENDING
    pulse.sent_at = now
    pulse.closes_at = pulse.until_at or now + timedelta(days=settings.pulse.deadline_days)
    reminder = now + timedelta(days=settings.pulse.reminder_after_days)
    pulse.next_reminder_at = reminder if reminder < pulse.closes_at else None


async def send_batch(ctx: WorkspaceContext, pulse: Pulse, *, tell_creator: bool = True) -> bool:
    """Ask the next batch of members; True when everyone has been asked (the pulse opens).

    The animator who asked is told by DM when it is out, unless they were just told in
    the reply to their command (`tell_creator=False`).
    """
    targets = await pulses.next_targets(ctx.db, pulse, BATCH)
    if targets:
        assert pulse.closes_at is not None
        for member in targets:
            if not await pulses.add_recipient(ctx.db, pulse.id, member.id, ctx.now):
                continue
            t = ctx.translator_for(member)
            training = await training_name(ctx.db, pulse, t)
            zone = ctx.timezone_of(member)
            message = question(t, pulse, training, pulse.closes_at, zone, reminder=False)
            await ctx.outbox.post(
                outbox_keys.pulse_ask(pulse.id, member.id), f"dm:{member.user_id}", message
            )
    if len(targets) == BATCH:
        return False
    pulse.recipients = await pulses.recipient_count(ctx.db, pulse.id)
    pulse.status = PulseStatus.OPEN
    if tell_creator:
        await _tell_creator(ctx, pulse)
    return True


async def _tell_creator(ctx: WorkspaceContext, pulse: Pulse) -> None:
    creator = await ctx.db.get(Member, pulse.created_by_id)
    if creator is None:
        return
    t = ctx.translator_for(creator)
    training = await training_name(ctx.db, pulse, t)
    assert pulse.closes_at is not None
    text = t(
        "pulses.sent_notice",
        id=pulse.id,
        training=training,
        count=pulse.recipients,
        closes=t.datetime(pulse.closes_at, ctx.timezone_of(creator)),
    )
    await ctx.outbox.post(
        outbox_keys.pulse_sent(pulse.id), f"dm:{creator.user_id}", OutboundMessage(text)
    )


async def close(db: AsyncSession, pulse: Pulse, now: datetime) -> None:
    """No more answers, no more reminders; the sums of its answers are kept."""
    await pulses.freeze_sums(db, pulse)
    pulse.status = PulseStatus.CLOSED
    pulse.closed_at = now
    pulse.next_reminder_at = None


async def schedule_after_close(db: AsyncSession, session_id: int, now: datetime) -> None:
    """A session closed: its pulses planned `at close [+ N days]` get their send time."""
    for pulse in await pulses.waiting_for_close(db, session_id):
        pulse.send_at = now + timedelta(days=pulse.after_close_days or 0)
