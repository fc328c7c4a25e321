"""Members choose their language and time zone."""

from __future__ import annotations

from zoneinfo import ZoneInfo

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
    tokyo = ZoneInfo("Asia/Tokyo")
    await playground.command("anim1", "settings timezone Asia/Tokyo")
    before = playground.runtime.clock.now()
    await playground.command("anim1", "session start Tokyo")
    after = playground.runtime.clock.now()
    listing = await playground.say("anim1", "session list")
    # The session opened between the two readings: a minute may have turned in between.
    minutes = {when.astimezone(tokyo).strftime("%H:%M") for when in (before, after)}
    assert any(minute in listing for minute in minutes), (minutes, listing)
