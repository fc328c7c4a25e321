"""The platform registry (bot/platforms.py): every platform fills in the whole shape
(bot/adapters/platform.py), is wired by the registry alone, and nothing outside its folder
and the registry names its classes."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.adapters.platform import (
    ENDPOINTS,
    Command,
    Connection,
    Endpoint,
    Platform,
    Shared,
)
from bot.clock import Clock
from bot.core.events import CommandEvent, Origin, PlatformUser
from bot.core.replies import OutboundMessage
from bot.outbox import targets
from bot.platforms import PLATFORMS
from bot.server import Runtime, build_app, create_runtime
from bot.settings import ADMIN_PLATFORMS, Settings
from storage import members, workspaces
from storage.vocabulary import MemberRole
from tests.conftest import make_settings

BOT = Path(__file__).parents[2] / "bot"
NAMES = [platform.name for platform in PLATFORMS]
SLACK = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "secret"}


def _settings(tmp_path: Path, **env: str) -> Settings:
    return make_settings(f"sqlite:///{tmp_path / 'bot.db'}", **env)


async def _dispose(runtime: Runtime) -> None:
    for connection in runtime.platforms.values():
        await connection.close()
    await runtime.engine.dispose()


def _callable(value: object, parameters: int) -> bool:
    return callable(value) and len(inspect.signature(value).parameters) == parameters  # type: ignore[arg-type]


def test_every_platform_fills_in_the_whole_shape() -> None:
    assert len(set(NAMES)) == len(NAMES), NAMES
    for platform in PLATFORMS:
        assert isinstance(platform, Platform)
        folder = importlib.import_module(f"bot.adapters.{platform.name}")
        assert platform.name == folder.PLATFORM  # the folder's constant, what events carry
        assert platform.connect.__module__ == f"bot.adapters.{platform.name}.platform"
        assert isinstance(platform.opens_groups, bool)
        assert _callable(platform.enabled, 1) and _callable(platform.connect, 1)
        assert all(isinstance(command, Command) for command in platform.commands)


def test_admin_entries_name_the_registered_platforms() -> None:
    assert sorted(ADMIN_PLATFORMS) == sorted(NAMES)


def test_the_platforms_commands_have_names_of_their_own() -> None:
    names = [command.name for platform in PLATFORMS for command in platform.commands]
    assert len(set(names)) == len(names)
    assert not set(names) & {"serve", "worker", "migrate", "rotate-key", "health", "demo"}
    assert "teams-package" in names


async def test_each_connection_is_registered_with_the_sender_and_the_dispatcher(
    tmp_path: Path,
) -> None:
    runtime = create_runtime(_settings(tmp_path, **SLACK), Clock(controllable=True))
    try:
        assert list(runtime.platforms) == NAMES  # every one enabled by these settings
        for name, connection in runtime.platforms.items():
            assert isinstance(connection, Connection)
            assert runtime.sender._senders[name] is connection.sender
            assert runtime.dispatcher.presence.get(name) == connection.presence
            assert runtime.dispatcher.observers.get(name) == connection.observer
            assert _callable(connection.attach, 0) and _callable(connection.close, 0)
    finally:
        await _dispose(runtime)


async def test_the_group_capability_is_slack_only(tmp_path: Path) -> None:
    runtime = create_runtime(_settings(tmp_path), Clock(controllable=True))
    try:
        # What bot/outbox/targets.py said before the platforms declared it themselves.
        assert {name for name in NAMES if targets.supports_groups(name)} == {"slack"}
        assert "slack" not in runtime.platforms  # declared, even where not configured
    finally:
        await _dispose(runtime)


def _mounted(app: web.Application) -> set[tuple[str, str]]:
    found = set()
    for route in app.router.routes():
        resource = route.resource
        if resource is not None:
            found.add((route.method, resource.canonical))
    return found


@pytest.mark.parametrize(
    ("env", "connected", "unrouted"),
    [
        (SLACK, NAMES, set()),
        ({}, ["local", "teams"], {"/slack/events"}),
        ({"AMBASSADOR_PLAYGROUND": "0"}, ["local", "teams"], {"/", "/local/api/command"}),
    ],
)
async def test_build_app_mounts_the_routes_of_each_enabled_platform(
    tmp_path: Path, env: dict[str, str], connected: list[str], unrouted: set[str]
) -> None:
    runtime = create_runtime(_settings(tmp_path, **env), Clock(controllable=True))
    try:
        assert [p.name for p in PLATFORMS if p.enabled(runtime.settings)] == connected
        app = build_app(runtime, start_sender=False)
        endpoints = app[ENDPOINTS]
        assert list(endpoints) == connected
        mounted = _mounted(app)
        for name, endpoint in endpoints.items():
            assert isinstance(endpoint, Endpoint)
            assert _callable(endpoint.start, 0) and _callable(endpoint.stop, 0)
            for route in endpoint.routes:
                assert isinstance(route, web.RouteDef)
                assert (route.method, route.path) in mounted, (name, route)
            # What the platform records in the inbox is handled by this process's worker.
            if endpoint.inbox is not None:
                assert runtime.inbox._processors[name] == endpoint.inbox
        assert not {path for _, path in mounted} & unrouted
        # The worker handles Slack's and Teams' recorded requests.
        handled = {name for name, endpoint in endpoints.items() if endpoint.inbox is not None}
        assert handled == {"slack", "teams"} & set(connected)
    finally:
        await _dispose(runtime)


def _platform_classes() -> dict[str, set[str]]:
    """The classes each platform's folder defines, by platform."""
    found: dict[str, set[str]] = {}
    for name in NAMES:
        classes = found.setdefault(name, set())
        for path in (BOT / "adapters" / name).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            classes |= {node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}
    return found


