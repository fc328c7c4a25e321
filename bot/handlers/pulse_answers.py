"""A learner answers a pulse in chat: a score (0-10), then LSAT (1-5), then details.

Every click is checked against the database, never trusted: the pulse must exist in
this workspace, have been sent to this learner, still be open, and the value be on
its scale. Anything else gets a clear reply and stores nothing.
"""

from __future__ import annotations

import json
from typing import Any

from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.replies import Card, Reply
from bot.handlers import badges
from bot.handlers.pulse_cards import LSATS, SCORES, details_form, lsat_card, training_name
from bot.handlers.referral_invites import not_to_offer, record_referrals
from storage import members, pulses
from storage.models import Pulse
from storage.vocabulary import PulseStatus

MAX_COMMENT = 2000
MAX_OFFERED = 100  # colleagues the details form offers to pick (any other: typed by name)


async def _answerable(ctx: Context, raw_id: str) -> Pulse:
    """The open pulse `raw_id`, sent to the asker; else a refusal that changes nothing."""
    if not raw_id.isdigit() or len(raw_id) > 18:
        raise UserError("pulses.unknown_pulse")
    pulse = await pulses.by_id(ctx.db, ctx.workspace.id, int(raw_id))
    if pulse is None:
        raise UserError("pulses.unknown_pulse")
    if not await pulses.is_recipient(ctx.db, pulse.id, ctx.actor.id):
        raise UserError("pulses.not_yours")
    if pulse.status not in (PulseStatus.OPEN, PulseStatus.SENDING):
        raise UserError("pulses.closed_for_answers", id=pulse.id)
    return pulse


def _on_scale(raw: str, scale: range, error: str) -> int:
    if not raw.isdigit() or int(raw) not in scale:
        raise UserError(error)
    return int(raw)


async def score(ctx: Context, value: str) -> list[Reply]:
    """A score button (`<pulse id>:<0-10>`): store it, then ask about satisfaction."""
    raw_id, _, raw_score = value.partition(":")
    pulse = await _answerable(ctx, raw_id)
    chosen = _on_scale(raw_score, SCORES, "pulses.bad_score")
    if await pulses.save(ctx.db, pulse.id, ctx.actor.id, ctx.now, score=chosen):
        await badges.promote_after(ctx, "pulse_answers", ctx.actor.id)
    training = await training_name(ctx.db, pulse, ctx.t)
    card = lsat_card(ctx.t, pulse.id, training, chosen)
    return [Reply(f"{card.title} {card.body}", card=card)]


async def lsat(ctx: Context, value: str) -> list[Reply]:
    """A satisfaction button (`<pulse id>:<1-5>`): store it, then offer the details form."""
    raw_id, _, raw_lsat = value.partition(":")
    pulse = await _answerable(ctx, raw_id)
    chosen = _on_scale(raw_lsat, LSATS, "pulses.bad_lsat")
    answer = await pulses.answer_of(ctx.db, pulse.id, ctx.actor.id)
    if answer is None:
        raise UserError("pulses.score_first")
    await pulses.save(ctx.db, pulse.id, ctx.actor.id, ctx.now, lsat=chosen)
    not_offered = await not_to_offer(ctx, pulse)
    left_out = set(not_offered)
    known = await members.people_to_offer(
        ctx.db, ctx.workspace.id, ctx.actor.id, MAX_OFFERED + len(left_out)
    )
    people = tuple(p for p in known if p[1] not in left_out)[:MAX_OFFERED]
    form = details_form(ctx.t, pulse.id, answer.comment or "", people, not_offered)
    text = ctx.t("pulses.lsat_saved", lsat=chosen)
    return [Reply(text, form=form)]


def _fields(value: str) -> dict[str, Any]:
    try:
        fields = json.loads(value) if value else {}
    except json.JSONDecodeError:
        fields = None
    if not isinstance(fields, dict):
        raise UserError("pulses.details_usage")
    return fields


def _names(raw: Any) -> list[str]:
    """The referrals field: a list (user picker + free names) or a comma-separated text."""
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        raw = raw.split(",")
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise UserError("pulses.details_usage")
    return [item.strip() for item in raw if item.strip()]


async def details(ctx: Context, value: str, argument: str) -> list[Reply]:
    """The details form (`pulse.details:<pulse id>`): a comment and referrals."""
    pulse = await _answerable(ctx, argument)
    answer = await pulses.answer_of(ctx.db, pulse.id, ctx.actor.id)
    if answer is None:
        raise UserError("pulses.score_first")
    fields = _fields(value)
    comment = fields.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise UserError("pulses.details_usage")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise UserError("pulses.comment_too_long", max=MAX_COMMENT)
    names = _names(fields.get("referrals"))
    if comment or answer.comment:
        await pulses.save(ctx.db, pulse.id, ctx.actor.id, ctx.now, comment=comment)
    recorded = await record_referrals(ctx, pulse, names)
    parts = [ctx.t("pulses.thanks_score", score=answer.score)]
    if answer.lsat is not None:
        parts.append(ctx.t("pulses.thanks_lsat", lsat=answer.lsat))
    if recorded.named:
        parts.append(ctx.t("pulses.thanks_referrals", names=", ".join(recorded.named)))
    lines = [" · ".join(parts), *recorded.notes, ctx.t("pulses.change_hint")]
    title = ctx.t("pulses.thanks_title")
    card = Card(title=title, body="\n".join(lines))
    return [Reply(f"{title} {card.body}", card=card)]
