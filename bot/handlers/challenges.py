"""Challenges: animators post them (now or on a schedule), learners answer them.

An answer is learner-generated content with an outcome — a success or a not-yet,
both welcome — posted back under the learner's name in reply to the challenge.
Scheduled runs and reminders are the scheduler's (bot/jobs/challenges.py): a run is
posted by `run_challenge`, the same a `challenge edit` runs in its command's context.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import get_day_names
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.commands import Args
from bot.core.context import Context, WorkspaceContext
from bot.core.errors import UserError
from bot.core.parsing import Token, fold
from bot.core.replies import Button, Card, Field, Form, FormField, OutboundMessage, Reply
from bot.handlers import badges
from bot.handlers.contributions import publish, republish, valid_link
from bot.i18n import Translator
from bot.scheduling import clauses
from bot.scheduling.recurrence import Recurrence, first_run, next_run
from bot.scheduling.watch import Lateness, on_time
from storage import challenges, contributions, members, outbox_keys
from storage.models import Challenge, ChallengeOccurrence
from storage.vocabulary import ChallengeStatus, ContributionOutcome, OccurrenceStatus

log = logging.getLogger(__name__)

ANSWER_FORM_ACTION = "challenge.answer_form"
ANSWER_ACTION = "challenge.answer"
OUTCOMES = {
    "success": ContributionOutcome.SUCCESS,
    "reussite": ContributionOutcome.SUCCESS,
    "succes": ContributionOutcome.SUCCESS,
    "not-yet": ContributionOutcome.NOT_YET,
    "notyet": ContributionOutcome.NOT_YET,
    "not_yet": ContributionOutcome.NOT_YET,
    "pas-encore": ContributionOutcome.NOT_YET,
    "pasencore": ContributionOutcome.NOT_YET,
}
MAX_TEXT = 3000


# --- posting --------------------------------------------------------------------------------


def challenge_card(
    t: Translator, text: str, *, challenge_id: int, occurrence_id: int
) -> OutboundMessage:
    """The posted challenge, with its two answer buttons.

    People see one number, the challenge's (as in `challenge list`, `edit`, `cancel`):
    `challenge answer <number>` answers its occurrence open now. The buttons carry the
    occurrence, never shown, so a click on an old card answers that card or says it closed.
    """
    title = t("challenges.card_title")
    card = Card(
        title=title,
        body=text,
        buttons=(
            Button(
                t("challenges.share_success"),
                ANSWER_FORM_ACTION,
                f"{occurrence_id}:success",
                style="primary",
            ),
            Button(t("challenges.share_not_yet"), ANSWER_FORM_ACTION, f"{occurrence_id}:not_yet"),
        ),
        fields=(Field(t("challenges.answer_label"), t("challenges.answer_hint", id=challenge_id)),),
    )
    return OutboundMessage(text=t("general.labelled", label=title, value=text), card=card)


async def post_occurrence(
    ctx: WorkspaceContext, challenge: Challenge, planned_at: datetime, closes_at: datetime
) -> int | None:
    """Post the run of `challenge` planned at `planned_at` (open for answers until
    `closes_at`), closing its earlier runs for answers; None when it was posted already."""
    occurrence_id = await challenges.add_occurrence(
        ctx.db,
        challenge,
        planned_at=planned_at,
        status=OccurrenceStatus.POSTED,
        now=ctx.now,
        closes_at=closes_at,
    )
    if occurrence_id is None:
        return None  # another replica (or an earlier try) already posted it
    await challenges.close_open_occurrences(ctx.db, challenge.id, ctx.now, except_id=occurrence_id)
    t = Translator(challenge.locale)
    await ctx.outbox.post(
        outbox_keys.challenge_occurrence(occurrence_id),
        challenge.conversation,
        challenge_card(t, challenge.text, challenge_id=challenge.id, occurrence_id=occurrence_id),
    )
    return occurrence_id


# Why a run was not posted (`challenge_occurrence.skip_reason`; `challenge list` says it):
# `missed:<hours>` the bot was not running, `stalled:<hours>` it ran but could not post,
# `superseded` a later run of the same challenge fell due at the same moment.
SKIP_CAUSES = {"down": "missed", "up": "stalled"}


async def run_challenge(
    ctx: WorkspaceContext, challenge: Challenge, late: Callable[[datetime], Lateness]
) -> int:
    """Post the challenge's due runs (or skip them with a reason); plan its next run.

    `late(planned)` is how late a run is through the bot's absence: beyond
    `[challenges] missed_grace_hours` it is skipped, never posted stale.
    """
    assert challenge.recurrence is not None
    recurrence = Recurrence.from_json(challenge.recurrence)
    grace = timedelta(hours=ctx.settings.challenges.missed_grace_hours)
    now = ctx.now
    done = 0
    planned = challenge.next_run_at
    # Bounded: a long outage records each missed run as skipped, never a flood of posts.
    for _ in range(500):
        if planned is None or planned > now:
            break
        following = next_run(recurrence, planned)
        lateness = late(planned)
        if lateness.by > grace:
            reason = f"{SKIP_CAUSES[lateness.cause]}:{_hours(lateness.by)}"
            await _skip(ctx.db, challenge, planned, now, reason)
        elif lateness.cause == "up" and following is not None and following <= now:
            # A jump of the movable clock may pass over any number of runs (ten years of a
            # daily challenge): only the latest is posted, as each post closes the one before
            # for answers. Runs missed while down are bounded by the grace: each is posted.
            await _skip(ctx.db, challenge, planned, now, "superseded")
        else:
            open_until = following or now + timedelta(days=challenge.open_days)
            if await post_occurrence(ctx, challenge, planned, open_until):
                done += 1
        planned = following
    challenge.next_run_at = planned
    if planned is None:
        challenge.status = ChallengeStatus.FINISHED
    return done


async def _skip(
    db: AsyncSession, challenge: Challenge, planned: datetime, now: datetime, reason: str
) -> None:
    if await challenges.add_occurrence(
        db,
        challenge,
        planned_at=planned,
        status=OccurrenceStatus.SKIPPED,
        now=now,
        closes_at=None,
        skip_reason=reason,
    ):
        log.info("challenge_run_skipped", extra={"challenge": challenge.id, "reason": reason})


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f}"


# --- challenge post / list / cancel ----------------------------------------------------------


def _plain_time(hour: int, minute: int) -> str:
    return f"{hour:02d}:{minute:02d}"


def describe(t: Translator, recurrence: Recurrence | None, first: datetime | None) -> str:
    """The schedule in plain words, with the next run."""
    if recurrence is None:
        return t("challenges.now")
    zone = recurrence.timezone
    until = t("challenges.until", date=t.date(recurrence.end, zone)) if recurrence.end else ""
    next_text = t.datetime(first, zone) if first else t("challenges.never")
    if recurrence.kind == "once":
        return t("challenges.once", when=next_text, zone=zone)
    local = (first or recurrence.start).astimezone(ZoneInfo(zone))
    at = _plain_time(local.hour, local.minute)
    cron = recurrence.cron
    if recurrence.kind == "interval":
        if recurrence.interval_days % 7 == 0:
            rule = t("challenges.every_weeks", count=recurrence.interval_days // 7, time=at)
        else:
            rule = t("challenges.every_days", count=recurrence.interval_days, time=at)
    elif set(cron) == {"day_of_week", "hour", "minute"} and cron["day_of_week"].isdigit():
        day = get_day_names("wide", locale=t.locale)[int(cron["day_of_week"])]
        rule = t("challenges.every_weekday", day=day, time=at)
    else:
        expression = " ".join(
            cron.get(name, "*") for name in ("minute", "hour", "day", "month", "day_of_week")
        )
        rule = t("challenges.every_cron", rule=expression)
    return t("challenges.recurring", rule=rule, zone=zone, until=until, next=next_text)


async def post(ctx: Context, args: Args) -> list[Reply]:
    """`challenge post <text> [at …] [every …] [until …] [in #conversation] [tz …]`."""
    text_tokens, schedule = clauses.split(list(args.tokens))
    text = " ".join(token.value for token in text_tokens).strip()
    if not text:
        raise UserError("challenges.post_usage")
    return await _save(ctx, text, schedule, None)


async def _save(
    ctx: Context, text: str, schedule: clauses.Schedule, existing: Challenge | None
) -> list[Reply]:
    """Create a challenge, or change an existing one's text and schedule; say what will happen."""
    if len(text) > MAX_TEXT:
        raise UserError("challenges.too_long", max=MAX_TEXT)
    if ctx.origin.is_direct and schedule.conversation is None and existing is None:
        raise UserError("challenges.post_in_channel")
    conversation = schedule.conversation or (
        existing.conversation if existing else ctx.origin.conversation
    )
    recurrence = clauses.to_recurrence(schedule, ctx.now, ctx.timezone)
    first = first_run(recurrence, ctx.now) if recurrence else None
    open_days = ctx.settings.challenges.open_days
    if existing is not None:
        existing.text, existing.conversation = text, conversation
        existing.recurrence = recurrence.to_json() if recurrence else None
        existing.next_run_at = first or ctx.now  # no schedule: post the new text now
        existing.status, existing.cancelled_at = ChallengeStatus.ACTIVE, None
        existing.remind_hours = schedule.remind_hours or existing.remind_hours
        if recurrence is None:
            existing.recurrence = Recurrence("once", ctx.timezone, start=ctx.now).to_json()
        await run_challenge(ctx, existing, lambda planned: on_time(planned, ctx.now))
        plan = describe(ctx.t, recurrence, first)
        return [Reply(ctx.t("challenges.edited", id=existing.id, plan=plan))]
    challenge = await challenges.create(
        ctx.db,
        workspace_id=ctx.workspace.id,
        created_by_id=ctx.actor.id,
        text=text,
        conversation=conversation,
        locale=ctx.t.locale,
        recurrence=recurrence.to_json() if recurrence else None,
        next_run_at=first,
        open_days=open_days,
        now=ctx.now,
        remind_hours=schedule.remind_hours,
    )
    if recurrence is None:
        closes = ctx.now + timedelta(days=open_days)
        await post_occurrence(ctx, challenge, ctx.now, closes)
        return [Reply(ctx.t("challenges.posted_now", id=challenge.id))]
    plan = describe(ctx.t, recurrence, first)
    if schedule.remind_hours:
        plan += " " + ctx.t("challenges.remind_plan", hours=schedule.remind_hours)
    return [Reply(ctx.t("challenges.scheduled", id=challenge.id, plan=plan))]


