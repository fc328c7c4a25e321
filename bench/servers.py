"""Servers under test, each in its own process so it never shares the client's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
MAX_LOG_SAMPLES = 5


class BenchError(Exception):
    """The bench itself could not run (a server never became ready, a setup step failed)."""


def free_port() -> int:
    """A port nobody listens on right now (bind to port 0, read it, let it go)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _open_log(path: Path) -> IO[bytes]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("wb")


@dataclass
class ServerProcess:
    """A server started with `argv`, logging to `log_path`, listening on `port`."""

    name: str
    argv: Sequence[str]
    env: dict[str, str]
    log_path: Path
    port: int
    returncode: int | None = None
    _process: asyncio.subprocess.Process | None = field(default=None, repr=False)

    @property
    def pid(self) -> int | None:
        """The server's process id, while it runs."""
        return self._process.pid if self._process is not None else None

    @property
    def url(self) -> str:
        """The server's base URL, without a trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system, all threads) the server has used so far; None off Linux."""
        if self._process is None:
            return None
        try:
            stat = Path(f"/proc/{self._process.pid}/stat").read_text(encoding="ascii")
        except OSError:
            return None
        fields = stat.rsplit(")", 1)[1].split()  # the command name may hold spaces
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    @contextlib.asynccontextmanager
    async def running(self, control: aiohttp.ClientSession) -> AsyncIterator[ServerProcess]:
        """Start the server, wait until GET /readyz answers 200, and stop it on the way out."""
        await self._start()
        try:
            await self._wait_ready(control)
            yield self
        finally:
            await self._stop()

    async def _start(self) -> None:
        log = _open_log(self.log_path)
        try:
            self._process = await asyncio.create_subprocess_exec(
                *self.argv,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        finally:
            log.close()  # the child holds its own copy of the descriptor

    async def _wait_ready(self, control: aiohttp.ClientSession) -> None:
        assert self._process is not None
        deadline = time.monotonic() + READY_TIMEOUT_S
        probe = aiohttp.ClientTimeout(total=2)
        while time.monotonic() < deadline:
            if self._process.returncode is not None:
                raise BenchError(
                    f"{self.name} exited with code {self._process.returncode} before it was "
                    f"ready; see {self.log_path}"
                )
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with control.get(f"{self.url}/readyz", timeout=probe) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.2)
        raise BenchError(
            f"{self.name} was not ready within {READY_TIMEOUT_S:.0f} s; see {self.log_path}"
        )

    async def _stop(self) -> None:
        process = self._process
        if process is None:
            return
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
            except TimeoutError:
                process.kill()
                await process.wait()
        self.returncode = process.returncode


def scan_log(path: Path) -> dict[str, Any]:
    """Count a server log's lines by level; name the warning and error events it holds.

    JSON lines (LOG_FORMAT=json) are read by their "level" and "event" keys; other
    lines (the start-up banner, a traceback printed outside logging) are sampled.
    """
    levels: Counter[str] = Counter()
    problems: Counter[str] = Counter()
    other: list[str] = []
    other_count = 0
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        return {"file": path.name, "unreadable": str(exc)}
    for line in lines:
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            if line.startswith("Ambassador bot ready"):
                continue
            other_count += 1
            if len(other) < MAX_LOG_SAMPLES:
                other.append(line[:200])
            continue
        level = str(record.get("level", "?"))
        levels[level] += 1
        if level not in ("debug", "info"):
            problems[f"{level}: {record.get('event', '?')}"] += 1
    return {
        "file": path.name,
        "lines_by_level": dict(levels),
        "warnings_and_errors": dict(problems.most_common()),
        "non_json_lines": other_count,
        "non_json_samples": other,
    }
