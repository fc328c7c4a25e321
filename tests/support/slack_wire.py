"""Slack at the wire, for the tests: the real app on loopback beside a fake Slack (Web API,
OAuth), configured one workspace (a bot token) or several (OAuth), closed afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from aiohttp.test_utils import TestClient, TestServer

from bot.clock import Clock
from bot.server import Runtime, build_app, create_runtime
from tests.conftest import make_settings
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SECRET

Client = TestClient  # type: ignore[type-arg]
STATE_SECRET = "a-long-random-state-secret-for-tests"


def single_workspace(fake: FakeSlack) -> dict[str, str]:
    """One workspace: the bot token, the signing secret; UANIM is an admin."""
    return {
        "SLACK_BOT_TOKEN": fake.token,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_BASE_URL": fake.base_url,
        "AMBASSADOR_ADMINS": "slack:UANIM",
    }


def oauth_install(fake: FakeSlack) -> dict[str, str]:
    """Several workspaces, installed through OAuth against the fake."""
    return {
        "SLACK_CLIENT_ID": fake.client_id,
        "SLACK_CLIENT_SECRET": fake.client_secret,
        "SLACK_STATE_SECRET": STATE_SECRET,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_BASE_URL": fake.base_url,
    }


async def install(client: Client, fake: FakeSlack, team: str, installer: str) -> None:
    """Install the app in `team` as `installer` does: the install page, then Slack's redirect
    with a code the fake exchanges for a token."""
    code = f"code-{team}-{len(fake.codes)}"
    fake.codes[code] = (team, installer)
    page = await client.get("/slack/install")
    state = (await page.text()).split("state=")[1].split("&")[0].split('"')[0]
    cookie = page.headers["Set-Cookie"].split(";")[0]
    response = await client.get(
        "/slack/oauth_redirect", params={"code": code, "state": state}, headers={"Cookie": cookie}
    )
    assert response.status == 200, await response.text()


@asynccontextmanager
async def slack_app(
    database_url: str, oauth: bool = False, start: datetime | None = None, **more: str
) -> AsyncIterator[tuple[Client, FakeSlack, Runtime]]:
    """A fake Slack and the real app beside it (the test runs the inbox and the outbox);
    `more`: other settings (PUBLIC_BASE_URL…)."""
    fake = FakeSlack()
    await fake.start()
    env = oauth_install(fake) if oauth else single_workspace(fake)
    runtime = create_runtime(
        make_settings(database_url, **env, **more), Clock(controllable=True, start=start)
    )
    client = TestClient(TestServer(build_app(runtime, start_sender=False), host="127.0.0.1"))
    await client.start_server()
    try:
        yield client, fake, runtime
    finally:
        await client.close()
        await runtime.engine.dispose()
        await fake.close()


async def handle_recorded(runtime: Runtime) -> None:
    """What the running bot does after its acks: handle the recorded requests, then send
    what their transactions wrote to the outbox (their replies among it)."""
    await runtime.inbox.drain()
    await runtime.sender.drain()
