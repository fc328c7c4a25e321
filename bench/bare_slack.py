"""A bare slack-bolt AsyncApp on aiohttp that only acknowledges `/ambassador` (the reference
the Slack ack benchmark compares the bot with, measured in the same run).

Same route (/slack/events), same signature check, same `process_before_response` as the
bot, one-line answer; no database, no logic. Run as
`python -m bench.bare_slack --port N` with SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN and
SLACK_API_BASE_URL (the bench's fake Slack answers bolt's one auth.test).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def build_app() -> web.Application:
    """POST /slack/events answered by bolt; GET /readyz for the bench's readiness wait."""
    bolt = AsyncApp(
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        token=os.environ["SLACK_BOT_TOKEN"],
        client=AsyncWebClient(
            token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_BASE_URL"]
        ),
        process_before_response=True,
    )

    @bolt.command("/ambassador")
    async def acknowledge(ack: Any) -> None:
        await ack(response_type="ephemeral", text="ok")

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    async def ready(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ready"})

    app = web.Application()
    app.add_routes([web.post("/slack/events", events), web.get("/readyz", ready)])
    return app


def main(argv: Sequence[str] | None = None) -> None:
    """Serve on 127.0.0.1:<port> until stopped."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    web.run_app(build_app(), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
