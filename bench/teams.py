"""The Teams suite (issue 8's targets), next to its reference measured in the same run.

- latency: `join` messages to /api/messages from distinct learners in a channel, 50
  concurrent, against the bot (fresh process and database per run and backend) and a bare
  botbuilder echo bot (bench/bare_teams.py) that answers each HTTP request after its one
  reply through the same fake Bot Connector. Target: at least 3× its throughput and a p99
  under half of its p99. The bot answers 202 once the activity is recorded; the run also
  waits until every learner got their answer, and says how long that took.
- fan-out: 1,000 DMs through the real outbox and Teams sender to a fake Bot Connector that
  enforces Teams' 50 requests/s per tenant (429 with Retry-After beyond). Each person has a
  1:1 chat with the bot already (stored references), so each DM is one request; the bot
  keeps its own ceiling of 40/s. Ideal: 1000 / 40 s. Target: within 10 % of it, none lost,
  none duplicated.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

from bench import databases
from bench.loadgen import client_session, run_load
from bench.servers import BenchError, ServerProcess, free_port, scan_log
from bot.adapters.teams.connector import Connector
from bot.adapters.teams.sender import TeamsSender
from bot.adapters.teams.settings import TeamsSettings
from bot.clock import Clock
from bot.core.replies import OutboundMessage
from bot.outbox.queue import Outbox
from bot.server import create_runtime
from bot.settings import RateLimitSettings, load_settings
from storage import teams_references, workspaces
from storage.db import create_engine
from storage.migrate import upgrade
from storage.teams_references import Reference
from tests.support.fake_connector import FakeConnector

TARGET_FANOUT_RATIO = 1.10
TENANT = "56653e9d-2158-46ee-90d7-675c39642038"
BOT = "28:bench-bot"
REPO = Path(__file__).resolve().parents[1]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The Teams suite's options."""
    parser.add_argument("--teams-dms", type=int, default=1000, help="DMs of the Teams fan-out")
    parser.add_argument(
        "--teams-requests", type=int, default=1000, help="measured messages per run"
    )


ANIMATOR = "00000000-0000-4000-8000-00000000a11a"
CHANNEL = "19:bench@thread.tacv2"
TARGET_THROUGHPUT_RATIO = 3.0
TARGET_P99_RATIO = 0.5


def _activity(service_url: str, who: str, text: str) -> dict[str, Any]:
    """A channel message as Teams sends it (shape of golden/message_channel_mention_teamsnet)."""
    return {
        "type": "message",
        "channelId": "msteams",
        "id": f"{who}-{text}"[:60],
        "serviceUrl": service_url,
        "channelData": {"tenant": {"id": TENANT}, "channel": {"id": CHANNEL}},
        "from": {"id": f"29:{who}", "name": who[-6:], "aadObjectId": who},
        "recipient": {"id": BOT, "name": "Ambassador"},
        "conversation": {
            "id": CHANNEL,
            "isGroup": True,
            "conversationType": "channel",
            "tenantId": TENANT,
        },
        "text": f"<at>Ambassador</at> {text}",
        "locale": "en-US",
    }


def _learners(service_url: str, prefix: str) -> Any:
    def body(index: int) -> dict[str, Any]:
        who = f"{prefix}-{index:08d}"
        return _activity(service_url, who, "join")

    return body


def _ok(answer: Any) -> str | None:
    return None if answer is None else f"unexpected body: {str(answer)[:80]}"


async def _load(url: str, args: argparse.Namespace, service_url: str, prefix: str) -> Any:
    async with client_session(args.concurrency) as client:
        await run_load(
            client,
            url,
            _learners(service_url, f"{prefix}w"),
            _ok,
            total=args.warmup,
            concurrency=args.concurrency,
        )
        return await run_load(
            client,
            url,
            _learners(service_url, f"{prefix}m"),
            _ok,
            total=args.teams_requests,
            concurrency=args.concurrency,
        )


async def _welcomed(fake: FakeConnector, expected: int) -> tuple[bool, float]:
    started = time.perf_counter()
    while time.perf_counter() - started < 900:
        done = sum(1 for call in fake.sent() if "Welcome aboard" in call.shown)
        if done >= expected:
            return True, round(time.perf_counter() - started, 1)
        await asyncio.sleep(0.25)
    return False, round(time.perf_counter() - started, 1)


