"""Mentoring in the playground: consent, a preview, a round, introductions, check-ins,
another mentor, stats; refusals that change nothing. Both databases, the clock by hand."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from bot.server import Runtime
from storage.models import Member, MenteeWish, MentoringPair, MentorProfile
from tests.support.playground import Playground

DAY = 24 * 3600
EN = {"locale": "en"}


def who(user_id: str, locale: str = "en") -> dict[str, Any]:
    return {"id": user_id, "name": user_id.capitalize(), "locale": locale}


async def _count(runtime: Runtime, model: type, *where: object) -> int:
    async with runtime.db_sessions() as db:
        query = select(func.count()).select_from(model).where(*where)
        return int((await db.execute(query)).scalar_one())


async def _dms(bot: Playground, user_id: str, starting: str) -> list[dict[str, Any]]:
    return [m for m in await bot.messages(f"dm:{user_id}") if m["text"].startswith(starting)]


async def _setup(bot: Playground, capacities: tuple[int, int] = (1, 2)) -> None:
    """Marc (capacity 1) and Nina (capacity 2) mentor; four novices joined."""
    await bot.command("anim1", "session start Feedback")
    for user_id in ("marc", "nina", "alice", "bob", "chloe", "dan"):
        await bot.command(who(user_id), "join")
    await bot.command("anim1", "session close")
    for user_id in ("marc", "nina"):
        await bot.command("anim1", f"badge grant @{user_id} confirmed")
    await bot.command(who("marc"), f"mentor on capacity {capacities[0]} languages fr,en")
    await bot.command(who("nina"), f"mentor on capacity {capacities[1]} languages en")


async def _novices_say_yes(bot: Playground) -> None:
    for user_id in ("alice", "bob", "chloe"):
        asked = await bot.welcomes(user_id)  # the question is in the welcome card
        assert len(asked) == 1 and "Would you like a mentor?" in asked[0]["text"]
        yes = asked[0]["card"]["buttons"][0]
        await bot.action(who(user_id), yes["action_id"], yes["value"], f"dm:{user_id}")
    reply = await bot.say(who("dan"), "mentor request languages pt")
    assert "next round" in reply


async def test_a_round_pairs_three_and_explains_the_fourth_then_check_ins_and_another(
    bot: Playground,
) -> None:
    await _setup(bot, capacities=(1, 3))
    preview = await bot.say("anim1", "pair")
    assert "Nobody is waiting" in preview
    await _novices_say_yes(bot)

    preview = await bot.say("anim1", "pair preview")
    assert "Proposal (nothing sent) — pairs: 3, waiting: 1" in preview
    assert "Dan waits: no mentor speaks Portuguese yet" in preview
    assert await _count(bot.runtime, MentoringPair) == 0
    assert await _dms(bot, "alice", "Meet your mentor") == []

    done = await bot.say("anim1", "pair")
    assert "Round done — pairs introduced by DM: 3, waiting: 1" in done
    async with bot.runtime.db_sessions() as db:
        names = {m.id: m.user_id for m in (await db.execute(select(Member))).scalars()}
        pairs = {
            names[p.novice_id]: names[p.mentor_id]
            for p in (await db.execute(select(MentoringPair))).scalars()
        }
    assert set(pairs) == {"alice", "bob", "chloe"}
    assert list(pairs.values()).count("marc") == 1, "Marc's capacity is 1"
    for novice, mentor in pairs.items():
        intro = await _dms(bot, novice, "Meet your mentor")
        assert len(intro) == 1 and mentor.capitalize() in intro[0]["text"]
        assert len(await _dms(bot, mentor, f"Your new mentee: {novice.capitalize()}")) == 1

    # 14 days later both sides of each pair are asked, once.
    await bot.runtime.clock.advance(14 * DAY)
    for novice, mentor in pairs.items():
        assert len(await _dms(bot, novice, "Have you met")) == 1
        assert len(await _dms(bot, mentor, f"Have you met {novice.capitalize()}")) == 1
    # Marc's mentee would like another mentor: re-paired with Nina, never Marc again.
    with_marc = next(n for n, m in pairs.items() if m == "marc")
    buttons = (await _dms(bot, with_marc, "Have you met"))[0]["card"]["buttons"]
    assert [b["value"].split(":")[1] for b in buttons] == ["met", "not_yet", "another"]
    reply = await bot.action(who(with_marc), buttons[2]["action_id"], buttons[2]["value"])
    assert "back on the waiting list" in reply[0]["text"]
    other = next(n for n, m in pairs.items() if m == "nina")
    met = (await _dms(bot, other, "Have you met"))[0]["card"]["buttons"][0]
    await bot.action(who(other), met["action_id"], met["value"])
    again = await bot.say("anim1", "pair")
    assert f"{with_marc.capitalize()} ↔ Nina" in again

    stats = await bot.say("anim1", "mentoring stats")
    assert "Pairs made: 4 (3 active)" in stats
    assert "Met: 1 of 3 checked in (33%)" in stats
    assert "Waiting novices: 1" in stats and "Dan waits: no mentor speaks Portuguese yet" in stats
    assert "Repeated pairs avoided: 1" in stats
    assert "mentees per mentor min 0 · mean 1.5 · max 3" in stats


async def test_a_mentor_who_leaves_sends_their_mentees_back_to_waiting(bot: Playground) -> None:
    await _setup(bot)
    await _novices_say_yes(bot)
    await bot.command("anim1", "pair")
    assert "2 mentees wait for another mentor" in await bot.say(who("nina"), "mentor off")
    told = [
        m
        for m in await bot.messages("dm:bob")
        + await bot.messages("dm:chloe")
        + await bot.messages("dm:alice")
        if "can no longer mentor" in m["text"]
    ]
    assert len(told) == 2
    assert await _count(bot.runtime, MenteeWish, MenteeWish.status == "waiting") == 3
    assert await _count(bot.runtime, MentorProfile, MentorProfile.status == "off") == 1


async def test_a_pause_is_a_day_to_come_and_keeps_new_mentees_away(bot: Playground) -> None:
    await _setup(bot)
    assert "Pause like this" in await bot.say(who("nina"), "mentor pause until 2020-01-01")
    assert "no new mentee before" in await bot.say(who("nina"), "mentor pause until 2027-01-15")
    await _novices_say_yes(bot)
    done = await bot.say("anim1", "pair")
    assert "pairs introduced by DM: 1," in done and "↔ Marc" in done


async def test_nobody_is_paired_without_saying_yes(bot: Playground) -> None:
    await _setup(bot)
    no = (await bot.welcomes("alice"))[0]["card"]["buttons"][1]
    await bot.action(who("alice"), no["action_id"], no["value"], "dm:alice")
    assert "Nobody is waiting" in await bot.say("anim1", "pair")
    assert await _count(bot.runtime, MentoringPair) == 0


@pytest.mark.parametrize(
    ("user", "text", "expected"),
    [
        ("marc", "mentor on capacity abc", "whole number from 1 to 20"),
        ("marc", "mentor on capacity 0", "whole number from 1 to 20"),
        ("marc", "mentor on capacity 99", "whole number from 1 to 20"),
        ("marc", "mentor on languages fr,xx", "“xx” is not a language code"),
        ("marc", "mentor on banana", "Volunteer like this"),
        ("alice", "mentor on", "Mentors are Confirmed ambassadors or above"),
        ("alice", "pair", "Only animators"),
        ("alice", "pair preview", "Only animators"),
        ("alice", "mentoring stats", "Only animators"),
        ("marc", "mentor request", "experienced enough"),
        ("alice", "mentor stop", "have not asked"),
        ("marc", "mentor pause until 2020-01-01", "not an active mentor"),
        ("marc", "mentor off", "not an active mentor"),
    ],
)
async def test_bad_input_is_explained_and_changes_nothing(
    bot: Playground, user: str, text: str, expected: str
) -> None:
    await bot.command("anim1", "session start Feedback")
    for user_id in ("marc", "alice"):
        await bot.command(who(user_id), "join")
    await bot.command("anim1", "badge grant @marc confirmed")
    assert expected in await bot.say(who(user), text)
    assert await _count(bot.runtime, MentorProfile) == 0
    assert await _count(bot.runtime, MenteeWish) == 0


async def test_forged_check_ins_are_refused(bot: Playground) -> None:
    await _setup(bot)
    await _novices_say_yes(bot)
    await bot.command("anim1", "pair")
    async with bot.runtime.db_sessions() as db:
        pair = (await db.execute(select(MentoringPair).limit(1))).scalar_one()
        mentor = await db.get(Member, pair.mentor_id)
        assert mentor is not None
    outsider = await bot.action(who("dan"), "mentoring.check_in", f"{pair.id}:met")
    assert "not yours" in outsider[0]["text"]
    from_mentor = await bot.action(who(mentor.user_id), "mentoring.check_in", f"{pair.id}:another")
    assert "no longer in use" in from_mentor[0]["text"]
    unknown = await bot.action(who("dan"), "mentoring.check_in", "999:met")
    assert "not yours" in unknown[0]["text"]
    assert await _count(bot.runtime, MentoringPair, MentoringPair.ended_at.is_not(None)) == 0
    assert await _count(bot.runtime, MentoringPair, MentoringPair.mentor_answer.is_not(None)) == 0


async def test_two_mentors_of_capacity_one_and_two_and_four_novices(bot: Playground) -> None:
    await _setup(bot, capacities=(1, 2))
    await _novices_say_yes(bot)
    done = await bot.say("anim1", "pair")
    assert "pairs introduced by DM: 3, waiting: 1" in done
    assert "Dan waits: no mentor speaks Portuguese yet" in done
    for novice in ("alice", "bob", "chloe"):
        assert len(await _dms(bot, novice, "Meet your mentor")) == 1
    await bot.runtime.clock.advance(14 * DAY - 60)
    assert await _dms(bot, "alice", "Have you met") == [], "not before the delay"
    await bot.runtime.clock.advance(60)
    for user_id in ("alice", "bob", "chloe"):
        assert len(await _dms(bot, user_id, "Have you met")) == 1
    assert len(await _dms(bot, "nina", "Have you met")) == 2
    assert len(await _dms(bot, "marc", "Have you met")) == 1


async def test_an_animator_may_allow_a_pair_again(bot: Playground) -> None:
    await _setup(bot, capacities=(1, 1))
    await bot.command(who("alice"), "mentor request")
    await bot.command("anim1", "pair")
    async with bot.runtime.db_sessions() as db:
        first = (await db.execute(select(MentoringPair))).scalar_one()
        mentor = await db.get(Member, first.mentor_id)
        assert mentor is not None
    await bot.command(who(mentor.user_id), "mentor off")
    other = "nina" if mentor.user_id == "marc" else "marc"
    await bot.command(who(other), "mentor off")
    await bot.command(who(mentor.user_id), "mentor on")
    preview = await bot.say("anim1", "pair preview")
    assert "Alice waits: the only mentors with a place were theirs before" in preview
    assert "may be paired again" in await bot.say("anim1", f"pair allow @{mentor.user_id} @alice")
    assert "pairs introduced by DM: 1, waiting: 0" in await bot.say("anim1", "pair")
    assert await _count(bot.runtime, MentoringPair, MentoringPair.ended_at.is_(None)) == 1
    assert "Name the mentor" in await bot.say("anim1", "pair allow @alice")


async def test_rounds_also_run_on_their_own_every_two_weeks(bot: Playground) -> None:
    await _setup(bot)
    await _novices_say_yes(bot)
    await bot.runtime.clock.advance(14 * DAY - 60)
    assert await _dms(bot, "alice", "Meet your mentor") == []
    await bot.runtime.clock.advance(61)
    assert len(await _dms(bot, "alice", "Meet your mentor")) == 1
    assert await _count(bot.runtime, MentoringPair) == 3
    await bot.runtime.clock.advance(3600)  # Dan still waits: the next round is in 14 days
    assert await _count(bot.runtime, MentoringPair) == 3


async def test_in_french_languages_are_named_and_counts_agree(bot: Playground) -> None:
    await _setup(bot, capacities=(1, 3))
    reply = await bot.say(who("marc", "fr"), "mentorat oui capacité 1 langues fr,en")
    assert "langues\u00a0: anglais et français" in reply, "names, not codes"
    await _novices_say_yes(bot)
    await bot.command("anim1", "pair")
    async with bot.runtime.db_sessions() as db:
        names = {m.id: m.user_id for m in (await db.execute(select(Member))).scalars()}
        marcs = [
            names[p.novice_id]
            for p in (await db.execute(select(MentoringPair))).scalars()
            if names[p.mentor_id] == "marc"
        ]
    (novice,) = marcs
    # Marc reads French: his introduction names the languages and does not assume a gender.
    intro = await _dms(bot, "marc", "Vous accompagnez désormais")
    assert (
        intro
        and f"{novice.capitalize()} fait ses premiers pas dans la communauté" in (intro[0]["text"])
    )
    assert "serait ravi" not in intro[0]["text"]
    stats = await bot.say(who("anim1", "fr"), "mentorat stats")
    assert "Binômes formés\u00a0: 3 (dont 3 actifs)" in stats
    assert "Rencontres\u00a0: 0 sur 0 point d'étape" in stats
    assert "1 place prise sur 1" not in stats  # Marc's 1 and Nina's 2 of 4 places
    assert "3 places prises sur 4" in stats
