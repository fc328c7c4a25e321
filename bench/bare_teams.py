"""A bare botbuilder echo bot on aiohttp: BotFrameworkAdapter, one reply per message through
the Bot Connector named by the activity's serviceUrl (the bench's fake connector), the HTTP
answer only after that reply — the reference the Teams latency bench compares the bot with.

No credentials (as the bot in the bench: local requests only). Run as
`python -m bench.bare_teams --port N`.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from aiohttp import web
from botbuilder.core import BotFrameworkAdapter, BotFrameworkAdapterSettings, TurnContext
from botbuilder.schema import Activity


def build_app() -> web.Application:
    """POST /api/messages (echo once), GET /readyz."""
    adapter = BotFrameworkAdapter(BotFrameworkAdapterSettings(app_id="", app_password=""))

    async def echo(turn: TurnContext) -> None:
        await turn.send_activity(f"echo: {turn.activity.text}")

    async def messages(request: web.Request) -> web.Response:
        activity = Activity().deserialize(await request.json())
        auth = request.headers.get("Authorization", "")
        await adapter.process_activity(activity, auth, echo)
        return web.Response(status=201)

    async def ready(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ready"})

    app = web.Application()
    app.add_routes([web.post("/api/messages", messages), web.get("/readyz", ready)])
    return app


def main(argv: Sequence[str] | None = None) -> None:
    """Serve on 127.0.0.1:<port> until stopped."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    web.run_app(build_app(), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
