"""Real bot processes for tests that kill, restart or run several of them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.support.secret_keys import TEST_SECRET_KEY

REPO = Path(__file__).resolve().parents[2]


def start_bot(
    database_url: str,
    *args: str,
    ready: str = "Ambassador bot ready",
    env: dict[str, str] | None = None,
) -> tuple[subprocess.Popen[str], str]:
    """Start `python -m bot` (default: serve on a free port); return it and its URL.

    It seals with the suite's key (as `make_settings` does), unless `env` says otherwise.
    """
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "LOG_FORMAT": "json",
        "AMBASSADOR_SECRET_KEY": TEST_SECRET_KEY,
        **(env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", *(args or ("serve", "--port", "0"))],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if ready in line:
            return process, line.rsplit(" ", 1)[-1].strip()
    process.kill()
    raise AssertionError("the bot did not start")
