"""`make bench`: twelve suites (most on SQLite and PostgreSQL), written to bench/results.json.

- joins: throughput and latency of `join`, next to a bare aiohttp handler measured in
  the same run (below);
- challenges: start-up restore time and memory with 10,000 active recurring challenges,
  and the delay between their planned and posted times under load (bench/challenges.py);
- pulses: `pulse results` latency over 1,000,000 answers and 100,000 members
  (bench/pulses.py);
- badges: one promotion evaluation for 100,000 members after a bulk import of 1,000,000
  contributions (bench/badges.py);
- mentoring: one matching round of 10,000 novices and 1,000 mentors, and exactness against
  a linear-programming solver (bench/mentoring.py; no database);
- slack: the ack of signed `/ambassador join` next to a bare slack-bolt app, and a 1,000-DM
  fan-out against a rate-limited fake Slack (bench/slack.py);
- teams: activities' latency next to a bare botbuilder bot (bench/bare_teams.py), and a
  1,000-DM fan-out against a fake Bot Connector enforcing Teams' limits
  (bench/teams.py);
- retention: the daily purge of 1,000,000 rows past their delay, and the latency of joins
  served meanwhile next to the same joins with nothing to purge (bench/retention.py);
- dashboard: the steering dashboard's page over 100,000 members, 1,000,000 contributions
  and 1,000,000 pulse answers made by the demo generator, and the rollups' rebuild
  (bench/dashboard.py; `--dashboard-quick` for a run of seconds);
- responsiveness: the delay from the ack of a signed Slack join or pulse click to its
  answer (response_url, or the modal's views.open) at steady rates, up to the highest
  rate keeping p99 under 3 s, every answer counted once (bench/responsiveness.py;
  `--responsiveness-quick` for a run of seconds);
- floor: the CPU of each part a Slack join is made of (a statement, a transaction, an
  outbound and an inbound HTTP call), through SQLAlchemy and through the driver alone,
  added up as a join needs them (bench/floor.py);
- themes: the voice engine's purity, cross-lingual share and sentiment accuracy on the
  held-out set, then 100,000 synthetic contributions embedded, grouped and named, and a
  new one placed, and the bot's own path on SQLite and PostgreSQL: the themes found again
  from the stored vectors, new contributions read and placed (issue 19: bench/themes.py;
  `--themes-quick` for 10,000).

Choose with --suites (default: all twelve).

Every run starts a fresh server process on a fresh database (an empty SQLite file, or a
PostgreSQL database with a random name, dropped afterwards), opens a session as the
animator anim1, sends a warm-up of joins, then the measured joins, each from a distinct
learner so that every request writes. Runs are interleaved (bare, SQLite, PostgreSQL,
then again) so that a noisy neighbour weighs on all of them alike; the medians across
runs are what to compare. Targets are informational: the exit code is 0 whether they
are met or not, and 1 only when the bench itself could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from bench import (
    badges,
    challenges,
    dashboard,
    databases,
    floor,
    mentoring,
    pulses,
    responsiveness,
    retention,
    slack,
    teams,
    themes,
)
from bench.loadgen import (
    LoadResult,
    ReplyCheck,
    check_join,
    client_session,
    learner_joins,
    run_load,
)
from bench.servers import BenchError, ServerProcess, free_port, scan_log

RESULTS_PATH = Path(__file__).resolve().parent / "results.json"
COMMAND_PATH = "/local/api/command"
CONVERSATION = "general"
ANIMATOR = {"id": "anim1", "name": "Anim"}
SESSION_NAME = "Bench"
BACKENDS = ("sqlite", "postgresql")
SUITES = (
    "joins",
    "challenges",
    "pulses",
    "badges",
    "mentoring",
    "slack",
    "teams",
    "retention",
    "dashboard",
    "responsiveness",
    "floor",
    "themes",
)
TARGET_RATIO = 0.3
TARGET_P99_MS = 150.0
TARGET_REFERENCE_RPS = 1000
CONTROL_TIMEOUT_S = 30.0


# --- command line ------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The bench's options (see --help)."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="Measure join throughput and latency on SQLite and PostgreSQL next to a "
        "bare aiohttp handler, and the start-up and posting delays of many scheduled "
        "challenges, and the latency of pulse results over a million answers; write "
        "bench/results.json.",
    )
    parser.add_argument(
        "--suites",
        default=",".join(SUITES),
        help="comma-separated suites to run (default: all of " + ",".join(SUITES) + ")",
    )
    parser.add_argument("--requests", type=_positive, default=3000, help="measured joins per run")
    parser.add_argument(
        "--bare-requests", type=_positive, default=10000, help="measured bare requests per run"
    )
    parser.add_argument("--warmup", type=_positive, default=200, help="uncounted requests first")
    parser.add_argument("--concurrency", type=_positive, default=50, help="concurrent clients")
    parser.add_argument("--runs", type=_positive, default=3, help="repetitions of each measure")
    parser.add_argument(
        "--backends",
        default=",".join(BACKENDS),
        help="comma-separated databases to measure, in every suite (default: sqlite,postgresql)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL")
        or os.environ.get("TEST_DATABASE_URL")
        or databases.DEFAULT_POSTGRES_URL,
        help="PostgreSQL server to create the throw-away databases on "
        "(default: BENCH_DATABASE_URL, else TEST_DATABASE_URL, else %(default)s)",
    )
    parser.add_argument(
        "--card-timeout", type=float, default=10.0, help="seconds to wait for the card's count"
    )
    parser.add_argument(
        "--card-grace",
        type=float,
        default=60.0,
        help="seconds to keep polling after --card-timeout, to tell a late card count from a "
        "wrong one (0: do not wait)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS_PATH, help="where to write JSON")
    parser.add_argument(
        "--keep-tmp", action="store_true", help="keep the temporary folder (server logs)"
    )
    challenges.add_arguments(parser)
    pulses.add_arguments(parser)
    badges.add_arguments(parser)
    mentoring.add_arguments(parser)
    slack.add_arguments(parser)
    teams.add_arguments(parser)
    retention.add_arguments(parser)
    dashboard.add_arguments(parser)
    responsiveness.add_arguments(parser)
    floor.add_arguments(parser)
    themes.add_arguments(parser)
    args = parser.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = sorted(set(args.backends) - set(BACKENDS))
    if unknown:
        parser.error(f"unknown backend(s) {', '.join(unknown)}; choose among {BACKENDS}")
    args.suites = [s.strip() for s in args.suites.split(",") if s.strip()]
    unknown = sorted(set(args.suites) - set(SUITES))
    if unknown or not args.suites:
        parser.error(f"unknown or no suite(s) {', '.join(unknown)}; choose among {SUITES}")
    challenges.check_arguments(parser, args)
    return args


def _positive(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return number


# --- what the clients send and expect -----------------------------------------------------


def check_bare(answer: Any) -> str | None:
    """The bare handler answers exactly {"ok": true}."""
    return None if answer == {"ok": True} else f"unexpected answer: {str(answer)[:60]}"


def joined_text(count: int) -> str:
    """What the join card's second field reads after `count` joins (English)."""
    return f"{count} learner joined" if count == 1 else f"{count} learners joined"


