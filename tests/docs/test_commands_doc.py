"""docs/COMMANDS.md cannot drift: every example runs, every command is documented."""

from __future__ import annotations

from bot.core.parsing import tokenize
from bot.router import ACTIONS, COMMANDS, FORMS, REACTION, THREAD_REPLY
from tests.support.commands_doc import DOC, FAILURES, code, examples, rows
from tests.support.playground import Playground


def _key(text: str) -> str:
    match = COMMANDS.match(tokenize(text))
    assert match is not None, f"{text!r} is not a command"
    return match.command.key


def _with_arguments(form: str) -> str:
    """The form followed by a word, unless its words are the whole command (`défi` opens
    the form; `défi x` belongs to the group's help)."""
    exact = COMMANDS.match(tokenize(form))
    return form if exact is not None and exact.command.exact else form + " x"


def test_every_command_and_action_is_documented() -> None:
    documented = {_key(code(row[0])[0]) for row in rows()}
    assert documented == {command.key for command in COMMANDS.commands}
    text = DOC.read_text(encoding="utf-8")
    for action_id in [*ACTIONS.ids(), *FORMS.ids(), REACTION.action_id, THREAD_REPLY.action_id]:
        assert f"`{action_id}`" in text


def test_french_forms_are_the_same_commands() -> None:
    for row in rows():
        english = _key(code(row[0])[0])
        for french in code(row[1]):
            assert _key(_with_arguments(french)) == english, (french, english)


async def test_every_example_runs(playground: Playground) -> None:
    await playground.command({"id": "carol", "name": "Carol"}, "hello")
    for role, example in examples():
        who = "anim1" if role == "animator" else "alice"
        replies = await playground.command(who, example)
        assert replies, example
        for reply in replies:
            assert not any(marker in reply["text"] for marker in FAILURES), (example, reply)
