"""Mentoring commands: volunteers and novices say yes (or stop), animators run rounds.

Nobody is paired without having said yes: mentors with `mentor on`, novices with the
button of the question they get at join, or `mentor request`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from babel import Locale

from bot.core.commands import Args
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.parsing import fold
from bot.core.replies import Button, OutboundMessage, Reply
from bot.handlers import badges, mentoring_rounds
from bot.handlers.members_admin import target_member
from bot.i18n import Translator
from bot.scheduling import clauses
from bot.steering.filters import Filters
from bot.steering.mentoring import mentoring as steering_mentoring
from bot.steering.model import Scope
from storage import mentoring, outbox_keys
from storage.models import Member, MenteeWish, MentoringPair, MentorProfile
from storage.vocabulary import CheckInAnswer, MentorStatus, PairEndReason, WishStatus

CONSENT_ACTION = "mentoring.consent"
CAPACITY_WORDS = {"capacity", "capacite", "places"}
LANGUAGE_WORDS = {"languages", "language", "langues", "langue"}
TOPIC_WORDS = {"topics", "topic", "sujets", "sujet", "themes"}
UNTIL_WORDS = {"until", "jusqu'au", "jusqua", "jusquau", "jusqu’au"}
MAX_CAPACITY = 20
MAX_TOPICS = 300
_CODE = re.compile(r"^[a-z]{2,3}$")
KNOWN_LANGUAGES = frozenset(Locale("en").languages)


def _is_novice(ctx: Context, member: Member) -> bool:
    ladder = ctx.settings.ladder
    return ladder.rank(member.level) < ladder.rank(ctx.settings.mentoring.mentor_level)


def _languages(ctx: Context, text: str) -> str:
    codes = mentoring_rounds.split_codes(text)
    unknown = [c for c in codes if not _CODE.match(c) or c not in KNOWN_LANGUAGES]
    if not codes or unknown:
        raise UserError("mentoring.bad_languages", codes=", ".join(unknown)[:60] or text[:60])
    return ",".join(sorted(codes))


def _options(args: Args, allowed: set[str]) -> dict[str, str]:
    """`capacity 3 languages fr,en topics sales, onboarding` → {word: value}."""
    found: dict[str, list[str]] = {}
    current: str | None = None
    for token in args.tokens:
        key = fold(token.value)
        if key in CAPACITY_WORDS | LANGUAGE_WORDS | TOPIC_WORDS and not token.quoted:
            current = (
                "capacity"
                if key in CAPACITY_WORDS
                else "languages"
                if key in LANGUAGE_WORDS
                else "topics"
            )
            if current not in allowed:
                raise UserError("mentoring.on_usage")
            found[current] = []
        elif current is None:
            raise UserError("mentoring.on_usage")
        else:
            found[current].append(token.value)
    return {key: " ".join(words) for key, words in found.items()}


async def mentor_on(ctx: Context, args: Args) -> list[Reply]:
    """`mentor on [capacity N] [languages fr,en] [topics …]`: volunteer, or change it."""
    member = ctx.actor
    if member.joined_at is None or _is_novice(ctx, member):
        level = ctx.settings.ladder.find(ctx.settings.mentoring.mentor_level)
        assert level is not None
        raise UserError("mentoring.mentors_are", level=level.name(ctx.t.locale))
    options = _options(args, {"capacity", "languages", "topics"})
    profile = await mentoring.profile_of(ctx.db, member.id)
    capacity = profile.capacity if profile else ctx.settings.mentoring.default_capacity
    if "capacity" in options:
        raw = options["capacity"].strip()
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_CAPACITY:
            raise UserError("mentoring.bad_capacity", max=MAX_CAPACITY)
        capacity = int(raw)
    default_language = mentoring_rounds.language_of(member, ctx.workspace, ctx.settings)
    languages = (
        _languages(ctx, options["languages"])
        if "languages" in options
        else profile.languages
        if profile
        else default_language
    )
    topics = options.get("topics", profile.topics if profile else "").strip()[:MAX_TOPICS]
    if profile is None:
        profile = MentorProfile(workspace_id=ctx.workspace.id, member_id=member.id)
        ctx.db.add(profile)
    profile.status, profile.capacity, profile.languages = MentorStatus.ACTIVE, capacity, languages
    profile.topics, profile.paused_until, profile.updated_at = topics, None, ctx.now
    return [
        Reply(
            ctx.t(
                "mentoring.on",
                capacity=capacity,
                languages=ctx.t.languages(languages),
                topics=topics or "—",
            )
        )
    ]


async def _end_pairs(ctx: Context, pairs: list[MentoringPair], reason: PairEndReason) -> None:
    """End pairs; their novices wait again, and the other person is told."""
    for pair in pairs:
        pair.ended_at, pair.end_reason = ctx.now, reason
        novice = await ctx.db.get(Member, pair.novice_id)
        mentor = await ctx.db.get(Member, pair.mentor_id)
        assert novice is not None and mentor is not None
        if reason == PairEndReason.MENTOR_OFF:
            wish = await mentoring.wish_of(ctx.db, novice.id)
            if wish is not None and wish.status == WishStatus.PAIRED:
                wish.status, wish.updated_at = WishStatus.WAITING, ctx.now
            told, key = novice, "mentoring.mentor_left"
            other = mentor
        else:
            told, key, other = mentor, "mentoring.novice_left", novice
        text = ctx.translator_for(told)(key, name=other.display_name)
        await ctx.outbox.post(
            outbox_keys.pair_ended(pair.id), f"dm:{told.user_id}", OutboundMessage(text)
        )


async def withdraw(ctx: Context, member: Member, *, named: bool) -> None:
    """`leave` or an erasure: no longer a mentor nor a mentee; the other person of each pair
    is told (by name, or — for an erasure — without it)."""
    profile = await mentoring.profile_of(ctx.db, member.id)
    if profile is not None and profile.status == MentorStatus.ACTIVE:
        profile.status, profile.updated_at = MentorStatus.OFF, ctx.now
    wish = await mentoring.wish_of(ctx.db, member.id)
    if wish is not None and wish.status not in (WishStatus.STOPPED, WishStatus.DECLINED):
        wish.status, wish.updated_at = WishStatus.STOPPED, ctx.now
    as_mentor = await mentoring.active_pairs(ctx.db, mentor_id=member.id)
    as_novice = await mentoring.active_pairs(ctx.db, novice_id=member.id)
    if named:
        await _end_pairs(ctx, as_mentor, PairEndReason.MENTOR_OFF)
        await _end_pairs(ctx, as_novice, PairEndReason.NOVICE_STOP)
        return
    for pair in [*as_mentor, *as_novice]:
        pair.ended_at, pair.end_reason = ctx.now, PairEndReason.ERASED
        other_id = pair.novice_id if pair.mentor_id == member.id else pair.mentor_id
        other = await ctx.db.get(Member, other_id)
        if other is None:
            continue
        if pair.mentor_id == member.id:
            wish_of_other = await mentoring.wish_of(ctx.db, other.id)
            if wish_of_other is not None and wish_of_other.status == WishStatus.PAIRED:
                wish_of_other.status, wish_of_other.updated_at = WishStatus.WAITING, ctx.now
        text = ctx.translator_for(other)("mentoring.pair_ended_unnamed")
        await ctx.outbox.post(
            outbox_keys.pair_ended(pair.id), f"dm:{other.user_id}", OutboundMessage(text)
        )


async def mentor_off(ctx: Context, _args: Args) -> list[Reply]:
    """`mentor off`: no more mentees; current ones wait for another mentor (and are told)."""
    profile = await mentoring.profile_of(ctx.db, ctx.actor.id)
    if profile is None or profile.status != MentorStatus.ACTIVE:
        raise UserError("mentoring.not_a_mentor")
    profile.status, profile.updated_at = MentorStatus.OFF, ctx.now
    pairs = await mentoring.active_pairs(ctx.db, mentor_id=ctx.actor.id)
    await _end_pairs(ctx, pairs, PairEndReason.MENTOR_OFF)
    return [Reply(ctx.t("mentoring.off", count=len(pairs)))]


async def mentor_pause(ctx: Context, args: Args) -> list[Reply]:
    """`mentor pause until <date>`: no new mentee before that day (current ones stay)."""
    profile = await mentoring.profile_of(ctx.db, ctx.actor.id)
    if profile is None or profile.status != MentorStatus.ACTIVE:
        raise UserError("mentoring.not_a_mentor")
    tokens = list(args.tokens)
    if len(tokens) != 2 or fold(tokens[0].value) not in UNTIL_WORDS:
        raise UserError("mentoring.pause_usage")
    day = clauses.parse_date_value(tokens[1].value)
    until = datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(ctx.timezone))
    if until <= ctx.now:
        raise UserError("mentoring.pause_usage")
    profile.paused_until, profile.updated_at = until, ctx.now
    return [Reply(ctx.t("mentoring.paused", date=ctx.t.date(until, ctx.timezone)))]


async def _want(ctx: Context, languages: str) -> list[Reply]:
    member = ctx.actor
    if member.joined_at is None:
        raise UserError("mentoring.join_first")
    if not _is_novice(ctx, member):
        raise UserError("mentoring.not_a_novice")
    wish = await mentoring.wish_of(ctx.db, member.id)
    if wish is not None and wish.status == WishStatus.PAIRED:
        return [Reply(ctx.t("mentoring.already_paired"))]
    if wish is None:
        wish = MenteeWish(workspace_id=ctx.workspace.id, member_id=member.id)
        ctx.db.add(wish)
    wish.status, wish.waiting_reason, wish.updated_at = WishStatus.WAITING, None, ctx.now
    wish.languages = languages or (wish.languages or "")
    return [Reply(ctx.t("mentoring.waiting"))]


async def request(ctx: Context, args: Args) -> list[Reply]:
    """`mentor request [languages pt,es]`: ask for a mentor."""
    options = _options(args, {"languages"}) if args else {}
    languages = _languages(ctx, options["languages"]) if "languages" in options else ""
    return await _want(ctx, languages)


async def stop(ctx: Context, _args: Args) -> list[Reply]:
    """`mentor stop`: no mentor any more (a current mentor is told)."""
    wish = await mentoring.wish_of(ctx.db, ctx.actor.id)
    if wish is None or wish.status in (WishStatus.STOPPED, WishStatus.DECLINED):
        raise UserError("mentoring.nothing_to_stop")
    wish.status, wish.updated_at = WishStatus.STOPPED, ctx.now
    await _end_pairs(
        ctx, await mentoring.active_pairs(ctx.db, novice_id=ctx.actor.id), PairEndReason.NOVICE_STOP
    )
    return [Reply(ctx.t("mentoring.stopped"))]


async def consent(ctx: Context, value: str) -> list[Reply]:
    """The question asked at join: "Would you like a mentor?" (`yes` / `no`)."""
    if value == "yes":
        return await _want(ctx, "")
    if value != "no":
        raise UserError("errors.unknown_action")
    wish = await mentoring.wish_of(ctx.db, ctx.actor.id)
    if wish is None:
        wish = MenteeWish(workspace_id=ctx.workspace.id, member_id=ctx.actor.id, languages="")
        ctx.db.add(wish)
    if wish.status != WishStatus.PAIRED:
        wish.status, wish.updated_at = WishStatus.DECLINED, ctx.now
    return [Reply(ctx.t("mentoring.declined"))]


@dataclass(frozen=True)
class ConsentQuestion:
    """The question "Would you like a mentor?", asked once, inside the welcome card of a
    first join (one message per join: on Slack and Teams each post counts against the
    rate limits). Its buttons answer through `consent`."""

    title: str
    body: str
    buttons: tuple[Button, ...]


def consent_question(t: Translator) -> ConsentQuestion:
    """The mentoring question in the new member's language, with its two buttons."""
    return ConsentQuestion(
        title=t("mentoring.ask_title"),
        body=t("mentoring.ask_body"),
        buttons=(
            Button(t("mentoring.ask_yes"), CONSENT_ACTION, "yes", style="primary"),
            Button(t("mentoring.ask_no"), CONSENT_ACTION, "no"),
        ),
    )


