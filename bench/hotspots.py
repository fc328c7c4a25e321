"""Where a server's CPU goes: a py-spy sampling profile of a running bot, by category.

The method (README "Benchmarks"): `py-spy record` attaches to the `serve` process while a
steady stream runs (`python -m bench.run --suites responsiveness --responsiveness-profile`
does it for each target phase) and samples every thread's stack 100 times a second, with
no change to the bot and little cost to it. Each sample is put in the category of its
innermost frame that belongs to one (below): the share of samples per category is the
share of the server's CPU. SQLAlchemy runs a statement's synchronous part in a greenlet,
whose samples have their own root: they are counted as database work all the same.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import Any

# (category, pattern on a frame "function (file:line)"), innermost match wins; in order.
CATEGORIES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("idle (the event loop waiting)", r"selectors\.py"),
        ("sqlite (the C library)", r"storage/inline_sqlite\.py|aiosqlite/"),
        ("asyncpg (the driver)", r"asyncpg/"),
        ("sqlalchemy (statements, ORM, results)", r"sqlalchemy/"),
        ("logging", r"bot/logs\.py|logging/__init__\.py"),
        (
            "outbound HTTP (slack_sdk, aiohttp client)",
            r"slack_sdk/|aiohttp/client|aiohttp/connector",
        ),
        ("acks (slack_bolt)", r"slack_bolt/"),
        ("inbound HTTP (aiohttp server)", r"aiohttp/web|aiohttp/http_|aiohttp/_http"),
        ("JSON", r"json/"),
        ("event loop (asyncio)", r"asyncio/"),
        ("handlers (bot/handlers)", r"bot/handlers/"),
        ("the bot's other code", r"bot/|storage/"),
        ("the rest", r"."),
    )
)


def categorise(path: Path) -> dict[str, Any]:
    """Shares of the samples in py-spy's raw (collapsed) output at `path`, per category."""
    counts: Counter[str] = Counter()
    total = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, number = line.rpartition(" ")
        if not number.isdigit():
            continue
        samples = int(number)
        total += samples
        counts[_category(stack.split(";"))] += samples
    shares = {name: round(100 * counts[name] / total, 1) for name, _ in CATEGORIES if total}
    return {"samples": total, "percent": {k: v for k, v in shares.items() if v > 0}}


def _category(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, pattern in CATEGORIES[:-1]:
            if pattern.search(frame):
                return name
    return CATEGORIES[-1][0]


def available() -> bool:
    """Whether py-spy is installed (a dev dependency)."""
    return _py_spy() is not None


def _py_spy() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


async def record(pid: int, seconds: float, path: Path) -> None:
    """Sample process `pid` for `seconds` into `path` (py-spy's raw format)."""
    tool = _py_spy()
    if tool is None:
        raise RuntimeError("py-spy is not installed (make install installs it)")
    process = await asyncio.create_subprocess_exec(
        tool,
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(max(1, round(seconds))),
        "--rate",
        "100",
        "--format",
        "raw",
        "--nonblocking",
        "--output",
        str(path),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await process.wait()


def main(argv: list[str]) -> int:
    """`python -m bench.hotspots FILE…`: each profile's shares, largest first."""
    for name in argv:
        found = categorise(Path(name))
        print(f"{name}: {found['samples']} samples")
        for category, share in sorted(found["percent"].items(), key=lambda kv: -kv[1]):
            print(f"  {share:5.1f}%  {category}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
