"""GET /downloads/{token}: files the bot made for someone (a pulse's CSV, the themes' CSV,
a person's own data as JSON), while valid."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.handlers import personal_data, pulse_export, themes
from bot.i18n import SUPPORTED, translate
from bot.settings import Settings
from storage import downloads


class Downloads:
    """Serves a download link to whoever holds it, for its lifetime only."""

    def __init__(
        self, settings: Settings, db_sessions: async_sessionmaker[AsyncSession], clock: Clock
    ) -> None:
        self._settings = settings
        self._db_sessions = db_sessions
        self._clock = clock

    def routes(self) -> list[web.AbstractRouteDef]:
        """The download route."""
        return [web.get("/downloads/{token}", self.download)]

    async def download(self, request: web.Request) -> web.StreamResponse:
        """Stream the file, or 404 (unknown or expired link: the animator asks for a new one)."""
        async with self._db_sessions() as db:
            found = await downloads.valid(db, request.match_info["token"], self._clock.now())
            if found is not None and found.kind == personal_data.KIND:
                file = await personal_data.json_file(
                    db, self._settings.base_url, int(found.params["member_id"])
                )
                if file is not None:
                    return web.Response(
                        body=file,
                        content_type="application/json",
                        charset="utf-8",
                        headers={
                            "Content-Disposition": 'attachment; filename="my-data.json"',
                            "Cache-Control": "no-store",
                        },
                    )
            if found is not None and found.kind == themes.KIND:
                response = web.StreamResponse(
                    headers={
                        "Content-Type": "text/csv; charset=utf-8",
                        "Content-Disposition": 'attachment; filename="themes.csv"',
                        "Cache-Control": "no-store",
                    }
                )
                await response.prepare(request)
                async for chunk in themes.csv_chunks(db, found.params):
                    await response.write(chunk)
                await response.write_eof()
                return response
            if found is None or found.kind != pulse_export.KIND:
                # No reader's language here: say it in both.
                text = "\n".join(translate(lang, "privacy.link_expired") for lang in SUPPORTED)
                return web.Response(status=404, text=text)
            pulse_id = int(found.params["pulse_id"])
            response = web.StreamResponse(
                headers={
                    "Content-Type": "text/csv; charset=utf-8",
                    "Content-Disposition": f'attachment; filename="pulse-{pulse_id}.csv"',
                    "Cache-Control": "no-store",
                }
            )
            await response.prepare(request)
            async for chunk in pulse_export.csv_chunks(db, pulse_id):
                await response.write(chunk)
            await response.write_eof()
            return response
