"""The command table of docs/COMMANDS.md, read as rows (its examples are run on every
platform: tests/docs/test_commands_doc.py, tests/bot/adapters/teams/test_every_command.py)."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "COMMANDS.md"
# What a reply to a documented example must never say.
FAILURES = (
    "I don't know",
    "Je ne connais pas",
    "Only ",
    "Seuls ",
    "went wrong",
    "problème est survenu",
)


def rows() -> list[list[str]]:
    """The command table's rows: command, French, arguments, who, example."""
    text = DOC.read_text(encoding="utf-8")
    table = text.split("| Command | French |", 1)[1].split("\n\n", 1)[0]
    found = []
    for line in table.splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        found.append(cells)
    return found


def code(cell: str) -> list[str]:
    """The `code` pieces of a cell."""
    return re.findall(r"`([^`]+)`", cell)


def examples() -> list[tuple[str, str]]:
    """(who, example) top to bottom; who is "animator" for animators and admins."""
    return [
        ("animator" if row[3] in ("animators", "admins") else "learner", example)
        for row in rows()
        for example in code(row[4])
    ]