async def measure_latency(
    args: argparse.Namespace, which: str, run: int, workdir: Path
) -> dict[str, Any]:
    """One run against the bare echo bot (`which` = "bare") or the bot on a backend."""
    fake = FakeConnector()
    await fake.start()
    port = free_port()
    database: str | None = None
    env = {**os.environ, "LOG_FORMAT": "json", "AMBASSADOR_LOCALE": "en"}
    for name in ("MicrosoftAppId", "MicrosoftAppPassword", "MicrosoftAppTenantId"):
        env.pop(name, None)
    if which == "bare":
        argv = [sys.executable, "-m", "bench.bare_teams", "--port", str(port)]
    else:
        if which == "sqlite":
            url = f"sqlite:///{workdir / f'teams-{which}-run{run}.db'}"
        else:
            database, url = await databases.create_database(args.database_url)
        # The bench sends unsigned activities from a fake Bot Connector on loopback.
        env.update(
            DATABASE_URL=url,
            AMBASSADOR_ADMINS=f"teams:{ANIMATOR}",
            TEAMS_ALLOW_UNAUTHENTICATED="1",
        )
        argv = [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)]
    server = ServerProcess(
        name=f"teams {which} (run {run})",
        argv=argv,
        env=env,
        log_path=workdir / f"teams-{which}-run{run}.log",
        port=port,
    )
    try:
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(timeout=timeout) as control, server.running(control):
            endpoint = f"{server.url}/api/messages"
            if which != "bare":
                opening = _activity(fake.service_url, ANIMATOR, "session start Bench")
                async with control.post(endpoint, json=opening) as answer:
                    if answer.status != 202:
                        raise BenchError(f"session start over Teams: HTTP {answer.status}")
                for _ in range(200):
                    if any("is open" in c.shown for c in fake.sent()):
                        break
                    await asyncio.sleep(0.1)
                else:
                    raise BenchError("session start over Teams was not answered")
            measured = await _load(endpoint, args, fake.service_url, f"{which[0]}{run}")
            figures = measured.figures()
            if which != "bare":
                handled = await _welcomed(fake, args.warmup + args.teams_requests)
                figures["all_handled"], figures["handled_within_s"] = handled
        figures["server_log"] = scan_log(server.log_path)
        return figures
    finally:
        await fake.close()
        if database is not None:
            await databases.drop_database(args.database_url, database)


async def measure_fanout(args: argparse.Namespace, backend: str, workdir: Path) -> dict[str, Any]:
    """1,000 DMs to people who each have a 1:1 chat with the bot."""
    fake = FakeConnector(tenant_rate=50, retry_after="1")
    await fake.start()
    database: str | None = None
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'teams-fanout.db'}"
    else:
        database, url = await databases.create_database(args.database_url)
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()
    settings = load_settings(
        {
            "AMBASSADOR_CONFIG": str(REPO / "config" / "ambassador.toml"),
            "DATABASE_URL": url,
            "AMBASSADOR_SECRET_KEY": databases.secret_key(),
        }
    )
    runtime = create_runtime(settings, Clock())
    limits = RateLimitSettings()
    connector = Connector(TeamsSettings())
    sender = TeamsSender(runtime.db_sessions, runtime.clock, connector, limits)
    runtime.sender.register_platform("teams", sender)
    count = args.teams_dms
    try:
        async with runtime.db_sessions() as db, db.begin():
            now = runtime.clock.now()
            team = await workspaces.get_or_create(db, "teams", TENANT, now)
            outbox = Outbox(db, "teams", team.id, now)
            for n in range(count):
                person = f"00000000-0000-4000-8000-{n:012d}"
                reference = Reference(
                    TENANT, f"a:dm-{n}", fake.service_url, "personal", BOT, person, f"29:{n}"
                )
                await teams_references.remember(db, reference, now)
                await outbox.post(f"fan:{n}", f"dm:{person}", OutboundMessage(f"Question {n}"))
        started = time.perf_counter()
        runtime.sender.start()
        ideal = count / limits.teams_tenant_per_second
        while len(fake.sent()) < count:
            if time.perf_counter() - started > 3 * ideal + 60:
                break
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        await asyncio.sleep(1.0)  # anything sent twice would show up now
    finally:
        await runtime.sender.stop()
        await connector.close()
        await runtime.engine.dispose()
        await fake.close()
        if database is not None:
            await databases.drop_database(args.database_url, database)
    delivered = Counter(call.shown for call in fake.sent())
    return {
        "dms": count,
        "tenant_ceiling_per_second": limits.teams_tenant_per_second,
        "connector_limit_per_second": 50,
        "ideal_s": round(ideal, 1),
        "elapsed_s": round(elapsed, 1),
        "ratio_to_ideal": round(elapsed / ideal, 3),
        "lost": count - len(delivered),
        "duplicated": sum(n - 1 for n in delivered.values() if n > 1),
        "answered_429": fake.rejected_429,
        "met": elapsed <= ideal * TARGET_FANOUT_RATIO
        and len(delivered) == count
        and all(n == 1 for n in delivered.values()),
    }


