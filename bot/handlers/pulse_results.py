"""`pulse results [<id>|all]`: NPS, LSAT, their correlation and referrals.

The database returns counts and sums (a closed pulse's frozen at close, an open one's in
one GROUP BY for both questions: storage/pulses.results_sums); nothing loads the
answers into Python. Animators see who said what; learners see their own answer and
the aggregates of pulses they received.
"""

from __future__ import annotations

import math
from collections import defaultdict

from bot.core import roles
from bot.core.commands import Args
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.replies import Card, Field, Reply
from bot.core.stats import MIN_ANSWERS, correlation, lsat_mean, nps
from bot.handlers.pulse_cards import training_name
from bot.handlers.pulses import default_pulse, pulse_arg
from bot.i18n import Translator
from bot.steering.filters import Filters
from bot.steering.model import Feeling, Scope
from bot.steering.pulses import pulses as steering_pulses
from bot.steering.themes import feeling_by_training
from storage import pulses, referrals
from storage.models import Pulse
from storage.pulses import PulseSums

NAMED_SHOWN = 20
TREND_SHOWN = 6
ALL_WORDS = {"all", "tout", "tous", "toutes"}


def signed(t: Translator, value: float) -> str:
    """An NPS as an integer with its sign (+12, −5, 0), halves rounded away from zero."""
    rounded = int(math.copysign(math.floor(abs(value) + 0.5), value))
    return ("+" if rounded > 0 else "") + t.number(rounded)


def nps_text(t: Translator, sums: PulseSums) -> str:
    """`+12 (promoters 5 · passives 3 · detractors 2)`, or why there is no figure."""
    value = nps(sums)
    if value is None:
        return t("pulses.not_enough", count=sums.answers, needed=MIN_ANSWERS)
    return t(
        "pulses.nps_value",
        nps=signed(t, value),
        promoters=sums.promoters,
        passives=sums.passives,
        detractors=sums.detractors,
    )


def lsat_text(t: Translator, sums: PulseSums) -> str:
    """`3.67 / 5 (n = 3)`, or why there is no figure."""
    mean = lsat_mean(sums)
    if mean is None:
        return t("pulses.not_enough", count=sums.lsat_count, needed=MIN_ANSWERS)
    return t("pulses.lsat_value", mean=t.number(mean, 2), n=sums.lsat_count)


def correlation_text(t: Translator, sums: PulseSums) -> str:
    """`r = 0.99 (n = 3)`, or why there is none (too few answers, no variance)."""
    found = correlation(sums)
    if found.r is None:
        if found.reason == "no_variance":
            return t("pulses.no_variance", n=found.n)
        return t("pulses.not_enough", count=found.n, needed=MIN_ANSWERS)
    return t("pulses.correlation_value", r=t.number(found.r, 2), n=found.n)


async def results(ctx: Context, args: Args) -> list[Reply]:
    """`pulse results [<id>|all]`."""
    is_animator = roles.allows(ctx.role, roles.ANIMATOR)
    if args and args.tokens[0].key in ALL_WORDS and len(args.tokens) == 1:
        ctx.require(roles.ANIMATOR)
        return await _overview(ctx)
    pulse = await pulse_arg(ctx, args, "pulses.results_usage")
    if pulse is None:
        if is_animator:
            pulse = await default_pulse(ctx)
        else:
            pulse = await pulses.latest(ctx.db, ctx.workspace.id, recipient_id=ctx.actor.id)
    if pulse is None:
        raise UserError("pulses.none_yet")
    if not is_animator and not await pulses.is_recipient(ctx.db, pulse.id, ctx.actor.id):
        raise UserError("pulses.results_not_yours")
    return [await _pulse_results(ctx, pulse, is_animator)]


async def _pulse_results(ctx: Context, pulse: Pulse, is_animator: bool) -> Reply:
    t = ctx.t
    training = await training_name(ctx.db, pulse, t)
    sums = (await pulses.results_sums(ctx.db, [pulse])).get(pulse.id, PulseSums())
    counted = (await referrals.counts(ctx.db, [pulse.id])).get(pulse.id, referrals.ReferralCounts())
    sent = pulse.recipients
    rate = round(100 * sums.answers / sent) if sent else 0
    fields = [
        Field(
            t("pulses.r_answers"),
            t("pulses.state_rate", answered=sums.answers, sent=sent, rate=rate),
        ),
        Field(t("pulses.r_nps"), nps_text(t, sums)),
        Field(t("pulses.r_lsat"), lsat_text(t, sums)),
        Field(t("pulses.r_correlation"), correlation_text(t, sums)),
        Field(
            t("pulses.r_referrals"),
            t(
                "pulses.referrals_value",
                made=counted.made,
                converted=counted.converted,
                interested=counted.interested,
            ),
        ),
    ]
    body: list[str] = []
    if is_animator:
        body += await _named(ctx, pulse)
    else:
        mine = await pulses.answer_of(ctx.db, pulse.id, ctx.actor.id)
        if mine is None:
            body.append(t("pulses.your_answer_none"))
        else:
            lsat = str(mine.lsat) if mine.lsat is not None else "—"
            body.append(t("pulses.your_answer", score=mine.score, lsat=lsat))
    body += await _trend(ctx, pulse)
    title = t("pulses.results_title", id=pulse.id, training=training)
    card = Card(title=title, body="\n".join(body), fields=tuple(fields))
    text = "\n".join(
        [title, *(t("general.labelled", label=f.label, value=f.value) for f in fields), *body]
    )
    return Reply(text, card=card)