async def check_in(ctx: Context, value: str) -> list[Reply]:
    """A check-in button (`<pair>:met|not_yet|another`), from the mentor or the novice."""
    raw_id, _, given = value.partition(":")
    if not raw_id.isdigit() or len(raw_id) > 18 or given not in set(CheckInAnswer):
        raise UserError("errors.unknown_action")
    answer = CheckInAnswer(given)
    pair = await mentoring.pair_by_id(ctx.db, ctx.workspace.id, int(raw_id))
    if pair is None or ctx.actor.id not in (pair.mentor_id, pair.novice_id):
        raise UserError("mentoring.not_your_pair")
    if pair.ended_at is not None:
        raise UserError("mentoring.pair_ended")
    is_novice = ctx.actor.id == pair.novice_id
    if answer == CheckInAnswer.ANOTHER and not is_novice:
        raise UserError("errors.unknown_action")
    if is_novice:
        pair.novice_answer = answer
    else:
        pair.mentor_answer = answer
    if answer == CheckInAnswer.MET:
        await badges.promote_after(ctx, "novices_mentored", pair.mentor_id)
    if answer == CheckInAnswer.ANOTHER:
        pair.ended_at, pair.end_reason = ctx.now, PairEndReason.ANOTHER
        wish = await mentoring.wish_of(ctx.db, ctx.actor.id)
        if wish is not None:
            wish.status, wish.updated_at = WishStatus.WAITING, ctx.now
    return [Reply(ctx.t(f"mentoring.answered_{answer}"))]


