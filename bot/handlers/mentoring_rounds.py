"""Mentoring rounds: gather who waits and who mentors, match, introduce.

A round runs in one transaction that locks the workspace row (PostgreSQL), so a manual
`pair` and the scheduled round (bot/jobs/mentoring.py, with the check-ins) never pair the
same novice twice. Introductions go through the outbox under keys of the pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.core.context import WorkspaceContext, community_locale
from bot.core.parsing import fold
from bot.core.replies import Card, OutboundMessage
from bot.outbox import targets
from bot.settings import Settings
from storage import mentoring, outbox_keys
from storage.models import Member, MentoringPair, Workspace
from storage.vocabulary import WishStatus

CHECK_IN_ACTION = "mentoring.check_in"


def split_codes(text: str) -> frozenset[str]:
    """ "fr, en" → {"fr", "en"}."""
    return frozenset(code.strip().lower() for code in text.split(",") if code.strip())


def language_of(member: Member, workspace: Workspace, settings: Settings) -> str:
    """A member's language by default: chosen, else the platform's, else the workspace's."""
    # Not `member_locale`: any language they speak counts for matching, supported or not.
    raw = member.locale or member.platform_locale
    if raw:
        return raw.replace("_", "-").split("-", 1)[0].lower()
    return community_locale(workspace, settings)


def _offset(member: Member, workspace: Workspace, settings: Settings, now: datetime) -> float:
    zone = ZoneInfo(member.timezone or workspace.timezone or settings.timezone)
    delta = now.astimezone(zone).utcoffset()
    return delta.total_seconds() / 3600 if delta is not None else 0.0


@dataclass
class RoundPlan:
    """What a round would do (a preview) or did."""

    pairs: list[tuple[Member, Member]]  # (novice, mentor)
    waiting: list[tuple[Member, str, frozenset[str]]]  # (novice, reason, their languages)
    score: float
    repeats_avoided: int


async def plan(ctx: WorkspaceContext) -> RoundPlan:
    """The optimal pairs for who waits now (nothing written)."""
    from bot.mentoring.matcher import Mentor, Person, match  # numpy/scipy: only when pairing

    db, workspace, settings, now = ctx.db, ctx.workspace, ctx.settings, ctx.now
    wishes = await mentoring.waiting(db, workspace.id)
    volunteers = await mentoring.available_mentors(db, workspace.id, now)
    everyone = [m.id for _, m in wishes] + [m.id for _, m, _ in volunteers]
    sessions = await mentoring.sessions_of(db, everyone)

    def topics(member_id: int, extra: str = "") -> frozenset[str]:
        names = {fold(name) for _, name in sessions.get(member_id, [])}
        return frozenset(names | {fold(t) for t in extra.split(",") if t.strip()})

    def lineage(member_id: int) -> frozenset[int]:
        return frozenset(session_id for session_id, _ in sessions.get(member_id, []))

    novices = []
    languages_of: dict[int, frozenset[str]] = {}
    for wish, member in wishes:
        languages = split_codes(wish.languages) or frozenset(
            {language_of(member, workspace, settings)}
        )
        languages_of[member.id] = languages
        novices.append(
            Person(
                member.id,
                languages,
                topics(member.id),
                lineage(member.id),
                _offset(member, workspace, settings, now),
            )
        )
    mentors = [
        Mentor(
            member.id,
            split_codes(profile.languages),
            topics(member.id, profile.topics),
            lineage(member.id),
            _offset(member, workspace, settings, now),
            capacity=profile.capacity,
            load=load,
        )
        for profile, member, load in volunteers
    ]
    previous = await mentoring.history(db, workspace.id)
    proposal = match(novices, mentors, settings.mentoring.weights, previous)
    members = {m.id: m for _, m in wishes} | {m.id: m for _, m, _ in volunteers}
    open_ids = {m.id for m in mentors if m.free > 0}
    avoided = sum(
        1
        for novice_id, mentor_id in previous
        if mentor_id in open_ids
        and novice_id in languages_of
        and languages_of[novice_id] & next(x.languages for x in mentors if x.id == mentor_id)
    )
    return RoundPlan(
        pairs=[(members[n], members[m]) for n, m in proposal.pairs],
        waiting=[(members[n], reason, languages_of[n]) for n, reason in proposal.waiting.items()],
        score=proposal.score,
        repeats_avoided=avoided,
    )


