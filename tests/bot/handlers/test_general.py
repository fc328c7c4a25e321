"""Greetings, help and unknown words: never a dead end."""

from __future__ import annotations

from tests.support.playground import Playground


async def test_hello_in_both_languages_gives_the_next_step(playground: Playground) -> None:
    hello = await playground.command("bob", "hi")
    assert "Hello Bob" in hello[0]["text"] and "`join`" in hello[0]["text"]
    assert hello[0]["card"]["buttons"][0]["action_id"] == "help.show"
    bonjour = await playground.say("alice", "bonjour")
    assert "Bonjour Alice" in bonjour and "`rejoindre`" in bonjour


async def test_help_lists_only_what_the_role_allows(playground: Playground) -> None:
    learner = await playground.say("bob", "help")
    assert "join [CODE]" in learner and "session start" not in learner and "role add" not in learner
    # Forms only animators can open are not offered to learners; what learners may do is.
    assert "`pulse` —" not in learner and "`challenge` —" not in learner
    assert "pulse results" in learner and "settings invitations" in learner
    admin = await playground.say("anim1", "help")
    assert "session start <name>" in admin and "role add @user animator" in admin
    await playground.command("anim1", "role add @carol animator")
    animator = await playground.say("carol", "help")
    assert "session start <name>" in animator and "role add" not in animator
    assert "`pulse` —" in animator and "pulse send" in animator
    french = await playground.say("alice", "aide")
    assert "rejoindre [CODE]" in french and "apprenant" in french


async def test_empty_text_shows_help(playground: Playground) -> None:
    assert "join [CODE]" in await playground.say("bob", "/ambassador")
    assert "join [CODE]" in await playground.say("bob", "   ")


async def test_unknown_words_get_a_suggestion_and_a_next_step(playground: Playground) -> None:
    typo = await playground.say("bob", "joni")
    assert "Did you mean `join`" in typo
    nonsense = await playground.say("bob", "pizza please")
    assert "I don't know “pizza” yet" in nonsense and "`join`" in nonsense
    group = await playground.say("anim1", "session")
    assert "session start" in group and "session close" in group
    long = await playground.say("bob", "x" * 500)
    assert len(long) < 400


async def test_help_button(playground: Playground) -> None:
    replies = await playground.action("bob", "help.show", "help")
    assert "join [CODE]" in replies[0]["text"]


async def test_a_groups_help_lists_its_own_command_first(playground: Playground) -> None:
    text = await playground.say("anim1", "help themes")
    lines = [line for line in text.splitlines() if line.startswith("•")]
    assert lines[0].startswith("• `themes [<training>]"), lines
    assert lines[1].startswith("• `themes export"), lines
    assert len(lines) == 2
