"""The home page (Slack's App Home tab renders it) in the playground: a learner's profile
and shortcuts, an animator's sessions and shortcuts; a shortcut runs its command with the
same role checks as typing it; a forged shortcut changes nothing."""

from __future__ import annotations

from typing import Any

from tests.support.playground import Playground


def _buttons(replies: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [
        (button["label"], button["value"])
        for reply in replies
        if reply.get("card")
        for button in reply["card"].get("buttons", [])
    ]


async def test_a_learner_sees_their_profile_and_learner_shortcuts(bot: Playground) -> None:
    await bot.command("anim1", "session start Feedback")
    await bot.command("alice", "join")
    replies = await bot.command("alice", "home")
    assert "Feedback" in replies[0]["text"], "the session they joined"
    assert [value for _, value in _buttons(replies)] == ["share", "badges", "mentor", "help"]
    assert not any("Sessions" in reply["text"] for reply in replies)


async def test_an_animator_sees_the_sessions_and_their_shortcuts(bot: Playground) -> None:
    await bot.command("anim1", "session start Feedback")
    replies = await bot.command("anim1", "home")
    texts = "\n".join(reply["text"] for reply in replies)
    assert "Feedback" in texts and "0" in texts
    labels = dict((value, label) for label, value in _buttons(replies))
    assert list(labels) == ["challenge", "pulse", "results", "pairs", "sessions", "help"]
    assert labels["challenge"] == "New challenge"
    french = await bot.command({"id": "anim1", "name": "Anim", "locale": "fr"}, "accueil")
    assert "Nouveau défi" in [label for label, _ in _buttons(french)]


async def test_a_shortcut_runs_its_command_with_the_same_checks(bot: Playground) -> None:
    await bot.command("anim1", "session start Feedback")
    listed = await bot.action("anim1", "home.shortcut", "sessions")
    assert "Feedback" in listed[0]["text"]
    form = await bot.action("anim1", "home.shortcut", "challenge")
    assert form[0]["form"] is not None, "the challenge form opens"
    refused = await bot.action("alice", "home.shortcut", "pulse")
    assert refused[0]["form"] is None and "anim" in refused[0]["text"].lower()
    forged = await bot.action("alice", "home.shortcut", "session close")
    assert forged[0]["form"] is None and "session" not in forged[0]["text"].lower()
    assert "Feedback" in (await bot.action("anim1", "home.shortcut", "sessions"))[0]["text"]


async def test_the_replies_come_one_each_in_order_with_their_cards(bot: Playground) -> None:
    """The profile's card, the sessions (text) and the shortcuts' card: three replies for the
    asker alone, in that order (as on Slack and Teams)."""
    await bot.command("anim1", "session start Feedback")
    replies = await bot.command("anim1", "home")
    assert [reply["visibility"] for reply in replies] == ["user"] * 3
    titles = [reply["card"]["title"] if reply["card"] else None for reply in replies]
    assert titles[0] is not None and titles[0].endswith(", ambassador")
    assert titles[1:] == [None, "Shortcuts"] and "Feedback" in replies[1]["text"]
