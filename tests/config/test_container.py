"""The Dockerfile's start command and health probe, run outside Docker (no engine here) the
way the image runs them: its ENV, its working directory holding config/ and var/, its CMD
through sh, then its HEALTHCHECK command; compose states the same probe and the settings a
usable container needs."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")
COMPOSE = (REPO / "compose.yaml").read_text(encoding="utf-8")


def _instructions() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments left out."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [line.strip() for line in joined.splitlines() if line.strip() and line[0] != "#"]


def _exec_form(instruction: str) -> list[str]:
    found: list[str] = json.loads(instruction[instruction.index("[") :])
    return found


def _runtime_env() -> dict[str, str]:
    """The ENV of the last stage (the runtime image)."""
    env: dict[str, str] = {}
    for line in _instructions():
        if line.startswith("FROM "):
            env = {}
        elif line.startswith("ENV "):
            env.update(dict(pair.split("=", 1) for pair in line[4:].split()))
    return env


def _healthcheck() -> list[str]:
    [line] = [line for line in _instructions() if line.startswith("HEALTHCHECK ")]
    return _exec_form(line[line.index(" CMD ") :])


def _cmd() -> list[str]:
    return _exec_form([line for line in _instructions() if line.startswith("CMD ")][-1])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_the_image_start_command_serves_links_not_on_0_0_0_0_and_its_probe_passes(
    tmp_path: Path,
) -> None:
    shutil.copytree(REPO / "config", tmp_path / "config")  # COPY config/ ./config/
    (tmp_path / "var").mkdir()  # the volume
    image_env = _runtime_env()
    assert image_env["AMBASSADOR_HOST"] == "0.0.0.0"
    port = _free_port()
    bin_dir = str(Path(sys.executable).parent)  # /opt/venv/bin in the image
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AMBASSADOR_", "DATABASE"))},
        **image_env,
        "VIRTUAL_ENV": str(Path(bin_dir).parent),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "AMBASSADOR_PORT": str(port),
    }
    env.pop("PUBLIC_BASE_URL", None)
    probe = _healthcheck()
    assert probe == ["ambassador-bot", "health"]
    # Before the bot runs, the probe fails in one line.
    down = subprocess.run(probe, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert down.returncode == 1 and down.stderr.count("\n") == 1, down.stderr
    process = subprocess.Popen(
        _cmd(), cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while not any("ready" in line for line in lines) and time.monotonic() < deadline:
            lines.append(process.stdout.readline())
        [ready] = [line for line in lines if "ready" in line]
        assert ready.rstrip().endswith(f" at http://localhost:{port}/"), ready
        # No admin in the image's environment: one line says so and how to name one.
        admin = process.stdout.readline()
        assert admin.startswith("No admin set") and "AMBASSADOR_ADMINS=" in admin, admin
        up = subprocess.run(probe, cwd=tmp_path, env=env, capture_output=True, text=True)
        assert up.returncode == 0, up.stderr
        assert up.stdout.strip() == f"healthy: http://127.0.0.1:{port}/healthz"
        ready_probe = [*probe, "--ready"]
        ok = subprocess.run(ready_probe, cwd=tmp_path, env=env, capture_output=True, text=True)
        assert ok.returncode == 0 and "/readyz" in ok.stdout, ok.stderr
    finally:
        process.terminate()
        assert process.wait(timeout=20) == 0


def test_a_wrong_port_for_the_probe_exits_2_in_one_line() -> None:
    env = {**os.environ, "AMBASSADOR_PORT": "eighty"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "health"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "AMBASSADOR_PORT" in result.stderr and "Traceback" not in result.stderr


def _bot_service() -> str:
    return COMPOSE[COMPOSE.index("\n  bot:") : COMPOSE.index("\nvolumes:")]


def test_compose_passes_the_public_address_an_admin_slot_and_the_probe() -> None:
    bot = _bot_service()
    public = re.search(r"^\s+PUBLIC_BASE_URL: (.+)$", bot, re.MULTILINE)
    assert public is not None and "0.0.0.0" not in public.group(1)
    assert public.group(1) == "${PUBLIC_BASE_URL:-http://localhost:3978}"
    assert re.search(r"^\s+AMBASSADOR_ADMINS: \$\{AMBASSADOR_ADMINS:-\}$", bot, re.MULTILINE)
    test = re.search(r"^\s+healthcheck:\n\s+test: (\[.*\])$", bot, re.MULTILINE)
    assert test is not None
    assert json.loads(test.group(1)) == ["CMD", *_healthcheck()]


def test_compose_reads_no_channel_thread_unless_asked() -> None:
    """AMBASSADOR_THREAD_REPLIES passes through, off unless the environment turns it on."""
    assert re.search(
        r"^\s+AMBASSADOR_THREAD_REPLIES: \$\{AMBASSADOR_THREAD_REPLIES:-0\}$",
        _bot_service(),
        re.MULTILINE,
    )