async def edit(ctx: Context, args: Args) -> list[Reply]:
    """`challenge edit <id> [new text] [clauses]`; with only the id, a prefilled form."""
    challenge = await _challenge_arg(ctx, args, "challenges.edit_usage")
    rest = list(args.tokens[1:])
    if not rest:
        return [_form_reply(ctx, challenge)]
    text_tokens, schedule = clauses.split(rest)
    text = " ".join(token.value for token in text_tokens).strip() or challenge.text
    if schedule.is_now:
        # Only the text (or the conversation) changes: the schedule stays as it is, and
        # what was already posted stays as it was posted.
        if len(text) > MAX_TEXT:
            raise UserError("challenges.too_long", max=MAX_TEXT)
        challenge.text = text
        challenge.conversation = schedule.conversation or challenge.conversation
        if challenge.recurrence and challenge.status == ChallengeStatus.ACTIVE:
            recurrence = Recurrence.from_json(challenge.recurrence)
            plan = describe(ctx.t, recurrence, challenge.next_run_at)
        else:
            plan = ctx.t("challenges.no_further_run")
        return [Reply(ctx.t("challenges.edited", id=challenge.id, plan=plan))]
    return await _save(ctx, text, schedule, challenge)


# --- the form (`challenge` alone, or `challenge edit <id>`) -----------------------------------

