"""The ladder in the playground: earned by doing the work, announced once, granted and
revoked by hand with the reason kept. Both databases, the clock moved by hand."""

from __future__ import annotations

import json

from sqlalchemy import select

from storage.models import BadgeAward, MembershipEvent
from tests.support.playground import Playground

DAY = 24 * 3600


def _celebrations(messages: list[dict[str, object]]) -> list[str]:
    return [str(m["text"]) for m in messages if "🎉" in str(m["text"])]


async def _join_session(bot: Playground, learners: list[str]) -> None:
    await bot.command("anim1", "session start Feedback")
    for learner in learners:
        await bot.command(learner, "join")
    await bot.command("anim1", "session close")


async def test_a_learner_earns_junior_then_confirmed_by_doing_the_work(bot: Playground) -> None:
    await _join_session(bot, ["bob", "chloe"])
    assert "Next: Junior" in await bot.say("bob", "me")
    await bot.command("bob", "challenge answer success nothing open yet")
    await bot.command("anim1", "challenge post Give one feedback today")
    await bot.command("bob", "challenge answer success I did it")
    assert _celebrations(await bot.messages()) == [
        "🎉 Bob is now a Junior ambassador! Congratulations Bob: 1 contribution."
    ]
    dm = [m for m in await bot.messages("dm:bob") if m["card"] and "Congratulations" in m["text"]]
    assert len(dm) == 1
    links = {b["label"]: b["url"] for b in dm[0]["card"]["buttons"]}
    assert links["Add to LinkedIn profile"].startswith("https://www.linkedin.com/profile/add?")
    assert "/badges/assertions/" in links["Badge page (verifiable)"]
    assert dm[0]["card"]["image_url"].endswith("/badges/images/junior.png")

    # Four more answers on later days, a pulse answered; then 30 days as a member.
    for day in range(1, 5):
        await bot.runtime.clock.advance(DAY)
        await bot.command("anim1", f"challenge post Challenge of day {day}")
        await bot.command("bob", "challenge answer success Done")
    me = await bot.say("bob", "me")
    assert "Next: Confirmed" in me
    assert "5 of 5 challenge answers, 0 of 1 pulses answered, 4 of 30 days" in me
    await bot.command("anim1", "pulse send")
    await bot.action("bob", "pulse.score", "1:9", "dm:bob")
    assert len(_celebrations(await bot.messages())) == 1, "not confirmed before 30 days"
    await bot.runtime.clock.advance(26 * DAY + 3600)  # the hourly evaluation sees day 30
    celebrations = _celebrations(await bot.messages())
    assert celebrations[1].startswith("🎉 Bob is now a Confirmed ambassador!")
    assert "5 challenge answers · 1 pulse answered · 30 days as an ambassador" in celebrations[1]
    await bot.runtime.clock.advance(3 * 3600)  # more evaluations: announced once
    assert len(_celebrations(await bot.messages())) == 2
    me = await bot.say("bob", "me")
    assert "Level: Confirmed" in me and "Next: Senior" in me
    assert "one of: 0 of 1 colleagues brought in or 0 of 1 novices mentored" in me


async def test_grant_and_revoke_by_hand_with_reasons_kept(bot: Playground) -> None:
    await _join_session(bot, ["bob", "alice"])
    await bot.command({"id": "dana", "name": "Dana"}, "hello")
    granted = await bot.say("anim1", "badge grant @bob confirmé Ran the workshop")
    assert "Bob now holds the Confirmed badge" in granted
    assert "already holds" in await bot.say("anim1", "badge grant @bob confirmed")
    assert "has not joined" in await bot.say("anim1", "badge grant @dana junior")
    assert "not a level" in await bot.say("anim1", "badge grant @bob expert")
    assert "Seuls les animateurs" in await bot.say("alice", "badge grant @alice senior")
    assert "Say why" in await bot.say("anim1", "badge revoke @bob junior")
    assert "does not hold" in await bot.say("anim1", "badge revoke @alice junior oops")
    # One celebration for the highest level granted, not one per level.
    assert len(_celebrations(await bot.messages())) == 1
    revoked = await bot.say("anim1", "badge révoquer @bob junior Granted by mistake")
    assert "revoked" in revoked
    async with bot.runtime.sessions() as db:
        awards = (await db.execute(select(BadgeAward).order_by(BadgeAward.id))).scalars().all()
        assert [(a.level, a.source, a.revoke_reason) for a in awards] == [
            ("junior", "grant", "Granted by mistake"),
            ("confirmed", "grant", "Granted by mistake"),
        ]
        events = (
            await db.execute(
                select(MembershipEvent.kind, MembershipEvent.detail).where(
                    MembershipEvent.kind.like("badge_%")
                )
            )
        ).all()
    assert [kind for kind, _ in events] == ["badge_granted", "badge_revoked"]
    assert events[0][1]["reason"] == "Ran the workshop"
    # Revoked levels are not re-awarded by the ladder, even when the work is there…
    await bot.command("anim1", "challenge post One more")
    await bot.command("bob", "challenge answer success Yes")
    assert "Level: none yet" in await bot.say("bob", "me")
    # …only a new grant restores them, as a new assertion.
    await bot.command("anim1", "badge grant @bob junior")
    assert "Level: Junior" in await bot.say("bob", "me")


async def test_the_ladder_is_listed_in_both_languages(bot: Playground) -> None:
    ladder = await bot.say("bob", "badges")
    assert "• Junior: 1 contribution" in ladder
    assert (
        "• Confirmed: what the level below asks, and 5 challenge answers, 1 pulse answered, "
        "30 days as an ambassador" in ladder
    )
    assert "one of: 1 colleague brought in or 1 novice mentored" in ladder
    assert "at most 3 challenge answers, 3 shares count" in ladder
    french = await bot.say("alice", "échelle")
    assert "• Confirmé : ce que demande le niveau précédent, et 5 réponses à des défis" in french


async def test_grant_forms_are_documented_as_json_free_commands(bot: Playground) -> None:
    # A forged action id in the badge family is refused like any unknown action.
    replies = await bot.action("bob", "badge.grant", json.dumps({"level": "senior"}))
    assert "no longer in use" in replies[0]["text"]