# --- one measured run ---------------------------------------------------------------------


def _server_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        AMBASSADOR_ADMINS=f"local:{ANIMATOR['id']}",
        AMBASSADOR_PLAYGROUND="1",  # the joins go through the playground's API
        AMBASSADOR_LOCALE="en",  # the checks read English texts
        LOG_FORMAT="json",
    )
    return env


async def _measure(
    server: ServerProcess,
    args: argparse.Namespace,
    *,
    body_prefix: str,
    check: ReplyCheck,
    total: int,
) -> tuple[LoadResult, LoadResult]:
    url = f"{server.url}{COMMAND_PATH}"
    async with client_session(args.concurrency) as client:
        warmup = await run_load(
            client,
            url,
            learner_joins(f"{body_prefix}w"),
            check,
            total=args.warmup,
            concurrency=args.concurrency,
        )
        server_cpu, client_cpu = server.cpu_seconds(), time.process_time()
        measured = await run_load(
            client,
            url,
            learner_joins(f"{body_prefix}m"),
            check,
            total=total,
            concurrency=args.concurrency,
        )
        measured.client_cpu_s = time.process_time() - client_cpu
        end = server.cpu_seconds()
        measured.server_cpu_s = None if end is None or server_cpu is None else end - server_cpu
    return warmup, measured


def _run_figures(
    run: int, warmup: LoadResult, measured: LoadResult, server: ServerProcess
) -> dict[str, Any]:
    return {
        "run": run,
        **measured.figures(),
        "warmup": {"requests": warmup.requests, "errors": warmup.error_count},
        "server_exit_code": server.returncode,
        "server_log": scan_log(server.log_path),
    }


