"""`about`: the version, what the bot keeps and for how long — the installation's own
[retention] days, counted through each language's plural rules — and how to see or erase it."""

from __future__ import annotations

from dataclasses import replace

from bot.handlers.about import version
from tests.support.playground import Playground, user


async def test_about_says_what_is_kept_and_for_how_long(playground: Playground) -> None:
    text = await playground.say(user("amy", "en-GB"), "about")
    assert f"Ambassador bot {version()}" in text
    kept = playground.runtime.settings.retention
    assert f"deleted {kept.inbox_days} days after they are handled" in text
    assert f"deleted {kept.outbox_days} days after they are sent" in text
    assert f"keeps {kept.audit_days} days" in text
    assert "`my data`" in text and "`forget me`" in text


async def test_about_in_french_and_with_one_day(playground: Playground) -> None:
    runtime = playground.runtime
    retention = replace(runtime.settings.retention, inbox_days=1)
    runtime.dispatcher.settings = replace(runtime.settings, retention=retention)
    text = await playground.say(user("zoe", "fr-FR"), "à propos")
    assert "effacées 1 jour après leur traitement" in text
    assert "`oublie-moi`" in text and "`mes données`" in text
    assert "about" not in text.casefold().split()  # nothing left in English
