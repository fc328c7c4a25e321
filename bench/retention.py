"""The retention suite: the daily purge deleting 1,000,000 rows past their delay while a load
generator sends playground commands, next to the same load with nothing left to purge.

The rows are loaded with each database's bulk path: raw requests handled 8 days ago and
more (inbox_event), DMs sent 31 days ago and more (outbox_message), replay keys 3 days
old and more (replay_key), plus 1 % of each kept (recent) that must survive. A real bot
server (its own process) then starts on that database: its scheduler's first tick starts
the purge (a start runs the purge, as after a night the bot was down), in batches of
[retention] batch_size rows, SLICE_SECONDS per tick. Meanwhile concurrent learners `join`
through the playground's API, in chunks, until the server logs `retention_done`; then the
same number of joins again with nothing to purge: the baseline. Figures: rows purged,
seconds (the server's own count, from its log), and p50/p99 of the requests served during
the purge next to the baseline's.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, select

from bench import bulk
from bench.loadgen import LoadResult, check_join, client_session, learner_joins, run_load
from bench.servers import BenchError, ServerProcess, free_port
from storage.db import session_factory
from storage.models import InboxEvent, OutboxMessage, ReplayKey

BACKENDS = ("sqlite", "postgresql")
COMMAND_PATH = "/local/api/command"
CONVERSATION = "general"
ANIMATOR = {"id": "anim1", "name": "Anim"}
# The share of the purgeable rows in each table (the rest: replay keys).
SHARES = {"inbox_event": 0.5, "outbox_message": 0.3}
KEPT_SHARE = 0.01
# Past this, the purge is reported as unfinished rather than waited for.
PURGE_TIMEOUT_S = 3600.0
# The baseline: as many joins as during the purge, at most this many (enough for a p99).
BASELINE_MAX = 10_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The suite's options, added to `python -m bench.run`'s parser."""
    group = parser.add_argument_group("retention suite")
    group.add_argument(
        "--retention-rows", type=int, default=1_000_000, help="rows past their delay, purged"
    )
    # A steady flow rather than a flood: 20 clients saturate one SQLite process, and the
    # purge, which always lets requests go first, then crawls (about 600 rows/s; a 1,000,000
    # row backlog took more than 30 minutes there). The nightly purge meets a calm bot.
    group.add_argument(
        "--retention-concurrency", type=int, default=5, help="concurrent learners during it"
    )
    group.add_argument(
        "--retention-chunk", type=int, default=200, help="joins between two looks at the log"
    )


def config(args: argparse.Namespace) -> dict[str, Any]:
    """The suite's parameters, for results.json."""
    rows = args.retention_rows
    inbox, outbox = (int(rows * SHARES[t]) for t in ("inbox_event", "outbox_message"))
    return {
        "purgeable_rows": rows,
        "by_table": {
            "inbox_event": inbox,
            "outbox_message": outbox,
            "replay_key": rows - inbox - outbox,
        },
        "kept_rows": sum(_kept(n) for n in (inbox, outbox, rows - inbox - outbox)),
        "concurrency": args.retention_concurrency,
        "command": "join (a distinct learner each time, a session open)",
        "method": "the server purges at its first scheduler tick (a start); joins run in "
        "chunks until it logs retention_done (rows and seconds from that line); then as many "
        f"joins (at most {BASELINE_MAX:,}) on the same server, nothing left to purge (the "
        "baseline)",
    }


def _kept(purgeable: int) -> int:
    return max(1, int(purgeable * KEPT_SHARE))