async def measure_bare(args: argparse.Namespace, run: int, workdir: Path) -> dict[str, Any]:
    """One run against the bare handler, in its own process."""
    port = free_port()
    server = ServerProcess(
        name=f"bare server (run {run})",
        argv=[sys.executable, "-m", "bench.bare_server", "--port", str(port)],
        env=dict(os.environ),
        log_path=workdir / f"bare-run{run}.log",
        port=port,
    )
    async with _control() as control, server.running(control):
        warmup, measured = await _measure(
            server, args, body_prefix=f"r{run}", check=check_bare, total=args.bare_requests
        )
    return _run_figures(run, warmup, measured, server)


async def measure_join(
    args: argparse.Namespace, backend: str, run: int, workdir: Path
) -> dict[str, Any]:
    """One run of joins on a fresh bot process and a fresh database of `backend`."""
    database: str | None = None
    if backend == "sqlite":
        database_url = f"sqlite:///{workdir / f'sqlite-run{run}.db'}"
    else:
        database, database_url = await databases.create_database(args.database_url)
    port = free_port()
    server = ServerProcess(
        name=f"bot on {backend} (run {run})",
        argv=[sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=_server_env(database_url),
        log_path=workdir / f"bot-{backend}-run{run}.log",
        port=port,
    )
    try:
        async with _control() as control, server.running(control):
            await _open_session(control, server.url)
            warmup, measured = await _measure(
                server, args, body_prefix=f"r{run}", check=check_join, total=args.requests
            )
            card = await _check_card(control, server.url, warmup.ok + measured.ok, args)
    finally:
        if database is not None:
            await databases.drop_database(args.database_url, database)
    figures = _run_figures(run, warmup, measured, server)
    figures["card_count_ok"] = card["ok"]
    figures["card"] = card
    return figures


def _control() -> aiohttp.ClientSession:
    """A separate client for set-up and checks, so the load client's pool stays as measured."""
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=CONTROL_TIMEOUT_S))


async def _open_session(control: aiohttp.ClientSession, base_url: str) -> None:
    body = {"user": ANIMATOR, "conversation": CONVERSATION, "text": f"session start {SESSION_NAME}"}
    async with control.post(f"{base_url}{COMMAND_PATH}", json=body) as response:
        answer = await response.json(content_type=None)
        replies = answer.get("replies") if isinstance(answer, dict) else None
        if response.status != 200 or not replies or "is open" not in replies[0].get("text", ""):
            raise BenchError(f"`session start` failed: HTTP {response.status} {answer}")


async def _check_card(
    control: aiohttp.ClientSession, base_url: str, joined: int, args: argparse.Namespace
) -> dict[str, Any]:
    """Poll the conversation until the join card reads `joined` learners.

    `ok` means it did within --card-timeout. Past that, polling goes on for
    --card-grace seconds more, to tell a late count (the outbox still draining) from
    a wrong one: `correct_after_s` stays None only when it never read right.
    """
    expected = joined_text(joined)
    seen: str | None = None
    correct_after: float | None = None
    started = time.monotonic()
    while True:
        seen = await _card_count(control, base_url)
        waited = time.monotonic() - started
        if seen == expected:
            correct_after = round(waited, 2)
            break
        if waited >= args.card_timeout + args.card_grace:
            break
        await asyncio.sleep(0.25)
    return {
        "ok": correct_after is not None and correct_after <= args.card_timeout,
        "expected": expected,
        "seen": seen,
        "correct_after_s": correct_after,
        "timeout_s": args.card_timeout,
    }


async def _card_count(control: aiohttp.ClientSession, base_url: str) -> str | None:
    """The second field ("Joined") of the latest card posted in the conversation."""
    url = f"{base_url}/local/api/conversations/{CONVERSATION}/messages"
    async with control.get(url) as response:
        answer = await response.json(content_type=None)
    cards = [m["card"] for m in answer.get("messages", []) if m.get("card")]
    fields = cards[-1].get("fields", []) if cards else []
    return str(fields[1].get("value")) if len(fields) > 1 else None


