"""The responsiveness suite (issue 18): how long after its ack a Slack request is answered,
under a steady stream of requests.

One `ambassador-bot serve` process on a fresh database (SQLite or PostgreSQL) per phase;
distinct people send signed Slack requests at a steady rate (open loop: request i leaves
at t0 + i/rate whether or not the earlier ones were answered). Two kinds of stream:

- joins: `/ambassador join`, one new learner each; the answer is the welcome posted to the
  request's response_url;
- clicks: a learner who already gave the pulse's score (0-10) clicks a satisfaction button
  (`pulse.lsat`, 1-5), the click that makes the bot answer with a form: the pulse's details
  modal, opened with views.open and the click's trigger_id. Its set-up (the learners, an
  open community pulse sent to them, their scores) is loaded in bulk (bench/bulk.py); the
  measured clicks are real signed requests.

The answers arrive at the fake Slack (tests/support/fake_slack.py), which runs in this
process: the delay from a request's ack (its HTTP 200 read here) to its answer's arrival
is read on one monotonic clock. Per phase: p50, p99, max of that delay over all requests
(one never answered counts as slower than any), the share answered within 3 s, the
answers counted per request (0: lost, more than 1: duplicated; counted after a grace
period), the server's CPU per handled request (/proc/<pid>/stat over the phase and its
drain), and the sender's achieved rate and own CPU (with the fake Slack's: same process).

Each kind and backend gets a target phase (--responsiveness-rate for
--responsiveness-seconds) and a ramp of shorter steps at rising rates, each on a fresh
server with fresh learners, stopped once a step leaves requests unanswered past the grace.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bench import bulk, hotspots, slack
from bench.loadgen import Sent, percentile, run_open_loop, unlimited_session
from bench.servers import BenchError, ServerProcess, free_port, scan_log
from bot.adapters.slack.blocks import slack_action_id
from bot.handlers.pulse_cards import LSAT_ACTION
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import button_click, command_fields

KINDS = ("joins", "clicks")
BACKENDS = ("sqlite", "postgresql")
TARGET_RATE = 50
TARGET_SECONDS = 60.0
TARGET_P99_S = 1.0
RAMP_RATES = (25, 50, 75, 100, 150, 200, 250)
RAMP_SECONDS = 15.0
RAMP_P99_S = 3.0
RAMP_GOAL_RATE = 150
# Server CPU per handled join (ms), from the issue; clicks are reported, not judged.
TARGET_CPU_MS = {"postgresql": 2.0, "sqlite": 3.0}
WITHIN_S = 3.0
GRACE_S = 30.0
SETTLE_S = 1.0  # after the last answer expected: a duplicate would arrive by now
WARMUP = 20
WARMUP_RATE = 20.0
PULSE_ID = 1
SCORE = 9
LSAT = 4
QUICK = {"rate": 10, "seconds": 3.0, "rates": (10, 20), "step_seconds": 2.0, "grace": 10.0}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The suite's options, added to `python -m bench.run`'s parser."""
    group = parser.add_argument_group("responsiveness suite")
    group.add_argument(
        "--responsiveness-kinds",
        default=",".join(KINDS),
        help="comma-separated streams to measure (default: joins,clicks)",
    )
    group.add_argument(
        "--responsiveness-rate",
        type=float,
        default=TARGET_RATE,
        help="requests/s of the target phase (default: %(default)s)",
    )
    group.add_argument(
        "--responsiveness-seconds",
        type=float,
        default=TARGET_SECONDS,
        help="length of the target phase in seconds, 0 to skip it (default: %(default)s)",
    )
    group.add_argument(
        "--responsiveness-rates",
        default=",".join(str(rate) for rate in RAMP_RATES),
        help="comma-separated requests/s of the ramp's steps, empty to skip it "
        "(default: %(default)s)",
    )
    group.add_argument(
        "--responsiveness-step-seconds",
        type=float,
        default=RAMP_SECONDS,
        help="length of each ramp step in seconds (default: %(default)s)",
    )
    group.add_argument(
        "--responsiveness-grace",
        type=float,
        default=GRACE_S,
        help="seconds after a phase's last request to wait for late answers; one still "
        "missing then is lost (default: %(default)s)",
    )
    group.add_argument(
        "--responsiveness-profile",
        action="store_true",
        help="sample the server with py-spy during each measured stream and report where its "
        "CPU goes, by category (bench/hotspots.py; the raw profiles stay in the logs folder)",
    )
    group.add_argument(
        "--responsiveness-quick",
        action="store_true",
        help="a smoke run of seconds: target phase 3 s at 10/s, ramp 10 and 20/s of 2 s, "
        "grace 10 s",
    )


