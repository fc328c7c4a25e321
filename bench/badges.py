"""The badges suite: evaluating promotions for 100,000 members after a bulk import of
1,000,000 contributions (target: under 10 s on PostgreSQL, in bulk SQL).

The data is loaded with each database's bulk path; then the bot's own evaluation
(`bot.jobs.badges.promote_everyone`, what the hourly scheduler run does) runs once, in one
transaction, and the SQL statements it sends are counted: a member-by-member evaluation
would send hundreds of thousands, a bulk one a handful.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event, func, select

from bench import bulk
from bot.jobs.badges import promote_everyone
from bot.settings import load_settings
from storage.db import session_factory
from storage.models import BadgeAward, OutboxMessage

TARGET_S = 10.0
ROOT = Path(__file__).resolve().parent.parent


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The suite's options, added to `python -m bench.run`'s parser."""
    group = parser.add_argument_group("badges suite")
    group.add_argument("--badge-members", type=int, default=100_000, help="community members")
    group.add_argument(
        "--badge-contributions", type=int, default=1_000_000, help="contributions imported"
    )


def _rows(args: argparse.Namespace, now: datetime) -> dict[str, list[dict[str, Any]]]:
    rng = random.Random(5)
    start = now - timedelta(days=200)
    members = args.badge_members
    data: dict[str, list[dict[str, Any]]] = {
        "workspace": [{"id": 1, "platform": "local", "external_id": "local", "created_at": start}],
        "member": [],
        "pulse": [],
        "pulse_answer": [],
        "contribution": [],
    }
    for n in range(members):
        joined = now - timedelta(days=rng.randint(0, 200))
        data["member"].append(
            {
                "id": n + 1,
                "workspace_id": 1,
                "user_id": f"u{n}",
                "display_name": f"Learner {n}",
                "role": "learner",
                "joined_at": joined,
                "created_at": joined,
            }
        )
    data["pulse"].append(
        {
            "id": 1,
            "workspace_id": 1,
            "created_by_id": 1,
            "conversation": "general",
            "status": "closed",
            "reminders_sent": 0,
            "recipients": members,
            "created_at": start,
        }
    )
    for n in range(0, members, 2):  # half the members answered a pulse
        data["pulse_answer"].append(
            {
                "id": n // 2 + 1,
                "pulse_id": 1,
                "member_id": n + 1,
                "score": rng.randint(0, 10),
                "created_at": now,
                "updated_at": now,
            }
        )
    for c in range(args.badge_contributions):
        # Half the contributions from anyone, half from a few very active members.
        if rng.random() < 0.5:
            member = rng.randrange(members)
        else:
            member = (min(int(rng.paretovariate(1.2)), members) * 7919) % members
        when = now - timedelta(days=rng.randint(0, 120), minutes=rng.randint(0, 1439))
        data["contribution"].append(
            {
                "id": c + 1,
                "workspace_id": 1,
                "member_id": member + 1,
                "kind": "answer" if rng.random() < 0.8 else "share",
                "outcome": "success",
                "text": "x",
                "created_at": when,
                "updated_at": when,
                "hidden_at": when if rng.random() < 0.01 else None,
            }
        )
    return data


async def measure(args: argparse.Namespace, backend: str, workdir: Path) -> dict[str, Any]:
    """Load the import on `backend`, then time one full evaluation."""
    now = datetime.now(UTC)
    data = _rows(args, now)
    settings = load_settings({"AMBASSADOR_CONFIG": str(ROOT / "config" / "ambassador.toml")})
    contributions = len(data["contribution"])
    async with bulk.loaded_database(backend, args.database_url, workdir, "badges", data) as (
        _url,
        engine,
        load_s,
    ):
        del data
        statements: list[str] = []

        def count(*params: Any) -> None:
            statements.append(str(params[2]).split(None, 1)[0].upper())

        event.listen(engine.sync_engine, "before_cursor_execute", count)
        db_sessions = session_factory(engine)
        started = time.perf_counter()
        async with db_sessions() as db, db.begin():
            made = await promote_everyone(db, settings, now)
        evaluate_s = time.perf_counter() - started
        event.remove(engine.sync_engine, "before_cursor_execute", count)
        # A second evaluation right after awards nothing more (idempotent).
        started = time.perf_counter()
        async with db_sessions() as db, db.begin():
            again = await promote_everyone(db, settings, now)
        second_s = time.perf_counter() - started
        async with db_sessions() as db:
            awards = (await db.execute(select(func.count()).select_from(BadgeAward))).scalar_one()
            queued = (
                await db.execute(select(func.count()).select_from(OutboxMessage))
            ).scalar_one()
    return {
        "members": args.badge_members,
        "contributions": contributions,
        "load_s": round(load_s, 1),
        "evaluate_s": round(evaluate_s, 2),
        "second_evaluation_s": round(second_s, 2),
        "awards": int(awards),
        "awards_by_level": dict(Counter(a.level for a in made)),
        "awarded_again": len(again),
        "announcements_queued": int(queued),
        "sql_statements": len(statements),
        "sql_statement_kinds": dict(Counter(statements)),
        "met": backend != "postgresql" or evaluate_s < TARGET_S,
    }


async def run_suite(
    args: argparse.Namespace, workdir: Path, results: dict[str, Any], skipped: dict[str, str]
) -> None:
    """Each backend once."""
    section: dict[str, Any] = {"target_s_postgresql": TARGET_S}
    results["badges"] = section
    for backend in args.backends:
        if backend in skipped:
            section[backend] = {"skipped": skipped[backend]}
            continue
        print(
            f"  badges {backend}: importing {args.badge_contributions} contributions of "
            f"{args.badge_members} members…",
            flush=True,
        )
        try:
            figures = await measure(args, backend, workdir)
        except (OSError, asyncpg.PostgresError) as exc:
            section[backend] = {"skipped": f"{type(exc).__name__}: {exc}"}
            continue
        section[backend] = figures
        print(
            f"  badges {backend}: evaluation {figures['evaluate_s']} s, "
            f"{figures['awards']} awards {figures['awards_by_level']}, "
            f"{figures['sql_statements']} SQL statements, again: {figures['awarded_again']} "
            f"({'met' if figures['met'] else 'NOT met'})",
            flush=True,
        )


def summary_lines(section: dict[str, Any]) -> list[str]:
    """The badges suite in a few lines, for the terminal."""
    lines = ["badges: one evaluation after a bulk import"]
    for backend in ("sqlite", "postgresql"):
        found = section.get(backend)
        if found and "evaluate_s" in found:
            lines.append(
                f"  {backend}: {found['evaluate_s']} s for {found['members']} members and "
                f"{found['contributions']} contributions, {found['awards']} awards, "
                f"{found['sql_statements']} SQL statements"
                + ("" if backend == "sqlite" else f"; target < {TARGET_S:g} s")
            )
    return lines