async def _named(ctx: Context, pulse: Pulse) -> list[str]:
    t = ctx.t
    answers = await pulses.named_answers(ctx.db, pulse.id, NAMED_SHOWN + 1)
    referred = await referrals.of_pulse(ctx.db, pulse.id)
    by_referrer: dict[int, list[str]] = defaultdict(list)
    for referral in referred:
        state = (
            t("pulses.ref_converted")
            if referral.converted_at is not None
            else t(f"pulses.ref_{referral.response}")
            if referral.response
            else t("pulses.ref_invited")
            if referral.on_platform
            else t("pulses.ref_follow_up")
        )
        by_referrer[referral.referrer_member_id].append(f"{referral.referred} ({state})")
    lines = [t("pulses.named_title")] if answers else []
    for answer in answers[:NAMED_SHOWN]:
        line = t(
            "pulses.named_line",
            name=answer.name,
            score=answer.score,
            lsat=str(answer.lsat) if answer.lsat is not None else "—",
        )
        if answer.comment:
            line += f" · “{answer.comment[:200]}”"
        if by_referrer.get(answer.member_id):
            line += " · " + t("pulses.recommends", names=", ".join(by_referrer[answer.member_id]))
        lines.append(line)
    if len(answers) > NAMED_SHOWN:
        lines.append(t("pulses.named_more", id=pulse.id))
    lines.append(t("pulses.export_hint", id=pulse.id))
    return lines


async def _trend(ctx: Context, pulse: Pulse) -> list[str]:
    """The same figures for the latest pulses of the same session (or workspace)."""
    t = ctx.t
    earlier = await pulses.in_workspace(ctx.db, ctx.workspace.id, session_id=pulse.session_id)
    shown = earlier[-TREND_SHOWN:]
    if len(shown) < 2:
        return []
    sums = await pulses.results_sums(ctx.db, shown)
    lines = [t("pulses.trend_title")]
    for item in shown:
        found = sums.get(item.id, PulseSums())
        training = await training_name(ctx.db, item, t)
        assert item.sent_at is not None
        when = t.date(item.sent_at, ctx.timezone)
        lines.append(_line(t, f"{when} · #{item.id} {training}", found))
    return lines


def _feeling(t: Translator, feeling: Feeling | None) -> str:
    """ " · feeling +12 over 40 posts", or nothing when no post of it was read."""
    if feeling is None or feeling.net is None:
        return ""
    return t("pulses.feeling_suffix", net=signed(t, feeling.net), count=feeling.total)


def _line(t: Translator, label: str, sums: PulseSums) -> str:
    value = nps(sums)
    mean = lsat_mean(sums)
    return t(
        "pulses.trend_line",
        label=label,
        n=sums.answers,
        nps=signed(t, value) if value is not None else "—",
        lsat=t.number(mean, 2) if mean is not None else "—",
    )


async def _overview(ctx: Context) -> list[Reply]:
    """`pulse results all`: per session and per month, from the steering dashboard's own
    figures for the whole workspace (bot/steering/pulses.py), so that both always agree."""
    t = ctx.t
    everything = Scope(
        filters=Filters(), session_ids=None, start=None, end=None, timezone=ctx.timezone
    )
    found = await steering_pulses(ctx.db, ctx.workspace.id, everything, named=False)
    if not found.per_pulse:
        raise UserError("pulses.none_yet")
    total = found.total
    lines = [t("pulses.overview_total", n=total.answers, nps=nps_text(t, total))]
    lines.append(t("pulses.overview_lsat", lsat=lsat_text(t, total)))
    lines.append(t("pulses.r_correlation") + ": " + correlation_text(t, total))
    lines.append(t("pulses.overview_sessions"))
    # How the training's learners feel about what they write, next to its NPS (issue 19).
    feelings = await feeling_by_training(ctx.db, ctx.workspace.id, everything)
    lines += [
        _line(t, t("pulses.the_community") if point.community else point.label, point.sums)
        + _feeling(t, None if point.community else feelings.get(point.label))
        for point in found.per_training
    ]
    lines.append(t("pulses.overview_months"))
    lines += [_line(t, point.label, point.sums) for point in found.per_month]
    title = t("pulses.overview_title")
    return [Reply("\n".join([title, *lines]), card=Card(title=title, body="\n".join(lines)))]
