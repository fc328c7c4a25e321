"""Mentoring rounds: gather who waits and who mentors, match, introduce, check in.

A round runs in one transaction that locks the workspace row (PostgreSQL), so a manual
`pair` and the scheduled round never pair the same novice twice. Introductions and
check-ins go through the outbox under keys of the pair.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.parsing import fold
from bot.core.replies import Button, Card, OutboundMessage
from bot.i18n import Translator, pick_locale
from bot.outbox import targets
from bot.outbox.queue import Outbox
from bot.settings import Settings
from storage import mentoring
from storage.models import Member, MentoringPair, Workspace
from storage.vocabulary import WishStatus

CHECK_IN_ACTION = "mentoring.check_in"


def split_codes(text: str) -> frozenset[str]:
    """ "fr, en" → {"fr", "en"}."""
    return frozenset(code.strip().lower() for code in text.split(",") if code.strip())


def language_of(member: Member, workspace: Workspace, settings: Settings) -> str:
    """A member's language by default: chosen, else the platform's, else the workspace's."""
    raw = member.locale or member.platform_locale
    if raw:
        return raw.replace("_", "-").split("-", 1)[0].lower()
    return pick_locale(workspace.locale, settings.locale)


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


async def plan(
    db: AsyncSession, workspace: Workspace, settings: Settings, now: datetime
) -> RoundPlan:
    """The optimal pairs for who waits now (nothing written)."""
    from bot.mentoring.matcher import Mentor, Person, match  # numpy/scipy: only when pairing

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


async def run(
    db: AsyncSession,
    workspace: Workspace,
    settings: Settings,
    now: datetime,
    run_by_id: int | None,
) -> RoundPlan:
    """Pair who waits, record it, introduce each pair; the waiting keep their reason."""
    bind = db.bind
    if bind is not None and bind.dialect.name == "postgresql":
        # One round at a time per workspace (a manual `pair` and the scheduled round).
        await db.execute(select(Workspace.id).where(Workspace.id == workspace.id).with_for_update())
    planned = await plan(db, workspace, settings, now)
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
    outbox = Outbox(db, workspace.platform, workspace.id, now)
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
        await _introduce(db, outbox, workspace, settings, pair, novice, mentor)
    for novice, reason, _languages in planned.waiting:
        wish = await mentoring.wish_of(db, novice.id)
        assert wish is not None
        wish.waiting_reason = reason
    return planned


def _translator(member: Member, workspace: Workspace, settings: Settings) -> Translator:
    return Translator(
        pick_locale(member.locale, member.platform_locale, workspace.locale, settings.locale)
    )


async def _introduce(
    db: AsyncSession,
    outbox: Outbox,
    workspace: Workspace,
    settings: Settings,
    pair: MentoringPair,
    novice: Member,
    mentor: Member,
) -> None:
    """Where the platform allows it (Slack), one conversation with both of them and the bot,
    in the novice's language (and the mentor's too when it differs); elsewhere a message to
    each, naming the other."""
    profile = await mentoring.profile_of(db, mentor.id)
    topics = profile.topics if profile and profile.topics else "—"
    languages = profile.languages if profile else ""
    if targets.supports_groups(workspace.platform):
        texts = []
        for person in (novice, mentor):
            t = _translator(person, workspace, settings)
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
        t = _translator(novice, workspace, settings)
        title = t(
            "mentoring.intro_group_title", novice=novice.display_name, mentor=mentor.display_name
        )
        body = "\n\n".join(texts)
        await outbox.post(
            f"mentoring-pair:{pair.id}:intro:group",
            targets.group([novice.user_id, mentor.user_id]),
            OutboundMessage(text=f"{title}\n{body}", card=Card(title=title, body=body)),
        )
        return
    t = _translator(novice, workspace, settings)
    title = t("mentoring.intro_novice_title", mentor=mentor.display_name)
    body = t(
        "mentoring.intro_novice_body",
        mentor=mentor.display_name,
        languages=t.languages(languages),
        topics=topics,
        days=settings.mentoring.check_in_days,
    )
    await outbox.post(
        f"mentoring-pair:{pair.id}:intro:novice",
        f"dm:{novice.user_id}",
        OutboundMessage(text=f"{title}\n{body}", card=Card(title=title, body=body)),
    )
    t = _translator(mentor, workspace, settings)
    title = t("mentoring.intro_mentor_title", novice=novice.display_name)
    body = t(
        "mentoring.intro_mentor_body",
        novice=novice.display_name,
        days=settings.mentoring.check_in_days,
    )
    await outbox.post(
        f"mentoring-pair:{pair.id}:intro:mentor",
        f"dm:{mentor.user_id}",
        OutboundMessage(text=f"{title}\n{body}", card=Card(title=title, body=body)),
    )


async def _check_in(
    db: AsyncSession, pair: MentoringPair, settings: Settings, now: datetime
) -> None:
    """Ask both "Have you met?"; the novice may also ask for another mentor."""
    pair.checked_at = now
    workspace = await db.get(Workspace, pair.workspace_id)
    mentor = await db.get(Member, pair.mentor_id)
    novice = await db.get(Member, pair.novice_id)
    if workspace is None or mentor is None or novice is None:
        return
    outbox = Outbox(db, workspace.platform, workspace.id, now)
    for who, other, role in ((novice, mentor, "novice"), (mentor, novice, "mentor")):
        t = _translator(who, workspace, settings)
        title = t("mentoring.check_in_title", other=other.display_name)
        buttons = [
            Button(t("mentoring.met"), CHECK_IN_ACTION, f"{pair.id}:met", style="primary"),
            Button(t("mentoring.not_yet"), CHECK_IN_ACTION, f"{pair.id}:not_yet"),
        ]
        if role == "novice":
            buttons.append(Button(t("mentoring.another"), CHECK_IN_ACTION, f"{pair.id}:another"))
        await outbox.post(
            f"mentoring-pair:{pair.id}:check-in:{role}",
            f"dm:{who.user_id}",
            OutboundMessage(text=title, card=Card(title=title, buttons=tuple(buttons))),
        )


def make_due_work(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> tuple[Callable[[datetime], Awaitable[int]], Callable[[], Awaitable[datetime | None]]]:
    """The scheduler's mentoring work: check-ins when due, rounds every N days."""
    every = timedelta(days=settings.mentoring.round_every_days)

    async def run_due(now: datetime) -> int:
        done = 0
        while True:
            async with sessions() as db, db.begin():
                due = await mentoring.due_check_ins(db, now, 50)
                for pair in due:
                    await _check_in(db, pair, settings, now)
                    done += 1
            if len(due) < 50:
                break
        async with sessions() as db:
            candidates = await mentoring.workspaces_waiting(db)
        for workspace_id, since in candidates:
            if now - since < every:
                continue
            async with sessions() as db, db.begin():
                workspace = await db.get(Workspace, workspace_id)
                if workspace is not None:
                    done += len((await run(db, workspace, settings, now, None)).pairs)
        return done

    async def next_due() -> datetime | None:
        async with sessions() as db:
            moments = [await mentoring.next_check_in(db)]
            moments += [since + every for _, since in await mentoring.workspaces_waiting(db)]
        found = [m for m in moments if m is not None]
        return min(found) if found else None

    return run_due, next_due
