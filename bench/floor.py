"""What a handled join cannot cost less than, with this stack on this machine (issue 18).

The `floor` suite of `make bench` (`python -m bench.run --suites floor`) runs, per backend
and run, `python -m bench.floor [--backend sqlite|postgresql] [--repeat N]` in a process
of its own, which measures the CPU (process time: user + system, every thread) of the
parts a Slack join is made of, each repeated N times and divided:

- a statement through SQLAlchemy's `AsyncSession` (the bot's way: a prepared Core INSERT …
  ON CONFLICT DO NOTHING RETURNING, storage/upsert.py's `Prepared`), through a bare
  `AsyncConnection` (Core, no ORM session), and through the driver alone (sqlite3 on the
  event loop's thread as storage/inline_sqlite.py runs it, or asyncpg with its prepared
  statement cache): what SQLAlchemy itself adds per statement;
- a transaction's own cost (BEGIN, COMMIT) the same three ways;
- an outbound call: slack_sdk's AsyncWebClient `chat.postMessage` on one shared aiohttp
  session (as bot/adapters/slack/sender.py), and a bare aiohttp POST, to a loopback server
  in another process (its CPU is not counted);
- an inbound request as the server sees it: a bare aiohttp server's CPU per POST (read in
  /proc while this process sends them).

It then adds them up as a join needs them today (bench/statements.py counts a join's
statements and transactions: `--statements`, `--transactions`; 3 outbound calls: the
answer at the response_url, the welcome DM, the directory's users.info; 1 inbound) and
prints the floor each way against the target (2 ms on PostgreSQL, 3 ms on SQLite) and
the CPU per join `make bench` measures in `serve`. A floor, not a forecast: the event
loop's scheduling between those parts, the logs and the handlers' Python come on top.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bench import databases
from bench.servers import BenchError, ServerProcess, free_port
from storage import db as storage_db
from storage.models import ReplayKey
from storage.upsert import Prepared, table_of

# A join today, as bench/statements.py counted it (SQLite, session open, 50/s): 22.3
# statements of which 5.5 BEGIN and 4.2 COMMIT, i.e. 12.6 other statements in ~4.2
# transactions that commit (the others roll back or are read-only).
JOIN_STATEMENTS = 12.6
JOIN_TRANSACTIONS = 4.2
JOIN_OUTBOUND = 3
TARGET_MS = {"sqlite": 3.0, "postgresql": 2.0}

# The statement measured: a replay key's insert, as the journal and the dispatcher run it.
_NEW_KEY = Prepared(
    lambda insert_into: (
        insert_into(table_of(ReplayKey))
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(table_of(ReplayKey).c.id)
    )
)

_SERVE = """
from aiohttp import web
async def ok(request):
    await request.read()
    return web.json_response({"ok": True, "channel": "C1", "ts": "1.2"})
app = web.Application()
app.add_routes([web.post("/{tail:.*}", ok), web.get("/readyz", ok)])
web.run_app(app, host="127.0.0.1", port=int(__import__("sys").argv[1]), print=None,
            access_log=None)
"""


async def _cpu_per_call(repeat: int, call: Callable[[int], Awaitable[Any]]) -> float:
    """Process CPU milliseconds per call of `call(i)`, after a warm-up of 50."""
    for i in range(50):
        await call(-1 - i)
    started = time.process_time()
    for i in range(repeat):
        await call(i)
    return round((time.process_time() - started) * 1000 / repeat, 4)


async def statements(url: str, repeat: int) -> dict[str, float]:
    """A replay key's INSERT … RETURNING, and a transaction, three ways (see the docstring)."""
    engine = storage_db.create_engine(url)
    sessions = storage_db.session_factory(engine)
    now = datetime.now(UTC)
    found: dict[str, float] = {}
    try:
        statement = _NEW_KEY.for_dialect(engine.dialect.name)
        async with sessions() as session, session.begin():
            found["statement_session_ms"] = await _cpu_per_call(
                repeat,
                lambda i: session.execute(statement, {"key": f"s{i}", "received_at": now}),
            )
        async with engine.begin() as connection:
            found["statement_connection_ms"] = await _cpu_per_call(
                repeat,
                lambda i: connection.execute(statement, [{"key": f"c{i}", "received_at": now}]),
            )

        async def session_transaction(i: int) -> None:
            async with sessions() as session, session.begin():
                await session.execute(statement, {"key": f"ts{i}", "received_at": now})

        async def connection_transaction(i: int) -> None:
            async with engine.begin() as connection:
                await connection.execute(statement, [{"key": f"tc{i}", "received_at": now}])

        one_in_session = await _cpu_per_call(repeat, session_transaction)
        one_in_connection = await _cpu_per_call(repeat, connection_transaction)
        found["transaction_session_ms"] = round(one_in_session - found["statement_session_ms"], 4)
        found["transaction_connection_ms"] = round(
            one_in_connection - found["statement_connection_ms"], 4
        )
    finally:
        await engine.dispose()
    found.update(await _driver(url, repeat, now))
    return found


