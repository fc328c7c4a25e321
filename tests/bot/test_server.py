"""Health probes of the one aiohttp application."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer

from bot.clock import Clock
from bot.server import build_app, create_runtime
from tests.conftest import make_settings


async def test_healthz_and_readyz(client: TestClient) -> None:  # type: ignore[type-arg]
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200 and (await ready.json())["database"] == "ok"


async def test_readyz_is_503_when_the_database_is_unreachable() -> None:
    runtime = create_runtime(
        make_settings("postgresql://nobody@127.0.0.1:1/nothing"), Clock(controllable=True)
    )
    async with TestClient(TestServer(build_app(runtime, start_sender=False))) as client:
        assert (await client.get("/healthz")).status == 200
        ready = await client.get("/readyz")
        assert ready.status == 503
        assert (await ready.json())["database"] == "unreachable"


async def test_unknown_paths_are_404_not_500(client: TestClient) -> None:  # type: ignore[type-arg]
    assert (await client.get("/local/api/nothing")).status == 404
    assert (await client.put("/local/api/command")).status == 405
