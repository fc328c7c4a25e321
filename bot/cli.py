"""`ambassador-bot` / `python -m bot`: serve (default), worker, migrate, rotate-key,
teams-package, health, demo."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
import sys
from collections.abc import Sequence
from dataclasses import replace

from aiohttp import web
from sqlalchemy.engine import make_url

from bot import logs, probe, secret_key
from bot.adapters.platform import Command, CommandError
from bot.clock import Clock
from bot.demo import loader as demo_loader
from bot.demo.loader import DEFAULT_MEMBERS as DEMO_MEMBERS
from bot.demo.loader import DEFAULT_SEED as DEMO_SEED
from bot.i18n import Translator
from bot.platforms import PLATFORMS
from bot.scheduling.leader import AnotherProcessRuns, SqliteSingleProcess
from bot.server import attach_platforms, build_app, create_runtime
from bot.settings import Settings, SettingsError, link_host, load_settings
from storage.db import async_url, create_engine, is_sqlite, ping
from storage.migrate import upgrade

log = logging.getLogger("bot")
EXIT_SETTINGS = 2
EXIT_DATABASE = 3
# The platforms' own commands (Teams' app package), by name.
PLATFORM_COMMANDS: dict[str, Command] = {
    command.name: command for platform in PLATFORMS for command in platform.commands
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ambassador-bot",
        description="The Ambassador bot: Slack, Teams and a local playground.",
    )
    names = ["serve", "worker", "migrate", "rotate-key", *PLATFORM_COMMANDS, "health", "demo"]
    commands = parser.add_subparsers(dest="command", metavar="{" + ",".join(names) + "}")
    serve = commands.add_parser(
        "serve",
        help="apply migrations and run the bot (the default)",
        description="Apply database migrations, then serve the playground, /healthz, /readyz "
        "and the platform endpoints.",
    )
    serve.add_argument("--host", help="address to listen on (AMBASSADOR_HOST, default 127.0.0.1)")
    serve.add_argument(
        "--port", type=int, help="port to listen on (AMBASSADOR_PORT, default 3978; 0 = any free)"
    )
    serve.add_argument(
        "--web-only",
        action="store_true",
        help="answer requests only; `worker` processes send and schedule (PostgreSQL only)",
    )
    commands.add_parser(
        "worker",
        help="send the outbox and run the scheduler, without HTTP (PostgreSQL only)",
        description="Background work only: drain the outbox and, when elected, run the "
        "scheduler. Pair it with `serve --web-only` so that a burst of requests never delays "
        "scheduled posts. Needs PostgreSQL (SQLite is for one process).",
    )
    commands.add_parser(
        "migrate",
        help="apply database migrations and exit",
        description="Bring the database named by DATABASE_URL to the newest schema.",
    )
    commands.add_parser(
        "rotate-key",
        help="re-seal the stored secrets under a new key (stop the bot first)",
        description="Re-seal the Slack tokens and the badge signing key under a new secret "
        "key, in one transaction. With AMBASSADOR_SECRET_KEY: put the new key there and the "
        "current one in AMBASSADOR_OLD_SECRET_KEY (environment only, never on the command "
        "line). With a SQLite key file: a new key is generated and the file replaced.",
    )
    for command in PLATFORM_COMMANDS.values():
        command.arguments(
            commands.add_parser(command.name, help=command.help, description=command.description)
        )
    health = commands.add_parser(
        "health",
        help="probe the running bot's /healthz (exit 0 when it answers): container probes",
        description="Ask the bot running on this host (AMBASSADOR_HOST, AMBASSADOR_PORT) for "
        "/healthz, or /readyz with --ready; exit 0 when it answers 2xx, else 1. For compose "
        "healthchecks, Kubernetes exec probes and OCI images (which drop HEALTHCHECK).",
    )
    health.add_argument("--port", type=int, help="the bot's port (AMBASSADOR_PORT, default 3978)")
    health.add_argument(
        "--ready", action="store_true", help="probe /readyz (the database answers) instead"
    )
    demo = commands.add_parser(
        "demo",
        help="fill the playground's workspace with a realistic demo community",
        description="Generate a community (trainings and sessions over six months, members "
        "in French and English, challenges, pulses with named answers and referrals, badges, "
        "mentoring) and load it into the playground's workspace, so that anim1 sees a full "
        "dashboard. Refused when the database holds real data (members in a Slack or Teams "
        "workspace) or already holds a demo community, unless --force.",
    )
    demo.add_argument(
        "--force",
        action="store_true",
        help="load it anyway (next to what is there; ids continue after the highest ones)",
    )
    demo.add_argument(
        "--members",
        type=_positive,
        default=DEMO_MEMBERS,
        help="learners in the community (default: %(default)s)",
    )
    demo.add_argument(
        "--seed", type=int, default=DEMO_SEED, help="the same seed gives the same community"
    )
    return parser


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {value!r}")
    return number


def _demo(settings: Settings, members: int, seed: int, force: bool) -> int:
    """Load the demo community; exit 2 (with how to force it) on a database with real data."""
    try:
        loaded = asyncio.run(_load_demo(settings, members, seed, force))
    except demo_loader.Refused as exc:
        for locale in ("en", "fr"):
            print(f"ambassador-bot: {Translator(locale)(exc.key)}", file=sys.stderr)
        return EXIT_SETTINGS
    counts = loaded.counts
    params = {
        "members": loaded.learners,
        "sessions": counts.get("training_session", 0),
        "contributions": counts.get("contribution", 0),
        "answers": counts.get("pulse_answer", 0),
        "awards": counts.get("badge_award", 0),
        "mentoring": counts.get("mentoring_pair", 0),
    }
    for locale in ("en", "fr"):
        print(Translator(locale)("demo.loaded", **params))
    return 0


async def _load_demo(
    settings: Settings, members: int, seed: int, force: bool
) -> demo_loader.Loaded:
    settings = await _migrate(settings)
    engine = create_engine(settings.database_url)
    try:
        return await demo_loader.load_demo(
            engine,
            Clock().now(),
            members=members,
            seed=seed,
            force=force,
            ladder=settings.ladder,
            timezone=settings.timezone,
        )
    finally:
        await engine.dispose()


def _health(port: int | None, ready: bool) -> int:
    try:
        url = probe.probe_url(os.environ, port, ready)
    except probe.ProbeError as exc:
        print(f"ambassador-bot: configuration error: {exc}", file=sys.stderr)
        return EXIT_SETTINGS
    problem = probe.probe(url)
    if problem is not None:
        print(f"ambassador-bot: unhealthy: {problem}", file=sys.stderr)
        return 1
    print(f"healthy: {url}")
    return 0


def _platform_command(command: Command, args: argparse.Namespace) -> int:
    try:
        return command.run(args)
    except CommandError as exc:
        print(f"ambassador-bot: {exc}", file=sys.stderr)
        return EXIT_SETTINGS


def _safe_url(url: str) -> str:
    return make_url(async_url(url)).render_as_string(hide_password=True)


async def _migrate(settings: Settings) -> Settings:
    """Check the secret key against the database (SecretKeyError, before any change, when
    it does not open it), migrate, seal what is left in clear; the settings with the key."""
    engine = create_engine(settings.database_url)
    try:
        await ping(engine)
        key = await secret_key.resolve(engine, settings)
        await upgrade(engine)
        await secret_key.unlock(engine, key, Clock())
    finally:
        await engine.dispose()
    return replace(settings, secret_key=key)


async def _rotate_key(settings: Settings) -> str:
    """Re-seal every secret under the new key; the line that says what was done."""
    single = (
        SqliteSingleProcess(settings.database_url) if is_sqlite(settings.database_url) else None
    )
    if single is not None:
        single.acquire()  # not while a bot runs on this file: it holds the old key
    engine = create_engine(settings.database_url)
    try:
        await ping(engine)
        current = None
        if settings.secret_key is None and not os.environ.get(secret_key.OLD_KEY_VARIABLE):
            current = await secret_key.resolve(engine, settings)  # the key file's
        rotation = secret_key.plan_rotation(settings, os.environ, current)
        already = await secret_key.check_old_key(engine, rotation)
        await upgrade(engine)
        counts = await secret_key.rotate(engine, rotation, Clock())
    finally:
        await engine.dispose()
        if single is not None:
            single.release()
    if already and not any(counts.values()):
        return (
            f"Nothing to re-seal: the secrets are already sealed under key id {rotation.new.id} "
            "(AMBASSADOR_SECRET_KEY)."
        )
    done = ", ".join(f"{column} {count}" for column, count in counts.items())
    then = (
        f"the key file {rotation.key_file} now holds the new key"
        if rotation.key_file is not None
        else "run the bot with this AMBASSADOR_SECRET_KEY from now on and delete "
        f"{secret_key.OLD_KEY_VARIABLE}"
    )
    return (
        f"Secrets re-sealed under key id {rotation.new.id} (was {rotation.old.id}): {done}; {then}."
    )


async def _serve(settings: Settings, host: str, port: int, web_only: bool) -> None:
    settings = await _migrate(settings)
    single = (
        SqliteSingleProcess(settings.database_url) if is_sqlite(settings.database_url) else None
    )
    if single is not None:
        single.acquire()
    listening = None
    if port == 0 and not settings.public_url:
        # Any free port: bound before the runtime is built, so that the links the bot gives
        # out (downloads, badges) name the port it got, not the configured one.
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listening = socket.create_server((host, 0), family=family)
        settings = replace(settings, port=listening.getsockname()[1])
    runtime = create_runtime(settings)
    app = build_app(runtime, start_sender=not web_only)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site: web.BaseSite = (
        web.SockSite(runner, listening) if listening else web.TCPSite(runner, host, port)
    )
    await site.start()
    # Everything built at start-up lives as long as the process: out of the collector's
    # sight, a full collection no longer walks it, which cut rare 100 ms pauses in the
    # middle of requests (https://docs.python.org/3/library/gc.html#gc.freeze).
    gc.collect()
    gc.freeze()
    bound = runner.addresses[0] if runner.addresses else (host, port)
    # Never http://0.0.0.0/: a wildcard bind address is opened as localhost.
    address = f"http://{link_host(bound[0])}:{bound[1]}/"
    log.info("listening", extra={"url": address, "playground": settings.playground})
    # The address comes last on the line: scripts (and tests) read it from there.
    if settings.playground:
        print(f"Ambassador bot ready: playground at {address}", flush=True)
    else:
        print(
            f"Ambassador bot ready (no playground: AMBASSADOR_PLAYGROUND=1 serves it) at {address}",
            flush=True,
        )
    if not settings.admins:
        # One line at every start until an admin is named (after the "ready" line, whose last
        # word scripts read): without one, only a Slack installer holds the admin role.
        log.warning("no_admin", extra={"hint": "AMBASSADOR_ADMINS=platform:user_id[,...]"})
        print(
            "No admin set: AMBASSADOR_ADMINS is empty. Name one, e.g. "
            "AMBASSADOR_ADMINS=slack:U0123ABC or teams:<AAD object id>, and restart.",
            flush=True,
        )
    try:
        await _until_signal()
    finally:
        await runner.cleanup()
        if single is not None:
            single.release()


async def _until_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def _worker(settings: Settings) -> None:
    settings = await _migrate(settings)
    # No request wakes this process's sender: poll often (one indexed query each time).
    outbox = replace(settings.outbox, poll_interval=min(settings.outbox.poll_interval, 0.25))
    runtime = create_runtime(replace(settings, outbox=outbox))
    # Handles the requests web-only replicas record (Slack's, Teams' activities); opens no
    # connection of its own (Socket Mode is the serving process's).
    endpoints = attach_platforms(runtime)
    runtime.sender.start()
    runtime.inbox.start()
    runtime.election.start()
    log.info("worker_ready")
    print(
        "Ambassador worker ready: handling recorded requests, sending the outbox; "
        "scheduling when elected",
        flush=True,
    )
    try:
        await _until_signal()
    finally:
        await runtime.inbox.stop()
        for endpoint in endpoints.values():
            await endpoint.stop()
        await runtime.election.stop()
        await runtime.scheduler.close()
        await runtime.sender.stop()
        for connection in runtime.platforms.values():
            await connection.close()  # once nothing sends any more
        await runtime.engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parser().parse_args(argv)
    if args.command in PLATFORM_COMMANDS:  # e.g. Teams' app package: reads no settings
        return _platform_command(PLATFORM_COMMANDS[args.command], args)
    if args.command == "health":  # a probe needs the port only, never the secrets
        return _health(args.port, args.ready)
    env = dict(os.environ)
    if getattr(args, "host", None):
        # `serve --host` decides whether the playground may be served: checked like the rest.
        env["AMBASSADOR_HOST"] = args.host
    try:
        settings = load_settings(env)
    except SettingsError as exc:
        print(f"ambassador-bot: configuration error: {exc}", file=sys.stderr)
        return EXIT_SETTINGS
    logs.configure(settings.log_format)
    command = args.command or "serve"
    try:
        if command == "migrate":
            asyncio.run(_migrate(settings))
            print(f"Database is up to date ({_safe_url(settings.database_url)}).")
            return 0
        if command == "demo":
            return _demo(settings, args.members, args.seed, args.force)
        if command == "rotate-key":
            print(asyncio.run(_rotate_key(settings)))
            return 0
        web_only = bool(getattr(args, "web_only", False))
        if (command == "worker" or web_only) and is_sqlite(settings.database_url):
            print(
                "ambassador-bot: `worker` and `serve --web-only` split the bot over several "
                "processes, which needs PostgreSQL (DATABASE_URL); SQLite is for one process.",
                file=sys.stderr,
            )
            return EXIT_SETTINGS
        if command == "worker":
            asyncio.run(_worker(settings))
            return 0
        host = settings.host
        port = getattr(args, "port", None)
        port = settings.port if port is None else port
        if port:
            # Links the bot gives out (downloads, badges) name the port it listens on, unless
            # PUBLIC_BASE_URL says where people reach it.
            settings = replace(settings, port=port)
        asyncio.run(_serve(settings, host, port, web_only))
        return 0
    except secret_key.SecretKeyError as exc:
        print(f"ambassador-bot: {exc}", file=sys.stderr)
        return EXIT_SETTINGS
    except AnotherProcessRuns:
        print(
            "ambassador-bot: another bot process already uses this SQLite database; "
            "SQLite is for one process — use PostgreSQL (DATABASE_URL) to run several.",
            file=sys.stderr,
        )
        return 1
    except (OSError, ConnectionError) as exc:
        if _is_bind_error(exc):
            print(f"ambassador-bot: cannot listen: {exc.strerror or exc}", file=sys.stderr)
            return 1
        print(
            f"ambassador-bot: cannot reach the database at {_safe_url(settings.database_url)}: "
            f"{exc.strerror or exc}",
            file=sys.stderr,
        )
        return EXIT_DATABASE
    except Exception as exc:
        if _is_database_error(exc):
            print(
                f"ambassador-bot: cannot reach the database at "
                f"{_safe_url(settings.database_url)}: {_first_line(exc)}",
                file=sys.stderr,
            )
            return EXIT_DATABASE
        raise
    except KeyboardInterrupt:
        return 0


def _is_bind_error(exc: OSError) -> bool:
    return exc.errno in (98, 13, 99)  # address in use, permission denied, cannot assign


def _is_database_error(exc: Exception) -> bool:
    from sqlalchemy.exc import DBAPIError, OperationalError

    return isinstance(exc, OperationalError | DBAPIError) or "asyncpg" in type(exc).__module__


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
