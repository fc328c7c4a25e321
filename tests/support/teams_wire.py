"""Teams at the wire, for the tests: activities shaped as Teams sends them (built from
captured traffic, tests/bot/adapters/teams/golden/message_channel_mention_teamsnet.json),
signed by the fake Bot Connector's key, sent to the real app on loopback. No Bot Framework
class is used: the SDK under the adapter can change without touching the tests."""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.adapters.teams.platform import connector_of
from bot.clock import Clock
from bot.server import Runtime, build_app, create_runtime
from tests.conftest import make_settings
from tests.support.fake_connector import FakeConnector

GOLDEN = Path(__file__).parents[1] / "bot" / "adapters" / "teams" / "golden"
APP_ID = "6f1c7d3e-2b4a-4c5d-8e9f-0a1b2c3d4e5f"
TENANT = "50612dbb-0237-4969-b378-8d42590f9c00"
BOT = "28:0b6fe6d1-fece-44f7-9a48-56465e2d5ab8"
CHANNEL = "19:6848757105754c8981c67612732d9aa7@thread.tacv2;messageid=1759881511856"
CHANNEL_ROOT = CHANNEL.split(";")[0]
ANIM = "b15a9416-0ad3-4172-9210-7beb711d3f70"

Client = TestClient  # type: ignore[type-arg]


_ids = itertools.count(1_700_000_000_000)


def new_activity_id() -> str:
    """A message id as Teams gives one: unique within its conversation (a retry of the same
    delivery reuses it, which is how the bot recognises it)."""
    return str(next(_ids))


def credentials(fake: FakeConnector) -> dict[str, str]:
    """The bot's credentials, with Teams' identity endpoints on the fake."""
    return {
        "MicrosoftAppId": APP_ID,
        "MicrosoftAppPassword": "secret",
        "MicrosoftAppTenantId": TENANT,
        "TEAMS_TOKEN_URL": fake.token_url,
        "TEAMS_OPENID_URL": fake.openid_url,
        # The fake Bot Connector's address, trusted like Teams' own service hosts.
        "TEAMS_SERVICE_URLS": fake.service_url,
    }


def activity(fake: FakeConnector, who: str, text: str = "", **more: Any) -> dict[str, Any]:
    """A channel message from `who` (an AAD object id) mentioning the bot, as Teams sends it."""
    sample = json.loads((GOLDEN / "message_channel_mention_teamsnet.json").read_text())
    made = copy.deepcopy(sample)
    made["serviceUrl"] = fake.service_url
    made["from"] = {"id": f"29:{who}", "name": who[:8].capitalize(), "aadObjectId": who}
    made["text"] = f"<at>ridotest</at> {text}" if text else ""
    made["id"] = new_activity_id()
    made.update(more)
    return made


def personal_activity(fake: FakeConnector, who: str, text: str = "", **more: Any) -> dict[str, Any]:
    """The same person writing to the bot in their 1:1 chat (no mention there)."""
    made = activity(fake, who, **more)
    made["text"] = text
    made["id"] = new_activity_id()
    made["conversation"] = {
        "id": f"a:1:1-with-{who}",
        "conversationType": "personal",
        "tenantId": TENANT,
    }
    made["entities"] = [e for e in made["entities"] if e.get("type") != "mention"]
    made["channelData"] = {"tenant": {"id": TENANT}}
    return made


async def send(client: Client, fake: FakeConnector, body: Any, **headers: str) -> Any:
    """POST an activity to /api/messages with the Bot Connector's token."""
    signed = {"Authorization": fake.bearer(APP_ID), "Content-Type": "application/json", **headers}
    data = body if isinstance(body, str) else json.dumps(body)
    return await client.post("/api/messages", data=data, headers=signed)


async def settle(runtime: Runtime) -> None:
    """Handle what was recorded, then send what was queued."""
    await runtime.inbox.drain()
    await runtime.sender.drain()


async def deliver(
    client: Client, fake: FakeConnector, runtime: Runtime, made: dict[str, Any]
) -> None:
    """Send an activity, handle it, and let Teams' per-conversation windows move on before
    handling what it queued (a flow of several steps in one conversation)."""
    assert (await send(client, fake, made)).status == 202
    await settle(runtime)
    await runtime.clock.advance(3)
    await settle(runtime)


async def client_with(database_url: str, fake: FakeConnector, **env: str) -> tuple[Client, Runtime]:
    """The real app on loopback, its worker and sender run by the test (`settle`)."""
    settings = make_settings(database_url, AMBASSADOR_ADMINS=f"teams:{ANIM}", **env)
    runtime = create_runtime(settings, Clock(controllable=True))
    client = TestClient(TestServer(build_app(runtime, start_sender=False), host="127.0.0.1"))
    await client.start_server()
    return client, runtime


@asynccontextmanager
async def teams_app(
    database_url: str, env: Callable[[FakeConnector], dict[str, str]] = credentials
) -> AsyncIterator[tuple[Client, FakeConnector, Runtime]]:
    """A fake Bot Connector and the real app beside it, configured by `env(fake)` (the
    bot's credentials by default); everything closed afterwards, and, when the test
    passed, every card the bot sent checked (FakeConnector.check_cards)."""
    fake = FakeConnector()
    await fake.start()
    try:
        client, runtime = await client_with(database_url, fake, **env(fake))
        try:
            yield client, fake, runtime
        finally:
            await client.close()
            await connector_of(runtime.platforms).close()
            await runtime.engine.dispose()
    finally:
        await fake.close()
    fake.check_cards()  # reached only when the test's body passed
