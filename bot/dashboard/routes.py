"""The dashboard's routes: the link from the chat, the page, its CSVs, its stylesheet.

    GET /dashboard/open/{token}?<filters>  the chat's link: audited, sets the session cookie,
                                           answers a same-site page that goes on to /dashboard
    GET /dashboard?<filters>               the page (cookie required)
    GET /dashboard/{key}.csv?<filters>     one of its tables (cookie required)
    GET /dashboard/snapshot.pdf?<filters>  the view on one A4 page (cookie required)
    GET /dashboard/dashboard.css           the stylesheet (public)

Refusals (no cookie, unknown or expired link, a role dropped to learner) are a translated
403 page saying to type `dashboard` in the chat — in both languages when the reader is
unknown —, never a stack trace. 403 rather than 401: HTTP's 401 promises a
WWW-Authenticate challenge the browser could answer, and there is none; the way in is
the chat.

The figures come from `bot.steering.scope.resolve` and
`bot.steering.figures.gather_side_by_side` (the
query layer the chat's `pulse results all` and `mentoring stats` read too).
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from importlib.resources import files
from typing import Protocol
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import csv_safe
from bot.clock import Clock
from bot.dashboard import access, page, snapshot
from bot.dashboard import tables as tables_
from bot.dashboard.access import Refusal, Viewer
from bot.i18n import Translator
from bot.ladder import Ladder
from bot.settings import Settings
from bot.steering import figures as figures_
from bot.steering import scope as scope_
from bot.steering.filters import FilterError, Filters
from bot.steering.model import Dashboard, Scope, Table
from storage.db import create_reader, session_factory

log = logging.getLogger(__name__)

FILTER_NAMES = ("training", "session", "from", "to")
_KEY = re.compile(r"^[a-z_]{1,40}$")

Resolve = Callable[[AsyncSession, int, Filters, str], Awaitable[Scope]]


class Gather(Protocol):
    """`bot.steering.figures.gather_side_by_side`'s shape: `full` asks for the whole lists
    (a CSV)."""

    def __call__(
        self,
        db_sessions: async_sessionmaker[AsyncSession],
        workspace_id: int,
        scope: Scope,
        now: datetime,
        ladder: Ladder,
        *,
        full: bool = False,
    ) -> Awaitable[Dashboard]: ...


@dataclass
class Figures:
    """Where the page's figures come from (the contract's two functions)."""

    resolve: Resolve = scope_.resolve
    gather: Gather = figures_.gather_side_by_side


def read_filters(query: dict[str, str]) -> tuple[Filters, list[FilterError]]:
    """The view's filters, each read on its own so that one bad value leaves the others:
    the page shows why it was left out and the view with the valid ones."""
    errors: list[FilterError] = []

    def one(name: str) -> Filters:
        try:
            return Filters.from_query({name: query.get(name, "")})
        except FilterError as error:
            errors.append(error)
            return Filters()

    training, session = one("training").training, one("session").session
    start, end = one("from").start, one("to").end
    if start is not None and end is not None and end < start:
        errors.append(FilterError("dashboard.filter_period_reversed", "to"))
        end = None
    return Filters(training=training, session=session, start=start, end=end), errors


# Every page's answer: the policy, never cached (it holds names), no referrer (the opening
# page's address holds the token), never framed, never indexed.
_SECURITY_HEADERS = {
    "Content-Security-Policy": page.CSP,
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex",
}


def _workspace_name(viewer: Viewer, t: Translator) -> str:
    """The workspace's name as its platform gave it; the playground's in the reader's words
    (its id, `local`, means nothing to a reader)."""
    workspace = viewer.workspace
    if workspace.name:
        return workspace.name
    if workspace.platform == "local":
        return t("audit.platform.local").capitalize()
    return workspace.external_id


def _html(text: str, status: int) -> web.Response:
    return web.Response(
        text=text,
        status=status,
        content_type="text/html",
        charset="utf-8",
        headers=_SECURITY_HEADERS,
    )


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _guarded(handler: Handler) -> Handler:
    """`handler`, its unexpected failures answered with the translated 503 page (logged with
    the route's template, never the path: it may hold a token)."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except Exception:
            route = request.match_info.route.resource
            log.exception("dashboard_failed", extra={"route": route.canonical if route else "?"})
            return _html(page.unavailable(None), 503)

    return guarded


def _refused(refusal: Refusal) -> web.Response:
    return _html(page.refused(refusal.locale, refusal.reason), 403)


class DashboardRoutes:
    """The dashboard's HTTP side; `figures` may be replaced (the integrator's tests)."""

    def __init__(
        self,
        settings: Settings,
        db_sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        figures: Figures | None = None,
    ) -> None:
        self._settings = settings
        self._db_sessions = db_sessions
        self._clock = clock
        self.figures = figures or Figures()
        # What the page reads through: on SQLite a reader beside the writer's connection
        # (storage/db.create_reader: the chat's writes never wait for a dashboard), made at
        # the first read; on PostgreSQL the bot's own pool.
        self._reader_engine: AsyncEngine | None = None
        self._readers: async_sessionmaker[AsyncSession] | None = None

    def _reading(self) -> async_sessionmaker[AsyncSession]:
        if self._readers is None:
            self._reader_engine = create_reader(self._settings.database_url)
            self._readers = (
                self._db_sessions
                if self._reader_engine is None
                else session_factory(self._reader_engine)
            )
        return self._readers

    async def close(self) -> None:
        """Close the reader's connections (the app's clean-up)."""
        if self._reader_engine is not None:
            await self._reader_engine.dispose()
            self._reader_engine = self._readers = None

    def routes(self) -> list[web.AbstractRouteDef]:
        """The dashboard's routes."""
        return [
            web.get("/dashboard", _guarded(self.page)),
            web.get("/dashboard/dashboard.css", self.stylesheet),
            # GET only: a HEAD (a link checker's) must not open a session nor be audited.
            web.get("/dashboard/open/{token}", _guarded(self.open), allow_head=False),
            web.get("/dashboard/{key}.csv", _guarded(self.csv)),
            web.get("/dashboard/snapshot.pdf", _guarded(self.snapshot)),
        ]

    async def open(self, request: web.Request) -> web.Response:
        """The chat's link: exchanged for the session cookie (audited), then on to the page."""
        now = self._clock.now()
        async with self._db_sessions() as db:
            found = await access.open_link(db, self._settings, request.match_info["token"], now)
            if isinstance(found, Refusal):
                return _refused(found)
            viewer, session_token = found
            await db.commit()
        query = {name: request.query[name] for name in FILTER_NAMES if request.query.get(name)}
        target = "/dashboard" + (f"?{urlencode(query)}" if query else "")
        response = _html(page.opening(viewer.locale, target), 200)
        access.set_cookie(response, self._settings, session_token, viewer.expires_at, now)
        return response

    async def stylesheet(self, _request: web.Request) -> web.Response:
        """The page's stylesheet (the CSP allows styles from the bot itself only)."""
        text = files("bot.dashboard").joinpath("static/dashboard.css").read_text("utf-8")
        return web.Response(
            text=text,
            content_type="text/css",
            charset="utf-8",
            headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    async def _view(
        self, viewer: Viewer, query: dict[str, str], *, full: bool = False
    ) -> tuple[Dashboard, list[FilterError]]:
        filters, errors = read_filters(query)
        workspace_id = viewer.workspace.id
        async with self._reading()() as db:
            try:
                scope = await self.figures.resolve(db, workspace_id, filters, viewer.timezone)
            except FilterError as error:
                errors.append(error)
                filters = replace(filters, session=None) if error.name == "session" else Filters()
                scope = await self.figures.resolve(db, workspace_id, filters, viewer.timezone)
        dashboard = await self.figures.gather(
            self._reading(),
            workspace_id,
            scope,
            self._clock.now(),
            self._settings.ladder,
            full=full,
        )
        return dashboard, errors

    async def _viewer(self, request: web.Request) -> Viewer | Refusal:
        token = request.cookies.get(access.COOKIE)
        async with self._reading()() as db:
            return await access.viewer(db, self._settings, token, self._clock.now())

    def _reader(self, viewer: Viewer) -> tables_.Reader:
        return tables_.Reader(Translator(viewer.locale), viewer.timezone, self._settings.ladder)

    async def page(self, request: web.Request) -> web.Response:
        """The dashboard for the view in the URL."""
        viewer = await self._viewer(request)
        if isinstance(viewer, Refusal):
            return _refused(viewer)
        try:
            dashboard, errors = await self._view(viewer, dict(request.query))
        except Exception:
            log.exception("dashboard_figures_failed")
            return _html(page.unavailable(viewer.locale), 503)
        reader = self._reader(viewer)
        text = page.render(
            dashboard,
            reader,
            workspace_name=_workspace_name(viewer, reader.t),
            errors=tuple(errors),
        )
        return _html(text, 200)

    async def snapshot(self, request: web.Request) -> web.Response:
        """The view as a one-page A4 PDF for a steering committee (bot/dashboard/snapshot.py:
        the same figures and charts as the page), in the viewer's language."""
        viewer = await self._viewer(request)
        if isinstance(viewer, Refusal):
            return _refused(viewer)
        dashboard, _errors = await self._view(viewer, dict(request.query))
        reader = self._reader(viewer)
        pdf = snapshot.snapshot(dashboard, reader.t, ladder=reader.ladder)
        return web.Response(
            body=pdf,
            content_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="{snapshot.filename(dashboard)}"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    async def csv(self, request: web.Request) -> web.StreamResponse:
        """One table of the view as CSV (UTF-8 with a byte-order mark, every cell safe)."""
        key = request.match_info["key"]
        viewer = await self._viewer(request)
        if isinstance(viewer, Refusal):
            return _refused(viewer)
        reader = self._reader(viewer)
        if not _KEY.match(key) or key not in tables_.KEYS:
            return web.Response(status=404, text=reader.t("dashboard.not_found"), charset="utf-8")
        try:
            # Every row: the page lists the latest, the biggest, the busiest only.
            dashboard, _errors = await self._view(viewer, dict(request.query), full=True)
        except Exception:
            log.exception("dashboard_figures_failed")
            return web.Response(status=503, text=reader.t("dashboard.unavailable"), charset="utf-8")
        table = tables_.tables(dashboard, reader)[key]
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/csv; charset=utf-8",
                "Content-Disposition": f'attachment; filename="dashboard-{key}.csv"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            }
        )
        await response.prepare(request)
        async for chunk in csv_chunks(table, reader):
            await response.write(chunk)
        await response.write_eof()
        return response


async def csv_chunks(table: Table, reader: tables_.Reader) -> AsyncIterator[bytes]:
    """A table as CSV: a byte-order mark (spreadsheet apps then read UTF-8), the header in
    the reader's language, then the rows; every cell through bot/csv_safe.py."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(csv_safe.row(reader.t(f"dashboard.col.{column}") for column in table.columns))
    for row in table.rows:
        writer.writerow(csv_safe.row(tables_.csv_text(cell, reader.timezone) for cell in row))
        if buffer.tell() > 64_000:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()
