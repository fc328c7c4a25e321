"""The ladder in the playground: earned by doing the work, announced once, granted and
revoked by hand with the reason kept. Both databases, the clock moved by hand."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.clock import Clock
from bot.server import build_app, create_runtime
from storage.models import BadgeAward, MembershipEvent
from tests.conftest import FRIDAY, REPO, make_settings
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
    assert "5 of 5 challenge answers, 0 of 1 pulse answered, 4 of 30 days" in me
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
    assert "one of: 0 of 1 colleague brought in or 0 of 1 novice mentored" in me


async def test_grant_and_revoke_by_hand_with_reasons_kept(bot: Playground) -> None:
    await _join_session(bot, ["bob", "alice"])
    await bot.command({"id": "dana", "name": "Dana"}, "hello")
    granted = await bot.say("anim1", "badge grant @bob confirmé Ran the workshop")
    assert "Bob now holds the Confirmed badge" in granted
    assert "already holds" in await bot.say("anim1", "badge grant @bob confirmed")
    assert "has not joined" in await bot.say("anim1", "badge grant @dana junior")
    assert "not a level" in await bot.say("anim1", "badge grant @bob expert")
    refused = await bot.say("alice", "badge grant @alice senior")
    assert "Cela est réservé à l'équipe d'animation" in refused
    assert "Say why" in await bot.say("anim1", "badge revoke @bob junior")
    assert "does not hold" in await bot.say("anim1", "badge revoke @alice junior oops")
    # One celebration for the highest level granted, not one per level.
    assert len(_celebrations(await bot.messages())) == 1
    revoked = await bot.say("anim1", "badge révoquer @bob junior Granted by mistake")
    assert "revoked" in revoked
    async with bot.runtime.db_sessions() as db:
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
    confirmed = "• Confirmé\u00a0: ce que demande le niveau précédent, et 5 réponses à des défis"
    assert confirmed in french


async def test_grant_forms_are_documented_as_json_free_commands(bot: Playground) -> None:
    # A forged action id in the badge family is refused like any unknown action.
    replies = await bot.action("bob", "badge.grant", json.dumps({"level": "senior"}))
    assert "no longer in use" in replies[0]["text"]


def _dm_bodies(messages: list[dict[str, Any]]) -> list[str]:
    """The bodies of the badge DMs (their cards link to the assertion)."""
    return [
        str(m["card"]["body"])
        for m in messages
        if m["card"] and "/badges/assertions/" in json.dumps(m["card"])
    ]


REASON = "Great facilitator… ran three workshops"


async def test_a_granted_badge_is_announced_with_the_reason_not_criteria_unmet(
    bot: Playground,
) -> None:
    await _join_session(bot, ["marc", "alice", "bob"])
    await bot.command("anim1", f"badge grant @marc confirmed {REASON}")
    await bot.command("anim1", f"badge attribuer @alice confirmé {REASON}")
    await bot.command("anim1", "badge grant @bob junior")
    celebrations = _celebrations(await bot.messages())
    assert celebrations == [
        "🎉 Marc is now a Confirmed ambassador! Congratulations Marc! "
        f"The animators granted this badge: “{REASON}”",
        "🎉 Alice is now a Confirmed ambassador! Congratulations Alice! "
        f"The animators granted this badge: “{REASON}”",
        "🎉 Bob is now a Junior ambassador! Congratulations Bob! The animators granted this badge.",
    ]
    for text in celebrations:
        assert "Answered five challenges" not in text and ".." not in text
    assert _dm_bodies(await bot.messages("dm:marc")) == [
        f"The animators granted it to you: “{REASON}” Your badge is an Open Badge: add it to "
        "your LinkedIn profile, download it, or share its link — anyone can verify it."
    ]
    assert _dm_bodies(await bot.messages("dm:alice")) == [
        f"L'équipe d'animation vous l'attribue\u00a0: «\u00a0{REASON}\u00a0» Votre badge est "
        "un Open Badge\u00a0: ajoutez-le à votre profil LinkedIn, téléchargez-le ou partagez "
        "son lien — tout le monde peut le vérifier."
    ]
    assert _dm_bodies(await bot.messages("dm:bob"))[0].startswith(
        "The animators granted it to you. Your badge"
    )
    # The animator is told that the reason is published.
    assert "shown on its public page" in await bot.say("anim1", "badge grant")


async def test_an_earned_badge_says_only_what_the_member_did(bot: Playground) -> None:
    await _join_session(bot, ["bob", "alice"])
    await bot.command("bob", "share I start my 1:1s with a success")
    await bot.command("alice", "partager Je note mes réussites")
    assert _celebrations(await bot.messages())[0] == (
        "🎉 Bob is now a Junior ambassador! Congratulations Bob: 1 contribution."
    )
    assert _dm_bodies(await bot.messages("dm:bob"))[0].startswith(
        "You earned it: 1 contribution. Your badge is an Open Badge"
    )
    assert _dm_bodies(await bot.messages("dm:alice"))[0].startswith(
        "Badge obtenu\u00a0: 1 contribution. Votre badge"
    )


@pytest.fixture
async def bot_fr(database_url: str) -> AsyncIterator[Playground]:
    """The playground of a community whose language is French."""
    runtime = create_runtime(
        make_settings(database_url, AMBASSADOR_LOCALE="fr"), Clock(controllable=True, start=FRIDAY)
    )
    client = TestClient(TestServer(build_app(runtime, start_sender=False), host="127.0.0.1"))
    await client.start_server()
    yield Playground(client, runtime)
    await client.close()
    await runtime.engine.dispose()


async def test_the_french_community_reads_the_reason_in_french_typography(
    bot_fr: Playground,
) -> None:
    await _join_session(bot_fr, ["marc", "bob"])
    await bot_fr.command("anim1", f"badge grant @marc confirmed {REASON}")
    await bot_fr.command("anim1", "badge grant @bob junior")
    await bot_fr.command({"id": "zoe", "name": "Zoé"}, "rejoindre")
    await bot_fr.command({"id": "zoe", "name": "Zoé"}, "partager Une astuce")
    celebrations = _celebrations(await bot_fr.messages())
    assert celebrations[0].endswith(
        "Bravo Marc\u202f! L'équipe d'animation lui attribue ce badge\u00a0: "
        f"«\u00a0{REASON}\u00a0»"
    )
    assert celebrations[1].endswith("Bravo Bob\u202f! L'équipe d'animation lui attribue ce badge.")
    assert celebrations[2].endswith("Bravo Zoé\u00a0: 1 contribution.")


async def test_a_french_reader_s_cards_show_the_badge_in_french_words(bot: Playground) -> None:
    """The shipped images say "AMBASSADOR CONFIRMED": a French reader's `moi` card and
    badge DM show the level's image in French (`image_fr`), the English reader's the plain
    one, which the Open Badges documents keep naming."""
    await _join_session(bot, ["alice", "bob"])  # alice writes in French, bob in English
    for who in ("alice", "bob"):
        await bot.command("anim1", f"badge grant @{who} confirmed Ran the workshop")
    [alice_me] = await bot.command("alice", "moi")
    [bob_me] = await bot.command("bob", "me")
    french, english = alice_me["card"]["image_url"], bob_me["card"]["image_url"]
    assert french.endswith("/badges/images/confirmed.png?lang=fr"), french
    assert english.endswith("/badges/images/confirmed.png"), english
    dm = [m["card"] for m in await bot.messages("dm:alice") if m["card"]]
    images = [card.get("image_url") or card.get("image") for card in dm]
    assert any(str(image).endswith("confirmed.png?lang=fr") for image in images), dm
    config = REPO / "config" / "badges"
    for url, file in ((french, "confirmed.fr.png"), (english, "confirmed.png")):
        served = await bot.client.get(url[url.index("/badges/") :])
        assert served.status == 200 and await served.read() == (config / file).read_bytes()