async def run(ctx: WorkspaceContext, run_by_id: int | None) -> RoundPlan:
    """Pair who waits, record it, introduce each pair; the waiting keep their reason
    (`run_by_id`: who typed `pair`, None for the scheduled round)."""
    db, workspace, settings, now = ctx.db, ctx.workspace, ctx.settings, ctx.now
    bind = db.bind
    if bind is not None and bind.dialect.name == "postgresql":
        # One round at a time per workspace (a manual `pair` and the scheduled round).
        await db.execute(select(Workspace.id).where(Workspace.id == workspace.id).with_for_update())
    planned = await plan(ctx)
    made = await mentoring.add_round(
        db,
        workspace_id=workspace.id,
        run_by_id=run_by_id,
        pairs=len(planned.pairs),
        waiting=len(planned.waiting),
        repeats_avoided=planned.repeats_avoided,
        score=planned.score,
        created_at=now,
    )
    for novice, mentor in planned.pairs:
        pair = await mentoring.add_pair(
            db,
            workspace_id=workspace.id,
            round_id=made.id,
            mentor_id=mentor.id,
            novice_id=novice.id,
            created_at=now,
            check_in_at=now + timedelta(days=settings.mentoring.check_in_days),
        )
        wish = await mentoring.wish_of(db, novice.id)
        assert wish is not None
        wish.status, wish.waiting_reason, wish.updated_at = WishStatus.PAIRED, None, now
        await _introduce(ctx, pair, novice, mentor)
    for novice, reason, _languages in planned.waiting:
        wish = await mentoring.wish_of(db, novice.id)
        assert wish is not None
        wish.waiting_reason = reason
    return planned


async def _introduce(
    ctx: WorkspaceContext, pair: MentoringPair, novice: Member, mentor: Member
) -> None:
    """Where the platform allows it (Slack), one conversation with both of them and the bot,
    in the novice's language (and the mentor's too when it differs); elsewhere a message to
    each, naming the other."""
    settings, outbox = ctx.settings, ctx.outbox
    profile = await mentoring.profile_of(ctx.db, mentor.id)
    topics = profile.topics if profile and profile.topics else "—"
    languages = profile.languages if profile else ""
    if targets.supports_groups(ctx.workspace.platform):
        texts = []
        for person in (novice, mentor):
            t = ctx.translator_for(person)
            text = t(
                "mentoring.intro_group",
                novice=novice.display_name,
                mentor=mentor.display_name,
                languages=t.languages(languages),
                topics=topics,
                days=settings.mentoring.check_in_days,
            )
            if text not in texts:
                texts.append(text)
        t = ctx.translator_for(novice)
        title = t(
            "mentoring.intro_group_title", novice=novice.display_name, mentor=mentor.display_name
        )
        body = "\n\n".join(texts)
        await outbox.post(
            outbox_keys.pair_intro(pair.id, "group"),
            targets.group([novice.user_id, mentor.user_id]),
            OutboundMessage(text=f"{title}\n{body}", card=Card(title=title, body=body)),
        )
        return
    t = ctx.translator_for(novice)
    title = t("mentoring.intro_novice_title", mentor=mentor.display_name)
    body = t(
        "mentoring.intro_novice_body",
        mentor=mentor.display_name,
        languages=t.languages(languages),
        topics=topics,
        days=settings.mentoring.check_in_days,
    )
    await outbox.post(
        outbox_keys.pair_intro(pair.id, "novice"),
        f"dm:{novice.user_id}",
        OutboundMessage(text=f"{title}\n{body}", card=Card(title=title, body=body)),
    )
    t = ctx.translator_for(mentor)
    title = t("mentoring.intro_mentor_title", novice=novice.display_name)
    body = t(
        "mentoring.intro_mentor_body",
        novice=novice.display_name,
        days=settings.mentoring.check_in_days,
    )
    await outbox.post(
        outbox_keys.pair_intro(pair.id, "mentor"),
        f"dm:{mentor.user_id}",
        OutboundMessage(text=f"{title}\n{body}", card=Card(title=title, body=body)),
    )
