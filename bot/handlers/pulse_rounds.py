"""The scheduler's side of pulses: send them (by batches), remind, close at the deadline.

Each batch is one transaction that records the recipients and enqueues their DMs
together, under one outbox key per pulse and member: a crash (or a second replica)
resumes where the last commit left off and never asks anyone twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.replies import OutboundMessage
from bot.handlers.pulse_cards import question, training_name
from bot.i18n import Translator, pick_locale
from bot.outbox.queue import Outbox
from bot.settings import Settings
from storage import pulses
from storage.models import Member, Pulse, Workspace
from storage.vocabulary import PulseStatus

BATCH = 200


def ask_key(pulse_id: int, member_id: int) -> str:
    """Outbox key of the DM asking a member (one per pulse and member)."""
    return f"pulse:{pulse_id}:ask:{member_id}"


def _translator(member: Member, workspace: Workspace, settings: Settings) -> Translator:
    return Translator(
        pick_locale(member.locale, member.platform_locale, workspace.locale, settings.locale)
    )


def start_sending(pulse: Pulse, settings: Settings, now: datetime) -> None:
    """Fix the deadline and the reminder when the pulse goes out."""
    pulse.status = PulseStatus.SENDING
    pulse.sent_at = now
    pulse.closes_at = pulse.until_at or now + timedelta(days=settings.pulse.deadline_days)
    reminder = now + timedelta(days=settings.pulse.reminder_after_days)
    pulse.next_reminder_at = reminder if reminder < pulse.closes_at else None


async def send_batch(
    db: AsyncSession,
    pulse: Pulse,
    workspace: Workspace,
    settings: Settings,
    now: datetime,
    *,
    tell_creator: bool = True,
) -> bool:
    """Ask the next batch of members; True when everyone has been asked (the pulse opens).

    The animator who asked is told by DM when it is out, unless they were just told in
    the reply to their command (`tell_creator=False`).
    """
    targets = await pulses.next_targets(db, pulse, BATCH)
    if targets:
        outbox = Outbox(db, workspace.platform, workspace.id, now)
        assert pulse.closes_at is not None
        for member in targets:
            if not await pulses.add_recipient(db, pulse.id, member.id, now):
                continue
            t = _translator(member, workspace, settings)
            training = await training_name(db, pulse, t)
            zone = member.timezone or workspace.timezone or settings.timezone
            message = question(t, pulse, training, pulse.closes_at, zone, reminder=False)
            await outbox.post(ask_key(pulse.id, member.id), f"dm:{member.user_id}", message)
    if len(targets) == BATCH:
        return False
    pulse.recipients = await pulses.recipient_count(db, pulse.id)
    pulse.status = PulseStatus.OPEN
    if tell_creator:
        await _tell_creator(db, pulse, workspace, settings, now)
    return True


async def _tell_creator(
    db: AsyncSession, pulse: Pulse, workspace: Workspace, settings: Settings, now: datetime
) -> None:
    creator = await db.get(Member, pulse.created_by_id)
    if creator is None:
        return
    t = _translator(creator, workspace, settings)
    training = await training_name(db, pulse, t)
    zone = creator.timezone or workspace.timezone or settings.timezone
    assert pulse.closes_at is not None
    text = t(
        "pulses.sent_notice",
        id=pulse.id,
        training=training,
        count=pulse.recipients,
        closes=t.datetime(pulse.closes_at, zone),
    )
    outbox = Outbox(db, workspace.platform, workspace.id, now)
    await outbox.post(f"pulse:{pulse.id}:sent", f"dm:{creator.user_id}", OutboundMessage(text))


def make_due_work(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> Callable[[datetime], Awaitable[int]]:
    """The scheduler's finder of pulses to send, remind or close."""

    async def run_due(now: datetime) -> int:
        done = 0
        done += await _each(sessions, pulses.claim_sending, now, _send_some, settings)
        done += await _each(sessions, pulses.claim_reminders, now, _remind, settings)
        done += await _each(sessions, pulses.claim_closing, now, _close, settings)
        return done

    return run_due


Claim = Callable[[AsyncSession, datetime, int], Awaitable[list[Pulse]]]
Step = Callable[[AsyncSession, Pulse, Workspace, Settings, datetime], Awaitable[bool]]


async def _each(
    sessions: async_sessionmaker[AsyncSession],
    claim: Claim,
    now: datetime,
    step: Step,
    settings: Settings,
) -> int:
    """Claim one pulse at a time and run one step of it per transaction, until none is due."""
    done = 0
    for _ in range(10_000):  # bounded: a bug must not spin the scheduler forever
        async with sessions() as db, db.begin():
            claimed = await claim(db, now, 1)
            if not claimed:
                return done
            pulse = claimed[0]
            workspace = await db.get(Workspace, pulse.workspace_id)
            assert workspace is not None
            if pulse.status == PulseStatus.SCHEDULED:
                start_sending(pulse, settings, now)
            await step(db, pulse, workspace, settings, now)
            done += 1
    return done


async def _send_some(
    db: AsyncSession, pulse: Pulse, workspace: Workspace, settings: Settings, now: datetime
) -> bool:
    if pulse.closes_at is not None and pulse.closes_at <= now:
        # Sent so late that its deadline has passed (the bot was down): ask nobody.
        await close(db, pulse, now)
        return True
    return await send_batch(db, pulse, workspace, settings, now)


async def _remind(
    db: AsyncSession, pulse: Pulse, workspace: Workspace, settings: Settings, now: datetime
) -> bool:
    """Remind every recipient who has not answered (never more than settings allow)."""
    number = pulse.reminders_sent + 1
    outbox = Outbox(db, workspace.platform, workspace.id, now)
    assert pulse.closes_at is not None
    after = 0
    while True:
        batch = await pulses.non_respondents(db, pulse.id, after, BATCH)
        for member in batch:
            t = _translator(member, workspace, settings)
            training = await training_name(db, pulse, t)
            zone = member.timezone or workspace.timezone or settings.timezone
            message = question(t, pulse, training, pulse.closes_at, zone, reminder=True)
            key = f"pulse:{pulse.id}:remind:{number}:{member.id}"
            await outbox.post(key, f"dm:{member.user_id}", message)
        if len(batch) < BATCH:
            break
        after = batch[-1].id
    pulse.reminders_sent = number
    following = now + timedelta(days=settings.pulse.reminder_after_days)
    more = number < settings.pulse.reminders and following < pulse.closes_at
    pulse.next_reminder_at = following if more else None
    return True


async def _close(
    db: AsyncSession, pulse: Pulse, workspace: Workspace, settings: Settings, now: datetime
) -> bool:
    await close(db, pulse, now)
    creator = await db.get(Member, pulse.created_by_id)
    if creator is not None:
        t = _translator(creator, workspace, settings)
        answered = int((pulse.final_sums or {}).get("answers", 0))
        text = t("pulses.closed_notice", id=pulse.id, answered=answered, sent=pulse.recipients)
        outbox = Outbox(db, workspace.platform, workspace.id, now)
        await outbox.post(
            f"pulse:{pulse.id}:closed", f"dm:{creator.user_id}", OutboundMessage(text)
        )
    return True


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


def make_next_due(
    sessions: async_sessionmaker[AsyncSession],
) -> Callable[[], Awaitable[datetime | None]]:
    """When the scheduler should next wake up for pulses."""

    async def next_due() -> datetime | None:
        async with sessions() as db:
            return await pulses.next_due(db)

    return next_due
