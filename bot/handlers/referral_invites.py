"""Referrals from a pulse answer, the one invitation a colleague gets, and their reply.

Only colleagues it makes sense to recommend the training to: not the learner, not those
who run the trainings, not those who already took part in it (the playground's picker
does not offer them; named anyway, they get nothing and the learner reads why).

A colleague is a member when the picker (or the text) names someone the platform
knows; else a free name, kept for the animators to follow up. A member gets at most
one invitation per training (one outbox key), never after saying "stop such messages".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select

from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.parsing import Token
from bot.core.replies import Button, Card, OutboundMessage, Reply, picker_can_exclude
from bot.handlers.pulse_cards import training_name
from storage import outbox_keys, referrals
from storage.models import Member, Pulse
from storage.vocabulary import ReferralResponse

RESPOND_ACTION = "referral.respond"
MAX_REFERRALS = 20
MAX_NAME = 200
MAX_NOT_OFFERED = 500
_CONTROL = re.compile(r"[\x00-\x1f\x7f<>]+")


def invitation_key(pulse: Pulse, member_id: int) -> str:
    """One invitation per colleague per training (a session, or a community pulse)."""
    training = f"s{pulse.session_id}" if pulse.session_id is not None else f"p{pulse.id}"
    return outbox_keys.invitation(training, member_id)


async def _resolve(ctx: Context, entry: str) -> Member | None:
    """The member an entry names: a user id, a mention, or a unique display name."""
    user_id = Token(entry).mention or entry
    query = select(Member).where(Member.workspace_id == ctx.workspace.id, Member.user_id == user_id)
    found = (await ctx.db.execute(query)).scalar_one_or_none()
    if found is not None:
        return found
    by_name = select(Member).where(
        Member.workspace_id == ctx.workspace.id,
        func.lower(Member.display_name) == entry.lower(),
    )
    named = list((await ctx.db.execute(by_name.limit(2))).scalars())
    return named[0] if len(named) == 1 else None


def _admins(ctx: Context) -> list[str]:
    """The user ids of this platform's admins from AMBASSADOR_ADMINS."""
    return [user_id for platform, user_id in ctx.settings.admins if platform == ctx.origin.platform]


async def not_to_offer(ctx: Context, pulse: Pulse) -> tuple[str, ...]:
    """The user ids the colleagues picker leaves out: the learner, those who run the
    trainings, those who took part in this one (at most MAX_NOT_OFFERED: a community pulse
    would list the whole community). None where the platform's picker cannot leave
    anyone out (Slack, Teams): there, `record_referrals` alone sorts them out."""
    if not picker_can_exclude(ctx.origin.platform):
        return ()
    others = await referrals.not_to_refer(ctx.db, pulse, _admins(ctx), limit=MAX_NOT_OFFERED)
    return (
        ctx.actor.user_id,
        *(user_id for user_id, _ in others.values() if user_id != ctx.actor.user_id),
    )


@dataclass(frozen=True)
class Recorded:
    """What became of the colleagues named in an answer: the names recorded, and notes
    (translated) on those left out, to whom nothing was sent."""

    named: list[str]
    notes: list[str]


