"""The Teams suite, so far its fan-out (issue 8; the /api/messages latency bench comes with
the endpoint): 1,000 DMs through the real outbox and Teams sender to a fake Bot Connector
that enforces Teams' 50 requests/s per tenant (429 with Retry-After beyond). Each person has
a 1:1 chat with the bot already (stored references), so each DM is one request; the bot
keeps its own ceiling of 40/s. Ideal: 1000 / 40 s. Target: within 10 % of it, none lost,
none duplicated.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench import databases
from bot.adapters.teams.connector import Connector
from bot.adapters.teams.sender import TeamsSender
from bot.clock import Clock
from bot.core.replies import OutboundMessage
from bot.outbox.queue import Outbox
from bot.server import create_runtime
from bot.settings import RateLimitSettings, TeamsSettings, load_settings
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
        {"AMBASSADOR_CONFIG": str(REPO / "config" / "ambassador.toml"), "DATABASE_URL": url}
    )
    runtime = create_runtime(settings, Clock())
    limits = RateLimitSettings()
    connector = Connector(TeamsSettings())
    sender = TeamsSender(runtime.sessions, runtime.clock, connector, limits)
    runtime.sender.register_platform("teams", sender)
    count = args.teams_dms
    try:
        async with runtime.sessions() as db, db.begin():
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
    delivered = Counter(call.body["text"] for call in fake.sent())
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
    """The fan-out on PostgreSQL when reachable, else SQLite."""
    backend = (
        "postgresql" if "postgresql" in args.backends and "postgresql" not in skipped else "sqlite"
    )
    print(f"  Teams fan-out of {args.teams_dms} DMs…", flush=True)
    found = await measure_fanout(args, backend, workdir)
    results["teams"] = {
        "targets": {"fanout_vs_ideal": TARGET_FANOUT_RATIO},
        "not_measured_yet": "the /api/messages latency next to a bare botbuilder bot: the "
        "endpoint is not built yet",
        "fanout": {backend: found},
    }
    print(f"  Teams fan-out: {found}", flush=True)


def summary_lines(section: dict[str, Any]) -> list[str]:
    """The Teams suite in a few lines, for the terminal."""
    lines = []
    for backend, found in section.get("fanout", {}).items():
        lines.append(
            f"teams fan-out ({backend}): {found['dms']} DMs in {found['elapsed_s']} s, ideal "
            f"{found['ideal_s']} s ({found['ratio_to_ideal']}×, target ≤ {TARGET_FANOUT_RATIO}), "
            f"lost {found['lost']}, duplicated {found['duplicated']}, 429s {found['answered_429']}"
            f": {'met' if found['met'] else 'NOT met'}"
        )
    return lines
