"""A bare aiohttp server: one POST route that reads the body and answers 200 `{"ok": true}`.

It is the ceiling the bench compares the bot with: same machine, same client, same
route and body, no database and no logic. Run as `python -m bench.bare_server --port N`.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from aiohttp import web

COMMAND_PATH = "/local/api/command"


async def answer(request: web.Request) -> web.Response:
    """Read the whole body, then answer 200 `{"ok": true}`."""
    await request.read()
    return web.json_response({"ok": True})


async def ready(_request: web.Request) -> web.Response:
    """GET /readyz, so that the bench waits for this server as it waits for the bot."""
    return web.json_response({"status": "ready"})


def build_app() -> web.Application:
    """The bare application: the bot's command path and a readiness probe."""
    app = web.Application()
    app.add_routes([web.post(COMMAND_PATH, answer), web.get("/readyz", ready)])
    return app


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGINT or SIGTERM; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m bench.bare_server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, required=True, help="port to listen on")
    args = parser.parse_args(argv)
    web.run_app(build_app(), host=args.host, port=args.port, access_log=None, print=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
