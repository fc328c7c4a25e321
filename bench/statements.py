"""Statements and commits per Slack join, in process: the real app (tests/support/slack_wire.py)
with its inbox worker and outbox sender running, `--joins` signed `/ambassador join` from
distinct learners paced at `--rate` per second, every statement (but SQLite's BEGIN) and
commit of the app's engine counted from the first join until each join's welcome reached
its response_url.

Not a timing: a count of round trips to the database (issue 18: at low rates each request
paid its own claim, handling and "done" transactions). Run with the worktree as cwd:
`python -m bench.statements [--database-url postgresql://…]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench.slack import signed_form
from tests.support.databases import (
    create_postgres_database,
    drop_postgres_database,
    fresh_sqlite,
    sqlite_template,
)
from tests.support.slack_requests import command_fields
from tests.support.slack_wire import slack_app

ANIMATOR = "UANIM"
JOINED = "joined"


async def _post(client: Any, fields: dict[str, str]) -> None:
    payload, headers = signed_form(fields)
    answer = await client.post("/slack/events", data=payload, headers=headers)
    assert answer.status == 200, await answer.text()


async def _until_answered(fake: Any, names: list[str], seconds: float = 60) -> None:
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        if all(fake.responses.get(name) for name in names):
            return
        await asyncio.sleep(0.01)
    missing = [name for name in names if not fake.responses.get(name)]
    raise RuntimeError(f"{len(missing)} joins not answered")


async def measure(database_url: str, joins: int, rate: float) -> dict[str, Any]:
    """Statements and commits per join over `joins` paced joins."""
    async with slack_app(database_url) as (client, fake, runtime):
        runtime.sender.start()
        runtime.inbox.start()
        try:
            fields = command_fields(
                ANIMATOR, "session start Bench", response_url=fake.response_url("open")
            )
            await _post(client, fields)
            await _until_answered(fake, ["open"])
            counts = {"statements": 0, "commits": 0, "inbox": 0}
            # Each committed transaction's work, named by what it touched (`kinds`).
            kinds: Counter[str] = Counter()
            pending: dict[int, list[str]] = {}

            def statement(conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
                # SQLite's BEGIN IMMEDIATE is how a transaction starts there: a commit's
                # share, counted with the commits, not as a statement.
                if not sql.lstrip().upper().startswith("BEGIN"):
                    counts["statements"] += 1
                    counts["inbox"] += "inbox_event" in sql
                    pending.setdefault(id(conn), []).append(sql)

            def commit(conn: Any) -> None:
                counts["commits"] += 1
                kinds[_kind(pending.pop(id(conn), []))] += 1

            def rollback(conn: Any) -> None:
                pending.pop(id(conn), None)

            engine = runtime.engine.sync_engine
            listeners = (
                ("before_cursor_execute", statement),
                ("commit", commit),
                ("rollback", rollback),
            )
            for name, listener in listeners:
                event.listen(engine, name, listener)
            started = time.perf_counter()
            names = [f"j{n}" for n in range(joins)]
            posts = []
            for n, name in enumerate(names):
                delay = started + n / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                join = command_fields(f"UL{n}", "join", response_url=fake.response_url(name))
                posts.append(asyncio.create_task(_post(client, join)))
            await asyncio.gather(*posts)
            await _until_answered(fake, names)
            for name, listener in listeners:
                event.remove(engine, name, listener)
        finally:
            await runtime.inbox.stop()
            await runtime.sender.stop()
    return {
        "joins": joins,
        "rate": rate,
        "statements_per_join": round(counts["statements"] / joins, 2),
        "commits_per_join": round(counts["commits"] / joins, 2),
        "inbox_statements_per_join": round(counts["inbox"] / joins, 2),
        "commits_per_join_by_kind": {
            kind: round(count / joins, 2) for kind, count in sorted(kinds.items())
        },
    }


def _kind(statements: list[str]) -> str:
    """What a committed transaction did, by its statements."""
    text = " ".join(statements)
    if "session_participation" in text:
        return "join"  # the dispatcher's: effects and replies (and now the inbox's done)
    if "INSERT INTO inbox_event" in text:
        return "journal"
    if "UPDATE inbox_event SET claimed_until" in text:
        return "inbox claim"
    if "UPDATE inbox_event" in text:
        return "inbox done"
    if "outbox_message" in text:
        return "outbox"
    return "other" if statements else "empty"


def main(args: argparse.Namespace) -> None:
    """Measure on a fresh database: SQLite, or PostgreSQL on `--database-url`'s server."""
    if args.database_url:
        url = create_postgres_database(args.database_url)
        try:
            found = asyncio.run(measure(url, args.joins, args.rate))
        finally:
            drop_postgres_database(args.database_url, url)
    else:
        with tempfile.TemporaryDirectory() as folder:
            url = fresh_sqlite(sqlite_template(Path(folder)), Path(folder))
            found = asyncio.run(measure(url, args.joins, args.rate))
    print(json.dumps(found))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--joins", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--database-url", default="", help="PostgreSQL server (else SQLite)")
    main(parser.parse_args())