def _mentions(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.alias):
            names.add(node.name.rsplit(".", 1)[-1])
    return names


def _imported(tree: ast.AST) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
    return modules


def _may_import(module: Path, imported: str, platform: str) -> bool:
    """Outside its folder and the registry, a platform's package is imported only for its
    constants (PLATFORM, WORKSPACE), and its settings section only by bot/settings.py (a
    typed attribute of Settings: settings.slack, settings.teams)."""
    package = f"bot.adapters.{platform}"
    if imported in (package, f"{package}.PLATFORM", f"{package}.WORKSPACE"):
        return True
    section = f"{package}.settings"
    return module == Path("settings.py") and (
        imported == section or imported.startswith(section + ".")
    )


def test_only_the_registry_and_each_platform_folder_name_its_classes() -> None:
    classes = _platform_classes()
    for path in BOT.rglob("*.py"):
        module = path.relative_to(BOT)
        if module.parts[0] == "adapters" and module.parts[1] in classes:
            continue  # the platform's own folder
        if module == Path("platforms.py"):
            continue  # the registry
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for imported in _imported(tree):
            for name in NAMES:
                if imported == f"bot.adapters.{name}" or imported.startswith(
                    f"bot.adapters.{name}."
                ):
                    assert _may_import(module, imported, name), (str(module), imported)
        mentioned = _mentions(tree)
        for name, defined in classes.items():
            named = mentioned & defined
            if module == Path("settings.py"):
                named -= {f"{name.capitalize()}Settings"}
            assert not named, (str(module), name, sorted(named))


@pytest.mark.parametrize("module", ["server.py", "cli.py"])
def test_server_and_cli_import_no_platform(module: str) -> None:
    tree = ast.parse((BOT / module).read_text(encoding="utf-8"))
    for imported in _imported(tree):
        for name in NAMES:
            assert not imported.startswith(f"bot.adapters.{name}"), (module, imported)


class _RecordingSender:
    """The echo platform's outbox sender: what the bot posted there, in order."""

    def __init__(self) -> None:
        self.posted: list[tuple[str, str, str]] = []

    async def post(
        self, workspace: str, target: str, message: OutboundMessage, *, key: str = ""
    ) -> str:
        self.posted.append((workspace, target, message.text))
        return f"m{len(self.posted)}"

    async def update(
        self, workspace: str, target: str, message_id: str, message: OutboundMessage
    ) -> None:
        self.posted.append((workspace, target, f"edit {message_id}: {message.text}"))


def _echo_platform(sender: _RecordingSender) -> Platform:
    """A whole new platform, as docs/ARCHITECTURE.md's "How to add a platform" says: a
    sender, an endpoint turning its payloads into neutral events for the dispatcher, and the
    `Platform` value — nothing else is edited to plug it in."""

    def connect(shared: Shared) -> Connection:
        async def events(request: web.Request) -> web.Response:
            data = await request.json()
            event = CommandEvent(
                Origin("echo", "E1", "room"), PlatformUser(data["user"], data["user"]), data["text"]
            )
            replies = await shared.dispatcher.command(event)
            return web.json_response({"replies": [reply.text for reply in replies]})

        def attach() -> Endpoint:
            return Endpoint(routes=[web.post("/echo/events", events)])

        return Connection(sender=sender, attach=attach)

    return Platform(name="echo", opens_groups=False, enabled=lambda _s: True, connect=connect)


async def test_a_new_platform_is_one_more_value_in_the_list(database_url: str) -> None:
    sender = _RecordingSender()
    plugged = (*PLATFORMS, _echo_platform(sender))
    runtime = create_runtime(make_settings(database_url), Clock(controllable=True), plugged)
    try:
        app = build_app(runtime, start_sender=False)
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:

            async def say(user: str, text: str) -> list[str]:
                response = await client.post("/echo/events", json={"user": user, "text": text})
                assert response.status == 200
                replies: list[str] = (await response.json())["replies"]
                return replies

            assert any("Ambassador bot" in reply for reply in await say("e1", "about"))
            async with runtime.db_sessions() as db, db.begin():
                workspace = await workspaces.find(db, "echo", "E1")
                assert workspace is not None
                animator = await members.find(db, workspace.id, "e1")
                assert animator is not None
                animator.role = MemberRole.ANIMATOR
            await say("e1", "session start Demo")
            await runtime.sender.drain()
        # The join card went out through the echo platform's own sender, to its room.
        assert [(w, t) for w, t, _ in sender.posted][:1] == [("E1", "room")]
        assert "Demo" in sender.posted[0][2]
        assert not targets.supports_groups("echo")
    finally:
        await _dispose(runtime)
