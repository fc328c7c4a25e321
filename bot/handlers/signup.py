"""The in-training sign-up: a join window during the live session, joined together.

`session start` posts a join card with a short code and a Join button; learners
`join` (or click); the card's live count follows; `session close` posts a summary.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import roles
from bot.core.commands import Args
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.parsing import tokenize
from bot.core.replies import Button, Card, Field, OutboundMessage, Reply
from bot.handlers import badges, pulse_rounds
from bot.handlers.mentoring import consent_question
from bot.i18n import Translator
from storage import members, outbox_keys, referrals, training_sessions
from storage.models import Member, TrainingSession

JOIN_ACTION = "signup.join"
JOIN_COMMUNITY_ACTION = "signup.join_community"
CLOSE_ACTION = "signup.close"
# Letters and digits that cannot be mistaken for one another when read aloud or on a slide.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
MAX_NAME = 150
MAX_NAMES_SHOWN = 50
# Sessions offered as buttons to a `join` typed in a 1:1 chat (the newest open ones).
MAX_OFFERED = 5
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def _new_code(length: int) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def _clean_name(text: str) -> str:
    return _CONTROL.sub(" ", text).strip()


def join_card(t: Translator, session: TrainingSession, count: int) -> OutboundMessage:
    """The join card as it should look now: live count while open, a closed notice after."""
    title = t("signup.card_title", name=session.name)
    joined = t("signup.joined_count", count=count)
    fields = (Field(t("signup.code_label"), session.code), Field(t("signup.joined_label"), joined))
    if session.closed_at is None:
        body = t("signup.card_body_open", code=session.code)
        buttons: tuple[Button, ...] = (
            Button(t("signup.join_button"), JOIN_ACTION, session.code, style="primary"),
        )
    else:
        body = t("signup.card_body_closed")
        buttons = ()
    card = Card(title=title, body=body, fields=fields, buttons=buttons)
    return OutboundMessage(text=f"{title} — {body} {joined}", card=card)


async def refresh_card(db: AsyncSession, args: dict[str, Any]) -> OutboundMessage | None:
    """Outbox refresher: rebuild the join card from the database at send time.

    Rendering at send time is what makes the count right under concurrent joins:
    the last edit sent always reads the committed count.
    """
    session = await training_sessions.by_id(db, int(args["session_id"]))
    if session is None:
        return None
    count = await training_sessions.learner_count(db, session)
    return join_card(Translator(str(args.get("locale", "en"))), session, count)


async def session_translator(ctx: Context, session: TrainingSession) -> Translator:
    """The language of a session's posts (its card, the card's updates, its summary): the
    language of the trainer who opened it — they address their group in it, whoever joins
    or closes —, as a challenge's posts keep their author's. Replies follow each person."""
    if session.opened_by_id == ctx.actor.id:
        return ctx.t
    opener = await ctx.db.get(Member, session.opened_by_id)
    return ctx.translator_for(opener) if opener is not None else ctx.community_translator


async def _enqueue_card_update(
    ctx: Context, session: TrainingSession, cause: str, count: int
) -> None:
    t = await session_translator(ctx, session)
    await ctx.outbox.update(
        outbox_keys.session_card_update(session.id, cause),
        outbox_keys.session_card(session.id),
        session.conversation,
        join_card(t, session, count),
        coalesce_key=outbox_keys.session_card_updates(session.id),
        refresh=outbox_keys.session_card_refresh(session.id, t.locale),
    )


async def recount(ctx: Context, session_ids: list[int], cause: str) -> None:
    """Edit the join cards of these sessions (still open) with their count as it is now (a
    member erased: their join no longer counts)."""
    for session_id in session_ids:
        session = await training_sessions.by_id(ctx.db, session_id)
        if session is not None and session.closed_at is None:
            count = await training_sessions.learner_count(ctx.db, session)
            await _enqueue_card_update(ctx, session, cause, count)


# --- session start -------------------------------------------------------------------------


async def start(ctx: Context, args: Args) -> list[Reply]:
    """`session start <name>`: open a join window in this conversation and post the card."""
    name = _clean_name(args.text)
    if not name:
        raise UserError("signup.start_usage")
    if len(name) > MAX_NAME:
        raise UserError("signup.name_too_long", max=MAX_NAME)
    if ctx.origin.is_direct:
        raise UserError("signup.start_in_channel")
    session = None
    for _ in range(10):  # a code collision is rare; draw another
        session = await training_sessions.create(
            ctx.db,
            ctx.workspace.id,
            name,
            _new_code(ctx.settings.signup_code_length),
            ctx.origin.conversation,
            ctx.actor.id,
            ctx.now,
        )
        if session is not None:
            break
    if session is None:
        raise UserError("errors.try_again")
    session_t = ctx.t  # the session's language: its opener's (session_translator)
    await ctx.outbox.post(
        outbox_keys.session_card(session.id),
        session.conversation,
        join_card(session_t, session, 0),
        refresh=outbox_keys.session_card_refresh(session.id, session_t.locale),
    )
    text = ctx.t("signup.started", name=name, code=session.code)
    return [Reply(text)]


# --- join ----------------------------------------------------------------------------------


async def join(ctx: Context, args: Args) -> list[Reply]:
    """`join [CODE]`: join the community, tagged with the session open here (or CODE)."""
    if args:
        return await _join_code(ctx, args.tokens[0].value)
    if ctx.origin.is_direct:
        return await _join_from_direct_chat(ctx)
    open_here = await training_sessions.open_counted(
        ctx.db, ctx.workspace.id, ctx.origin.conversation
    )
    if len(open_here) > 1:
        buttons = tuple(Button(s.name, JOIN_ACTION, s.code) for s, _count in open_here)
        card = Card(title=ctx.t("signup.which_session"), buttons=buttons)
        return [Reply(ctx.t("signup.which_session"), card=card)]
    if not open_here:
        return await _join(ctx, None)
    return await _join(ctx, *open_here[0])


async def join_button(ctx: Context, value: str) -> list[Reply]:
    """The Join button of a join card (its value is the session's code)."""
    return await _join_code(ctx, value)


async def join_community_button(ctx: Context, _value: str) -> list[Reply]:
    """The "Just the community" button of the offer in a 1:1 chat: join, no session."""
    return await _join(ctx, None)


async def _join_from_direct_chat(ctx: Context) -> list[Reply]:
    """`join` in a 1:1 chat with the bot, where no session is open (sessions open in the
    room where the training happens). A learner who types it there during a session most
    likely means that session: offer it (one click), or each of them when several are
    open; with none open, join the community."""
    joined = set(await training_sessions.joined_by(ctx.db, ctx.actor.id))
    offered = [
        s
        for s in await training_sessions.open_in_workspace(ctx.db, ctx.workspace.id)
        if s.id not in joined
    ][:MAX_OFFERED]
    if not offered:
        return await _join(ctx, None)
    style = "primary" if len(offered) == 1 else None
    buttons = tuple(
        Button(ctx.t("signup.join_named_button", name=s.name), JOIN_ACTION, s.code, style=style)
        for s in offered
    )
    buttons += (Button(ctx.t("signup.community_only_button"), JOIN_COMMUNITY_ACTION, "x"),)
    if len(offered) == 1:
        title = ctx.t("signup.offer_one_title", name=offered[0].name)
    else:
        title = ctx.t("signup.offer_several_title", count=len(offered))
    body = ctx.t("signup.offer_body")
    return [Reply(f"{title}\n{body}", card=Card(title=title, body=body, buttons=buttons))]


async def _join_code(ctx: Context, code: str) -> list[Reply]:
    shown = code[:16]
    found = await training_sessions.by_code_counted(ctx.db, ctx.workspace.id, code.strip()[:16])
    if found is None:
        raise UserError("signup.unknown_code", code=shown)
    session, learners = found
    if session.closed_at is not None:
        raise UserError("signup.closed_code", code=session.code, name=session.name)
    return await _join(ctx, session, learners)


async def _join(
    ctx: Context, session: TrainingSession | None, learners_before: int = 0
) -> list[Reply]:
    """Join the community, and `session` when given (`learners_before`: its learner count
    as read with it, in this transaction)."""
    member = ctx.actor
    took_part = False
    if session is not None:
        took_part = await training_sessions.add_participant(ctx.db, session.id, member.id, ctx.now)
        # Someone who left (`leave`) and joins again with the same code comes back.
        if not took_part and member.joined_at is not None:
            return [Reply(ctx.t("signup.already_in_session", name=session.name))]
        # Someone first seen by this very event (created now) cannot have been recommended
        # before now (a referral names someone already known, converted when made before
        # the join): no UPDATE to run for them, the most common joiner.
        if took_part and member.created_at != ctx.now:
            # A colleague someone recommended the training to has come: the referral converted.
            referrers = await referrals.convert(ctx.db, member.id, session.id, ctx.now)
            await badges.promote_after(ctx, "converted_referrals", *referrers)
    # Checked in SQL too (WHERE joined_at IS NULL): two first joins at once make one member.
    joined = None
    if member.joined_at is None:
        joined = await members.mark_asker_joined(
            ctx.db, member, session.id if session else None, ctx.now
        )
    first_join = joined is not None
    if not first_join and session is None:
        return [Reply(ctx.t("signup.already_member"))]
    await members.record_event(
        ctx.db,
        member.id,
        "joined" if first_join else "took_part",
        ctx.now,
        session_id=session.id if session else None,
    )
    if joined is not None:
        # The join cleared their `leave`: the welcome DM needs no lookup to know it.
        ctx.outbox.note_left(member.user_id, False)
        await _send_welcome(ctx, member, session, asked=not joined.answered_mentoring)
    if session is not None:
        await badges.promote_after(ctx, "sessions", member.id)
    if session is None:
        return [Reply(ctx.t("signup.joined_community"))]
    # The count read with the session, plus this join: no SELECT of its own (a trainer
    # joining their own session is no learner: training_sessions.learner_count).
    trainers = {session.opened_by_id, session.closed_by_id or session.opened_by_id}
    count = learners_before + int(took_part and member.id not in trainers)
    await _enqueue_card_update(ctx, session, f"join:{member.id}", count)
    key = "signup.joined_session" if first_join else "signup.took_part"
    return [Reply(ctx.t(key, name=session.name, count=count))]


async def _send_welcome(
    ctx: Context, member: Member, session: TrainingSession | None, *, asked: bool
) -> None:
    """One DM per join: the welcome, its first step and, for someone who never answered it,
    the question "Would you like a mentor?" with its buttons (nobody is paired without
    saying yes). One message, not two: when a group joins at once, every post counts
    against the platform's limits (Slack: about one message per second per conversation and
    workspace-wide limits, https://api.slack.com/apis/rate-limits#posting-messages; Teams:
    per conversation and per tenant,
    https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/rate-limit)."""
    t = ctx.translator_for(member)
    if session is None:  # joined alone, not with a group in a live session
        title = t("signup.welcome_community_title")
        body = t("signup.welcome_community_body", name=member.display_name)
    else:
        title = t("signup.welcome_title", training=session.name)
        body = t("signup.welcome_body", name=member.display_name, training=session.name)
    fields = [Field(t("signup.first_step_label"), t("signup.first_step"))]
    lines = [title, body, t("signup.first_step")]
    buttons: tuple[Button, ...] = ()
    # Asked once (`asked`: they never answered; the join read it): someone back after
    # `leave` who had answered (or asked, or stopped) is not asked again; `mentor request`
    # is always there.
    if asked:
        question = consent_question(t)
        fields.append(Field(question.title, question.body))
        lines.append(f"{question.title} {question.body}")
        buttons = question.buttons
    card = Card(title=title, body=body, fields=tuple(fields), buttons=buttons)
    # Back after `leave`: a new welcome (the first one's key is spent), keyed by the count of
    # their joins so far (this one included): unique per join, even within one second.
    joins = None
    if member.left_at is not None:
        joins = await members.event_count(ctx.db, member.id, "joined")
    await ctx.outbox.post(
        outbox_keys.welcome(member.id, joins),
        f"dm:{member.user_id}",
        OutboundMessage(text="\n".join(lines), card=card),
    )


# --- close, status, list -------------------------------------------------------------------


async def _pick(
    ctx: Context, args: Args, action_id: str, *, open_only: bool
) -> TrainingSession | list[Reply]:
    """The session named by CODE, else the one open here; buttons when there are several."""
    if args:
        code = args.tokens[0].value
        session = await training_sessions.by_code(ctx.db, ctx.workspace.id, code[:16])
        if session is None:
            raise UserError("signup.unknown_code", code=code[:16])
        return session
    open_here = await training_sessions.open_in_conversation(
        ctx.db, ctx.workspace.id, ctx.origin.conversation
    )
    if len(open_here) == 1:
        return open_here[0]
    if len(open_here) > 1:
        buttons = tuple(Button(s.name, action_id, s.code) for s in open_here)
        card = Card(title=ctx.t("signup.which_session"), buttons=buttons)
        return [Reply(ctx.t("signup.which_session"), card=card)]
    if not open_only:
        latest = await training_sessions.latest(ctx.db, ctx.workspace.id)
        if latest is not None:
            return latest
    raise UserError("signup.none_open_here")


async def close(ctx: Context, args: Args) -> list[Reply]:
    """`session close [CODE]`: close the join window and post the summary."""
    picked = await _pick(ctx, args, CLOSE_ACTION, open_only=True)
    if isinstance(picked, list):
        return picked
    return await _close(ctx, picked)


async def close_button(ctx: Context, value: str) -> list[Reply]:
    """A session chosen among several to close."""
    return await close(ctx, Args(tuple(tokenize(value))))


async def _close(ctx: Context, session: TrainingSession) -> list[Reply]:
    if session.closed_at is not None:
        raise UserError("signup.already_closed", name=session.name)
    present = None
    if ctx.count_present is not None:
        seen = await ctx.count_present(ctx.db, ctx.workspace.id, session.conversation)
        if seen is not None:
            # The trainer who opened (and the one closing) are present but are not learners:
            # left out of both figures (training_sessions.learner_count).
            trainers = {session.opened_by_id, ctx.actor.id}
            present = max(seen - len(trainers), 0)
    if not await training_sessions.close(ctx.db, session.id, ctx.actor.id, present, ctx.now):
        raise UserError("signup.already_closed", name=session.name)
    session.closed_at, session.closed_by_id = ctx.now, ctx.actor.id
    await pulse_rounds.schedule_after_close(ctx.db, session.id, ctx.now)
    count = await training_sessions.learner_count(ctx.db, session)
    if present is not None:
        present = max(present, count)
    t = await session_translator(ctx, session)
    duration = t.duration(ctx.now - session.opened_at)
    summary = t("signup.summary", name=session.name, count=count, duration=duration)
    if present is not None:
        summary = t(
            "signup.summary_present",
            name=session.name,
            count=count,
            present=present,
            duration=duration,
        )
    await ctx.outbox.post(
        outbox_keys.session_summary(session.id), session.conversation, OutboundMessage(text=summary)
    )
    await _enqueue_card_update(ctx, session, "closed", count)
    return [Reply(ctx.t("signup.closed", name=session.name, count=count))]


async def status(ctx: Context, args: Args) -> list[Reply]:
    """`session status [CODE]`: who joined, by name (animators)."""
    picked = await _pick(ctx, args, JOIN_ACTION, open_only=False)
    if isinstance(picked, list):
        return picked
    session = picked
    names = await training_sessions.participant_names(ctx.db, session.id)
    shown = ", ".join(names[:MAX_NAMES_SHOWN]) or ctx.t("signup.nobody_yet")
    if len(names) > MAX_NAMES_SHOWN:
        shown += " " + ctx.t("signup.and_more", count=len(names) - MAX_NAMES_SHOWN)
    state = (
        ctx.t("signup.state_open")
        if session.closed_at is None
        else ctx.t("signup.state_closed", when=ctx.t.datetime(session.closed_at, ctx.timezone))
    )
    title = ctx.t("signup.status_title", name=session.name, count=len(names))
    card = Card(
        title=title,
        body=shown,
        fields=(
            Field(ctx.t("signup.code_label"), session.code),
            Field(ctx.t("signup.opened_label"), ctx.t.datetime(session.opened_at, ctx.timezone)),
            Field(ctx.t("signup.state_label"), state),
        ),
    )
    return [Reply(f"{title}\n{shown}\n{state}", card=card)]


async def list_sessions(ctx: Context, _args: Args) -> list[Reply]:
    """`session list`: open sessions first, then the latest closed ones, with counts."""
    sessions = await training_sessions.recent(ctx.db, ctx.workspace.id)
    if not sessions:
        hint = (
            "signup.list_empty_animator"
            if roles.allows(ctx.role, roles.ANIMATOR)
            else "signup.list_empty"
        )
        return [Reply(ctx.t(hint))]
    counts = await training_sessions.counts(ctx.db, [s.id for s in sessions])
    lines = [ctx.t("signup.list_title")]
    for session in sessions:
        key = "signup.list_line_open" if session.closed_at is None else "signup.list_line_closed"
        lines.append(
            ctx.t(
                key,
                name=session.name,
                code=session.code,
                count=counts.get(session.id, 0),
                when=ctx.t.datetime(session.opened_at, ctx.timezone),
            )
        )
    return [Reply("\n".join(lines))]
