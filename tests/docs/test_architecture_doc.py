"""docs/ARCHITECTURE.md is the map of the code: every Python module under bot/ and storage/
is named in it, so a new module cannot be left off the map."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "ARCHITECTURE.md"
_TICKED = re.compile(r"`([^`]+)`")
_BRACES = re.compile(r"([\w/]+/)\{([\w,]+)\}\.py")


def _modules() -> list[str]:
    """Every .py file under bot/ and storage/, as a repository path."""
    found = [*(REPO / "bot").rglob("*.py"), *(REPO / "storage").rglob("*.py")]
    return sorted(path.relative_to(REPO).as_posix() for path in found)


def _named(text: str) -> set[str]:
    """The repository paths the doc names: literally, in `dir/{a,b}.py` groups, or as a bare
    `name.py` in a table row whose first path gives the directory (`bot/x/a.py`, `b.py`)."""
    named = set(re.findall(r"[\w/]+\.py|[\w/]+/", text))
    for folder, stems in _BRACES.findall(text):
        named |= {f"{folder}{stem}.py" for stem in stems.split(",")}
    for line in text.splitlines():
        if not line.startswith("|"):
            continue
        paths = [item for item in _TICKED.findall(line) if "/" in item]
        if not paths:
            continue
        folder = paths[0] if paths[0].endswith("/") else paths[0].rsplit("/", 1)[0] + "/"
        bare = [item for item in _TICKED.findall(line) if re.fullmatch(r"\w+\.py", item)]
        named |= {folder + name for name in bare}
    return named


def _covered(module: str, named: set[str]) -> bool:
    if module in named:
        return True
    folder = module.rsplit("/", 1)[0] + "/"
    if module.endswith("/__init__.py"):
        return folder in named  # a package is named by its directory (`bot/i18n/`)
    # Alembic revisions are data, one per schema change: the migrations row covers them.
    return folder == "storage/migrations/versions/" and "storage/migrations/" in named


def test_every_module_is_on_the_map() -> None:
    named = _named(DOC.read_text(encoding="utf-8"))
    missing = [module for module in _modules() if not _covered(module, named)]
    assert missing == [], f"name these in docs/ARCHITECTURE.md (Modules): {missing}"


def test_the_map_names_no_module_that_is_gone() -> None:
    named = _named(DOC.read_text(encoding="utf-8"))
    stale = [
        path
        for path in named
        if path.startswith(("bot/", "storage/"))
        and path.endswith(".py")
        and not (REPO / path).exists()
    ]
    assert stale == []
