"""The statements a Slack `join` costs, counted in one process (issue 18).

`python -m bench.statements --joins 500 --rate 50 [--backend sqlite|postgresql]`: the real
app (inbox worker, outbox sender, scheduler election all running, as `serve` runs them) on
a loopback port of this process, beside the fake Slack (tests/support/fake_slack.py), on a
fresh database, with a session open in the channel as in the responsiveness suite (each
join also edits its card; `--no-session`: joins of the community alone). `--joins` signed
`/ambassador join` requests of distinct learners leave at `--rate` per second (open loop).
Once every answer has arrived and the outbox has nothing pending, it prints per join: the
statements, the commits, the outbox claims (`UPDATE outbox_message SET claimed_until …
RETURNING`), and the other outbox writes (outcomes, releases), counted with SQLAlchemy's
engine events after a warm-up.

Counts, not time: the figures hardly depend on the machine's load (the sender's polls
that fall within the run do).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer
from sqlalchemy import event, func, select

from bench.loadgen import run_open_loop, unlimited_session
from bench.responsiveness import check_ack
from bench.slack import open_session, signed_form
from bot.clock import Clock
from bot.server import build_app, create_runtime
from storage.models import OutboxMessage
from storage.vocabulary import OutboxStatus
from tests.conftest import make_settings
from tests.support import databases
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import command_fields
from tests.support.slack_wire import single_workspace

WARMUP = 20


def _table(statement: str) -> str:
    """The table a statement names first (after FROM, INTO or UPDATE)."""
    words = " ".join(statement.split()).lower().replace('"', "").split(" ")
    for before, word in itertools.pairwise(words):
        if before in ("from", "into", "update"):
            return word
    return "?"


def _kind(statement: str) -> str:
    """Which kind of statement this is, for the counts."""
    text = " ".join(statement.split()).lower()
    if text.startswith("update outbox_message set claimed_until") and "returning" in text:
        return "outbox_claim"
    if text.startswith("update outbox_message"):
        return "outbox_other_update"
    if text.startswith("insert into outbox_message"):
        return "outbox_insert"
    return text.split(" ", 1)[0] or "?"


async def _until(check: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.1)
    return False


async def measure(database_url: str, joins: int, rate: float, session: bool) -> dict[str, Any]:
    """Run `joins` joins at `rate` against the app on `database_url` (with a `session`
    open in their channel, or none); the counts per join."""
    fake = FakeSlack()
    await fake.start()
    runtime = create_runtime(make_settings(database_url, **single_workspace(fake)), Clock())
    server = TestServer(build_app(runtime, start_sender=True), host="127.0.0.1")
    await server.start_server()
    counts: Counter[str] = Counter()
    counting = False

    first: dict[int, str] = {}  # connection → the kind of its transaction's first statement
    by_first: Counter[str] = Counter()

    def on_statement(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        kind = _kind(statement)
        if kind not in ("begin", "savepoint"):
            first.setdefault(id(conn), f"{kind} {_table(statement)}")
        if counting:
            counts[kind] += 1
            counts["statements"] += 1

    def on_commit(conn: Any) -> None:
        opened = first.pop(id(conn), "?")
        if counting:
            counts["commits"] += 1
            by_first[opened] += 1

    sync_engine = runtime.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", on_statement)
    event.listen(sync_engine, "commit", on_commit)
    url = str(server.make_url("/slack/events"))

    def fields(prefix: str) -> Any:
        return lambda i: command_fields(
            f"U{prefix}{i}", "join", response_url=fake.response_url(f"{prefix}{i}")
        )

    async def settled(expected: int) -> bool:
        joined = sum(1 for name in fake.responses if name[:1] in "wm" and name[1:].isdigit())
        if joined < expected:
            return False
        async with runtime.db_sessions() as db:
            pending = await db.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.PENDING)
            )
        return not pending

    try:
        async with unlimited_session() as client:
            if session:
                await open_session(client, str(server.make_url("")).rstrip("/"), fake, "start")
            await run_open_loop(
                client, url, fields("w"), check_ack, rate=rate, total=WARMUP, encode=signed_form
            )
            if not await _until(lambda: settled(WARMUP), 60):
                raise RuntimeError("the warm-up was not answered")
            counting = True
            started = time.monotonic()
            sent = await run_open_loop(
                client, url, fields("m"), check_ack, rate=rate, total=joins, encode=signed_form
            )
            answered = await _until(lambda: settled(WARMUP + joins), 120)
            counting = False
            seconds = time.monotonic() - started
    finally:
        await server.close()
        await runtime.engine.dispose()
        await fake.close()
    posts = Counter(method for method, _ in fake.calls)
    per_join = {key: round(value / joins, 2) for key, value in sorted(counts.items())}
    return {
        "joins": joins,
        "rate": rate,
        "ack_errors": sum(1 for record in sent if record.problem is not None),
        "all_answered": answered,
        "answers_per_join": round(
            sum(len(fake.responses.get(f"m{i}", [])) for i in range(joins)) / joins, 2
        ),
        "slack_calls": dict(posts),
        "seconds": round(seconds, 1),
        "per_join": per_join,
        # Commits per join by what their transaction did first (statement kind and table).
        "commits_per_join_by_first_statement": {
            key: round(value / joins, 2) for key, value in by_first.most_common()
        },
    }


def main() -> None:
    """Parse the options, make a fresh database, measure, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--joins", type=int, default=500)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--no-session", action="store_true", help="joins of the community alone")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        if args.backend == "sqlite":
            template = databases.sqlite_template(Path(directory))
            url = databases.fresh_sqlite(template, Path(directory))
            server = None
        else:
            server = databases.postgres_server_url()
            if server is None:
                raise SystemExit(databases.SKIP_REASON)
            url = databases.create_postgres_database(server)
        try:
            result = asyncio.run(measure(url, args.joins, args.rate, not args.no_session))
        finally:
            if server is not None:
                databases.drop_postgres_database(server, url)
    print(json.dumps({"backend": args.backend, "session": not args.no_session, **result}, indent=2))


if __name__ == "__main__":
    main()
