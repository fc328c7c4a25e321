"""The pulses suite: `pulse results` over 1,000,000 answers and 100,000 members.

The data is loaded with each database's bulk path (COPY on PostgreSQL, executemany on
SQLite), then a real bot server (its own process) answers `pulse results` commands
sent through the local API; the latency is the HTTP round trip, as an animator waits for
it. Target: under 300 ms (issue "NPS pulses"), computed in SQL, not in Python.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench import bulk
from bench.servers import BenchError, ServerProcess, free_port
from storage import pulses
from storage.db import session_factory
from storage.models import Pulse

TARGET_MS = 300.0
BACKENDS = ("sqlite", "postgresql")
# What an animator types, and what each one reads from the database.
COMMANDS = {
    "latest": "pulse results",  # latest pulse of this session (100k answers) + its trend
    "by_id": "pulse results 1",  # one pulse by number
    "all": "pulse results all",  # every pulse: per training and per month (1M answers)
    "list": "pulse list",  # response rates of every pulse
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The suite's options, added to `python -m bench.run`'s parser."""
    group = parser.add_argument_group("pulses suite")
    group.add_argument("--pulse-members", type=int, default=100_000, help="members answering")
    group.add_argument(
        "--pulse-count", type=int, default=10, help="pulses (answers: each × members)"
    )
    group.add_argument(
        "--pulse-live",
        action="store_true",
        help="leave closed pulses without their frozen sums: every figure computed live "
        "from all the answers (the worst case)",
    )
    group.add_argument("--pulse-repeats", type=int, default=15, help="measured calls per command")


def config(args: argparse.Namespace) -> dict[str, Any]:
    """The suite's parameters, for results.json."""
    return {
        "members": args.pulse_members,
        "pulses": args.pulse_count,
        "answers": args.pulse_members * args.pulse_count,
        "repeats_per_command": args.pulse_repeats,
        "closed_pulses_frozen": not args.pulse_live,
        "commands": COMMANDS,
    }


