"""The command line, run as a user runs it: a real process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.support.secret_keys import TEST_SECRET_KEY

REPO = Path(__file__).resolve().parents[2]


def _run(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_help_on_each_subcommand() -> None:
    assert "serve" in _run("--help").stdout and "migrate" in _run("--help").stdout
    assert "--port" in _run("serve", "--help").stdout
    assert "newest schema" in _run("migrate", "--help").stdout
    assert "AMBASSADOR_OLD_SECRET_KEY" in _run("rotate-key", "--help").stdout
    assert "--ready" in _run("health", "--help").stdout


def test_a_wrong_setting_exits_2_with_one_line_and_no_traceback() -> None:
    result = _run("migrate", env={"AMBASSADOR_PORT": "eighty"})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "AMBASSADOR_PORT" in result.stderr and "Traceback" not in result.stderr


def test_an_unreachable_database_exits_non_zero_with_one_clear_line() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = _run(
        "migrate",
        env={
            "DATABASE_URL": f"postgresql://nobody:secret@127.0.0.1:{port}/x",
            "AMBASSADOR_SECRET_KEY": TEST_SECRET_KEY,
        },
    )
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "cannot reach the database" in lines[0] and "secret" not in lines[0]


def test_migrate_then_serve_answers_health_probes(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/bot.db", "AMBASSADOR_PORT": "0"}
    assert _run("migrate", env=env).returncode == 0
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--port", "0"],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 60
        line = ""
        while "playground at" not in line and time.monotonic() < deadline:
            line = process.stdout.readline()
        url = line.rsplit(" ", 1)[-1].strip()
        with urllib.request.urlopen(url + "healthz", timeout=10) as response:
            assert response.status == 200
        with urllib.request.urlopen(url + "readyz", timeout=10) as response:
            assert response.status == 200
        with urllib.request.urlopen(url, timeout=10) as response:
            assert b"<html" in response.read().lower()
        # Links name the port the bot got (asked for any free port), not the default one.
        command = {"user": {"id": "bob", "name": "Bob"}, "conversation": "general"}
        request = urllib.request.Request(
            url + "local/api/command",
            data=json.dumps({**command, "text": "my data"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        dm = url + "local/api/conversations/dm:bob/messages"
        deadline = time.monotonic() + 30
        texts = ""
        while "/downloads/" not in texts and time.monotonic() < deadline:
            with urllib.request.urlopen(dm, timeout=10) as response:
                texts = json.dumps(json.loads(response.read()))
        assert f"{url}downloads/" in texts, texts
    finally:
        process.terminate()
        assert process.wait(timeout=20) == 0


def test_serve_on_every_address_with_the_playground_and_no_token_is_refused() -> None:
    result = _run("serve", "--host", "0.0.0.0", env={"AMBASSADOR_PLAYGROUND": "1"})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "AMBASSADOR_PLAYGROUND_TOKEN" in result.stderr and "Traceback" not in result.stderr
