"""`pulse send|list|close|cancel` and the `pulse` form: animators run NPS pulses.

`pulse send [session CODE | community] [at close [+ N days] | at DATE TIME] [until DATE]`
(French: `à la clôture + 30 jours`, `jusqu'au …`). Without a session or `community`,
the pulse is about the latest session opened in the conversation.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot import audit
from bot.core.commands import Args
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.parsing import Token
from bot.core.replies import Form, FormField, Reply
from bot.handlers.pulse_cards import training_name
from bot.handlers.pulse_rounds import close as close_pulse
from bot.handlers.pulse_rounds import send_batch, start_sending
from bot.scheduling import clauses
from storage import pulses, training_sessions
from storage.models import Pulse, TrainingSession
from storage.vocabulary import PulseStatus

FORM_ACTION = "pulse.form"
SESSION_WORDS = {"session"}
COMMUNITY_WORDS = {"community", "communaute", "all", "tous"}
CLOSE_WORDS = {"close", "closing", "cloture", "fermeture"}
ARTICLES = {"the", "la", "le"}
DAY_WORDS = {"day", "days", "d", "jour", "jours", "j"}
_OFFSET = re.compile(r"^\+?(\d{1,3})([dj])?$")
MAX_AFTER_CLOSE_DAYS = 365


@dataclass
class SendRequest:
    """What `pulse send` (or the form) asked for."""

    session_code: str | None = None
    community: bool = False
    after_close_days: int | None = None
    schedule: clauses.Schedule | None = None


def _parse_offset(tokens: list[Token], i: int) -> tuple[int, int]:
    """`+ 30 days`, `+30`, `+30d`, `+ 30 jours` after `at close`: (days, next index)."""
    if i < len(tokens) and tokens[i].value == "+":
        i += 1
        if i >= len(tokens):
            raise UserError("pulses.bad_offset")
    elif i >= len(tokens) or not tokens[i].value.startswith("+"):
        return 0, i
    match = _OFFSET.match(tokens[i].key)
    if match is None:
        raise UserError("pulses.bad_offset")
    days = int(match.group(1))
    i += 1
    if match.group(2) is None and i < len(tokens) and tokens[i].key in DAY_WORDS:
        i += 1
    if days > MAX_AFTER_CLOSE_DAYS:
        raise UserError("pulses.bad_offset")
    return days, i


def parse_send(tokens: list[Token]) -> SendRequest:
    """Split `pulse send …` into its target, its relative or absolute time, its deadline."""
    request = SendRequest()
    rest: list[Token] = []
    i = 0
    while i < len(tokens):
        key = tokens[i].key
        if key in SESSION_WORDS and i + 1 < len(tokens):
            request.session_code = tokens[i + 1].value.lstrip("#")[:16]
            i += 2
            continue
        if key in COMMUNITY_WORDS:
            request.community = True
            i += 1
            continue
        if key in clauses.AT_WORDS:
            j = i + 1
            if j < len(tokens) and tokens[j].key in ARTICLES:
                j += 1
            if j < len(tokens) and tokens[j].key in CLOSE_WORDS:
                request.after_close_days, i = _parse_offset(tokens, j + 1)
                continue
        rest.append(tokens[i])
        i += 1
    text, schedule = clauses.split(rest)
    if text:
        raise UserError("pulses.send_usage")
    if schedule.every_cron or schedule.every_days or schedule.conversation:
        raise UserError("pulses.send_usage")
    if request.session_code and request.community:
        raise UserError("pulses.session_or_community")
    request.schedule = schedule
    return request


async def send(ctx: Context, args: Args) -> list[Reply]:
    """`pulse send …`: ask now, at a date, or relative to the session's close."""
    return await _create(ctx, parse_send(list(args.tokens)))


async def _target(ctx: Context, request: SendRequest) -> TrainingSession | None:
    if request.community:
        return None
    if request.session_code:
        found = await training_sessions.by_code(ctx.db, ctx.workspace.id, request.session_code)
        if found is None:
            raise UserError("signup.unknown_code", code=request.session_code)
        return found
    latest = await training_sessions.latest_in_conversation(
        ctx.db, ctx.workspace.id, ctx.origin.conversation
    )
    if latest is None:
        raise UserError("pulses.which_session")
    return latest


