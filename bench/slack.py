"""The Slack suite (issue 7's targets), next to its references measured in the same run.

- ack: signed `/ambassador join` slash commands, form-encoded and signed exactly as Slack
  sends them, from distinct learners, 50 concurrent, against the bot (a fresh process and
  database per run and backend) and against a bare slack-bolt AsyncApp on aiohttp that
  only acknowledges (bench/bare_slack.py). Target: the bot's requests/s at least 0.8× the
  bare app's, and its p99 no more than 1.25× the bare app's p99.
- fan-out: 1,000 DMs through the outbox to the fake Slack, which answers 429 (Retry-After)
  beyond R posts per minute; the bot's workspace pace is set to R. Target: done within
  10% of the ideal 1000/R minutes, none lost, none duplicated.

The fake Slack (tests/support/fake_slack.py) runs in this process on loopback; the bot
posts its welcome DMs and looks people up there while the load runs, as it would on Slack.
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
from urllib.parse import urlencode

import aiohttp

from bench import databases
from bench.loadgen import LoadResult, client_session, run_load
from bench.servers import BenchError, ServerProcess, free_port, scan_log
from bot.adapters.slack.sender import SlackPacing, SlackSender
from bot.clock import Clock
from bot.core.replies import OutboundMessage
from bot.outbox.queue import Outbox
from bot.server import create_runtime
from bot.settings import RateLimitSettings, load_settings
from storage import workspaces
from storage.db import create_engine
from storage.migrate import upgrade
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SECRET, command_fields, sign

TARGET_THROUGHPUT_RATIO = 0.8
TARGET_P99_RATIO = 1.25
TARGET_FANOUT_RATIO = 1.10
ANIMATOR = "UANIM"
JOINED = "Welcome aboard"
REPO = Path(__file__).resolve().parents[1]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The Slack suite's options."""
    parser.add_argument(
        "--slack-requests", type=int, default=3000, help="measured slash commands per run"
    )
    parser.add_argument("--slack-dms", type=int, default=1000, help="DMs of the fan-out")
    parser.add_argument(
        "--slack-rate",
        type=int,
        default=1200,
        help="posts per minute the fake Slack allows (429 beyond) and the bot paces to",
    )


