"""The one aiohttp application: playground, health probes, and the platform endpoints."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import jobs
from bot.adapters.local import PLATFORM as LOCAL
from bot.adapters.local.api import LocalApi
from bot.adapters.local.sender import LocalSender
from bot.adapters.slack import PLATFORM as SLACK
from bot.adapters.slack.app import SlackAdapter
from bot.adapters.slack.installations import SlackTokens
from bot.adapters.slack.sender import SlackPacing, SlackSender
from bot.adapters.slack.sender import client as slack_client
from bot.adapters.teams import PLATFORM as TEAMS
from bot.adapters.teams.app import TeamsAdapter
from bot.adapters.teams.connector import Connector
from bot.adapters.teams.roster import Roster
from bot.adapters.teams.sender import TeamsSender
from bot.clock import Clock
from bot.core.dispatch import Dispatcher
from bot.dashboard.routes import DashboardRoutes
from bot.downloads import Downloads
from bot.handlers.refreshers import refreshers
from bot.inbox.journal import Journal
from bot.inbox.worker import InboxWorker
from bot.open_badges.routes import OpenBadgesRoutes
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
    sessions: async_sessionmaker[AsyncSession]
    dispatcher: Dispatcher
    sender: OutboxSender
    scheduler: Scheduler
    election: LeaderElection
    journal: Journal
    inbox: InboxWorker
    teams_connector: Connector
    # Seals and opens secrets at rest (Slack tokens, the badge signing key).
    sealer: Sealer
    # The daily retention purge (the scheduler runs it; tests call `run`).
    retention: Purge
    slack_tokens: SlackTokens | None = None


RUNTIME = web.AppKey("runtime", Runtime)
TEAMS_ADAPTER = web.AppKey("teams_adapter", TeamsAdapter)
DASHBOARD = web.AppKey("dashboard", DashboardRoutes)


def create_runtime(settings: Settings, clock: Clock | None = None) -> Runtime:
    """Wire engine, dispatcher and outbox sender (nothing starts until the app does)."""
    clock = clock or Clock(controllable=settings.local_clock_control)
    sealer = Sealer(key_for_runtime(settings))
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    sender = OutboxSender(sessions, clock, settings.outbox)
    journal = Journal(engine, clock, on_recorded=lambda: inbox.wake())
    inbox = InboxWorker(sessions, clock, quiet_for=journal.quiet_for)
    dispatcher = Dispatcher(settings, clock, sessions, ROUTER, on_commit=sender.wake)
    sender.register_platform(LOCAL, LocalSender(sessions, clock))
    slack_tokens = None
    if settings.slack.enabled:
        slack_tokens, token_for = _slack_tokens(settings, sessions, clock, sealer)
        sender.register_platform(
            SLACK,
            SlackSender(
                token_for,
                settings.slack.api_base_url,
                SlackPacing.from_settings(settings.rate_limits, clock),
            ),
        )
    teams_connector = Connector(settings.teams)
    dispatcher.presence[TEAMS] = Roster(teams_connector).count_present
    sender.register_platform(
        TEAMS, TeamsSender(sessions, clock, teams_connector, settings.rate_limits)
    )
    for name, refresher in refreshers(settings).items():
        sender.register_refresher(name, refresher)
    scheduler = Scheduler(clock, on_work=sender.wake)
    jobs.register(scheduler, sessions, engine, settings)
    retention = Purge(sessions, engine, settings)
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
        sessions,
        dispatcher,
        sender,
        scheduler,
        election,
        journal,
        inbox,
        teams_connector,
        sealer,
        retention,
        slack_tokens,
    )


def _slack_tokens(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], clock: Clock, sealer: Sealer
) -> tuple[SlackTokens | None, Callable[[str], Awaitable[str | None]]]:
    """Where the Slack sender finds a workspace's token: SLACK_BOT_TOKEN for any
    workspace, or (OAuth) each installed workspace's own, from the database."""
    slack = settings.slack
    if not slack.oauth:
        token = slack.bot_token

        async def the_one(_team: str) -> str | None:
            return token

        return None, the_one
    api = slack_client("", slack.api_base_url)
    tokens = SlackTokens(sessions, clock, api, slack.client_id, slack.client_secret, sealer)
    return tokens, tokens.bot_token


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


def attach_slack(runtime: Runtime) -> SlackAdapter | None:
    """The Slack adapter when Slack is configured, its requests' handling registered with
    the inbox worker (a `worker` process handles what `serve --web-only` records)."""
    if not runtime.settings.slack.enabled:
        return None
    slack = SlackAdapter(
        runtime.settings,
        runtime.dispatcher,
        runtime.sessions,
        runtime.clock,
        runtime.journal,
        runtime.slack_tokens,
    )
    runtime.inbox.register(SLACK, slack.handling.process)
    return slack


def attach_teams(runtime: Runtime) -> TeamsAdapter:
    """The Teams endpoint, its activities' handling registered with the inbox worker."""
    teams = TeamsAdapter(
        runtime.settings,
        runtime.dispatcher,
        runtime.sessions,
        runtime.clock,
        runtime.journal,
        runtime.sender.wake,
        runtime.teams_connector,
        runtime.sealer,
    )
    runtime.inbox.register(TEAMS, teams.handling.process)
    return teams


def build_app(runtime: Runtime, *, start_sender: bool = True) -> web.Application:
    """The aiohttp application; every route is listed here."""
    app = web.Application(middlewares=[_no_stack_traces], client_max_size=1024 * 1024)
    app[RUNTIME] = runtime
    local = LocalApi(runtime.settings, runtime.clock, runtime.sessions, runtime.dispatcher)
    files = Downloads(runtime.settings, runtime.sessions, runtime.clock)
    dashboard = app[DASHBOARD] = DashboardRoutes(runtime.settings, runtime.sessions, runtime.clock)
    open_badges = OpenBadgesRoutes(
        runtime.settings, runtime.sessions, runtime.clock, runtime.sealer
    )
    slack = attach_slack(runtime)
    if slack is not None:
        app.add_routes(slack.routes())
    teams = app[TEAMS_ADAPTER] = attach_teams(runtime)
    app.add_routes(teams.routes())
    app.add_routes(
        [
            web.get("/healthz", healthz),
            web.get("/readyz", readyz),
            # The playground acts as anyone: only when asked for (settings._playground).
            *(local.routes() if runtime.settings.playground else []),
            *files.routes(),
            *open_badges.routes(),
            *dashboard.routes(),
        ]
    )

    async def lifecycle(_app: web.Application):  # type: ignore[no-untyped-def]
        if slack is not None:
            await slack.start()  # Socket Mode, when configured
        if start_sender:
            runtime.sender.start()
            runtime.inbox.start()  # first, what a crash left recorded but not handled
            # The scheduler runs in one process only (the elected one); its first tick,
            # at once, handles runs missed while the bot was down.
            runtime.election.start()
        yield
        if slack is not None:
            await slack.stop()
        await teams.typing.close()
        await runtime.inbox.stop()
        await runtime.election.stop()
        await runtime.scheduler.close()
        await runtime.sender.stop()
        await runtime.teams_connector.close()
        await dashboard.close()
        await runtime.engine.dispose()

    app.cleanup_ctx.append(lifecycle)
    return app