def settings_of(args: argparse.Namespace) -> dict[str, Any]:
    """The suite's parameters (--responsiveness-quick applied), for the run and results.json."""
    kinds = [k.strip() for k in args.responsiveness_kinds.split(",") if k.strip()]
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise BenchError(f"unknown responsiveness kind(s) {unknown}; choose among {KINDS}")
    rates = tuple(float(r) for r in args.responsiveness_rates.split(",") if r.strip())
    found = {
        "kinds": kinds,
        "rate": args.responsiveness_rate,
        "seconds": args.responsiveness_seconds,
        "rates": rates,
        "step_seconds": args.responsiveness_step_seconds,
        "grace": args.responsiveness_grace,
    }
    if args.responsiveness_quick:
        found.update(QUICK)
    return found


# --- what is sent, and what answers it -----------------------------------------------------


def _join(fake: FakeSlack, prefix: str) -> Callable[[int], dict[str, str]]:
    """Request i: learner U<prefix><i> joins; the welcome goes to response_url <prefix><i>."""

    def fields(index: int) -> dict[str, str]:
        name = f"{prefix}{index}"
        return command_fields(f"U{name}", "join", response_url=fake.response_url(name))

    return fields


def _click(fake: FakeSlack, prefix: str) -> Callable[[int], dict[str, str]]:
    """Request i: learner U<prefix><i> clicks satisfaction LSAT in the pulse's DM; the
    modal it opens names the click's trigger_id <prefix><i>. A refusal (a click the bot
    judged invalid) would go to response_url <prefix><i>."""
    action = {"action_id": slack_action_id(LSAT_ACTION, LSAT - 1), "value": f"{PULSE_ID}:{LSAT}"}

    def fields(index: int) -> dict[str, str]:
        name = f"{prefix}{index}"
        user = f"U{name}"
        payload = button_click(
            user, action, fake.response_url(name), channel=f"D{user}", trigger_id=name
        )
        return {"payload": json.dumps(payload)}

    return fields


def check_ack(answer: Any) -> str | None:
    """Slash commands and clicks are acknowledged with an empty 200 once recorded."""
    return None if answer is None else f"unexpected ack: {str(answer)[:100]}"


class Answers:
    """The answers the fake Slack received, by request name: for joins, what was posted to
    the request's response_url; for clicks, the views.open calls naming its trigger_id
    (and, apart, anything posted to a click's response_url: a refusal)."""

    def __init__(self, fake: FakeSlack, kind: str) -> None:
        self._fake = fake
        self._kind = kind
        self._seen = 0  # calls already read
        self.opened: dict[str, list[float]] = {}

    def times(self, name: str) -> list[float]:
        """When each answer to request `name` arrived (time.monotonic), in order."""
        if self._kind == "joins":
            return self._fake.response_times.get(name, [])
        calls, times = self._fake.calls, self._fake.times
        for index in range(self._seen, len(calls)):
            method, body = calls[index]
            if method == "views.open":
                self.opened.setdefault(str(body.get("trigger_id")), []).append(times[index])
        self._seen = len(calls)
        return self.opened.get(name, [])

    def wrong(self, name: str) -> int:
        """Answers that are not the expected one: for joins, a post without the welcome; for
        clicks, any post to the response_url (the bot refused the click)."""
        bodies = self._fake.responses.get(name, [])
        if self._kind == "joins":
            return sum(1 for body in bodies if slack.JOINED not in str(body.get("text", "")))
        return len(bodies)


# --- set-up -------------------------------------------------------------------------------