def signed_form(fields: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """A slash command as Slack posts it: form-encoded, signed now."""
    body = urlencode(fields)
    return body.encode(), sign(body)


def _learner(prefix: str, fake: FakeSlack | None) -> Any:
    """Request i: learner U<prefix><i> joins; with a fake Slack, its answer is posted to
    the response_url named <prefix><i> there."""

    def body(index: int) -> dict[str, str]:
        user = f"U{prefix}{index}"
        if fake is None:
            return command_fields(user, "join")
        return command_fields(user, "join", response_url=fake.response_url(f"{prefix}{index}"))

    return body


def check_recorded(answer: Any) -> str | None:
    """The bot acknowledges with an empty 200 once the request is recorded (the welcome
    follows through the response_url)."""
    return None if answer is None else f"unexpected ack: {str(answer)[:100]}"


def check_acked(answer: Any) -> str | None:
    """The bare app answers {"text": "ok"}."""
    return None if isinstance(answer, dict) and answer.get("text") == "ok" else "not acked"


def bot_env(fake: FakeSlack, **more: str) -> dict[str, str]:
    """A bot process's environment: one Slack workspace served by `fake`, UANIM its admin,
    English, JSON logs; `more` adds (DATABASE_URL…)."""
    env = dict(os.environ)
    env.update(
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_BOT_TOKEN=fake.token,
        SLACK_API_BASE_URL=fake.base_url,
        AMBASSADOR_ADMINS=f"slack:{ANIMATOR}",
        AMBASSADOR_LOCALE="en",
        LOG_FORMAT="json",
        **more,
    )
    return env


async def _load(
    url: str, args: argparse.Namespace, prefix: str, check: Any, fake: FakeSlack | None
) -> LoadResult:
    async with client_session(args.concurrency) as client:
        await run_load(
            client,
            url,
            _learner(f"{prefix}w", fake),
            check,
            total=args.warmup,
            concurrency=args.concurrency,
            encode=signed_form,
        )
        return await run_load(
            client,
            url,
            _learner(f"{prefix}m", fake),
            check,
            total=args.slack_requests,
            concurrency=args.concurrency,
            encode=signed_form,
        )


async def open_session(
    control: aiohttp.ClientSession, base_url: str, fake: FakeSlack, name: str
) -> None:
    """`session start Bench` as the animator; wait for its answer at the response_url."""
    fields = command_fields(ANIMATOR, "session start Bench", response_url=fake.response_url(name))
    payload, headers = signed_form(fields)
    async with control.post(f"{base_url}/slack/events", data=payload, headers=headers) as answer:
        if answer.status != 200:
            raise BenchError(f"session start over Slack: HTTP {answer.status}")
    for _ in range(100):
        if any("is open" in body["text"] for body in fake.responses.get(name, [])):
            return
        await asyncio.sleep(0.1)
    raise BenchError(f"session start over Slack was not answered: {fake.responses.get(name)}")


async def _until_handled(fake: FakeSlack, prefix: str, expected: int) -> tuple[bool, float]:
    """Wait until every join of the run was handled (its welcome posted to its
    response_url); whether all were, and how many seconds after the last ack."""
    started = time.perf_counter()
    while time.perf_counter() - started < 600:
        welcomed = sum(
            1
            for name, bodies in fake.responses.items()
            if name.startswith(prefix) and any(JOINED in body["text"] for body in bodies)
        )
        if welcomed >= expected:
            return True, round(time.perf_counter() - started, 1)
        await asyncio.sleep(0.2)
    return False, round(time.perf_counter() - started, 1)


async def _measure(
    server: ServerProcess,
    args: argparse.Namespace,
    prefix: str,
    check: Any,
    setup: bool,
    fake: FakeSlack | None = None,
) -> dict[str, Any]:
    """One load against `server`; with `fake`, also how long until every join was handled."""
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as control, server.running(control):
        if setup and fake is not None:
            await open_session(control, server.url, fake, f"setup-{prefix}")
        measured = await _load(f"{server.url}/slack/events", args, prefix, check, fake)
        expected = args.warmup + args.slack_requests
        handled = await _until_handled(fake, prefix, expected) if fake is not None else None
    figures = measured.figures()
    if handled is not None:
        figures["all_handled"], figures["handled_within_s"] = handled
    figures["server_log"] = scan_log(server.log_path)
    return figures


async def measure_bare(
    args: argparse.Namespace, fake: FakeSlack, run: int, workdir: Path
) -> dict[str, Any]:
    """The bare bolt app, in its own process."""
    port = free_port()
    server = ServerProcess(
        name=f"bare bolt (run {run})",
        argv=[sys.executable, "-m", "bench.bare_slack", "--port", str(port)],
        env=bot_env(fake),
        log_path=workdir / f"bare-slack-run{run}.log",
        port=port,
    )
    return await _measure(server, args, f"b{run}", check_acked, setup=False)


async def measure_bot(
    args: argparse.Namespace, fake: FakeSlack, backend: str, run: int, workdir: Path
) -> dict[str, Any]:
    """The bot on a fresh database of `backend`, its own process."""
    database: str | None = None
    if backend == "sqlite":
        url = f"sqlite:///{workdir / f'slack-{backend}-run{run}.db'}"
    else:
        database, url = await databases.create_database(args.database_url)
    port = free_port()
    server = ServerProcess(
        name=f"bot over Slack on {backend} (run {run})",
        argv=[sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=bot_env(fake, DATABASE_URL=url),
        log_path=workdir / f"bot-slack-{backend}-run{run}.log",
        port=port,
    )
    try:
        return await _measure(
            server, args, f"{backend[0]}{run}", check_recorded, setup=True, fake=fake
        )
    finally:
        if database is not None:
            await databases.drop_database(args.database_url, database)


async def measure_fanout(args: argparse.Namespace, backend: str, workdir: Path) -> dict[str, Any]:
    """1,000 DMs through the real outbox and Slack sender to a fake Slack limited to R/min."""
    rate = args.slack_rate
    fake = FakeSlack(rate=rate, window=60.0, retry_after="1")
    await fake.start()
    database: str | None = None
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'slack-fanout.db'}"
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
            "SLACK_BOT_TOKEN": fake.token,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_BASE_URL": fake.base_url,
        }
    )
    runtime = create_runtime(settings, Clock())
    limits = RateLimitSettings(slack_workspace_posts_per_minute=rate)

    async def token_for(_team: str) -> str | None:
        return fake.token

    sender = SlackSender(token_for, fake.base_url, SlackPacing.from_settings(limits, runtime.clock))
    runtime.sender.register_platform("slack", sender)
    try:
        async with runtime.db_sessions() as db, db.begin():
            team = await workspaces.get_or_create(db, "slack", "T1", runtime.clock.now())
            outbox = Outbox(db, "slack", team.id, runtime.clock.now())
            for n in range(args.slack_dms):
                await outbox.post(f"fan:{n}", f"dm:U{n}", OutboundMessage(f"Pulse question {n}"))
        started = time.perf_counter()
        runtime.sender.start()
        while sum(1 for method, _ in fake.calls if method == "chat.postMessage") < args.slack_dms:
            if time.perf_counter() - started > 3 * args.slack_dms * 60 / rate + 60:
                break
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        await asyncio.sleep(1.0)  # anything sent twice would show up now
    finally:
        await runtime.sender.stop()
        await sender.close()
        await runtime.engine.dispose()
        await fake.close()
        if database is not None:
            await databases.drop_database(args.database_url, database)
    delivered = Counter(body["text"] for method, body in fake.calls if method == "chat.postMessage")
    ideal = args.slack_dms * 60 / rate
    return {
        "dms": args.slack_dms,
        "rate_per_minute": rate,
        "ideal_s": round(ideal, 1),
        "elapsed_s": round(elapsed, 1),
        "ratio_to_ideal": round(elapsed / ideal, 3),
        "lost": args.slack_dms - len(delivered),
        "duplicated": sum(count - 1 for count in delivered.values() if count > 1),
        "answered_429": fake.rejected_429,
        "met": elapsed <= ideal * TARGET_FANOUT_RATIO
        and len(delivered) == args.slack_dms
        and all(count == 1 for count in delivered.values()),
    }