FORM_ACTION = "challenge.form"
RECURRENCE_CHOICES = (("once", 0), ("daily", 1), ("weekly", 7), ("fortnightly", 14))


async def open_form(ctx: Context, args: Args) -> list[Reply]:
    """`challenge` alone: the form (text, first date-time, recurrence, end, conversation)."""
    return [_form_reply(ctx, None)]


def _form_reply(ctx: Context, challenge: Challenge | None) -> Reply:
    t = ctx.t
    values: dict[str, str] = {}
    if challenge is not None:
        values = {"text": challenge.text, "conversation": challenge.conversation}
        if challenge.recurrence:
            recurrence = Recurrence.from_json(challenge.recurrence)
            when = challenge.next_run_at or recurrence.start
            values["first"] = when.astimezone(recurrence.zone).strftime("%Y-%m-%dT%H:%M")
            days = recurrence.interval_days if recurrence.kind == "interval" else 0
            values["recurrence"] = next((n for n, d in RECURRENCE_CHOICES if d == days), "once")
            if recurrence.end:
                values["until"] = recurrence.end.astimezone(recurrence.zone).date().isoformat()
    options = tuple((t(f"challenges.form_every_{name}"), name) for name, _ in RECURRENCE_CHOICES)
    fields = (
        FormField(
            "text", t("challenges.form_challenge"), "multiline", value=values.get("text", "")
        ),
        FormField(
            "first",
            t("challenges.form_first"),
            "datetime",
            required=False,
            value=values.get("first", ""),
        ),
        FormField(
            "recurrence",
            t("challenges.form_recurrence"),
            "select",
            options=options,
            required=False,
            value=values.get("recurrence", ""),
        ),
        FormField(
            "until",
            t("challenges.form_until"),
            "text",
            required=False,
            value=values.get("until", ""),
        ),
        FormField(
            "conversation",
            t("challenges.form_conversation"),
            "text",
            required=False,
            value=values.get("conversation", ""),
        ),
    )
    suffix = f":{challenge.id}" if challenge is not None else ""
    title = (
        t("challenges.form_title_edit", id=challenge.id)
        if challenge
        else t("challenges.form_title")
    )
    return Reply(
        title, form=Form(title=title, submit_action_id=FORM_ACTION + suffix, fields=fields)
    )


