"""docs/COMMANDS.md cannot drift: every example runs, every command is documented."""

from __future__ import annotations

import re
from pathlib import Path

from bot.core.parsing import tokenize
from bot.router import ACTIONS, COMMANDS
from tests.support.playground import Playground

DOC = Path(__file__).resolve().parents[2] / "docs" / "COMMANDS.md"
FAILURES = (
    "I don't know",
    "Je ne connais pas",
    "Only ",
    "Seuls ",
    "went wrong",
    "problème est survenu",
)


def _rows() -> list[list[str]]:
    text = DOC.read_text(encoding="utf-8")
    table = text.split("| Command | French |", 1)[1].split("\n\n", 1)[0]
    rows = []
    for line in table.splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        rows.append(cells)
    return rows


def _code(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def _key(text: str) -> str:
    match = COMMANDS.match(tokenize(text))
    assert match is not None, f"{text!r} is not a command"
    return match.command.key


def test_every_command_and_action_is_documented() -> None:
    documented = {_key(_code(row[0])[0]) for row in _rows()}
    assert documented == {command.key for command in COMMANDS.commands}
    text = DOC.read_text(encoding="utf-8")
    for action_id in ACTIONS.ids():
        assert f"`{action_id}`" in text


def test_french_forms_are_the_same_commands() -> None:
    for row in _rows():
        english = _key(_code(row[0])[0])
        for french in _code(row[1]):
            assert _key(french + " x") == english, (french, english)


async def test_every_example_runs(playground: Playground) -> None:
    await playground.command({"id": "carol", "name": "Carol"}, "hello")
    for row in _rows():
        who = "anim1" if row[3] in ("animators", "admins") else "alice"
        for example in _code(row[4]):
            replies = await playground.command(who, example)
            assert replies, example
            for reply in replies:
                assert not any(marker in reply["text"] for marker in FAILURES), (example, reply)
