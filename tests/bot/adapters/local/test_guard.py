"""The playground's gate at the wire: served only when asked, and then only to this bot's
own address, same-site JSON requests, and (when set) the holder of its token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.clock import Clock
from bot.server import Runtime, build_app, create_runtime
from storage import members, workspaces
from tests.conftest import make_settings
from tests.support.playground import user

TOKEN = "a-long-random-playground-token-0123456789"
SLACK = {"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_SIGNING_SECRET": "s3cret"}
ROLE_ADD = {"user": user("anim1"), "conversation": "general", "text": "role add @eve animator"}
Client = TestClient  # type: ignore[type-arg]


@asynccontextmanager
async def app_with(database_url: str, **env: str) -> AsyncIterator[tuple[Client, Runtime]]:
    """The real app on loopback with these settings."""
    runtime = create_runtime(make_settings(database_url, **env), Clock(controllable=True))
    async with TestClient(TestServer(build_app(runtime, start_sender=False))) as client:
        yield client, runtime
    await runtime.engine.dispose()


async def _people(runtime: Runtime) -> list[str]:
    async with runtime.db_sessions() as db:
        workspace = await workspaces.find(db, "local", "local")
        found = await members.list_members(db, workspace.id) if workspace else []
    return sorted(member.user_id for member in found)


async def test_a_platform_bot_serves_no_playground_unless_asked(database_url: str) -> None:
    async with app_with(database_url, AMBASSADOR_PLAYGROUND="", **SLACK) as (client, runtime):
        assert not runtime.settings.playground
        for path in (
            "/",
            "/static/playground.js",
            "/static/playground-i18n.js",
            "/local/api/users",
            "/local/api/clock",
            "/local/api/commands",
        ):
            assert (await client.get(path)).status == 404, path
        response = await client.post("/local/api/reset", json={"confirm": "reset"})
        assert response.status == 404
        response = await client.post("/local/api/command", json=ROLE_ADD)
        assert response.status == 404
        assert (await client.get("/healthz")).status == 200
        assert await _people(runtime) == []


async def test_a_bare_bot_on_loopback_serves_it_by_default(database_url: str) -> None:
    async with app_with(database_url, AMBASSADOR_PLAYGROUND="") as (client, runtime):
        assert runtime.settings.playground
        assert (await client.get("/")).status == 200
        assert (await client.get("/static/playground.js")).status == 200
        assert (await client.get("/static/../api.py")).status == 404


async def test_cross_site_and_non_json_requests_change_nothing(database_url: str) -> None:
    refused: list[tuple[dict[str, str], Any, int]] = [
        ({"Host": "evil.example:3978"}, ROLE_ADD, 421),  # DNS rebinding: another site's name
        ({"Origin": "http://evil.example"}, ROLE_ADD, 403),
        ({"Origin": "null"}, ROLE_ADD, 403),
        ({"Sec-Fetch-Site": "cross-site"}, ROLE_ADD, 403),
        ({"Content-Type": "text/plain"}, ROLE_ADD, 415),
        ({"Content-Type": "application/x-www-form-urlencoded"}, "text=role+add", 415),
        ({"Content-Type": "multipart/form-data; boundary=x"}, "--x--", 415),
    ]
    async with app_with(database_url) as (client, runtime):
        for headers, body, status in refused:
            data = body if isinstance(body, str) else __import__("json").dumps(body)
            headers = {"Content-Type": "application/json", **headers}
            response = await client.post("/local/api/command", data=data, headers=headers)
            assert response.status == status, headers
            assert (await response.json())["error"]
        response = await client.get("/local/api/users", headers={"Host": "evil.example"})
        assert response.status == 421
        await client.post("/local/api/command", json=ROLE_ADD)  # somebody to forget
        reset = __import__("json").dumps({"confirm": "reset"})
        for headers, _, status in refused:
            headers = {"Content-Type": "application/json", **headers}
            response = await client.post("/local/api/reset", data=reset, headers=headers)
            assert response.status == status, headers
        assert "anim1" in await _people(runtime), "a refused reset deleted the demo"
        response = await client.post("/local/api/reset", json={"confirm": "reset"})
        assert response.status == 200
        assert await _people(runtime) == [], "a refused request changed something"
        # The page's own requests: same origin, JSON.
        origin = f"http://{client.host}:{client.port}"
        response = await client.post(
            "/local/api/command", json=ROLE_ADD, headers={"Origin": origin}
        )
        assert response.status == 200
        assert "anim1" in await _people(runtime)


async def test_with_a_token_every_page_and_call_needs_it(database_url: str) -> None:
    async with app_with(database_url, AMBASSADOR_PLAYGROUND_TOKEN=TOKEN) as (client, runtime):
        for path in ("/", "/static/playground.js", "/local/api/users"):
            assert (await client.get(path)).status == 401, path
        assert (await client.get("/", params={"token": "wrong" * 10})).status == 401
        response = await client.post("/local/api/command", json=ROLE_ADD)
        assert response.status == 401 and await _people(runtime) == []
        response = await client.post("/local/api/reset", json={"confirm": "reset"})
        assert response.status == 401
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        response = await client.post("/local/api/command", json=ROLE_ADD, headers=bearer)
        assert response.status == 200

    async with app_with(database_url, AMBASSADOR_PLAYGROUND_TOKEN=TOKEN) as (client, _):
        opened = await client.get("/", params={"token": TOKEN}, allow_redirects=False)
        assert opened.status == 303 and opened.headers["Location"] == "/"
        cookie = opened.cookies["ambassador_playground"]
        assert cookie["httponly"] and cookie["samesite"] == "Strict"
        # The browser keeps the cookie: the page and its calls work without the query.
        assert (await client.get("/")).status == 200
        assert (await client.get("/local/api/users")).status == 200