# --- the whole bench ----------------------------------------------------------------------


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each figure across runs (errors are summed)."""

    def med(key: str) -> float | None:
        values = [r[key] for r in runs if r.get(key) is not None]
        return round(statistics.median(values), 2) if values else None

    return {
        "rps": med("rps"),
        "p50_ms": med("p50_ms"),
        "p99_ms": med("p99_ms"),
        "errors": sum(r["errors"] for r in runs),
        "server_cpu_cores": med("server_cpu_cores"),
        "client_cpu_cores": med("client_cpu_cores"),
    }


def machine() -> dict[str, Any]:
    """CPU model, cores and Python of the machine the figures were measured on."""
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _versions() -> dict[str, str]:
    found = {"sqlite": sqlite3.sqlite_version}
    for package in ("aiohttp", "sqlalchemy", "asyncpg", "aiosqlite"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def _config(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "suites": args.suites,
        "runs": args.runs,
        "concurrency": args.concurrency,
        "join_requests_per_run": args.requests,
        "bare_requests_per_run": args.bare_requests,
        "warmup_requests_per_run": args.warmup,
        "card_timeout_s": args.card_timeout,
        "card_grace_s": args.card_grace,
        "backends": args.backends,
        "postgresql_server": databases.safe(args.database_url),
        "server_per_run": "a fresh server process and a fresh, empty database for every run; "
        "the runs are interleaved: bare, then each backend, then the next run",
        "method": "rps = requests answered 200 with the expected reply / wall time of the "
        "measured phase; p50/p99 over those requests' latencies (perf_counter, send to "
        "last byte); the client runs in this process, each server in its own",
        "versions": _versions(),
    }


async def bench(args: argparse.Namespace, workdir: Path, results: dict[str, Any]) -> None:
    """Run every suite chosen, filling `results` as it goes (partial if a BenchError escapes)."""
    skipped: dict[str, str] = {}
    if "postgresql" in args.backends:
        try:
            version = await databases.server_version(args.database_url)
            results["config"]["postgresql_version"] = version
        except Exception as exc:
            skipped["postgresql"] = (
                f"PostgreSQL unreachable at {databases.safe(args.database_url)}: "
                f"{type(exc).__name__}: {exc}"
            )
            print(f"skipping PostgreSQL: {skipped['postgresql']}", flush=True)
    if "joins" in args.suites:
        print("joins:", flush=True)
        await bench_joins(args, workdir, results, skipped)
    if "challenges" in args.suites:
        print("challenges:", flush=True)
        await challenges.run_suite(args, workdir, results, skipped)
    if "pulses" in args.suites:
        print("pulses:", flush=True)
        await pulses.run_suite(args, workdir, results, skipped)
    if "badges" in args.suites:
        print("badges:", flush=True)
        await badges.run_suite(args, workdir, results, skipped)
    if "mentoring" in args.suites:
        print("mentoring:", flush=True)
        await mentoring.run_suite(args, workdir, results, skipped)
    if "slack" in args.suites:
        print("slack:", flush=True)
        await slack.run_suite(args, workdir, results, skipped)
    if "teams" in args.suites:
        print("teams:", flush=True)
        await teams.run_suite(args, workdir, results, skipped)
    if "retention" in args.suites:
        print("retention:", flush=True)
        await retention.run_suite(args, workdir, results, skipped)
    if "dashboard" in args.suites:
        print("dashboard:", flush=True)
        await dashboard.run_suite(args, workdir, results, skipped)
    if "responsiveness" in args.suites:
        print("responsiveness:", flush=True)
        await responsiveness.run_suite(args, workdir, results, skipped)
    if "floor" in args.suites:
        print("floor:", flush=True)
        await floor.run_suite(args, workdir, results, skipped)
    if "themes" in args.suites:
        print("themes:", flush=True)
        await themes.run_suite(args, workdir, results, skipped)


async def bench_joins(
    args: argparse.Namespace, workdir: Path, results: dict[str, Any], skipped: dict[str, str]
) -> None:
    """The joins suite: bare, then each backend, then the next run (interleaved)."""
    bare_runs: list[dict[str, Any]] = []
    join_runs: dict[str, list[dict[str, Any]]] = {b: [] for b in args.backends}
    results["bare"] = {"runs": bare_runs}
    for backend in args.backends:
        results[f"join_{backend}"] = {"runs": join_runs[backend]}
    for run in range(1, args.runs + 1):
        bare_runs.append(await measure_bare(args, run, workdir))
        _progress("bare", run, args.runs, bare_runs[-1])
        for backend in args.backends:
            if backend in skipped:
                continue
            try:
                join_runs[backend].append(await measure_join(args, backend, run, workdir))
            except (OSError, asyncpg.PostgresError) as exc:
                if backend != "postgresql" or join_runs[backend]:
                    raise BenchError(f"join on {backend}, run {run}: {exc}") from exc
                # Reachable but unusable (e.g. no right to create a database): skip it.
                skipped[backend] = f"cannot create a database: {type(exc).__name__}: {exc}"
                print(f"skipping PostgreSQL: {skipped[backend]}", flush=True)
                continue
            _progress(f"join {backend}", run, args.runs, join_runs[backend][-1])
    _summarise(results, bare_runs, join_runs, skipped)


def _progress(label: str, run: int, runs: int, figures: dict[str, Any]) -> None:
    card = figures.get("card")
    if card is None:
        card_note = ""
    elif card["ok"]:
        card_note = f", card count ok after {card['correct_after_s']} s"
    elif card["correct_after_s"] is not None:
        card_note = f", card count LATE: right only after {card['correct_after_s']} s"
    else:
        card_note = f", card count WRONG: reads {card['seen']!r}, expected {card['expected']!r}"
    print(
        f"  run {run}/{runs} {label}: {figures['rps']} req/s, p50 {figures['p50_ms']} ms, "
        f"p99 {figures['p99_ms']} ms, {figures['errors']} errors{card_note}",
        flush=True,
    )


def _summarise(
    results: dict[str, Any],
    bare_runs: list[dict[str, Any]],
    join_runs: dict[str, list[dict[str, Any]]],
    skipped: dict[str, str],
) -> None:
    bare_median = median_of(bare_runs)
    results["bare"]["median"] = bare_median
    targets: dict[str, Any] = {
        "applies_to": "join_postgresql",
        "min_ratio_to_bare": TARGET_RATIO,
        "max_p99_ms": TARGET_P99_MS,
        "reference_rps": TARGET_REFERENCE_RPS,
        "note": "from the issue: on PostgreSQL at least 0.3x the bare handler's throughput "
        "(about 1,000 joins/s) with p99 under 150 ms; informational, never fails the bench",
        "met": {},
    }
    for backend, runs in join_runs.items():
        key = f"join_{backend}"
        if backend in skipped:
            results[key] = {"skipped": skipped[backend]}
            targets["met"][key] = None
            continue
        median = median_of(runs)
        ratio = (
            round(median["rps"] / bare_median["rps"], 3)
            if median["rps"] and bare_median["rps"]
            else None
        )
        p99 = median["p99_ms"]
        met = {
            "ratio": ratio is not None and ratio >= TARGET_RATIO,
            "p99": p99 is not None and p99 < TARGET_P99_MS,
        }
        met["met"] = met["ratio"] and met["p99"]
        results[key].update(
            median=median,
            ratio_to_bare=ratio,
            card_count_ok=all(r["card_count_ok"] for r in runs),
            targets=met,
            met=met["met"],
        )
        targets["met"][key] = met["met"]
    results["targets"] = targets


def summary_table(results: dict[str, Any]) -> str:
    """A short human summary of the medians, for the terminal."""
    info = results["machine"]
    lines = [
        f"Ambassador bench: {info['cpu']}, {info['cores']} cores, Python {info['python']}, "
        f"{results['generated_at']}, medians of {results['config']['runs']} run(s)",
    ]
    if "bare" in results:
        lines += ["", *_joins_lines(results)]
    if "challenges" in results:
        lines += ["", *challenges.summary_lines(results["challenges"])]
    if "pulses" in results:
        lines += ["", *pulses.summary_lines(results["pulses"])]
    if "badges" in results:
        lines += ["", *badges.summary_lines(results["badges"])]
    if "mentoring" in results:
        lines += ["", *mentoring.summary_lines(results["mentoring"])]
    if "slack" in results:
        lines += ["", *slack.summary_lines(results["slack"])]
    if "teams" in results:
        lines += ["", *teams.summary_lines(results["teams"])]
    if "retention" in results:
        lines += ["", *retention.summary_lines(results["retention"])]
    if "dashboard" in results:
        lines += ["", *dashboard.summary_lines(results["dashboard"])]
    if "responsiveness" in results:
        lines += ["", *responsiveness.summary_lines(results["responsiveness"])]
    if "floor" in results:
        lines += ["", *floor.summary_lines(results["floor"])]
    if "themes" in results:
        lines += ["", *themes.summary_lines(results["themes"])]
    return "\n".join(lines)


def _joins_lines(results: dict[str, Any]) -> list[str]:
    lines = [
        f"Joins: {results['config']['concurrency']} concurrent clients",
        "",
        f"{'':16} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'x bare':>7} "
        f"{'card':>5} {'target':>7} {'server CPU':>11} {'client CPU':>11}",
    ]
    rows = [("bare", "bare handler"), *((f"join_{b}", f"join {b}") for b in BACKENDS)]
    for key, label in rows:
        section = results.get(key)
        if section is None:
            continue
        if "skipped" in section:
            lines.append(f"{label:16} skipped: {section['skipped']}")
            continue
        median = section.get("median")
        if median is None:
            lines.append(f"{label:16} did not finish")
            continue
        ratio = section.get("ratio_to_bare")
        card = section.get("card_count_ok")
        met = section.get("met")
        lines.append(
            f"{label:16} {_cell(median['rps'], 9)} {_cell(median['p50_ms'], 8)} "
            f"{_cell(median['p99_ms'], 8)} {median['errors']:>7} {_cell(ratio, 7, 3)} "
            f"{_yes_no(card):>5} {_yes_no(met):>7} {_cell(median['server_cpu_cores'], 11, 2)} "
            f"{_cell(median['client_cpu_cores'], 11, 2)}"
        )
    lines.append("")
    lines.append(
        f"target (PostgreSQL): >= {TARGET_RATIO}x bare and p99 < {TARGET_P99_MS:.0f} ms "
        "(informational)"
    )
    lines.append("CPU columns: cores kept busy during the measured phase (1.00 = one full core)")
    return lines


def _cell(value: float | None, width: int, decimals: int = 1) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.{decimals}f}"


def _yes_no(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "no")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bench, write results.json, print the summary; 1 if the bench could not run."""
    args = parse_args(argv)
    databases.secret_key()  # before any bot process starts: they all share it
    workdir = Path(tempfile.mkdtemp(prefix="ambassador-bench-"))
    results: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "config": _config(args),
    }
    results["config"]["server_logs"] = (
        str(workdir) if args.keep_tmp else "deleted after the run (keep them with --keep-tmp)"
    )
    plan = [f"{args.runs} run(s) of {', '.join(args.suites)} on {', '.join(args.backends)}"]
    if "joins" in args.suites:
        plan.append(
            f"{args.concurrency} clients, {args.requests} joins and {args.bare_requests} bare "
            "requests per run"
        )
    if "challenges" in args.suites:
        plan.append(
            f"{args.challenges} challenges, {args.challenge_due} due over "
            f"{args.challenge_window:g} s"
        )
    print(f"bench: {'; '.join(plan)}; logs in {workdir}", flush=True)
    code = 0
    try:
        asyncio.run(bench(args, workdir, results))
    except BenchError as exc:
        results["error"] = str(exc)
        print(f"bench: {exc}", file=sys.stderr)
        code = 1
    finally:
        _write(args.output, results)
        if args.keep_tmp or code:
            print(f"bench: server logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if code == 0:
        print()
        print(summary_table(results))
    print(f"\nresults: {args.output}")
    return code


# The results.json keys each suite writes.
SECTIONS = {
    "joins": ("bare", "join_sqlite", "join_postgresql", "targets"),
    "challenges": ("challenges",),
    "pulses": ("pulses",),
    "badges": ("badges",),
    "mentoring": ("mentoring",),
    "slack": ("slack",),
    "teams": ("teams",),
    "retention": ("retention",),
    "dashboard": ("dashboard",),
    "responsiveness": ("responsiveness",),
    "floor": ("floor",),
    "themes": ("themes",),
}


def _write(path: Path, results: dict[str, Any]) -> None:
    """Write `results`, keeping the sections of suites not run this time from the file
    already there (each suite's latest figures stay side by side, with when they were
    measured in `measured_at`)."""
    merged: dict[str, Any] = {}
    if path.is_file():
        try:
            merged = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            merged = {}
    suites = results["config"].get("suites", [])
    measured_at = dict(merged.get("measured_at", {}))
    for suite, keys in SECTIONS.items():  # a file from before measured_at existed
        if suite not in measured_at and any(key in merged for key in keys):
            measured_at[suite] = {
                "at": merged.get("generated_at"),
                "machine": merged.get("machine"),
                "config": merged.get("config"),
            }
    for suite in suites:
        for key in SECTIONS.get(suite, ()):
            merged.pop(key, None)
    for suite in suites:
        measured_at[suite] = {
            "at": results["generated_at"],
            "machine": results["machine"],
            "config": results["config"],
        }
    merged.update(results)
    merged["measured_at"] = measured_at
    path.write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
