"""The dashboard suite: the steering dashboard's page over 100,000 members, 1,000,000
contributions and 1,000,000 pulse answers (issue 17: p95 of 20 loads under 500 ms).

The community comes from the demo generator (`bot.demo.community`, scaled: activity and
community pulses raised until the totals come close to the targets), bulk-loaded (COPY on
PostgreSQL, one executemany transaction on SQLite), then the rollups are rebuilt from the
base tables (`storage.activity.rebuild`, timed: what a migration's backfill or a bulk
import costs). A real bot server (its own process) then serves the page: an animator's
one-hour link (`bot.dashboard.access.create_link`, what `dashboard` in the chat makes) is
opened once for the session cookie, then `GET /dashboard` is timed 20 times (after one
uncounted load), send to last byte, as the animator's browser waits for it.

Without the page in this version of the bot, `bot.steering.figures.gather` is timed
in-process instead (said so in the results); without either, the suite says what is missing.

`--dashboard-quick` runs the same at 1,000 members (seconds, for CI); the targets are
informational, as in every suite.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import JSON, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench import bulk, databases
from bench.servers import BenchError, ServerProcess, free_port, scan_log
from bot.demo import Volume, community
from bot.settings import load_settings
from storage.badges import fill_joined_days
from storage.db import create_engine, refresh_statistics, session_factory
from storage.models import Base, Member, Workspace

TARGET_MS = 500.0
BACKENDS = ("sqlite", "postgresql")
SEED = 2026
QUICK = {"members": 1_000, "contributions": 10_000, "answers": 10_000, "loads": 5}
KEPT_POSTGRES = "ambassador_bench_dashboard_kept"
CONFIG_PATH = Path(__file__).resolve().parent.parent / "config" / "ambassador.toml"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The suite's options, added to `python -m bench.run`'s parser."""
    group = parser.add_argument_group("dashboard suite")
    group.add_argument("--dashboard-members", type=int, default=100_000, help="learners")
    group.add_argument(
        "--dashboard-contributions", type=int, default=1_000_000, help="answers and shares"
    )
    group.add_argument("--dashboard-answers", type=int, default=1_000_000, help="pulse answers")
    group.add_argument("--dashboard-loads", type=int, default=20, help="timed page loads")
    group.add_argument(
        "--dashboard-keep",
        metavar="DIR",
        help="keep the loaded databases (the SQLite file in DIR, a PostgreSQL database named "
        f"{KEPT_POSTGRES!r}) and reuse them on later runs with the same sizes: generation, "
        "load and rebuild are skipped (their figures are those of the run that loaded)",
    )
    group.add_argument(
        "--dashboard-quick",
        action="store_true",
        help=f"a small run for CI: {QUICK['members']} members, {QUICK['contributions']} "
        f"contributions, {QUICK['answers']} answers, {QUICK['loads']} loads",
    )


def _sizes(args: argparse.Namespace) -> dict[str, int]:
    if args.dashboard_quick:
        return dict(QUICK)
    return {
        "members": args.dashboard_members,
        "contributions": args.dashboard_contributions,
        "answers": args.dashboard_answers,
        "loads": args.dashboard_loads,
    }


def config(args: argparse.Namespace) -> dict[str, Any]:
    """The suite's parameters and method, for results.json."""
    sizes = _sizes(args)
    return {
        "members": sizes["members"],
        "target_contributions": sizes["contributions"],
        "target_pulse_answers": sizes["answers"],
        "timed_loads": sizes["loads"],
        "quick": bool(args.dashboard_quick),
        "seed": SEED,
        "method": "rows from bot.demo.community (scaled; history rows of answers left out), "
        "bulk-loaded (COPY / executemany), storage.activity.rebuild timed; then a bot server "
        "in its own process; an animator's link (bot.dashboard.access.create_link) opened "
        "once for the cookie, one uncounted load, then GET /dashboard timed N times (send to "
        "last byte, whole workspace, no filter); p95 = the value at rank ceil(0.95 N)",
    }


def rows(sizes: dict[str, int], now: datetime) -> dict[str, list[dict[str, Any]]]:
    """The community to load, JSON columns as text (what the bulk paths take)."""
    data = community(
        sizes["members"],
        now,
        SEED,
        {},
        volume=Volume(
            contributions=sizes["contributions"],
            pulse_answers=sizes["answers"],
            likes_per_contribution=1.0,
            history=False,
        ),
    )
    for table, found in data.items():
        names = [c.name for c in Base.metadata.tables[table].columns if isinstance(c.type, JSON)]
        for row in found:
            for name in names:
                if row.get(name) is not None:
                    row[name] = json.dumps(row[name])
    return data