async def form_submitted(ctx: Context, value: str) -> list[Reply]:
    """The new-challenge form, submitted."""
    text, schedule = _from_form(value)
    return await _save(ctx, text, schedule, None)


async def edit_form_submitted(ctx: Context, value: str, argument: str) -> list[Reply]:
    """The edit form of challenge <argument>, submitted."""
    challenge = await _challenge_arg(ctx, Args((Token(argument),)), "challenges.edit_usage")
    text, schedule = _from_form(value)
    return await _save(ctx, text, schedule, challenge)


def _from_form(value: str) -> tuple[str, clauses.Schedule]:
    try:
        fields = json.loads(value) if value else None
    except json.JSONDecodeError:
        fields = None
    if not isinstance(fields, dict):
        raise UserError("challenges.post_usage")
    text = str(fields.get("text") or "").strip()
    if not text:
        raise UserError("challenges.post_usage")
    schedule = clauses.Schedule()
    first = str(fields.get("first") or "").strip()
    if first:
        clauses.parse_at_value(first, schedule)
    days = dict(RECURRENCE_CHOICES).get(str(fields.get("recurrence") or "once"), 0)
    schedule.every_days = days
    until = str(fields.get("until") or "").strip()
    if until:
        schedule.until = clauses.parse_date_value(until)
    conversation = str(fields.get("conversation") or "").strip().lstrip("#")
    schedule.conversation = conversation[:200] or None
    return text, schedule


async def list_(ctx: Context, _args: Args) -> list[Reply]:
    """`challenge list`: each challenge by its number, its next run, whether it takes
    answers now, and its last skipped run with why."""
    found = await challenges.listed(ctx.db, ctx.workspace.id)
    if not found:
        return [Reply(ctx.t("challenges.list_empty"))]
    ids = [c.id for c in found]
    skipped = await challenges.skipped(ctx.db, ids)
    open_now = await challenges.open_occurrences(ctx.db, ids, ctx.now)
    lines = [ctx.t("challenges.list_title")]
    for challenge in found:
        excerpt = challenge.text if len(challenge.text) <= 60 else challenge.text[:59] + "…"
        state = _state(ctx, challenge, open_now.get(challenge.id))
        lines.append(ctx.t("challenges.list_line", id=challenge.id, text=excerpt, state=state))
        missed = skipped.get(challenge.id)
        if missed is not None:
            lines.append(_skipped_line(ctx, missed))
    return [Reply("\n".join(lines))]