def _rows(args: argparse.Namespace, now: datetime) -> dict[str, list[dict[str, Any]]]:
    """Every row to load: the purgeable ones and the few recent ones that must stay."""
    counts = config(args)["by_table"]
    old = now - timedelta(days=40)
    recent = now - timedelta(hours=1)
    data: dict[str, list[dict[str, Any]]] = {
        "workspace": [{"id": 1, "platform": "local", "external_id": "local", "created_at": old}],
        "inbox_event": [],
        "outbox_message": [],
        "replay_key": [],
    }
    for n in range(counts["inbox_event"] + _kept(counts["inbox_event"])):
        at = recent if n >= counts["inbox_event"] else old + timedelta(seconds=n % 86400)
        data["inbox_event"].append(
            {
                "id": n + 1,
                "platform": "slack",
                "kind": "command",
                "payload": json.dumps({"user_id": f"U{n}", "text": "join", "team_id": "T1"}),
                "status": "done",
                "attempts": 1,
                "received_at": at,
                "next_attempt_at": at,
                "done_at": at,
            }
        )
    for n in range(counts["outbox_message"] + _kept(counts["outbox_message"])):
        at = recent if n >= counts["outbox_message"] else old + timedelta(seconds=n % 86400)
        data["outbox_message"].append(
            {
                "id": n + 1,
                "idempotency_key": f"bench:welcome:{n}",
                "platform": "local",
                "workspace_id": 1,
                "target": f"dm:u{n}",
                "kind": "post",
                "payload": json.dumps({"text": f"Welcome aboard, learner {n}!"}),
                "status": "sent",
                "attempts": 0,
                "next_attempt_at": at,
                "created_at": at,
                "sent_at": at,
                "platform_message_id": str(n),
            }
        )
    for n in range(counts["replay_key"] + _kept(counts["replay_key"])):
        at = recent if n >= counts["replay_key"] else old + timedelta(seconds=n % 86400)
        data["replay_key"].append(
            {"id": n + 1, "key": f"request:slack:{n:064x}", "received_at": at}
        )
    return data