async def _create(ctx: Context, request: SendRequest) -> list[Reply]:
    session = await _target(ctx, request)
    schedule = request.schedule or clauses.Schedule()
    # For a pulse, `until` is the deadline for answers, not the end of a schedule.
    deadline, schedule.until = schedule.until, None
    zone_name = schedule.timezone or ctx.timezone
    send_at: datetime | None = ctx.now
    if request.after_close_days is not None:
        if session is None:
            raise UserError("pulses.close_needs_session")
        if not schedule.is_now:
            raise UserError("pulses.send_usage")
        if session.closed_at is None:
            send_at = None
        else:
            send_at = max(session.closed_at + timedelta(days=request.after_close_days), ctx.now)
    elif not schedule.is_now:
        recurrence = clauses.to_recurrence(schedule, ctx.now, ctx.timezone)
        assert recurrence is not None
        send_at = recurrence.start
    until_at = None
    if deadline is not None:
        until_at = datetime.combine(deadline, time(23, 59, 59), tzinfo=ZoneInfo(zone_name))
        if until_at <= (send_at or ctx.now):
            raise UserError("pulses.deadline_before_send")
    sends_now = send_at is not None and send_at <= ctx.now
    expected = await pulses.target_count(ctx.db, ctx.workspace.id, session.id if session else None)
    if sends_now and expected == 0:
        name = session.name if session else ctx.t("pulses.the_community")
        raise UserError("pulses.nobody_to_ask", training=name)
    pulse = await pulses.create(
        ctx.db,
        workspace_id=ctx.workspace.id,
        session_id=session.id if session else None,
        created_by_id=ctx.actor.id,
        conversation=ctx.origin.conversation,
        status=PulseStatus.SCHEDULED,
        send_at=send_at,
        after_close_days=request.after_close_days,
        until_at=until_at,
        reminders_sent=0,
        recipients=0,
        created_at=ctx.now,
    )
    await audit.record(ctx, "pulse.send" if sends_now else "pulse.schedule", pulse=pulse.id)
    training = await training_name(ctx.db, pulse, ctx.t)
    if sends_now:
        start_sending(pulse, ctx.settings, ctx.now)
        # The first batch goes in this transaction: a usual session is asked at once; a
        # big community is finished by the scheduler, batch by batch.
        done = await send_batch(ctx, pulse, tell_creator=False)
        assert pulse.closes_at is not None
        closes = ctx.t.datetime(pulse.closes_at, zone_name)
        key = "pulses.sent" if done else "pulses.sending"
        text = ctx.t(key, id=pulse.id, training=training, count=expected, closes=closes)
        return [Reply(text)]
    if send_at is None:
        text = ctx.t(
            "pulses.scheduled_after_close",
            id=pulse.id,
            training=training,
            count=request.after_close_days or 0,
        )
    else:
        when = ctx.t.datetime(send_at, zone_name)
        text = ctx.t("pulses.scheduled", id=pulse.id, training=training, when=when)
    return [Reply(text)]


# --- the form ------------------------------------------------------------------------------

WHEN_CHOICES = ("now", "at_close", "close_30")


async def open_form(ctx: Context, args: Args) -> list[Reply]:
    """`pulse` alone: the form (session, when, deadline)."""
    t = ctx.t
    sessions = await training_sessions.recent(ctx.db, ctx.workspace.id)
    here = await training_sessions.latest_in_conversation(
        ctx.db, ctx.workspace.id, ctx.origin.conversation
    )
    options = tuple((f"{s.name} ({s.code})", s.code) for s in sessions)
    options += ((t("pulses.form_community"), "community"),)
    fields = (
        FormField(
            "session",
            t("pulses.form_session"),
            "select",
            options=options,
            value=here.code if here else "",
        ),
        FormField(
            "when",
            t("pulses.form_when"),
            "select",
            options=tuple((t(f"pulses.form_when_{name}"), name) for name in WHEN_CHOICES),
            value="now",
        ),
        FormField("at", t("pulses.form_at"), "datetime", required=False),
        FormField("until", t("pulses.form_until"), "text", required=False),
    )
    title = t("pulses.form_title")
    return [Reply(title, form=Form(title=title, submit_action_id=FORM_ACTION, fields=fields))]


async def form_submitted(ctx: Context, value: str) -> list[Reply]:
    """The `pulse` form, submitted."""
    try:
        fields = json.loads(value) if value else None
    except json.JSONDecodeError:
        fields = None
    if not isinstance(fields, dict):
        raise UserError("pulses.send_usage")
    request = SendRequest(schedule=clauses.Schedule())
    assert request.schedule is not None
    chosen = str(fields.get("session") or "").strip()
    if chosen == "community":
        request.community = True
    elif chosen:
        request.session_code = chosen[:16]
    when = str(fields.get("when") or "now")
    if when not in WHEN_CHOICES:
        raise UserError("pulses.send_usage")
    at = str(fields.get("at") or "").strip()
    if when == "at_close":
        request.after_close_days = 0
    elif when == "close_30":
        request.after_close_days = 30
    elif at:
        clauses.parse_at_value(at, request.schedule)
    until = str(fields.get("until") or "").strip()
    if until:
        request.schedule.until = clauses.parse_date_value(until)
    return await _create(ctx, request)