def _state(ctx: Context, challenge: Challenge, open_now: ChallengeOccurrence | None) -> str:
    """Where a challenge stands: its schedule, and whether its latest post takes answers
    (a one-off posted a moment ago has no further run, yet it is open, not finished)."""
    closes = (
        ctx.t.datetime(open_now.closes_at, ctx.timezone)
        if open_now is not None and open_now.closes_at is not None
        else None
    )
    if challenge.status == ChallengeStatus.ACTIVE:
        recurrence = Recurrence.from_json(challenge.recurrence) if challenge.recurrence else None
        state = describe(ctx.t, recurrence, challenge.next_run_at)
        if closes is not None:
            state += " " + ctx.t("challenges.list_answers_open", closes=closes)
        return state
    if closes is not None:
        return ctx.t(f"challenges.status_{challenge.status}_open", closes=closes)
    return ctx.t(f"challenges.status_{challenge.status}")


def _skipped_line(ctx: Context, skipped: ChallengeOccurrence) -> str:
    """Why a run was not posted, in words (see SKIP_CAUSES)."""
    when = ctx.t.datetime(skipped.planned_at, ctx.timezone)
    cause, _, hours = (skipped.skip_reason or "").partition(":")
    if cause == "superseded":
        return ctx.t("challenges.list_skipped_superseded", when=when)
    try:
        shown = ctx.t.number(float(hours), 1)
    except ValueError:
        shown = "?"
    key = "stalled" if cause == "stalled" else "missed"
    return ctx.t(f"challenges.list_skipped_{key}", when=when, hours=shown)


async def _challenge_arg(ctx: Context, args: Args, usage: str) -> Challenge:
    raw = args.tokens[0].value.lstrip("#") if args else ""
    if not raw.isdigit():
        raise UserError(usage)
    challenge = await challenges.by_id(ctx.db, ctx.workspace.id, int(raw))
    if challenge is None:
        raise UserError("challenges.unknown", id=raw[:12])
    return challenge


async def cancel(ctx: Context, args: Args) -> list[Reply]:
    """`challenge cancel <id>`: no more runs (what was posted stays)."""
    challenge = await _challenge_arg(ctx, args, "challenges.cancel_usage")
    if challenge.status != ChallengeStatus.ACTIVE:
        raise UserError("challenges.not_active", id=challenge.id)
    challenge.status = ChallengeStatus.CANCELLED
    challenge.cancelled_at = ctx.now
    challenge.next_run_at = None
    return [Reply(ctx.t("challenges.cancelled", id=challenge.id))]


# --- answers ---------------------------------------------------------------------------------


async def answer(ctx: Context, args: Args) -> list[Reply]:
    """`challenge answer [<id>] success|not-yet <text>` (French réussite / pas-encore)."""
    tokens: list[Token] = list(args.tokens)
    occurrence = None
    if tokens and tokens[0].value.lstrip("#").isdigit():
        challenge = await challenges.by_id(
            ctx.db, ctx.workspace.id, int(tokens[0].value.lstrip("#"))
        )
        if challenge is None:
            raise UserError("challenges.unknown", id=tokens[0].value[:12])
        # The number people see is the challenge's: it answers its post open now.
        occurrence = await challenges.latest_open_occurrence(
            ctx.db, ctx.workspace.id, ctx.now, challenge_id=challenge.id
        )
        if occurrence is None:
            raise _closed(ctx, challenge, None)
        tokens = tokens[1:]
    outcome = OUTCOMES.get(fold(tokens[0].value)) if tokens else None
    if outcome is None:
        raise UserError("challenges.answer_usage")
    if occurrence is None:
        occurrence = await challenges.latest_open_occurrence(
            ctx.db, ctx.workspace.id, ctx.now, conversation=ctx.origin.conversation
        )
        if occurrence is None:
            raise UserError("challenges.none_open_here")
    text = " ".join(token.value for token in tokens[1:]).strip()
    return await _save_answer(ctx, occurrence.id, outcome, text, None)


