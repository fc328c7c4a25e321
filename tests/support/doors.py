"""The real app with its three doors open on loopback at once: Slack (signed requests, the
fake Web API), Teams (the fake Bot Connector's tokens) and the playground's JSON API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp.test_utils import TestClient, TestServer

from bot.adapters.teams.platform import connector_of
from bot.clock import Clock
from bot.server import Runtime, build_app, create_runtime
from tests.conftest import make_settings
from tests.support import teams_wire
from tests.support.fake_connector import FakeConnector
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SECRET


@dataclass
class Doors:
    """The app's client and wiring, and the fakes on the platforms' side."""

    client: TestClient  # type: ignore[type-arg]
    runtime: Runtime
    slack: FakeSlack
    teams: FakeConnector


@asynccontextmanager
async def all_doors(
    database_url: str,
    *,
    signing_secret: str = SECRET,
    slack_token: str = "xoxb-test",
    teams_password: str = "secret",
    teams_token: str = "fake-bot-token",
) -> AsyncIterator[Doors]:
    """Slack (SLACK_BOT_TOKEN, signing secret), Teams (credentials) and the playground
    served together; the inbox worker and the outbox sender are run by the test."""
    slack = FakeSlack(token=slack_token, tokens={slack_token: "T1"})
    teams = FakeConnector(token=teams_token)
    await slack.start()
    await teams.start()
    settings = make_settings(
        database_url,
        SLACK_BOT_TOKEN=slack_token,
        SLACK_SIGNING_SECRET=signing_secret,
        SLACK_API_BASE_URL=slack.base_url,
        **{**teams_wire.credentials(teams), "MicrosoftAppPassword": teams_password},
        AMBASSADOR_ADMINS=f"local:anim1,slack:UANIM,teams:{teams_wire.ANIM}",
        AMBASSADOR_PLAYGROUND="1",  # the playground served beside the platforms
    )
    runtime = create_runtime(settings, Clock(controllable=True))
    client = TestClient(TestServer(build_app(runtime, start_sender=False), host="127.0.0.1"))
    await client.start_server()
    try:
        yield Doors(client, runtime, slack, teams)
    finally:
        await client.close()
        await connector_of(runtime.platforms).close()
        await runtime.engine.dispose()
        await teams.close()
        await slack.close()
    teams.check_cards()  # reached only when the test's body passed