# --- list, close, cancel -------------------------------------------------------------------


async def list_(ctx: Context, _args: Args) -> list[Reply]:
    """`pulse list`: open and past pulses with their response rates."""
    found = await pulses.listed(ctx.db, ctx.workspace.id)
    if not found:
        return [Reply(ctx.t("pulses.list_empty"))]
    answered = {pid: s.answers for pid, s in (await pulses.results_sums(ctx.db, found)).items()}
    lines = [ctx.t("pulses.list_title")]
    for pulse in found:
        training = await training_name(ctx.db, pulse, ctx.t)
        lines.append(
            ctx.t(
                "pulses.list_line",
                id=pulse.id,
                training=training,
                state=_state(ctx, pulse, answered.get(pulse.id, 0)),
            )
        )
    return [Reply("\n".join(lines))]


def _state(ctx: Context, pulse: Pulse, answered: int) -> str:
    t = ctx.t
    if pulse.status == PulseStatus.SCHEDULED:
        if pulse.send_at is None:
            return t("pulses.state_after_close", count=pulse.after_close_days or 0)
        return t("pulses.state_scheduled", when=t.datetime(pulse.send_at, ctx.timezone))
    if pulse.status == PulseStatus.CANCELLED:
        return t("pulses.state_cancelled")
    rate = round(100 * answered / pulse.recipients) if pulse.recipients else 0
    figures = t("pulses.state_rate", answered=answered, sent=pulse.recipients, rate=rate)
    if pulse.status == PulseStatus.CLOSED:
        closed = t.datetime(pulse.closed_at or ctx.now, ctx.timezone)
        return t("pulses.state_closed", figures=figures, when=closed)
    closes = t.datetime(pulse.closes_at or ctx.now, ctx.timezone)
    return t("pulses.state_open", figures=figures, when=closes)


async def pulse_arg(ctx: Context, args: Args, usage: str) -> Pulse | None:
    """The pulse named by the first argument (`12` or `#12`); None when there is none."""
    if not args:
        return None
    raw = args.tokens[0].value.lstrip("#")
    if not raw.isdigit() or len(args.tokens) > 1:
        raise UserError(usage)
    pulse = await pulses.by_id(ctx.db, ctx.workspace.id, int(raw))
    if pulse is None:
        raise UserError("pulses.unknown", id=raw[:12])
    return pulse


async def default_pulse(ctx: Context) -> Pulse | None:
    """The latest pulse of the conversation's session, else of the workspace."""
    here = await training_sessions.latest_in_conversation(
        ctx.db, ctx.workspace.id, ctx.origin.conversation
    )
    if here is not None:
        found = await pulses.latest(ctx.db, ctx.workspace.id, session_id=here.id)
        if found is not None:
            return found
    return await pulses.latest(ctx.db, ctx.workspace.id)


async def close(ctx: Context, args: Args) -> list[Reply]:
    """`pulse close [<id>]`: close early (no more answers, no more reminders)."""
    pulse = await pulse_arg(ctx, args, "pulses.close_usage") or await default_pulse(ctx)
    if pulse is None:
        raise UserError("pulses.none_yet")
    if pulse.status == PulseStatus.SCHEDULED:
        raise UserError("pulses.not_sent_yet", id=pulse.id)
    if pulse.status != PulseStatus.OPEN:
        raise UserError("pulses.not_open", id=pulse.id)
    await close_pulse(ctx.db, pulse, ctx.now)
    await audit.record(ctx, "pulse.close", pulse=pulse.id)
    answered = int((pulse.final_sums or {}).get("answers", 0))
    text = ctx.t("pulses.closed", id=pulse.id, answered=answered, sent=pulse.recipients)
    return [Reply(text)]


async def cancel(ctx: Context, args: Args) -> list[Reply]:
    """`pulse cancel <id>`: a scheduled pulse will not be sent."""
    pulse = await pulse_arg(ctx, args, "pulses.cancel_usage")
    if pulse is None:
        raise UserError("pulses.cancel_usage")
    if pulse.status != PulseStatus.SCHEDULED:
        raise UserError("pulses.already_sent", id=pulse.id)
    pulse.status = PulseStatus.CANCELLED
    pulse.cancelled_at = ctx.now
    await audit.record(ctx, "pulse.cancel", pulse=pulse.id)
    return [Reply(ctx.t("pulses.cancelled", id=pulse.id))]