# --- rounds (animators) --------------------------------------------------------------------


def _reason_text(ctx: Context, reason: str, languages: frozenset[str]) -> str:
    spoken = ctx.t.languages(",".join(sorted(languages)))
    return ctx.t(f"mentoring.reason_{reason}", languages=spoken)


def _round_lines(ctx: Context, planned: mentoring_rounds.RoundPlan) -> list[str]:
    lines = [
        ctx.t("mentoring.pair_line", novice=novice.display_name, mentor=mentor.display_name)
        for novice, mentor in planned.pairs
    ]
    for novice, reason, languages in planned.waiting:
        lines.append(
            ctx.t(
                "mentoring.waiting_line",
                novice=novice.display_name,
                reason=_reason_text(ctx, reason, languages),
            )
        )
    return lines


async def pair_preview(ctx: Context, _args: Args) -> list[Reply]:
    """`pair preview`: the round's proposal, nothing sent."""
    planned = await mentoring_rounds.plan(ctx)
    if not planned.pairs and not planned.waiting:
        return [Reply(ctx.t("mentoring.nobody_waiting"))]
    title = ctx.t("mentoring.preview_title", pairs=len(planned.pairs), waiting=len(planned.waiting))
    return [Reply("\n".join([title, *_round_lines(ctx, planned)]))]