def _rows(args: argparse.Namespace, now: datetime) -> dict[str, list[dict[str, Any]]]:
    """Every row to load, by table (ids assigned here; columns left out are NULL)."""
    rng = random.Random(2026)
    members = args.pulse_members
    sessions = max(1, args.pulse_count // 2)
    start = now - timedelta(days=30 * args.pulse_count)
    member = {"workspace_id": 1, "created_at": start}
    data: dict[str, list[dict[str, Any]]] = {
        "workspace": [{"id": 1, "platform": "local", "external_id": "local", "created_at": start}],
        "member": [
            {**member, "id": 1, "user_id": "anim1", "display_name": "Animator", "role": "animator"}
        ],
        "training_session": [],
        "pulse": [],
        "pulse_answer": [],
        "referral": [],
    }
    data["member"] += [
        {
            **member,
            "id": n + 2,
            "user_id": f"u{n}",
            "display_name": f"Learner {n}",
            "role": "learner",
            "joined_at": start,
        }
        for n in range(members)
    ]
    for s in range(sessions):
        opened = start + timedelta(days=60 * s)
        data["training_session"].append(
            {
                "id": s + 1,
                "workspace_id": 1,
                "name": f"Training {s + 1}",
                "code": f"CODE{s + 1:02d}",
                "conversation": "general",
                "opened_by_id": 1,
                "opened_at": opened,
                "closed_at": opened,
                "closed_by_id": 1,
            }
        )
    answer_id = referral_id = 0
    for p in range(args.pulse_count):
        session_id = p % sessions + 1
        sent = start + timedelta(days=30 * p)
        # The history is closed; the latest pulse is still being answered.
        latest = p == args.pulse_count - 1
        closes = now + timedelta(days=3) if latest else sent + timedelta(days=7)
        data["pulse"].append(
            {
                "id": p + 1,
                "workspace_id": 1,
                "session_id": session_id,
                "created_by_id": 1,
                "conversation": "general",
                "status": "open" if latest else "closed",
                "send_at": sent,
                "closes_at": closes,
                "sent_at": sent,
                "closed_at": None if latest else closes,
                "reminders_sent": 1,
                "recipients": members,
                "created_at": sent,
            }
        )
        for n in range(members):
            answer_id += 1
            score = min(10, max(0, round(rng.gauss(8.0, 2.0))))
            lsat = None
            if rng.random() >= 0.1:
                lsat = min(5, max(1, round(1 + score * 0.4 + rng.gauss(0, 0.7))))
            data["pulse_answer"].append(
                {
                    "id": answer_id,
                    "pulse_id": p + 1,
                    "member_id": n + 2,
                    "score": score,
                    "lsat": lsat,
                    "created_at": sent,
                    "updated_at": sent,
                }
            )
            if rng.random() < 0.01:
                referral_id += 1
                data["referral"].append(
                    {
                        "id": referral_id,
                        "workspace_id": 1,
                        "pulse_id": p + 1,
                        "session_id": session_id,
                        "referrer_id": n + 2,
                        "referred_name": "Colleague",
                        "referred_key": f"n:c{referral_id}",
                        "created_at": sent,
                    }
                )
    return data


async def _close_history(engine: AsyncEngine) -> None:
    """What closing did to each closed pulse: keep the sums of its answers (the bot's code)."""
    async with session_factory(engine)() as db, db.begin():
        closed = (await db.execute(select(Pulse).where(Pulse.status == "closed"))).scalars()
        for pulse in list(closed):
            await pulses.freeze_sums(db, pulse)


async def measure(args: argparse.Namespace, backend: str, workdir: Path) -> dict[str, Any]:
    """Load the data on `backend`, start a bot on it, time each command."""
    now = datetime.now(UTC)
    started = time.perf_counter()
    data = _rows(args, now)
    generated_s = time.perf_counter() - started
    answers = len(data["pulse_answer"])
    async with bulk.loaded_database(backend, args.database_url, workdir, "pulses", data) as (
        url,
        engine,
        loaded_s,
    ):
        del data
        started = time.perf_counter()
        if not args.pulse_live:
            await _close_history(engine)
        frozen_s = time.perf_counter() - started
        figures = await _time_commands(args, backend, url, workdir)
    return {
        "answers": answers,
        "generate_s": round(generated_s, 1),
        "load_s": round(loaded_s, 1),
        "freeze_closed_s": round(frozen_s, 2),
        "commands": figures,
    }


async def _time_commands(
    args: argparse.Namespace, backend: str, url: str, workdir: Path
) -> dict[str, Any]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "AMBASSADOR_ADMINS": "local:anim1",
        "AMBASSADOR_PLAYGROUND": "1",  # commands go through the playground's API
        "AMBASSADOR_LOCALE": "en",
        "LOG_FORMAT": "json",
    }
    server = ServerProcess(
        name=f"bot on {backend} with {args.pulse_members * args.pulse_count} answers",
        argv=[sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        log_path=workdir / f"pulses-{backend}.log",
        port=port,
    )
    figures: dict[str, Any] = {}
    async with aiohttp.ClientSession() as client, server.running(client):
        for key, text in COMMANDS.items():
            body = {
                "user": {"id": "anim1", "name": "Animator"},
                "conversation": "general",
                "text": text,
            }
            timings = []
            answer = ""
            for repeat in range(args.pulse_repeats + 1):
                began = time.perf_counter()
                async with client.post(server.url + "/local/api/command", json=body) as response:
                    payload = await response.json()
                elapsed = (time.perf_counter() - began) * 1000
                if response.status != 200:
                    raise BenchError(f"{text!r} answered {response.status}: {payload}")
                answer = str(payload["replies"][0]["text"])
                if repeat:  # the first call warms caches and the connection pool
                    timings.append(elapsed)
            timings.sort()
            figures[key] = {
                "command": text,
                "p50_ms": round(statistics.median(timings), 1),
                "p95_ms": round(timings[max(0, int(len(timings) * 0.95) - 1)], 1),
                "max_ms": round(timings[-1], 1),
                "answer_excerpt": answer[:160],
                "met": timings[-1] < TARGET_MS,
            }
    return figures


async def run_suite(
    args: argparse.Namespace, workdir: Path, results: dict[str, Any], skipped: dict[str, str]
) -> None:
    """Each backend once (the data set is large; the repeats give the spread)."""
    section: dict[str, Any] = {"config": config(args), "target_ms": TARGET_MS}
    results["pulses"] = section
    for backend in args.backends:
        if backend in skipped:
            section[backend] = {"skipped": skipped[backend]}
            continue
        print(
            f"  pulses {backend}: loading {args.pulse_members * args.pulse_count} answers…",
            flush=True,
        )
        figures = await measure(args, backend, workdir)
        section[backend] = figures
        for found in figures["commands"].values():
            print(
                f"  pulses {backend}: {found['command']!r} p50 {found['p50_ms']} ms, "
                f"max {found['max_ms']} ms ({'met' if found['met'] else 'NOT met'})",
                flush=True,
            )


def summary_lines(section: dict[str, Any]) -> list[str]:
    """The pulses suite in a few lines, for the terminal."""
    answers = section["config"]["answers"]
    lines = [f"pulses: {answers} answers, {section['config']['members']} members; max latency (ms)"]
    for backend in BACKENDS:
        found = section.get(backend)
        if not found or "commands" not in found:
            continue
        cells = ", ".join(
            f"{c['command']!r} {c['max_ms']}{'' if c['met'] else ' (NOT met)'}"
            for c in found["commands"].values()
        )
        lines.append(f"  {backend}: {cells}; target < {section['target_ms']:g}")
    return lines