async def _driver(url: str, repeat: int, now: datetime) -> dict[str, float]:
    """The same statement and transaction through the driver alone."""
    table = table_of(ReplayKey).name
    if storage_db.is_sqlite(url):
        path = url.split("///", 1)[1]
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        sql = (
            f'INSERT INTO {table} ("key", received_at) VALUES (?, ?) '
            'ON CONFLICT ("key") DO NOTHING RETURNING id'
        )
        stamp = now.isoformat(sep=" ")

        async def statement(i: int) -> None:
            connection.execute(sql, (f"d{i}", stamp)).fetchall()

        async def transaction(i: int) -> None:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute(sql, (f"dt{i}", stamp)).fetchall()
            connection.execute("COMMIT")

        connection.execute("BEGIN IMMEDIATE")
        one = await _cpu_per_call(repeat, statement)
        connection.execute("COMMIT")
        whole = await _cpu_per_call(repeat, transaction)
        connection.close()
        return {"statement_driver_ms": one, "transaction_driver_ms": round(whole - one, 4)}
    import asyncpg

    pg = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    sql = (
        f'INSERT INTO {table} ("key", received_at) VALUES ($1, $2) '
        'ON CONFLICT ("key") DO NOTHING RETURNING id'
    )
    try:
        async with pg.transaction():
            one = await _cpu_per_call(repeat, lambda i: pg.fetch(sql, f"d{i}", now))

        async def pg_transaction(i: int) -> None:
            async with pg.transaction():
                await pg.fetch(sql, f"dt{i}", now)

        whole = await _cpu_per_call(repeat, pg_transaction)
    finally:
        await pg.close()
    return {"statement_driver_ms": one, "transaction_driver_ms": round(whole - one, 4)}


async def http(repeat: int, workdir: Path) -> dict[str, float]:
    """An outbound call (slack_sdk, bare aiohttp) and an inbound POST's server CPU."""
    port = free_port()
    server = ServerProcess(
        "floor-http",
        [sys.executable, "-c", _SERVE, str(port)],
        dict(os.environ),
        workdir / "http.log",
        port,
    )
    found: dict[str, float] = {}
    async with (
        aiohttp.ClientSession() as control,
        server.running(control),
        aiohttp.ClientSession() as session,
    ):
        client = AsyncWebClient(token="xoxb-floor", base_url=f"{server.url}/", session=session)
        found["outbound_slack_sdk_ms"] = await _cpu_per_call(
            repeat, lambda i: client.chat_postMessage(channel="C1", text=f"Welcome {i}")
        )

        async def bare(i: int) -> None:
            async with session.post(f"{server.url}/hook", json={"text": f"{i}"}) as answer:
                await answer.read()

        found["outbound_aiohttp_ms"] = await _cpu_per_call(repeat, bare)
        before = server.cpu_seconds() or 0.0
        for i in range(repeat):
            await bare(i)
        found["inbound_aiohttp_server_ms"] = round(
            ((server.cpu_seconds() or 0.0) - before) * 1000 / repeat, 4
        )
    return found


def floor(
    parts: dict[str, float], statements_per_join: float, transactions: float
) -> dict[str, Any]:
    """A join's parts added up, three ways."""
    outbound = JOIN_OUTBOUND * parts["outbound_slack_sdk_ms"]
    inbound = parts["inbound_aiohttp_server_ms"]
    found: dict[str, Any] = {}
    for way in ("session", "connection", "driver"):
        database = (
            statements_per_join * parts[f"statement_{way}_ms"]
            + transactions * parts[f"transaction_{way}_ms"]
        )
        found[way] = {
            "database_ms": round(database, 2),
            "total_ms": round(database + outbound + inbound, 2),
        }
    found["http_ms"] = round(outbound + inbound, 2)
    return found


