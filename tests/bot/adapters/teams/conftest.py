"""The Teams wire fixture: the real app on loopback, a fake Bot Connector beside it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.server import Runtime
from tests.support.fake_connector import FakeConnector
from tests.support.teams_wire import Client, client_with, credentials


@pytest.fixture
async def teams(database_url: str) -> AsyncIterator[tuple[Client, FakeConnector, Runtime]]:
    """(client, fake connector, runtime) with credentials: every request is signed."""
    fake = FakeConnector()
    await fake.start()
    client, runtime = await client_with(database_url, fake, **credentials(fake))
    yield client, fake, runtime
    await client.close()
    await runtime.teams_connector.close()
    await runtime.engine.dispose()
    await fake.close()