async def rebuild(engine: AsyncEngine, workspace_id: int) -> float | None:
    """Seconds `storage.activity.rebuild` took, with the awards' days after joining
    (`storage.badges.fill_joined_days`: the bot writes them with each award, a bulk load
    does not), or None when this bot has no rollup."""
    try:
        activity = importlib.import_module("storage.activity")
    except ModuleNotFoundError:
        return None
    started = time.perf_counter()
    async with session_factory(engine)() as db, db.begin():
        await activity.rebuild(db, workspace_id)
        await fill_joined_days(db, workspace_id)
    rebuilt = time.perf_counter() - started
    # What a running bot has soon after such writes: SQLite's statistics from the daily
    # purge (storage.db.refresh_statistics), PostgreSQL's from autovacuum (VACUUM ANALYZE:
    # statistics and the visibility map that index-only scans need).
    if engine.dialect.name == "sqlite":
        await refresh_statistics(engine)
    else:
        await databases.vacuum_analyze(engine.url.render_as_string(hide_password=False))
    return rebuilt


def figures(timings: list[float]) -> dict[str, Any]:
    """p50, p95, max of the timed loads (ms) and whether the p95 meets the target."""
    ordered = sorted(timings)
    p95 = ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]
    return {
        "loads": len(ordered),
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(ordered[-1], 1),
        "met": p95 < TARGET_MS,
    }


async def measure(args: argparse.Namespace, backend: str, workdir: Path) -> dict[str, Any]:
    """Generate, load, rebuild, then time the page on `backend` (or reuse a kept database)."""
    sizes = _sizes(args)
    keep = Path(args.dashboard_keep) if getattr(args, "dashboard_keep", None) else None
    if keep is not None:
        _keep_secret_key(keep)
        reused = await _kept(args, backend, keep, sizes)
        if reused is not None:
            url, loaded = reused
            engine = create_engine(url)
            try:
                return await _timed(args, backend, url, engine, workdir, loaded)
            finally:
                await engine.dispose()
        keep.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    started = time.perf_counter()
    data = rows(sizes, now)
    generated_s = time.perf_counter() - started
    counts = {table: len(found) for table, found in data.items()}
    workspace_id = int(data["workspace"][0]["id"])
    async with bulk.loaded_database(
        backend,
        args.database_url,
        keep or workdir,
        "dashboard",
        data,
        kept=KEPT_POSTGRES if keep is not None else None,
    ) as (url, engine, loaded_s):
        del data
        rebuilt_s = await rebuild(engine, workspace_id)
        loaded: dict[str, Any] = {
            "workspace_id": workspace_id,
            "rows": counts,
            "generate_s": round(generated_s, 1),
            "load_s": round(loaded_s, 1),
            "rebuild_s": None if rebuilt_s is None else round(rebuilt_s, 2),
        }
        if keep is not None:
            manifest = {
                "sizes": sizes,
                "url": databases.safe(url),
                "database": KEPT_POSTGRES,
                **loaded,
            }
            (keep / f"dashboard-{backend}.json").write_text(json.dumps(manifest, indent=1))
        return await _timed(args, backend, url, engine, workdir, loaded)


def _keep_secret_key(keep: Path) -> None:
    """A kept database's secrets are sealed under the key of the run that loaded it: the
    key is kept beside it (0600) and given to every later run's bot."""
    keep.mkdir(parents=True, exist_ok=True)
    file = keep / "secret-key"
    if file.exists():
        os.environ["AMBASSADOR_SECRET_KEY"] = file.read_text().strip()
    else:
        file.write_text(databases.secret_key())
        file.chmod(0o600)


async def _kept(
    args: argparse.Namespace, backend: str, keep: Path, sizes: dict[str, int]
) -> tuple[str, dict[str, Any]] | None:
    """(URL, load figures) of a database kept by an earlier run with the same sizes, or None."""
    manifest_path = keep / f"dashboard-{backend}.json"
    if not manifest_path.exists():
        return None
    manifest = json.loads(manifest_path.read_text())
    wanted = {k: v for k, v in sizes.items() if k != "loads"}
    if {k: v for k, v in manifest["sizes"].items() if k != "loads"} != wanted:
        return None
    if backend == "sqlite":
        path = keep / "dashboard.db"
        if not path.exists():
            return None
        url = f"sqlite:///{path}"
    else:
        url = databases.database_url(args.database_url, KEPT_POSTGRES)
        try:
            await databases.server_version(url)
        except Exception:  # dropped since: load it again
            return None
    loaded = {k: manifest[k] for k in ("workspace_id", "rows", "generate_s", "load_s", "rebuild_s")}
    loaded["reused"] = f"kept database loaded by an earlier run ({manifest_path})"
    return url, loaded