async def pair(ctx: Context, args: Args) -> list[Reply]:
    """`pair`: run a round now (pairs introduced by DM)."""
    planned = await mentoring_rounds.run(ctx, ctx.actor.id)
    if not planned.pairs and not planned.waiting:
        return [Reply(ctx.t("mentoring.nobody_waiting"))]
    title = ctx.t("mentoring.round_title", pairs=len(planned.pairs), waiting=len(planned.waiting))
    return [Reply("\n".join([title, *_round_lines(ctx, planned)]))]


async def allow(ctx: Context, args: Args) -> list[Reply]:
    """`pair allow @mentor @novice`: they may be paired again (by the next rounds)."""
    mentor, rest = await target_member(ctx, args, "mentoring.allow_usage")
    novice, rest = await target_member(ctx, rest, "mentoring.allow_usage")
    if rest or mentor.id == novice.id:
        raise UserError("mentoring.allow_usage")
    await mentoring.allow(ctx.db, ctx.workspace.id, mentor.id, novice.id, ctx.actor.id, ctx.now)
    return [
        Reply(ctx.t("mentoring.allowed", mentor=mentor.display_name, novice=novice.display_name))
    ]


async def stats(ctx: Context, _args: Args) -> list[Reply]:
    """`mentoring stats`: pairs, how many met, who waits and why, mentor load, repeats
    avoided — the steering dashboard's figures for the whole workspace
    (bot/steering/mentoring.py), so that both always agree."""
    t = ctx.t
    everything = Scope(
        filters=Filters(), session_ids=None, start=None, end=None, timezone=ctx.timezone
    )
    found = await steering_mentoring(ctx.db, ctx.workspace.id, everything, ctx.now)
    rate = round(100 * found.met / found.checked) if found.checked else 0
    lines = [
        t("mentoring.stats_title"),
        t("mentoring.stats_pairs", count=found.pairs, active=found.active),
        t("mentoring.stats_met", met=found.met, checked=found.checked, rate=rate),
    ]
    lines.append(t("mentoring.stats_waiting", count=len(found.waiting)))
    default_language = ctx.community_translator.locale
    for novice in found.waiting[:20]:
        codes = frozenset(novice.languages or (default_language,))
        reason = (
            _reason_text(ctx, novice.reason, codes)
            if novice.reason
            else t("mentoring.reason_no_round_yet")
        )
        lines.append(t("mentoring.waiting_line", novice=novice.name, reason=reason))
    if found.loads:
        loads = [mentor.load for mentor in found.loads]
        lines.append(
            t(
                "mentoring.stats_load",
                mentors=len(loads),
                low=min(loads),
                mean=t.number(sum(loads) / len(loads), 1),
                high=max(loads),
                taken=sum(loads),
                capacity=sum(mentor.capacity for mentor in found.loads),
            )
        )
    lines.append(t("mentoring.stats_repeats", count=found.repeats_avoided))
    return [Reply("\n".join(lines))]
