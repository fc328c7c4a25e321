"""Members choose their language and time zone."""

from __future__ import annotations

from tests.support.playground import Playground, user


async def test_language_choice_wins_over_the_platform_locale(playground: Playground) -> None:
    assert "français" in await playground.say("bob", "settings language fr")
    assert "rejoindre [CODE]" in await playground.say("bob", "help")  # bob's platform says en
    assert "English" in await playground.say("bob", "réglages langue anglais")
    assert "join [CODE]" in await playground.say("bob", "aide")


async def test_platform_locale_is_used_when_the_member_chose_none(playground: Playground) -> None:
    assert "rejoindre" in await playground.say(user("zed", "fr-FR"), "help")
    assert "join [CODE]" in await playground.say(user("zed", "en-GB"), "help")


async def test_bad_language_and_time_zone_say_how_to_do_it(playground: Playground) -> None:
    assert "`settings language en`" in await playground.say("bob", "settings language klingon")
    assert "Europe/Paris" in await playground.say("bob", "settings timezone Mars/Base")
    assert "Europe/Paris" in await playground.say("bob", "settings timezone")
    assert "America/New_York" in await playground.say("bob", "settings timezone America/New_York")


async def test_time_zone_is_used_for_dates(playground: Playground) -> None:
    await playground.command("anim1", "settings timezone Asia/Tokyo")
    await playground.command("anim1", "session start Tokyo")
    listing = await playground.say("anim1", "session list")
    hour = (
        playground.runtime.clock.now()
        .astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo"))
        .strftime("%H:%M")
    )
    assert hour in listing
