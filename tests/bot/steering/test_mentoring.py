"""The mentoring section on a hand-made community, on both databases; `mentoring stats`
reads the same figures (tests/bot/handlers/test_mentoring.py checks its text)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.steering.mentoring import mentoring
from bot.steering.model import MentorLoad, WaitingNovice
from storage.models import MenteeWish, MentoringPair, MentoringRound, MentorProfile
from tests.bot.steering.handmade import T0, Community, database, scope

NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def _day(days: int) -> datetime:
    return T0 + timedelta(days=days)


async def test_pairs_waiting_novices_and_loads(database_url: str) -> None:
    async with database(database_url) as db_sessions:
        async with db_sessions() as db, db.begin():
            c = await Community.create(db)
            marc = await c.member("Marc", level="confirmed")
            nina = await c.member("Nina", level="confirmed")
            paul = await c.member("Paul", level="confirmed")
            alice = await c.member("Alice", locale="fr")
            bob = await c.member("Bob", platform_locale="en-GB")
            chloe = await c.member("Chloé")
            dan = await c.member("Dan")
            eve = await c.member("Eve")
            gus = await c.member("Gus", platform_locale="en-GB")
            s1 = await c.session("Excel", "S1", T0, [marc, alice, bob])
            s2 = await c.session("Word", "S2", T0, [nina, chloe, dan, eve, gus])
            db.add_all(
                [
                    MentorProfile(
                        workspace_id=c.workspace_id,
                        member_id=mentor,
                        status=status,
                        capacity=capacity,
                        languages="en,fr",
                        paused_until=paused,
                        updated_at=T0,
                    )
                    for mentor, status, capacity, paused in (
                        (marc, "active", 2, None),
                        (nina, "active", 3, _day(1)),  # paused until a day long past
                        (paul, "active", 1, NOW + timedelta(days=3)),  # paused now
                    )
                ]
            )
            first = MentoringRound(
                workspace_id=c.workspace_id,
                pairs=2,
                waiting=1,
                repeats_avoided=1,
                score=1.0,
                created_at=_day(10),
            )
            second = MentoringRound(
                workspace_id=c.workspace_id,
                pairs=2,
                waiting=1,
                repeats_avoided=2,
                score=1.0,
                created_at=_day(100),
            )
            db.add_all([first, second])
            await db.flush()

            def pair(mentor: int, novice: int, round_: MentoringRound, **values: object) -> None:
                at = round_.created_at
                db.add(
                    MentoringPair(
                        workspace_id=c.workspace_id,
                        round_id=round_.id,
                        mentor_id=mentor,
                        novice_id=novice,
                        created_at=at,
                        check_in_at=at + timedelta(days=14),
                        **values,
                    )
                )

            # Round 1 (day 10): Alice with Marc, met (her answer); Chloé with Nina, she asked
            # for another. Round 2 (day 100): Chloé with Marc, not yet; Bob with Nina.
            checked = _day(24)
            pair(marc, alice, first, checked_at=checked, novice_answer="met")
            pair(
                nina,
                chloe,
                first,
                checked_at=checked,
                novice_answer="another",
                ended_at=checked,
                end_reason="another",
            )
            pair(marc, chloe, second, checked_at=_day(114), mentor_answer="not_yet")
            pair(nina, bob, second)
            for member_id, status, reason, languages, at in (
                (dan, "waiting", "no_mentor_language", "pt", _day(90)),
                (eve, "waiting", None, "", _day(95)),
                (gus, "waiting", "mentors_full", "", _day(97)),
                (alice, "paired", None, "", _day(5)),
            ):
                db.add(
                    MenteeWish(
                        workspace_id=c.workspace_id,
                        member_id=member_id,
                        status=status,
                        waiting_reason=reason,
                        languages=languages,
                        updated_at=at,
                    )
                )
            ws = c.workspace_id
        async with db_sessions() as db:
            everything = await mentoring(db, ws, scope(), NOW)
            excel = await mentoring(db, ws, scope((s1,)), NOW)
            word = await mentoring(db, ws, scope((s2,)), NOW)
            early = await mentoring(db, ws, scope(end=_day(50)), NOW)
            nothing = await mentoring(db, ws, scope(()), NOW)
            # The page's view: the first waiting, the busiest mentor, and the totals.
            cut = await mentoring(db, ws, scope(), NOW, limit=1)
            word_cut = await mentoring(db, ws, scope((s2,)), NOW, limit=1)
            roomy = await mentoring(db, ws, scope(), NOW, limit=5)
    # 4 pairs, 3 not ended, 3 checked in, 1 met (Alice's): 33 %.
    assert (everything.pairs, everything.active, everything.checked, everything.met) == (4, 3, 3, 1)
    assert everything.met_rate == 1 / 3
    assert everything.repeats_avoided == 3
    # Languages: asked for, else their own, else none known (the workspace's, then).
    assert everything.waiting == (
        WaitingNovice("Dan", _day(90), "no_mentor_language", ("pt",)),
        WaitingNovice("Eve", _day(95), None, ()),
        WaitingNovice("Gus", _day(97), "mentors_full", ("en",)),
    )
    # Paul is paused now; Nina's pause is over. Marc has Alice and Chloé, Nina Bob.
    assert everything.loads == (MentorLoad("Marc", 2, 2), MentorLoad("Nina", 1, 3))
    # Excel's novices: Alice (met) and Bob; Marc is Excel's only mentor; nobody waits.
    assert (excel.pairs, excel.active, excel.checked, excel.met) == (2, 2, 1, 1)
    assert excel.waiting == () and excel.loads == (MentorLoad("Marc", 2, 2),)
    # Word's novices: Chloé (twice), Dan, Eve and Gus waiting.
    assert (word.pairs, word.active, word.checked, word.met) == (2, 1, 2, 0)
    assert [n.name for n in word.waiting] == ["Dan", "Eve", "Gus"]
    assert word.loads == (MentorLoad("Nina", 1, 3),)
    # Before day 50: round 1's pairs and its repeat avoided only.
    assert (early.pairs, early.active, early.checked, early.met) == (2, 1, 2, 1)
    assert early.repeats_avoided == 1
    assert (nothing.pairs, nothing.waiting, nothing.loads, nothing.met_rate) == (0, (), (), None)
    assert everything.waiting_count is None and everything.mentors_count is None
    assert cut.pairs == everything.pairs and cut.waiting == everything.waiting[:1]
    assert cut.loads == (MentorLoad("Marc", 2, 2),)
    assert (cut.waiting_count, cut.mentors_count, cut.load_sum, cut.capacity_sum) == (3, 2, 3, 5)
    assert [n.name for n in word_cut.waiting] == ["Dan"] and word_cut.waiting_count == 3
    assert roomy.loads == everything.loads and roomy.waiting == everything.waiting
    assert (word_cut.mentors_count, word_cut.load_sum, word_cut.capacity_sum) == (1, 1, 3)