async def _timed(
    args: argparse.Namespace,
    backend: str,
    url: str,
    engine: AsyncEngine,
    workdir: Path,
    loaded: dict[str, Any],
) -> dict[str, Any]:
    """Time the page on a loaded database; `loaded` holds the load's figures."""
    sizes = _sizes(args)
    workspace_id = int(loaded["workspace_id"])
    result = {k: v for k, v in loaded.items() if k != "workspace_id"}
    if result["rebuild_s"] is None:
        result["rebuild_note"] = "storage.activity not in this version: no rollup rebuilt"
    if _has("bot.dashboard.access"):
        result["how"] = "http"
        result.update(await _over_http(sizes["loads"], backend, url, engine, workdir))
        if _has("bot.steering.scope"):
            result["sections_ms"] = await breakdown(engine, workspace_id)
    elif _has("bot.steering.figures"):
        result["how"] = "in_process"
        result["note"] = (
            "bot.dashboard.access is not in this version: scope.resolve + figures.gather "
            "timed in this process, without the page's rendering nor HTTP"
        )
        result.update(await _in_process(sizes["loads"], engine, workspace_id))
        result["sections_ms"] = await breakdown(engine, workspace_id)
    else:
        result["how"] = "none"
        result["skipped"] = "neither bot.dashboard nor bot.steering.figures in this version"
    return result


def _has(module: str) -> bool:
    """Whether this version of the bot has `module` (parts of issue 17 land separately)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its package is not there either
        return False


async def _animator(engine: AsyncEngine) -> tuple[int, int]:
    """(workspace id, member id) of the playground's animator anim1."""
    async with session_factory(engine)() as db:
        query = (
            select(Workspace.id, Member.id)
            .join(Member, Member.workspace_id == Workspace.id)
            .where(Workspace.platform == "local", Member.user_id == "anim1")
        )
        workspace_id, member_id = (await db.execute(query)).one()
    return int(workspace_id), int(member_id)


