"""The one aiohttp application: the platforms' endpoints (bot/platforms.py), health probes,
downloads, the Open Badges URLs and the dashboard."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import jobs, platforms
from bot.adapters.platform import ENDPOINTS, Connection, Endpoint, Platform, Shared
from bot.clock import Clock
from bot.core.dispatch import Dispatcher
from bot.dashboard.routes import DashboardRoutes
from bot.downloads import Downloads
from bot.handlers.refreshers import refreshers
from bot.inbox.journal import Journal
from bot.inbox.worker import InboxWorker
from bot.open_badges.routes import OpenBadgesRoutes
from bot.outbox import handoff
from bot.outbox.sender import OutboxSender
from bot.retention import Purge
from bot.router import ROUTER
from bot.scheduling.leader import LeaderElection
from bot.scheduling.service import Scheduler
from bot.secret_key import key_for_runtime
from bot.settings import Settings
from storage.db import create_engine, ping, session_factory
from storage.sealing import Sealer

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """The long-lived parts of a running bot, shared by every request."""

    settings: Settings
    clock: Clock
    engine: AsyncEngine
    db_sessions: async_sessionmaker[AsyncSession]
    dispatcher: Dispatcher
    sender: OutboxSender
    scheduler: Scheduler
    election: LeaderElection
    journal: Journal
    inbox: InboxWorker
    # Each connected platform's parts within this runtime, by name (bot/platforms.py).
    platforms: dict[str, Connection]
    # Seals and opens secrets at rest (Slack tokens, the badge signing key).
    sealer: Sealer
    # The daily retention purge (the scheduler runs it; tests call `run`).
    retention: Purge


RUNTIME = web.AppKey("runtime", Runtime)
DASHBOARD = web.AppKey("dashboard", DashboardRoutes)


def create_runtime(
    settings: Settings,
    clock: Clock | None = None,
    plugged: tuple[Platform, ...] = platforms.PLATFORMS,
) -> Runtime:
    """Wire engine, dispatcher, outbox sender, the platforms' connections (`plugged`: the
    registry's, unless a test plugs another), inbox journal and worker, scheduler and its
    jobs, election and purge (nothing starts until the app does)."""
    clock = clock or Clock(controllable=settings.local_clock_control)
    sealer = Sealer(key_for_runtime(settings))
    engine = create_engine(settings.database_url)
    db_sessions = session_factory(engine)
    sender = OutboxSender(db_sessions, clock, settings.outbox)
    # What a transaction enqueues is handed to the sender when it commits (when it runs
    # here; else the claims of another process find it): no wake-up after each event.
    handoff.connect(db_sessions, sender)
    inbox = InboxWorker(db_sessions, clock, acks_pending=lambda: journal.acks_pending())
    # While this process's worker runs, what the journal records is handed to it directly.
    journal = Journal(engine, clock, on_recorded=inbox.wake, hand_off=inbox)
    dispatcher = Dispatcher(settings, clock, db_sessions, ROUTER)
    shared = Shared(settings, clock, db_sessions, dispatcher, journal, sealer, sender.wake)
    connections = platforms.connect(shared, sender, plugged)
    for name, refresher in refreshers(settings).items():
        sender.register_refresher(name, refresher)
    scheduler = Scheduler(clock, on_work=sender.wake)
    jobs.register(scheduler, db_sessions, engine, settings)
    retention = Purge(db_sessions, engine, settings)
    scheduler.register(retention.run_due, retention.next_due)

    async def run_due(now: datetime) -> None:
        # Moving the clock runs what became due at once, as the passing of time would.
        await scheduler.tick(now)
        await sender.drain()

    clock.on_advance(run_due)
    election = LeaderElection(engine, on_elected=scheduler.start, on_lost=scheduler.stop)
    return Runtime(
        settings,
        clock,
        engine,
        db_sessions,
        dispatcher,
        sender,
        scheduler,
        election,
        journal,
        inbox,
        connections,
        sealer,
        retention,
    )


@web.middleware
async def _no_stack_traces(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPRequestEntityTooLarge:
        # aiohttp's own answer is plain text; every refusal here is JSON saying what to do.
        reason = f"the body is larger than {request.client_max_size} bytes; send less"
        return web.json_response({"error": reason}, status=413)
    except web.HTTPException:
        raise
    except Exception:
        # The route's template, not the path: a path can hold a secret (/downloads/{token}).
        route = request.match_info.route.resource
        log.exception("request_failed", extra={"route": route.canonical if route else "?"})
        return web.json_response({"error": "internal error; nothing was changed"}, status=500)


async def healthz(_request: web.Request) -> web.Response:
    """Liveness: the process answers."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: the database answers, and the elected scheduler can run."""
    try:
        await ping(request.app[RUNTIME].engine)
    except Exception as exc:
        log.warning("readyz_database_unreachable", extra={"error": type(exc).__name__})
        return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
    runtime = request.app[RUNTIME]
    if runtime.election.is_leader and runtime.scheduler.failing:
        # Elected, yet nothing scheduled can run (see the scheduler_tick_failed lines).
        body = {"status": "unavailable", "database": "ok", "scheduler": "failing"}
        return web.json_response(body, status=503)
    scheduler = "leader" if runtime.election.is_leader else "standby"
    return web.json_response({"status": "ready", "database": "ok", "scheduler": scheduler})


def attach_platforms(runtime: Runtime) -> dict[str, Endpoint]:
    """Each connected platform's endpoint in this process, its inbox handler registered."""
    return platforms.attach(runtime.platforms, runtime.inbox)


def build_app(runtime: Runtime, *, start_sender: bool = True) -> web.Application:
    """The aiohttp application; every route is listed here."""
    app = web.Application(middlewares=[_no_stack_traces], client_max_size=1024 * 1024)
    app[RUNTIME] = runtime
    files = Downloads(runtime.settings, runtime.db_sessions, runtime.clock)
    dashboard = app[DASHBOARD] = DashboardRoutes(
        runtime.settings, runtime.db_sessions, runtime.clock
    )
    open_badges = OpenBadgesRoutes(
        runtime.settings, runtime.db_sessions, runtime.clock, runtime.sealer
    )
    endpoints = app[ENDPOINTS] = attach_platforms(runtime)
    for endpoint in endpoints.values():
        app.add_routes(endpoint.routes)
    app.add_routes(
        [
            web.get("/healthz", healthz),
            web.get("/readyz", readyz),
            *files.routes(),
            *open_badges.routes(),
            *dashboard.routes(),
        ]
    )

    async def lifecycle(_app: web.Application):  # type: ignore[no-untyped-def]
        for endpoint in endpoints.values():
            await endpoint.start()  # Slack's Socket Mode, when configured
        if start_sender:
            runtime.sender.start()
            runtime.inbox.start()  # first, what a crash left recorded but not handled
            # The scheduler runs in one process only (the elected one); its first tick,
            # at once, handles runs missed while the bot was down.
            runtime.election.start()
        yield
        for endpoint in endpoints.values():
            await endpoint.stop()
        await runtime.inbox.stop()
        await runtime.election.stop()
        await runtime.scheduler.close()
        await runtime.sender.stop()
        for connection in runtime.platforms.values():
            await connection.close()  # once nothing sends any more
        await dashboard.close()
        await runtime.engine.dispose()

    app.cleanup_ctx.append(lifecycle)
    return app
