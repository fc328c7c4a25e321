"""Promotion rules on hand-built histories: each boundary, the daily cap, hidden content,
replays, and two evaluations at once (PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.handlers.badges import rules
from bot.ladder import CRITERIA, DEFAULT_LADDER, Ladder, LevelSpec
from storage import badges, contributions
from storage.db import create_engine, session_factory
from storage.models import (
    BadgeAward,
    Contribution,
    Member,
    Pulse,
    PulseAnswer,
    Referral,
    Workspace,
)
from storage.vocabulary import ReactionKind

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
LADDER = DEFAULT_LADDER  # junior: 1 contribution; confirmed: 5 answers, 1 pulse, 30 days;
# senior: 15 contributions, 90 days, and a converted referral (or a novice mentored)


@pytest.fixture
async def db_sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


async def _member(db: AsyncSession, name: str, joined_days_ago: int) -> Member:
    workspace = (await db.execute(select(Workspace))).scalar_one_or_none()
    if workspace is None:
        workspace = Workspace(platform="local", external_id="local", created_at=NOW)
        db.add(workspace)
        await db.flush()
    member = Member(
        workspace_id=workspace.id,
        user_id=name,
        display_name=name,
        role="learner",
        joined_at=NOW - timedelta(days=joined_days_ago),
        created_at=NOW,
    )
    db.add(member)
    await db.flush()
    return member


async def _contribute(
    db: AsyncSession, member: Member, kind: str, days_ago: int, hidden: bool = False
) -> None:
    when = NOW - timedelta(days=days_ago, hours=1)
    db.add(
        Contribution(
            workspace_id=member.workspace_id,
            member_id=member.id,
            kind=kind,
            outcome="success" if kind == "answer" else None,
            text="x",
            created_at=when,
            updated_at=when,
            hidden_at=when if hidden else None,
        )
    )
    await db.flush()


async def _pulse_answer(db: AsyncSession, member: Member) -> Pulse:
    pulse = Pulse(
        workspace_id=member.workspace_id,
        created_by_id=member.id,
        conversation="general",
        status="open",
        reminders_sent=0,
        recipients=1,
        created_at=NOW,
    )
    db.add(pulse)
    await db.flush()
    db.add(
        PulseAnswer(pulse_id=pulse.id, member_id=member.id, score=9, created_at=NOW, updated_at=NOW)
    )
    await db.flush()
    return pulse


async def _evaluate(db: AsyncSession, now: datetime = NOW) -> list[tuple[str, str]]:
    made = await badges.award_due(db, rules(LADDER), LADDER.daily_caps, LADDER.points, now)
    names = {m.id: m.user_id for m in (await db.execute(select(Member))).scalars()}
    return sorted((names[a.member_id], a.level) for a in made)


async def test_each_level_boundary(db_sessions: async_sessionmaker[AsyncSession]) -> None:
    async with db_sessions() as db, db.begin():
        nobody = await _member(db, "nobody", 100)  # noqa: F841 - joined, never contributed
        one = await _member(db, "one", 0)
        await _contribute(db, one, "share", 0)
        # Five answers on five days, a pulse answer, but 29 days a member: junior only.
        almost = await _member(db, "almost", 29)
        for day in range(5):
            await _contribute(db, almost, "answer", day)
        await _pulse_answer(db, almost)
        # The same at 30 days: confirmed (and junior, on the way).
        confirmed = await _member(db, "confirmed", 30)
        for day in range(5):
            await _contribute(db, confirmed, "answer", day)
        await _pulse_answer(db, confirmed)
        # 15 contributions and 90 days, but no converted referral: confirmed, not senior.
        senior = await _member(db, "senior", 90)
        for day in range(15):
            await _contribute(db, senior, "answer", day)
        pulse = await _pulse_answer(db, senior)
        assert await _evaluate(db) == [
            ("almost", "junior"),
            ("confirmed", "confirmed"),
            ("confirmed", "junior"),
            ("one", "junior"),
            ("senior", "confirmed"),
            ("senior", "junior"),
        ]
        db.add(
            Referral(
                workspace_id=senior.workspace_id,
                pulse_id=pulse.id,
                referrer_id=senior.id,
                referred_name="Zoe",
                referred_key="n:zoe",
                created_at=NOW,
                converted_at=NOW,
            )
        )
        await db.flush()
        assert await _evaluate(db) == [("senior", "senior")]
        fresh = select(Member).execution_options(populate_existing=True)
        levels = {m.user_id: m.level for m in (await db.execute(fresh)).scalars()}
        # Each award keeps how many whole days after joining it came (the dashboard's
        # time to each level).
        kept = select(Member.user_id, BadgeAward.level, BadgeAward.joined_days).join(
            Member, Member.id == BadgeAward.member_id
        )
        days = {(who, level): n for who, level, n in (await db.execute(kept)).all()}
    assert days == {
        ("almost", "junior"): 29,
        ("confirmed", "confirmed"): 30,
        ("confirmed", "junior"): 30,
        ("one", "junior"): 0,
        ("senior", "confirmed"): 90,
        ("senior", "junior"): 90,
        ("senior", "senior"): 90,
    }
    assert levels == {
        "nobody": None,
        "one": "junior",
        "almost": "junior",
        "confirmed": "confirmed",
        "senior": "senior",
    }


async def test_the_daily_cap_and_hidden_content(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessions() as db, db.begin():
        spammer = await _member(db, "spammer", 40)
        for _ in range(10):  # ten answers in one day count as three
            await _contribute(db, spammer, "answer", 1)
        await _contribute(db, spammer, "answer", 2, hidden=True)  # hidden: never counts
        await _pulse_answer(db, spammer)
        counts = await badges.counts_of(db, spammer.id, LADDER.daily_caps, LADDER.points)
        assert counts is not None and counts["challenge_answers"] == 3
        assert await _evaluate(db) == [("spammer", "junior")]
        await _contribute(db, spammer, "answer", 3)
        await _contribute(db, spammer, "answer", 4)
        assert await _evaluate(db) == [("spammer", "confirmed")]


async def test_replayed_evaluations_award_once_and_revoked_levels_stay_revoked(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessions() as db, db.begin():
        member = await _member(db, "ana", 1)
        await _contribute(db, member, "share", 0)
        assert await _evaluate(db) == [("ana", "junior")]
        assert await _evaluate(db) == []
        assert await _evaluate(db, NOW + timedelta(days=1)) == []
        await badges.revoke(db, member.id, ["junior"], member.id, "test", NOW)
        await badges.refresh_levels(db, {member.id})
        assert await _evaluate(db) == [], "a revoked level is not re-awarded automatically"
        count = await db.execute(select(func.count()).select_from(BadgeAward))
        assert count.scalar_one() == 1
        await db.refresh(member)
        assert member.level is None


@pytest.mark.postgres
async def test_two_evaluations_at_once_award_once(postgres_url: str) -> None:
    from tests.support.databases import truncate_all

    await truncate_all(postgres_url)
    engine = create_engine(postgres_url)
    db_sessions = session_factory(engine)
    try:
        async with db_sessions() as db, db.begin():
            for n in range(200):
                member = await _member(db, f"m{n}", 1)
                await _contribute(db, member, "share", 0)

        async def evaluate() -> int:
            async with db_sessions() as db, db.begin():
                return len(await _evaluate(db))

        made = await asyncio.gather(*(evaluate() for _ in range(4)))
        assert sum(made) == 200
        async with db_sessions() as db:
            awards = await db.execute(select(func.count()).select_from(BadgeAward))
            assert awards.scalar_one() == 200
    finally:
        await engine.dispose()


async def test_points_weigh_what_counts_after_the_daily_cap(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    points = {"challenge_answers": 2, "shares": 1, "pulse_answers": 3}
    rule = badges.LevelRule("star", 1, {"points": 10}, ())
    async with db_sessions() as db, db.begin():
        member = await _member(db, "pia", 5)
        for _ in range(5):  # five answers in a day, capped at 3: 6 points
            await _contribute(db, member, "answer", 1)
        await _contribute(db, member, "share", 2)  # 1 point
        counts = await badges.counts_of(db, member.id, LADDER.daily_caps, points)
        assert counts is not None and counts["points"] == 7
        assert await badges.award_due(db, [rule], LADDER.daily_caps, points, NOW) == []
        await _pulse_answer(db, member)  # 3 points: 10
        made = await badges.award_due(db, [rule], LADDER.daily_caps, points, NOW)
        assert [(a.level, a.rank) for a in made] == [("star", 1)]


async def test_each_kind_of_share_counts_apart_and_in_shares_with_its_cap(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessions() as db, db.begin():
        ann = await _member(db, "ann", 10)
        for _ in range(5):  # five questions in one day
            await _contribute(db, ann, "question", 1)
        await _contribute(db, ann, "experience", 2)
        await _contribute(db, ann, "watch", 2)
        await _contribute(db, ann, "watch", 3, hidden=True)  # hidden: never counts
        await _contribute(db, ann, "share", 2)
        # The default caps (3 shares a day): the questions' day counts 3, in `shares` too;
        # `questions` has no cap of its own, so the cap of `shares` applies.
        counts = await badges.counts_of(db, ann.id, LADDER.daily_caps, LADDER.points)
        assert counts is not None
        assert {k: counts[k] for k in ("shares", "questions", "experiences", "watches")} == {
            "shares": 6,
            "questions": 3,
            "experiences": 1,
            "watches": 1,
        }
        assert counts["contributions"] == 6
        # A cap of its own for questions; none at all for shares.
        counts = await badges.counts_of(db, ann.id, {"questions": 2}, {})
        assert counts is not None
        assert (counts["shares"], counts["questions"]) == (8, 2)


async def test_a_level_asking_for_questions_is_met_by_questions_only(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    ladder = Ladder(
        levels=(
            LevelSpec("curious", "Curious", "Curieux", {"questions": 2}),
            LevelSpec("reader", "Reader", "Lecteur", {"questions": 2, "watches": 1}),
        ),
        daily_caps={"shares": 3},
    )

    async def evaluate(db: AsyncSession) -> list[str]:
        made = await badges.award_due(db, rules(ladder), ladder.daily_caps, ladder.points, NOW)
        return sorted(award.level for award in made)

    async with db_sessions() as db, db.begin():
        bob = await _member(db, "bob", 10)
        for day in range(3):
            await _contribute(db, bob, "share", day)
        await _contribute(db, bob, "experience", 1)
        await _contribute(db, bob, "question", 1)
        assert await evaluate(db) == []
        await _contribute(db, bob, "question", 2)
        assert await evaluate(db) == ["curious"]
        await _contribute(db, bob, "watch", 2)
        assert await evaluate(db) == ["reader"]


async def test_reactions_count_toward_no_badge_and_dislikes_least_of_all(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The ladder counts what members do (bot/ladder.py CRITERIA: no reaction among them):
    a dislike received, given, or switched from a like changes no count and awards
    nothing."""
    assert not [name for name in CRITERIA if "like" in name]
    async with db_sessions() as db, db.begin():
        author = await _member(db, "author", 40)
        others = [await _member(db, f"reader{n}", 40) for n in range(4)]
        await _contribute(db, author, "share", 1)
        await _evaluate(db)
        share = (await db.execute(select(Contribution.id))).scalar_one()
        before = await badges.counts_of(db, author.id, LADDER.daily_caps, LADDER.points)
        readers = [
            await badges.counts_of(db, reader.id, LADDER.daily_caps, LADDER.points)
            for reader in others
        ]
        for n, reader in enumerate(others):
            kind = ReactionKind.DISLIKE if n % 2 else ReactionKind.LIKE
            await contributions.react(db, share, reader.id, kind, NOW)
        await contributions.react(db, share, others[0].id, ReactionKind.DISLIKE, NOW)
        assert await badges.counts_of(db, author.id, LADDER.daily_caps, LADDER.points) == before
        assert [
            await badges.counts_of(db, reader.id, LADDER.daily_caps, LADDER.points)
            for reader in others
        ] == readers
        assert await _evaluate(db) == []