async def _over_http(
    loads: int, backend: str, url: str, engine: AsyncEngine, workdir: Path
) -> dict[str, Any]:
    access = importlib.import_module("bot.dashboard.access")
    workspace_id, member_id = await _animator(engine)
    async with session_factory(engine)() as db, db.begin():
        token = await access.create_link(
            db, workspace_id=workspace_id, member_id=member_id, now=datetime.now(UTC)
        )
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "AMBASSADOR_ADMINS": "local:anim1",
        "AMBASSADOR_PLAYGROUND": "1",
        "AMBASSADOR_LOCALE": "en",
        "LOG_FORMAT": "json",
        # The page is measured, not the voice job reading the million posts just loaded
        # (the themes suite measures that).
        "AMBASSADOR_VOICE": "0",
    }
    log_path = workdir / f"dashboard-{backend}.log"
    server = ServerProcess(
        name=f"bot on {backend} serving the dashboard",
        argv=[sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        log_path=log_path,
        port=port,
    )
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as client, server.running(client):
        opened = f"{server.url}{access.link_path(token)}"
        async with client.get(opened, allow_redirects=False) as response:
            cookie = response.cookies.get(access.COOKIE)
            if response.status >= 400 or cookie is None:
                raise BenchError(f"the dashboard link answered {response.status}, no cookie")
        headers = {"Cookie": f"{access.COOKIE}={cookie.value}"}
        timings: list[float] = []
        size = 0
        for load in range(loads + 1):
            began = time.perf_counter()
            async with client.get(f"{server.url}/dashboard", headers=headers) as response:
                body = await response.read()
            elapsed = (time.perf_counter() - began) * 1000
            if response.status != 200:
                raise BenchError(f"GET /dashboard answered {response.status}: {body[:200]!r}")
            size = len(body)
            if load:  # the first load warms caches and the connection pool
                timings.append(elapsed)
    return {**figures(timings), "page_bytes": size, "server_log": scan_log(log_path)}


# Each section of the contract (docs: /work/notes/contract.md), with its extra arguments.
SECTIONS = ("funnel", "pulses", "activity", "challenges", "referrals", "badges", "mentoring")


async def breakdown(engine: AsyncEngine, workspace_id: int, repeats: int = 3) -> dict[str, Any]:
    """Where a page load's time goes: scope.resolve and each section timed in this process
    (median of `repeats` after a warm-up), the whole workspace in scope, each section with
    the options the page gives it."""
    settings = load_settings({**os.environ, "AMBASSADOR_CONFIG": str(CONFIG_PATH)})
    filters = importlib.import_module("bot.steering.filters").Filters()
    resolve = importlib.import_module("bot.steering.scope").resolve
    found: dict[str, Any] = {}
    async with session_factory(engine)() as db:
        scope = await resolve(db, workspace_id, filters, settings.timezone)
        calls: dict[str, Any] = {
            "scope": lambda: resolve(db, workspace_id, filters, settings.timezone)
        }
        for name in SECTIONS:
            if not _has(f"bot.steering.{name}"):
                continue
            function = getattr(importlib.import_module(f"bot.steering.{name}"), name)
            extra: tuple[Any, ...] = ()
            if name in ("funnel", "badges"):
                extra = (settings.ladder,)
            elif name == "mentoring":
                extra = (datetime.now(UTC),)
            options = _page_options(name)
            calls[name] = lambda f=function, e=extra, o=options: f(db, workspace_id, scope, *e, **o)
        for name, call in calls.items():
            timings = []
            for repeat in range(repeats + 1):
                began = time.perf_counter()
                await call()
                if repeat:
                    timings.append((time.perf_counter() - began) * 1000)
            found[name] = round(statistics.median(timings), 1)
    return found


def _page_options(section: str) -> dict[str, Any]:
    """The options the page's `gather` gives `section` (the lists it cuts), when this
    version of the bot has them: the breakdown times what a page load runs."""
    if not _has("bot.steering.figures"):
        return {}
    figures_module = importlib.import_module("bot.steering.figures")
    wanted = {
        "pulses": ("latest", "PAGE_PULSES"),
        "activity": ("trainings", "PAGE_HEAT_TRAININGS"),
        "mentoring": ("limit", "PAGE_MENTORING"),
    }.get(section)
    if wanted is None or not hasattr(figures_module, wanted[1]):
        return {}
    return {wanted[0]: getattr(figures_module, wanted[1])}


async def _in_process(loads: int, engine: AsyncEngine, workspace_id: int) -> dict[str, Any]:
    scope_module = importlib.import_module("bot.steering.scope")
    figures_module = importlib.import_module("bot.steering.figures")
    filters = importlib.import_module("bot.steering.filters").Filters()
    settings = load_settings({**os.environ, "AMBASSADOR_CONFIG": str(CONFIG_PATH)})
    timings: list[float] = []
    for load in range(loads + 1):
        began = time.perf_counter()
        async with session_factory(engine)() as db:
            scope = await scope_module.resolve(db, workspace_id, filters, settings.timezone)
            await figures_module.gather(db, workspace_id, scope, datetime.now(UTC), settings.ladder)
        elapsed = (time.perf_counter() - began) * 1000
        if load:
            timings.append(elapsed)
    return figures(timings)


async def run_suite(
    args: argparse.Namespace, workdir: Path, results: dict[str, Any], skipped: dict[str, str]
) -> None:
    """Each backend once (the data set is large; the loads give the spread)."""
    section: dict[str, Any] = {"config": config(args), "target_ms": TARGET_MS}
    results["dashboard"] = section
    sizes = _sizes(args)
    for backend in args.backends:
        if backend in skipped:
            section[backend] = {"skipped": skipped[backend]}
            continue
        print(
            f"  dashboard {backend}: generating and loading {sizes['members']} members, "
            f"~{sizes['contributions']} contributions, ~{sizes['answers']} answers (unless "
            "kept by an earlier run)…",
            flush=True,
        )
        found = await measure(args, backend, workdir)
        section[backend] = found
        if "p95_ms" in found:
            print(
                f"  dashboard {backend}: rebuild {found['rebuild_s']} s; page ({found['how']}) "
                f"p50 {found['p50_ms']} ms, p95 {found['p95_ms']} ms, max {found['max_ms']} ms "
                f"({'met' if found['met'] else 'NOT met'})",
                flush=True,
            )
        else:
            print(f"  dashboard {backend}: {found.get('skipped')}", flush=True)


def summary_lines(section: dict[str, Any]) -> list[str]:
    """The dashboard suite in a few lines, for the terminal."""
    settings = section["config"]
    lines = [
        f"dashboard: {settings['members']} members, ~{settings['target_contributions']} "
        f"contributions, ~{settings['target_pulse_answers']} answers; p95 of "
        f"{settings['timed_loads']} loads (ms)"
    ]
    for backend in BACKENDS:
        found = section.get(backend)
        if not found:
            continue
        if "p95_ms" not in found:
            lines.append(f"  {backend}: skipped: {found.get('skipped')}")
            continue
        lines.append(
            f"  {backend}: p50 {found['p50_ms']}, p95 {found['p95_ms']}"
            f"{'' if found['met'] else ' (NOT met)'}, max {found['max_ms']} ({found['how']}); "
            f"rebuild {found['rebuild_s']} s; target p95 < {section['target_ms']:g}"
        )
    return lines