def _median(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [run[key] for run in runs if run.get(key) is not None]
    return round(statistics.median(values), 2) if values else None


async def run_suite(
    args: argparse.Namespace, workdir: Path, results: dict[str, Any], skipped: dict[str, str]
) -> None:
    """Ack runs interleaved (bare, then each backend, then the next run); then the fan-out."""
    section: dict[str, Any] = {
        "config": {
            "requests_per_run": args.slack_requests,
            "warmup_per_run": args.warmup,
            "concurrency": args.concurrency,
            "runs": args.runs,
            "fanout_dms": args.slack_dms,
            "fanout_rate_per_minute": args.slack_rate,
        },
        "targets": {
            "throughput_vs_bare": TARGET_THROUGHPUT_RATIO,
            "p99_vs_bare": TARGET_P99_RATIO,
            "fanout_vs_ideal": TARGET_FANOUT_RATIO,
        },
    }
    results["slack"] = section
    backends = [b for b in args.backends if b not in skipped]
    runs: dict[str, list[dict[str, Any]]] = {"bare": [], **{b: [] for b in backends}}
    fake = FakeSlack()
    await fake.start()
    try:
        for run in range(1, args.runs + 1):
            runs["bare"].append(await measure_bare(args, fake, run, workdir))
            _progress("bare bolt", runs["bare"][-1])
            for backend in backends:
                runs[backend].append(await measure_bot(args, fake, backend, run, workdir))
                _progress(f"bot on {backend}", runs[backend][-1])
    finally:
        await fake.close()
    bare_rps, bare_p99 = _median(runs["bare"], "rps"), _median(runs["bare"], "p99_ms")
    ack: dict[str, Any] = {"bare": {"runs": runs["bare"], "rps": bare_rps, "p99_ms": bare_p99}}
    for backend in backends:
        rps, p99 = _median(runs[backend], "rps"), _median(runs[backend], "p99_ms")
        throughput = round(rps / bare_rps, 3) if rps and bare_rps else None
        tail = round(p99 / bare_p99, 3) if p99 and bare_p99 else None
        ack[backend] = {
            **paired_ratios(runs["bare"], runs[backend]),
            "runs": runs[backend],
            "rps": rps,
            "p50_ms": _median(runs[backend], "p50_ms"),
            "p99_ms": p99,
            "throughput_vs_bare": throughput,
            "p99_vs_bare": tail,
            "met": bool(
                throughput is not None
                and tail is not None
                and throughput >= TARGET_THROUGHPUT_RATIO
                and tail <= TARGET_P99_RATIO
            ),
        }
    section["ack"] = ack
    fanout_backend = "postgresql" if "postgresql" in backends else "sqlite"
    print(f"  fan-out of {args.slack_dms} DMs at {args.slack_rate}/min…", flush=True)
    section["fanout"] = {fanout_backend: await measure_fanout(args, fanout_backend, workdir)}
    print(f"  fan-out: {section['fanout'][fanout_backend]}", flush=True)


def paired_ratios(bare: list[dict[str, Any]], bot: list[dict[str, Any]]) -> dict[str, Any]:
    """Run by run (each bot run right after its bare run), the bot's throughput and p99 over
    the bare app's, and their medians: on a noisy machine these compare like with like."""
    pairs = [
        (b["rps"] / a["rps"], b["p99_ms"] / a["p99_ms"])
        for a, b in zip(bare, bot, strict=False)
        if a.get("rps") and b.get("rps") and a.get("p99_ms") and b.get("p99_ms")
    ]
    return {
        "throughput_vs_bare_per_run": [round(x, 3) for x, _ in pairs],
        "p99_vs_bare_per_run": [round(y, 3) for _, y in pairs],
        "throughput_vs_bare_median_of_runs": (
            round(statistics.median(x for x, _ in pairs), 3) if pairs else None
        ),
        "p99_vs_bare_median_of_runs": (
            round(statistics.median(y for _, y in pairs), 3) if pairs else None
        ),
    }


def _progress(label: str, figures: dict[str, Any]) -> None:
    print(
        f"  slack ack, {label}: {figures['rps']} req/s, p50 {figures['p50_ms']} ms, "
        f"p99 {figures['p99_ms']} ms, errors {figures['errors']}",
        flush=True,
    )


def summary_lines(section: dict[str, Any]) -> list[str]:
    """The Slack suite in a few lines, for the terminal."""
    ack = section.get("ack", {})
    bare = ack.get("bare", {})
    lines = [f"slack ack: bare bolt {bare.get('rps')} req/s, p99 {bare.get('p99_ms')} ms"]
    for backend, found in ack.items():
        if backend == "bare":
            continue
        lines.append(
            f"  {backend}: {found['rps']} req/s ({found['throughput_vs_bare']}× bare, target ≥ "
            f"{TARGET_THROUGHPUT_RATIO}), p99 {found['p99_ms']} ms ({found['p99_vs_bare']}× bare, "
            f"target ≤ {TARGET_P99_RATIO}): {'met' if found['met'] else 'NOT met'}; run by run "
            f"{found.get('throughput_vs_bare_per_run')}× and {found.get('p99_vs_bare_per_run')}×"
        )
    for backend, found in section.get("fanout", {}).items():
        lines.append(
            f"slack fan-out ({backend}): {found['dms']} DMs in {found['elapsed_s']} s, ideal "
            f"{found['ideal_s']} s ({found['ratio_to_ideal']}×, target ≤ {TARGET_FANOUT_RATIO}), "
            f"lost {found['lost']}, duplicated {found['duplicated']}, 429s {found['answered_429']}"
            f": {'met' if found['met'] else 'NOT met'}"
        )
    return lines