async def record_referrals(ctx: Context, pulse: Pulse, entries: list[str]) -> Recorded:
    """Store the colleagues named in an answer and invite those on the platform. Naming
    someone again adds nothing. The learner themself, those who run the trainings and
    those who took part in this training are left out with a note: nothing is recorded
    or sent for them."""
    if len(entries) > MAX_REFERRALS:
        raise UserError("referrals.too_many", max=MAX_REFERRALS)
    resolved: list[tuple[str, Member | None]] = []
    for entry in entries:
        cleaned = _CONTROL.sub(" ", entry).strip()[:MAX_NAME]
        if not any(ch.isalnum() for ch in cleaned):
            raise UserError("referrals.bad_name", name=entry[:40])
        resolved.append((cleaned, await _resolve(ctx, cleaned)))
    known = {member.id for _, member in resolved if member is not None}
    left_out = (
        await referrals.not_to_refer(ctx.db, pulse, _admins(ctx), member_ids=known) if known else {}
    )
    recorded: list[str] = []
    skipped: dict[str, list[str]] = {}
    for cleaned, member in resolved:
        if member is not None and member.id == ctx.actor.id:
            skipped.setdefault("yourself", [])
            continue
        if member is not None and member.id in left_out:
            names = skipped.setdefault(left_out[member.id][1], [])
            if member.display_name not in names:
                names.append(member.display_name)
            continue
        name = member.display_name if member is not None else cleaned
        key = referrals.referred_key(member.id if member is not None else None, cleaned)
        referral_id = await referrals.add(
            ctx.db,
            workspace_id=ctx.workspace.id,
            pulse_id=pulse.id,
            session_id=pulse.session_id,
            referrer_id=ctx.actor.id,
            referred_member_id=member.id if member is not None else None,
            referred_name=name,
            referred_key=key,
            now=ctx.now,
        )
        recorded.append(name)
        if referral_id is not None and member is not None and member.invitations_off_at is None:
            await _invite(ctx, pulse, member, referral_id)
    return Recorded(recorded, await _notes(ctx, pulse, skipped))


async def _notes(ctx: Context, pulse: Pulse, skipped: dict[str, list[str]]) -> list[str]:
    """One translated sentence per reason someone was left out."""
    if not skipped:
        return []
    training = await training_name(ctx.db, pulse, ctx.t)
    notes = []
    if "yourself" in skipped:
        notes.append(ctx.t("referrals.skipped_yourself", training=training))
    for reason in (referrals.RUNS_TRAININGS, referrals.TOOK_PART):
        names = skipped.get(reason)
        if names:
            notes.append(
                ctx.t(
                    f"referrals.skipped_{reason}",
                    count=len(names),
                    names=", ".join(names),
                    training=training,
                )
            )
    return notes


async def _invite(ctx: Context, pulse: Pulse, member: Member, referral_id: int) -> None:
    t = ctx.translator_for(member)
    training = await training_name(ctx.db, pulse, t)
    title = t("referrals.invitation_title", referrer=ctx.actor.display_name, training=training)
    body = t("referrals.invitation_body", referrer=ctx.actor.display_name, training=training)
    card = Card(
        title=title,
        body=body,
        buttons=(
            Button(
                t("referrals.interested"),
                RESPOND_ACTION,
                f"{referral_id}:interested",
                style="primary",
            ),
            Button(t("referrals.not_now"), RESPOND_ACTION, f"{referral_id}:not_now"),
            Button(t("referrals.stop"), RESPOND_ACTION, f"{referral_id}:stop", style="danger"),
        ),
    )
    await ctx.outbox.post(
        invitation_key(pulse, member.id),
        f"dm:{member.user_id}",
        OutboundMessage(text=f"{title}\n{body}", card=card),
    )


async def respond(ctx: Context, value: str) -> list[Reply]:
    """An invitation's button (`<referral id>:interested|not_now|stop`)."""
    raw_id, _, choice = value.partition(":")
    if not raw_id.isdigit() or len(raw_id) > 18 or choice not in set(ReferralResponse):
        raise UserError("errors.unknown_action")
    referral = await referrals.by_id(ctx.db, ctx.workspace.id, int(raw_id))
    if referral is None or referral.referred_member_id != ctx.actor.id:
        raise UserError("referrals.not_yours")
    pulse = await ctx.db.get(Pulse, referral.pulse_id)
    assert pulse is not None
    training = await training_name(ctx.db, pulse, ctx.t)
    referral.response = ReferralResponse(choice)
    referral.responded_at = ctx.now
    if referral.response == ReferralResponse.STOP:
        ctx.actor.invitations_off_at = ctx.now
    return [Reply(ctx.t(f"referrals.answered_{choice}", training=training))]
