"""Fixtures: a database per backend, the real app on a loopback port, a playground client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.clock import Clock
from bot.server import Runtime, build_app, create_runtime
from bot.settings import Settings, load_settings
from tests.support import databases
from tests.support.playground import Playground
from tests.support.secret_keys import TEST_SECRET_KEY

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return databases.sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    server = databases.postgres_server_url()
    if server is None:
        pytest.skip(databases.SKIP_REASON)
    url = databases.create_postgres_database(server)
    yield url
    databases.drop_postgres_database(server, url)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path) -> str:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        return databases.fresh_sqlite(sqlite_template, tmp_path)
    url: str = request.getfixturevalue("postgres_url")
    asyncio.run(databases.truncate_all(url))
    return url


def make_settings(database_url: str, **env: str) -> Settings:
    """Settings as the bot reads them, pointed at a test database."""
    values = {
        "AMBASSADOR_CONFIG": str(REPO / "config" / "ambassador.toml"),
        "DATABASE_URL": database_url,
        "AMBASSADOR_ADMINS": "local:anim1",
        "LOCAL_CLOCK_CONTROL": "1",
        # Most tests drive the bot through the playground; tests of its gate set their own.
        "AMBASSADOR_PLAYGROUND": "1",
        "AMBASSADOR_SECRET_KEY": TEST_SECRET_KEY,
        **env,
    }
    return load_settings(values)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """The bot's wiring, with a controllable clock; the outbox is drained by the test."""
    runtime = create_runtime(settings, Clock(controllable=True))
    yield runtime
    await runtime.engine.dispose()


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    """The real aiohttp app on a random loopback port (the outbox sender not started)."""
    app = build_app(runtime, start_sender=False)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client


@pytest.fixture
async def playground(client: TestClient, runtime: Runtime) -> Playground:  # type: ignore[type-arg]
    return Playground(client, runtime)


FRIDAY = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # 11:00 in Paris


@pytest.fixture
async def bot(settings: Settings) -> AsyncIterator[Playground]:
    """The playground with the core's clock at a known moment (moved by hand in tests)."""
    runtime = create_runtime(settings, Clock(controllable=True, start=FRIDAY))
    client = TestClient(TestServer(build_app(runtime, start_sender=False), host="127.0.0.1"))
    await client.start_server()
    yield Playground(client, runtime)
    await client.close()
    await runtime.engine.dispose()
