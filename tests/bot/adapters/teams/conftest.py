"""The Teams wire fixture: the real app on loopback, a fake Bot Connector beside it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.server import Runtime
from tests.support import agents_playground
from tests.support.fake_connector import FakeConnector
from tests.support.teams_wire import Client, teams_app


@pytest.fixture
async def teams(database_url: str) -> AsyncIterator[tuple[Client, FakeConnector, Runtime]]:
    """(client, fake connector, runtime) with credentials: every request is signed."""
    async with teams_app(database_url) as wired:
        yield wired


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say where the Agents Playground test left its screenshots."""
    screenshots = terminalreporter.config.stash.get(agents_playground.SCREENSHOTS, None)
    if screenshots is not None:
        terminalreporter.write_line(f"Agents Playground screenshots: {screenshots}")