def click_rows(users: list[str], now: datetime) -> dict[str, list[dict[str, Any]]]:
    """The Slack workspace T1, its animator, `users` as learners who joined, an open
    community pulse sent to them all, and each one's score: every click on a satisfaction
    button is then valid and answered with the details form."""
    start = now - timedelta(days=1)
    data: dict[str, list[dict[str, Any]]] = {
        "workspace": [
            {"id": 1, "platform": "slack", "external_id": "T1", "name": "Acme", "created_at": start}
        ],
        "member": [
            {
                "id": 1,
                "workspace_id": 1,
                "user_id": slack.ANIMATOR,
                "display_name": "Animator",
                "role": "animator",
                "created_at": start,
            }
        ],
        "pulse": [
            {
                "id": PULSE_ID,
                "workspace_id": 1,
                "session_id": None,  # the community: no participants to leave out
                "created_by_id": 1,
                "conversation": "C1",
                "status": "open",
                "send_at": start,
                "closes_at": now + timedelta(days=3),
                "sent_at": start,
                "reminders_sent": 1,
                "recipients": len(users),
                "created_at": start,
            }
        ],
        "pulse_recipient": [],
        "pulse_answer": [],
    }
    for n, user in enumerate(users):
        member_id = n + 2
        data["member"].append(
            {
                "id": member_id,
                "workspace_id": 1,
                "user_id": user,
                "display_name": f"Learner {n}",
                "role": "learner",
                "joined_at": start,
                "created_at": start,
            }
        )
        data["pulse_recipient"].append(
            {"id": n + 1, "pulse_id": PULSE_ID, "member_id": member_id, "asked_at": start}
        )
        data["pulse_answer"].append(
            {
                "id": n + 1,
                "pulse_id": PULSE_ID,
                "member_id": member_id,
                "score": SCORE,
                "created_at": start,
                "updated_at": start,
            }
        )
    return data


# --- one phase ----------------------------------------------------------------------------


async def _collect(
    answers: Answers, names: list[str], last_due: float, grace: float
) -> tuple[float, bool]:
    """Wait until every request in `names` was answered, or `grace` seconds after the last
    one was due; then SETTLE_S more for duplicates. When the wait ended, and whether all
    were answered."""
    pending = list(names)
    while True:
        pending = [name for name in pending if not answers.times(name)]
        if not pending or time.monotonic() > last_due + grace:
            break
        await asyncio.sleep(0.1)
    ended = time.monotonic()
    await asyncio.sleep(SETTLE_S)
    return ended, not pending


async def _stream(
    client: aiohttp.ClientSession,
    url: str,
    fake: FakeSlack,
    kind: str,
    prefix: str,
    rate: float,
    total: int,
) -> list[Sent]:
    fields = (_join if kind == "joins" else _click)(fake, prefix)
    return await run_open_loop(
        client,
        url,
        fields,
        check_ack,
        rate=rate,
        total=total,
        encode=slack.signed_form,
    )


def figures(
    sent: list[Sent],
    names: list[str],
    answers: Answers,
    rate: float,
    seconds: float,
) -> dict[str, Any]:
    """A phase's figures: the sender's rate, the acks, the delays from ack to answer."""
    delays: list[float] = []
    counts = []
    wrong = 0
    for record, name in zip(sent, names, strict=True):
        arrived = answers.times(name)
        counts.append(len(arrived))
        wrong += answers.wrong(name)
        # A request whose ack failed, yet answered, counts from when it left.
        base = record.acked if record.problem is None else record.sent
        delays.append(arrived[0] - base if arrived and base is not None else math.inf)
    ordered = sorted(delays)
    left = [r.sent for r in sent if r.sent is not None]
    achieved = (len(left) - 1) / (max(left) - min(left)) if len(left) > 1 else None
    lags = sorted((r.sent - r.due) * 1000 for r in sent if r.sent is not None)
    acks = sorted((r.acked - r.sent) * 1000 for r in sent if r.acked and r.sent)
    problems: dict[str, int] = {}
    for record in sent:
        if record.problem is not None:
            problems[record.problem] = problems.get(record.problem, 0) + 1
    return {
        "rate": rate,
        "seconds": seconds,
        "requests": len(sent),
        "achieved_send_rate": round(achieved, 1) if achieved else None,
        "send_lag_p99_ms": _r(percentile(lags, 99)),
        "ack_errors": sum(problems.values()),
        "ack_error_kinds": dict(sorted(problems.items(), key=lambda kv: -kv[1])[:5]),
        "ack_p50_ms": _r(percentile(acks, 50)),
        "ack_p99_ms": _r(percentile(acks, 99)),
        "answered": sum(1 for c in counts if c),
        "lost": sum(1 for c in counts if c == 0),
        "duplicated": sum(c - 1 for c in counts if c > 1),
        "wrong_answers": wrong,
        "p50_s": _finite(percentile(ordered, 50)),
        "p99_s": _finite(percentile(ordered, 99)),
        "max_s": _finite(ordered[-1] if ordered else None),
        "within_3s_pct": (
            round(100 * sum(1 for d in delays if d <= WITHIN_S) / len(delays), 1)
            if delays
            else None
        ),
    }