async def run_suite(
    args: argparse.Namespace, workdir: Path, results: dict[str, Any], skipped: dict[str, str]
) -> None:
    """Latency runs interleaved (bare, then each backend, then the next run); the fan-out on
    PostgreSQL when reachable, else SQLite."""
    backends = [b for b in args.backends if b not in skipped]
    runs: dict[str, list[dict[str, Any]]] = {"bare": [], **{b: [] for b in backends}}
    for run in range(1, args.runs + 1):
        for which in ("bare", *backends):
            runs[which].append(await measure_latency(args, which, run, workdir))
            found = runs[which][-1]
            print(
                f"  teams {which}: {found['rps']} req/s, p50 {found['p50_ms']} ms, "
                f"p99 {found['p99_ms']} ms, errors {found['errors']}, "
                f"handled within {found.get('handled_within_s')} s",
                flush=True,
            )
    latency: dict[str, Any] = {"bare": {"runs": runs["bare"]}}
    for backend in backends:
        pairs = [
            (b["rps"] / a["rps"], b["p99_ms"] / a["p99_ms"])
            for a, b in zip(runs["bare"], runs[backend], strict=False)
            if a.get("rps") and b.get("rps") and a.get("p99_ms") and b.get("p99_ms")
        ]
        throughput = round(statistics.median(x for x, _ in pairs), 3) if pairs else None
        tail = round(statistics.median(y for _, y in pairs), 3) if pairs else None
        latency[backend] = {
            "runs": runs[backend],
            "throughput_vs_bare_per_run": [round(x, 3) for x, _ in pairs],
            "p99_vs_bare_per_run": [round(y, 3) for _, y in pairs],
            "throughput_vs_bare": throughput,
            "p99_vs_bare": tail,
            "met": bool(
                throughput is not None
                and tail is not None
                and throughput >= TARGET_THROUGHPUT_RATIO
                and tail <= TARGET_P99_RATIO
            ),
        }
    backend = "postgresql" if "postgresql" in backends else "sqlite"
    print(f"  Teams fan-out of {args.teams_dms} DMs…", flush=True)
    found = await measure_fanout(args, backend, workdir)
    results["teams"] = {
        "targets": {
            "throughput_vs_bare": TARGET_THROUGHPUT_RATIO,
            "p99_vs_bare": TARGET_P99_RATIO,
            "fanout_vs_ideal": TARGET_FANOUT_RATIO,
        },
        "latency": latency,
        "fanout": {backend: found},
    }
    print(f"  Teams fan-out: {found}", flush=True)


def summary_lines(section: dict[str, Any]) -> list[str]:
    """The Teams suite in a few lines, for the terminal."""
    lines = []
    for backend, found in section.get("latency", {}).items():
        if backend == "bare":
            continue
        lines.append(
            f"teams latency ({backend}): run by run {found['throughput_vs_bare_per_run']}× the "
            f"bare bot's throughput (target ≥ {TARGET_THROUGHPUT_RATIO}) and "
            f"{found['p99_vs_bare_per_run']}× its p99 (target ≤ {TARGET_P99_RATIO}): "
            f"{'met' if found['met'] else 'NOT met'}"
        )
    for backend, found in section.get("fanout", {}).items():
        lines.append(
            f"teams fan-out ({backend}): {found['dms']} DMs in {found['elapsed_s']} s, ideal "
            f"{found['ideal_s']} s ({found['ratio_to_ideal']}×, target ≤ {TARGET_FANOUT_RATIO}), "
            f"lost {found['lost']}, duplicated {found['duplicated']}, 429s {found['answered_429']}"
            f": {'met' if found['met'] else 'NOT met'}"
        )
    return lines