async def answer_form(ctx: Context, value: str) -> list[Reply]:
    """A "Share my success" / "Share a not-yet" button: the form to write the answer."""
    occurrence_id, _, outcome = value.partition(":")
    if not occurrence_id.isdigit() or outcome not in set(ContributionOutcome):
        raise UserError("errors.unknown_action")
    title = ctx.t(f"challenges.form_title_{outcome}")
    form = Form(
        title=title,
        submit_action_id=f"{ANSWER_ACTION}:{occurrence_id}:{outcome}",
        fields=(
            FormField("text", ctx.t("challenges.form_text"), "multiline"),
            FormField("link", ctx.t("challenges.form_link"), "text", required=False),
        ),
    )
    return [Reply(title, form=form)]


async def answer_submitted(ctx: Context, value: str, argument: str) -> list[Reply]:
    """The answer form, submitted (`argument` is "<occurrence id>:<outcome>")."""
    occurrence_id, _, given = argument.partition(":")
    if not occurrence_id.isdigit() or given not in set(ContributionOutcome):
        raise UserError("errors.unknown_action")
    outcome = ContributionOutcome(given)
    try:
        fields = json.loads(value) if value else {}
    except json.JSONDecodeError:
        fields = None
    if not isinstance(fields, dict):
        raise UserError("challenges.answer_usage")
    text = str(fields.get("text") or "").strip()
    link = str(fields.get("link") or "").strip() or None
    return await _save_answer(ctx, int(occurrence_id), outcome, text, link)


def _closed(
    ctx: Context, challenge: Challenge | None, latest: ChallengeOccurrence | None
) -> UserError:
    """The refusal of an answer to a post closed for answers, saying what can be answered."""
    if challenge is None:
        return UserError("errors.unknown_action")
    if latest is not None:  # a button of an older post: its latest post takes answers
        return UserError("challenges.closed_answer_latest", id=challenge.id)
    if challenge.status == ChallengeStatus.ACTIVE and challenge.next_run_at is not None:
        when = ctx.t.datetime(challenge.next_run_at, ctx.timezone)
        return UserError("challenges.closed_until_next", id=challenge.id, next=when)
    return UserError("challenges.closed", id=challenge.id)


async def _save_answer(
    ctx: Context, occurrence_id: int, outcome: ContributionOutcome, text: str, link: str | None
) -> list[Reply]:
    if not text:
        raise UserError("challenges.answer_needs_text")
    if len(text) > MAX_TEXT:
        raise UserError("challenges.too_long", max=MAX_TEXT)
    if link is not None and not valid_link(link):
        raise UserError("challenges.bad_link")
    occurrence = await challenges.occurrence(ctx.db, occurrence_id)
    if occurrence is None or occurrence.workspace_id != ctx.workspace.id:
        raise UserError("errors.unknown_action")
    if occurrence.closes_at is not None and occurrence.closes_at <= ctx.now:
        challenge = await challenges.by_id(ctx.db, ctx.workspace.id, occurrence.challenge_id)
        latest = await challenges.latest_open_occurrence(
            ctx.db, ctx.workspace.id, ctx.now, challenge_id=occurrence.challenge_id
        )
        raise _closed(ctx, challenge, latest)
    contribution_id, is_new = await challenges.save_answer(
        ctx.db,
        workspace_id=ctx.workspace.id,
        member_id=ctx.actor.id,
        occurrence_id=occurrence.id,
        outcome=outcome,
        text=text,
        link=link,
        now=ctx.now,
    )
    await members.record_event(
        ctx.db,
        ctx.actor.id,
        "answered" if is_new else "answer_edited",
        ctx.now,
        detail={"contribution": contribution_id, "outcome": outcome},
    )
    contribution = await contributions.by_id(ctx.db, ctx.workspace.id, contribution_id)
    assert contribution is not None
    if is_new:
        await badges.promote_after(ctx, "challenge_answers", ctx.actor.id)
        challenge = await challenges.by_id(ctx.db, ctx.workspace.id, occurrence.challenge_id)
        locale = challenge.locale if challenge else ctx.community_translator.locale
        await publish(
            ctx,
            contribution,
            occurrence.conversation,
            locale,
            outbox_keys.challenge_occurrence(occurrence.id),
        )
        return [Reply(ctx.t(f"challenges.answered_{outcome}"))]
    await republish(ctx, contribution, f"edit:{ctx.now.isoformat()}")
    return [Reply(ctx.t("challenges.answer_updated"))]