def _r(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _finite(value: float | None) -> float | None:
    """A delay in seconds; None when it falls on a request never answered."""
    return None if value is None or math.isinf(value) else round(value, 3)


async def measure_phase(
    args: argparse.Namespace,
    fake: FakeSlack,
    backend: str,
    kind: str,
    rate: float,
    seconds: float,
    grace: float,
    label: str,
    workdir: Path,
) -> dict[str, Any]:
    """One phase: a fresh database and `serve` process, a warm-up, then `rate` requests/s
    of `kind` for `seconds`, and the answers counted once the grace period is over."""
    total = max(1, round(rate * seconds))
    prefix = f"{label}-"
    warm = [f"{prefix}w{i}" for i in range(WARMUP)]
    names = [f"{prefix}m{i}" for i in range(total)]
    data = {}
    if kind == "clicks":
        data = click_rows([f"U{name}" for name in warm + names], datetime.now(UTC))
    async with bulk.loaded_database(backend, args.database_url, workdir, label, data) as (
        url,
        _engine,
        _loaded,
    ):
        port = free_port()
        server = ServerProcess(
            name=f"bot over Slack on {backend} ({label})",
            argv=[
                sys.executable,
                "-m",
                "bot",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=slack.bot_env(fake, DATABASE_URL=url),
            log_path=workdir / f"{label}.log",
            port=port,
        )
        control_timeout = aiohttp.ClientTimeout(total=30)
        async with (
            aiohttp.ClientSession(timeout=control_timeout) as control,
            server.running(control),
        ):
            if kind == "joins":
                await slack.open_session(control, server.url, fake, f"{prefix}session")
            answers = Answers(fake, kind)
            endpoint = f"{server.url}/slack/events"
            async with unlimited_session() as client:
                warmup = await _stream(
                    client, endpoint, fake, kind, f"{prefix}w", WARMUP_RATE, WARMUP
                )
                await _collect(answers, warm, warmup[-1].due, grace)
                server_cpu, client_cpu = server.cpu_seconds(), time.process_time()
                profile = workdir / f"{label}.spy"
                profiling = (
                    asyncio.create_task(hotspots.record(server.pid, seconds, profile))
                    if getattr(args, "responsiveness_profile", False) and server.pid
                    else None
                )
                sent = await _stream(client, endpoint, fake, kind, f"{prefix}m", rate, total)
                if profiling is not None:
                    await profiling
                ended, _all = await _collect(answers, names, sent[-1].due, grace)
                # CPU from the first request to the last answer (or the grace's end): the
                # backlog handled after the sending stopped belongs to the phase too.
                server_end = server.cpu_seconds()
                client_used = time.process_time() - client_cpu
    found = figures(sent, names, answers, rate, seconds)
    cpu = None if server_cpu is None or server_end is None else server_end - server_cpu
    handled = found["answered"] or 1
    span = ended - sent[0].due
    found.update(
        warmup_lost=sum(1 for name in warm if not answers.times(name)),
        drained_after_s=round(max(0.0, ended - sent[-1].due), 2),
        server_cpu_ms_per_request=None if cpu is None else round(cpu * 1000 / handled, 2),
        server_cpu_cores=None if cpu is None or span <= 0 else round(cpu / span, 2),
        client_cpu_ms_per_request=round(client_used * 1000 / total, 2),
        client_cpu_cores=round(client_used / span, 2) if span > 0 else None,
        # Other work on the machine weighs on every figure: the 1-minute load at the end.
        machine_load_1m=round(os.getloadavg()[0], 2),
        server_exit_code=server.returncode,
        server_log=scan_log(server.log_path),
    )
    if profiling is not None and profile.exists():
        found["hotspots"] = {"profile": profile.name, **hotspots.categorise(profile)}
    return found


def step_ok(found: dict[str, Any], p99_limit: float) -> bool:
    """A phase kept up: p99 under the limit, every request acked and answered exactly once."""
    p99 = found.get("p99_s")
    return bool(
        p99 is not None
        and p99 < p99_limit
        and found["ack_errors"] == 0
        and found["lost"] == 0
        and found["duplicated"] == 0
        and found["wrong_answers"] == 0
    )


def _progress(backend: str, kind: str, what: str, found: dict[str, Any]) -> None:
    print(
        f"  responsiveness {backend} {kind} {what}: {found['rate']:g}/s asked, "
        f"{found['achieved_send_rate']}/s sent; ack→answer p50 {_s(found['p50_s'])}, "
        f"p99 {_s(found['p99_s'])}, max {_s(found['max_s'])}, {found['within_3s_pct']}% "
        f"within 3 s; lost {found['lost']}, duplicated {found['duplicated']}, wrong "
        f"{found['wrong_answers']}, ack errors {found['ack_errors']}; server "
        f"{found['server_cpu_ms_per_request']} ms CPU/request; machine load "
        f"{found['machine_load_1m']}",
        flush=True,
    )


def _s(value: float | None) -> str:
    return "unanswered" if value is None else f"{value:.2f} s"


# --- the suite ----------------------------------------------------------------------------


async def run_suite(
    args: argparse.Namespace, workdir: Path, results: dict[str, Any], skipped: dict[str, str]
) -> None:
    """For each run, backend and kind: the target phase, then the ramp (interleaved runs)."""
    chosen = settings_of(args)
    section: dict[str, Any] = {
        "config": {**chosen, "runs": args.runs, "warmup_per_phase": WARMUP},
        "targets": {
            "target_rate": TARGET_RATE,
            "target_seconds": TARGET_SECONDS,
            "target_p99_s": TARGET_P99_S,
            "ramp_p99_s": RAMP_P99_S,
            "ramp_goal_rate": RAMP_GOAL_RATE,
            "server_cpu_ms_per_join": TARGET_CPU_MS,
            "lost": 0,
            "duplicated": 0,
            "note": "from issue 18: p99 ack→answer < 1 s at 50 requests/s for 60 s per kind "
            "and backend; the highest steady rate keeping p99 < 3 s at least 150/s; every "
            "answer delivered exactly once; server CPU per join ≤ 2 ms on PostgreSQL, ≤ 3 ms "
            "on SQLite; medians of the runs; informational, never fails the bench",
        },
    }
    results["responsiveness"] = section
    backends = [b for b in args.backends if b not in skipped]
    for backend in args.backends:
        if backend in skipped:
            section[backend] = {"skipped": skipped[backend]}
    runs: dict[tuple[str, str], dict[str, list[Any]]] = {
        (b, k): {"target": [], "ramp": []} for b in backends for k in chosen["kinds"]
    }
    fake = FakeSlack()
    await fake.start()
    try:
        for run in range(1, args.runs + 1):
            for backend in backends:
                for kind in chosen["kinds"]:
                    await _one_run(args, chosen, fake, backend, kind, run, runs, workdir)
                    _summarise(section, chosen, runs, backend, kind)
    finally:
        await fake.close()
    section["met"] = (
        all(section[b][k].get("met") for b in backends for k in chosen["kinds"])
        if backends
        else None
    )


async def _one_run(
    args: argparse.Namespace,
    chosen: dict[str, Any],
    fake: FakeSlack,
    backend: str,
    kind: str,
    run: int,
    runs: dict[tuple[str, str], dict[str, list[Any]]],
    workdir: Path,
) -> None:
    tag = f"resp-{backend[:2]}-{kind}-r{run}"
    if chosen["seconds"] > 0:
        found = await measure_phase(
            args,
            fake,
            backend,
            kind,
            chosen["rate"],
            chosen["seconds"],
            chosen["grace"],
            f"{tag}-target",
            workdir,
        )
        found["run"] = run
        runs[(backend, kind)]["target"].append(found)
        _progress(backend, kind, f"run {run} target", found)
    steps: list[dict[str, Any]] = []
    runs[(backend, kind)]["ramp"].append(steps)
    for rate in chosen["rates"]:
        found = await measure_phase(
            args,
            fake,
            backend,
            kind,
            rate,
            chosen["step_seconds"],
            chosen["grace"],
            f"{tag}-{rate:g}",
            workdir,
        )
        found["ok"] = step_ok(found, RAMP_P99_S)
        steps.append(found)
        _progress(backend, kind, f"run {run} ramp", found)
        if found["lost"] or found["ack_errors"]:
            print(f"  responsiveness {backend} {kind}: ramp stopped at {rate:g}/s", flush=True)
            break


def _median(values: list[Any]) -> float | None:
    kept = [v for v in values if v is not None]
    return round(statistics.median(kept), 3) if kept else None


def _summarise(
    section: dict[str, Any],
    chosen: dict[str, Any],
    runs: dict[tuple[str, str], dict[str, list[Any]]],
    backend: str,
    kind: str,
) -> None:
    """The medians of the runs so far for one backend and kind, and whether the targets
    are met (written after every run: a bench cut short keeps what it measured)."""
    found = runs[(backend, kind)]
    target_runs, ramps = found["target"], found["ramp"]
    summary: dict[str, Any] = {"target_runs": target_runs, "ramp_runs": ramps}
    met: dict[str, bool | None] = {}
    if target_runs:
        median = {
            key: _median([r[key] for r in target_runs])
            for key in (
                "achieved_send_rate",
                "p50_s",
                "p99_s",
                "max_s",
                "within_3s_pct",
                "server_cpu_ms_per_request",
                "client_cpu_ms_per_request",
                "ack_p99_ms",
            )
        }
        for key in ("lost", "duplicated", "wrong_answers", "ack_errors"):
            median[key] = sum(r[key] for r in target_runs)
        summary["target"] = {"rate": chosen["rate"], "seconds": chosen["seconds"], **median}
        # A p99 that fell on a request never answered is None: not met.
        met["p99"] = (
            median["p99_s"] is not None
            and all(r["p99_s"] is not None for r in target_runs)
            and median["p99_s"] < TARGET_P99_S
        )
        met["exactly_once"] = median["lost"] == 0 and median["duplicated"] == 0
        if kind == "joins":
            cpu = median["server_cpu_ms_per_request"]
            met["cpu"] = cpu is not None and cpu <= TARGET_CPU_MS[backend]
    if ramps:
        rates: dict[str, Any] = {}
        for steps in ramps:
            for step in steps:
                rates.setdefault(f"{step['rate']:g}", []).append(step)
        per_rate = {
            rate: {
                "runs": len(steps),
                "achieved_send_rate": _median([s["achieved_send_rate"] for s in steps]),
                "p50_s": _median([s["p50_s"] for s in steps]),
                "p99_s": _median([s["p99_s"] for s in steps]),
                "max_s": _median([s["max_s"] for s in steps]),
                "within_3s_pct": _median([s["within_3s_pct"] for s in steps]),
                "server_cpu_ms_per_request": _median(
                    [s["server_cpu_ms_per_request"] for s in steps]
                ),
                "client_cpu_cores": _median([s["client_cpu_cores"] for s in steps]),
                "lost": sum(s["lost"] for s in steps),
                "duplicated": sum(s["duplicated"] for s in steps),
                "ok_in_runs": sum(1 for s in steps if s["ok"]),
            }
            for rate, steps in rates.items()
        }
        best = [max((s["rate"] for s in steps if s["ok"]), default=0.0) for steps in ramps]
        summary["ramp"] = {
            "per_rate": per_rate,
            "max_rate_p99_under_3s_per_run": best,
            "max_rate_p99_under_3s": _median(best),
        }
        met["ramp"] = (summary["ramp"]["max_rate_p99_under_3s"] or 0) >= RAMP_GOAL_RATE
        lost = sum(v["lost"] + v["duplicated"] for v in per_rate.values())
        met["exactly_once"] = met.get("exactly_once", True) and lost == 0
    summary["targets"] = met
    summary["met"] = bool(met) and all(met.values())
    section.setdefault(backend, {})[kind] = summary


def summary_lines(section: dict[str, Any]) -> list[str]:
    """The responsiveness suite in a few lines, for the terminal."""
    config = section.get("config", {})
    targets = section.get("targets", {})
    lines = [
        f"responsiveness: ack → answer of signed Slack requests at a steady rate, one serve "
        f"process; medians of {config.get('runs')} run(s); target p99 < "
        f"{targets.get('target_p99_s')} s at {targets.get('target_rate')}/s, ≥ "
        f"{targets.get('ramp_goal_rate')}/s with p99 < {targets.get('ramp_p99_s')} s, none "
        "lost or duplicated"
    ]
    for backend in BACKENDS:
        found = section.get(backend)
        if not found:
            continue
        if "skipped" in found:
            lines.append(f"  {backend}: skipped: {found['skipped']}")
            continue
        for kind, summary in found.items():
            target = summary.get("target")
            if target:
                lines.append(
                    f"  {backend} {kind} at {target['rate']:g}/s for {target['seconds']:g} s: "
                    f"p50 {_s(target['p50_s'])}, p99 {_s(target['p99_s'])}, "
                    f"{target['within_3s_pct']}% within 3 s, lost {target['lost']}, "
                    f"duplicated {target['duplicated']}, server "
                    f"{target['server_cpu_ms_per_request']} ms CPU/request"
                )
            ramp = summary.get("ramp")
            if ramp:
                steps = ", ".join(
                    f"{rate}/s p99 {_s(step['p99_s'])}" for rate, step in ramp["per_rate"].items()
                )
                lines.append(
                    f"  {backend} {kind} ramp: {steps}; highest with p99 < 3 s: "
                    f"{ramp['max_rate_p99_under_3s']}/s"
                )
            lines.append(
                f"  {backend} {kind}: {'met' if summary.get('met') else 'NOT met'} "
                f"{summary.get('targets')}"
            )
    return lines


def merge(sections: list[dict[str, Any]]) -> dict[str, Any]:
    """One section from several runs of the suite, each with a section of its own (as runs
    taken in different sittings are written): the runs side by side, renumbered in order,
    and the medians over all of them, as `--runs N` would have written them. The config is
    the first section's, with each section's own kept in `merged_from`."""
    first = sections[0]
    chosen = dict(first["config"])
    merged: dict[str, Any] = {
        "config": {**chosen, "runs": len(sections)},
        "targets": first["targets"],
        "merged_from": [section["config"] for section in sections],
    }
    runs: dict[tuple[str, str], dict[str, list[Any]]] = {}
    for number, section in enumerate(sections, start=1):
        for backend in BACKENDS:
            for kind, summary in (section.get(backend) or {}).items():
                if kind == "skipped":
                    continue
                found = runs.setdefault((backend, kind), {"target": [], "ramp": []})
                for phase in summary.get("target_runs", []):
                    found["target"].append({**phase, "run": number})
                found["ramp"].extend(summary.get("ramp_runs", []))
    for backend, kind in runs:
        _summarise(merged, chosen, runs, backend, kind)
    merged["met"] = (
        all(summary.get("met") for b, _k in runs for summary in [merged[b][_k]]) if runs else None
    )
    return merged


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.responsiveness --merge A.json B.json … --output bench/results.json`:
    the responsiveness sections of the files named, merged (`merge`), written into the
    output file's `responsiveness` section (the file's other sections are kept)."""
    parser = argparse.ArgumentParser(prog="python -m bench.responsiveness")
    parser.add_argument("--merge", nargs="+", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)
    sections = [
        json.loads(path.read_text(encoding="utf-8"))["responsiveness"] for path in args.merge
    ]
    merged = merge(sections)
    merged["merged_from_files"] = [str(path) for path in args.merge]
    results = json.loads(args.output.read_text(encoding="utf-8"))
    results["responsiveness"] = merged
    args.output.write_text(
        json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print("\n".join(summary_lines(merged)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