async def measure(
    backend: str, database_url: str, repeat: int, statements_per_join: float, transactions: float
) -> dict[str, Any]:
    """Every part on a fresh database of `backend` (PostgreSQL: created on `database_url`'s
    server, dropped afterwards), and the floors."""
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        name = None
        if backend == "sqlite":
            url = f"sqlite:///{workdir / 'floor.db'}"
        else:
            name, url = await databases.create_database(database_url)
        try:
            engine = storage_db.create_engine(url)
            async with engine.begin() as connection:
                await connection.run_sync(table_of(ReplayKey).create)
            await engine.dispose()
            parts = await statements(url, repeat)
        finally:
            if name is not None:
                await databases.drop_database(database_url, name)
        parts.update(await http(repeat, workdir))
    return {
        "backend": backend,
        "repeat": repeat,
        "parts_cpu_ms": parts,
        "join": {"statements": statements_per_join, "transactions": transactions},
        "floor_cpu_ms_per_join": floor(parts, statements_per_join, transactions),
        "target_ms": TARGET_MS[backend],
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The suite's options, added to `python -m bench.run`'s parser."""
    group = parser.add_argument_group("floor suite")
    group.add_argument(
        "--floor-repeat",
        type=int,
        default=2000,
        help="repetitions of each part measured (default: %(default)s)",
    )


async def run_suite(
    args: argparse.Namespace, workdir: Path, results: dict[str, Any], skipped: dict[str, str]
) -> None:
    """Each backend's parts, `args.runs` times, each in a fresh process; the medians."""
    section: dict[str, Any] = {}
    results["floor"] = section
    for backend in args.backends:
        if backend in skipped:
            section[backend] = {"skipped": skipped[backend]}
            continue
        runs = []
        for run in range(1, args.runs + 1):
            output = workdir / f"floor-{backend}-{run}.json"
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.floor",
                "--backend",
                backend,
                "--repeat",
                str(args.floor_repeat),
                "--database-url",
                args.database_url,
                "--output",
                str(output),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            if await process.wait() != 0:
                raise BenchError(f"bench.floor on {backend} failed (run it alone to see why)")
            runs.append(json.loads(output.read_text(encoding="utf-8")))
        parts = {
            key: round(statistics.median(r["parts_cpu_ms"][key] for r in runs), 4)
            for key in runs[0]["parts_cpu_ms"]
        }
        section[backend] = {
            "runs": runs,
            "parts_cpu_ms": parts,
            "join": runs[0]["join"],
            "floor_cpu_ms_per_join": floor(parts, JOIN_STATEMENTS, JOIN_TRANSACTIONS),
            "target_ms": TARGET_MS[backend],
        }
        print("  " + _line(backend, section[backend]), flush=True)


def _line(backend: str, found: dict[str, Any]) -> str:
    floors = found["floor_cpu_ms_per_join"]
    parts = found["parts_cpu_ms"]
    return (
        f"floor {backend}: a join's parts add up to {floors['session']['total_ms']} ms of CPU "
        f"through SQLAlchemy's session ({floors['connection']['total_ms']} through a bare "
        f"connection, {floors['driver']['total_ms']} through the driver alone; HTTP "
        f"{floors['http_ms']}); target {found['target_ms']:g} ms. Per statement "
        f"{parts['statement_session_ms']} / {parts['statement_connection_ms']} / "
        f"{parts['statement_driver_ms']} ms, per transaction {parts['transaction_session_ms']} "
        f"/ {parts['transaction_connection_ms']} / {parts['transaction_driver_ms']} ms"
    )


def summary_lines(section: dict[str, Any]) -> list[str]:
    """The floor suite in a few lines, for the terminal."""
    lines = ["floor: medians of a join's parts (CPU), added up as a join needs them"]
    for backend, found in section.items():
        if "skipped" in found:
            lines.append(f"  floor {backend}: skipped: {found['skipped']}")
        else:
            lines.append("  " + _line(backend, found))
    return lines


def main(argv: list[str] | None = None) -> int:
    """Parse the options, measure, print JSON (and write it with --output)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--repeat", type=int, default=2000)
    parser.add_argument("--statements", type=float, default=JOIN_STATEMENTS)
    parser.add_argument("--transactions", type=float, default=JOIN_TRANSACTIONS)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL")
        or os.environ.get("TEST_DATABASE_URL")
        or databases.DEFAULT_POSTGRES_URL,
        help="PostgreSQL server to create the throw-away database on",
    )
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    found = asyncio.run(
        measure(args.backend, args.database_url, args.repeat, args.statements, args.transactions)
    )
    rendered = json.dumps(found, indent=2)
    print(rendered)
    if args.output is not None:
        args.output.write_text(rendered + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