class _PurgeLog:
    """The server's `retention_done` line (None: still purging) and its per-rule lines,
    read from its log as it grows (each look reads only what was written since)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._offset = 0
        self.done: dict[str, Any] | None = None
        self.steps: dict[str, Any] = {}

    def read(self) -> dict[str, Any] | None:
        """Read what was logged since the last look; the `retention_done` line, if seen."""
        try:
            with self._path.open("rb") as log:
                log.seek(self._offset)
                chunk = log.read()
        except OSError:
            return self.done
        complete = chunk[: chunk.rfind(b"\n") + 1]  # a line being written waits
        self._offset += len(complete)
        _parse(complete.decode("utf-8", errors="replace").splitlines(), self)
        return self.done


def _parse(lines: list[str], found: _PurgeLog) -> None:
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        if record.get("event") == "retention_purged":
            found.steps[str(record.get("step"))] = {
                "rows": record.get("rows"),
                "batches": record.get("batches"),
                "ms": record.get("ms"),
            }
        elif record.get("event") == "retention_done" and found.done is None:
            found.done = record


def _merge(parts: list[LoadResult]) -> LoadResult:
    merged = LoadResult(requests=sum(p.requests for p in parts), elapsed_s=0.0)
    for part in parts:
        merged.elapsed_s += part.elapsed_s
        merged.latencies_ms += part.latencies_ms
        merged.errors.update(part.errors)
    return merged


async def _load_during_purge(
    args: argparse.Namespace, client: aiohttp.ClientSession, url: str, log: _PurgeLog
) -> tuple[LoadResult, float, float]:
    """Joins, chunk after chunk, until the server says the purge is done; the joins, and
    when (wall clock) they started and ended."""
    parts: list[LoadResult] = []
    started = time.time()
    while log.done is None and time.time() - started < PURGE_TIMEOUT_S:
        parts.append(
            await run_load(
                client,
                url,
                learner_joins(f"p{len(parts)}-", CONVERSATION),
                check_join,
                total=args.retention_chunk,
                concurrency=args.retention_concurrency,
            )
        )
        log.read()
    return _merge(parts), started, time.time()


async def _open_session(client: aiohttp.ClientSession, base_url: str) -> None:
    body = {"user": ANIMATOR, "conversation": CONVERSATION, "text": "session start Bench"}
    async with client.post(f"{base_url}{COMMAND_PATH}", json=body) as response:
        answer = await response.json(content_type=None)
    if response.status != 200 or "is open" not in json.dumps(answer):
        raise BenchError(f"`session start` failed: HTTP {response.status} {answer}")


async def _left(engine: Any) -> dict[str, int]:
    """Rows left in each table: all should be the recent ones."""
    async with session_factory(engine)() as db:
        return {
            model.__tablename__: (
                await db.execute(select(func.count()).select_from(model))
            ).scalar_one()
            for model in (InboxEvent, OutboxMessage, ReplayKey)
        }


async def measure(args: argparse.Namespace, backend: str, workdir: Path) -> dict[str, Any]:
    """Load the rows on `backend`, start a bot on it, measure joins during and after."""
    now = datetime.now(UTC)
    started = time.perf_counter()
    data = _rows(args, now)
    generated_s = time.perf_counter() - started
    async with bulk.loaded_database(backend, args.database_url, workdir, "retention", data) as (
        url,
        engine,
        loaded_s,
    ):
        del data
        figures = await _serve_and_measure(args, backend, url, workdir)
        figures["rows_left"] = await _left(engine)
    expected = config(args)
    figures.update(generate_s=round(generated_s, 1), load_s=round(loaded_s, 1))
    # The joins add their own outbox rows (welcome DMs, card edits): only kept + those.
    figures["recent_rows_kept"] = (
        figures["rows_left"]["inbox_event"] == _kept(expected["by_table"]["inbox_event"])
        and figures["rows_left"]["replay_key"] == _kept(expected["by_table"]["replay_key"])
        and figures["rows_left"]["outbox_message"] >= _kept(expected["by_table"]["outbox_message"])
    )
    return figures


async def _serve_and_measure(
    args: argparse.Namespace, backend: str, url: str, workdir: Path
) -> dict[str, Any]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "AMBASSADOR_ADMINS": f"local:{ANIMATOR['id']}",
        "AMBASSADOR_PLAYGROUND": "1",
        "AMBASSADOR_LOCALE": "en",
        "LOG_FORMAT": "json",
    }
    log_path = workdir / f"retention-{backend}.log"
    server = ServerProcess(
        name=f"bot on {backend} purging {args.retention_rows} rows",
        argv=[sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        log_path=log_path,
        port=port,
    )
    command_url = f"{server.url}{COMMAND_PATH}"
    log = _PurgeLog(log_path)
    async with client_session(args.retention_concurrency) as client, server.running(client):
        await _open_session(client, server.url)
        during, load_started, load_ended = await _load_during_purge(args, client, command_url, log)
        done = log.done
        if done is None:
            raise BenchError(f"the purge did not finish within {PURGE_TIMEOUT_S:.0f} s")
        baseline = await run_load(
            client,
            command_url,
            learner_joins("b-", CONVERSATION),
            check_join,
            total=min(max(during.requests, args.retention_chunk), BASELINE_MAX),
            concurrency=args.retention_concurrency,
        )
        log.read()
    purge_end = datetime.fromisoformat(str(done["time"])).timestamp()
    return {
        "rows_purged": done.get("rows"),
        "purge_s": done.get("s"),
        "steps": log.steps,
        # How much of the purge the measured joins overlapped (it starts with the server):
        # wall-clock seconds from the purge's start to the first join, and from its end to
        # the last join of the chunk that saw it end.
        "joins_started_after_purge_began_s": round(
            load_started - (purge_end - float(done.get("s") or 0)), 2
        ),
        "joins_ended_after_purge_s": round(load_ended - purge_end, 2),
        "during_purge": during.figures(),
        "baseline": baseline.figures(),
    }


async def run_suite(
    args: argparse.Namespace, workdir: Path, results: dict[str, Any], skipped: dict[str, str]
) -> None:
    """Each backend once (the data set is large)."""
    section: dict[str, Any] = {"config": config(args)}
    results["retention"] = section
    for backend in args.backends:
        if backend in skipped:
            section[backend] = {"skipped": skipped[backend]}
            continue
        print(f"  retention {backend}: loading {args.retention_rows} rows…", flush=True)
        figures = await measure(args, backend, workdir)
        section[backend] = figures
        print("  " + _line(backend, figures), flush=True)


def _line(backend: str, figures: dict[str, Any]) -> str:
    during, baseline = figures["during_purge"], figures["baseline"]
    return (
        f"retention {backend}: {figures['rows_purged']} rows purged in {figures['purge_s']} s; "
        f"joins during it p50 {during['p50_ms']} / p99 {during['p99_ms']} ms "
        f"({during['rps']} req/s), baseline p50 {baseline['p50_ms']} / p99 "
        f"{baseline['p99_ms']} ms ({baseline['rps']} req/s)"
    )


def summary_lines(section: dict[str, Any]) -> list[str]:
    """The retention suite in a few lines, for the terminal."""
    rows = section["config"]["purgeable_rows"]
    lines = [
        f"retention: the daily purge of {rows} rows under "
        f"{section['config']['concurrency']} concurrent joins"
    ]
    for backend in BACKENDS:
        found = section.get(backend)
        if found and "during_purge" in found:
            lines.append("  " + _line(backend, found))
    return lines
