"""Microsoft 365 Agents Playground for the tests: Microsoft's own Teams client, offline.

The npm package `@microsoft/m365agentsplayground` (formerly the Teams App Test Tool) is pinned
in tests/support/agents-playground/ (package.json and package-lock.json; `npm ci` installs it
there, node_modules is not committed). It serves a Teams-like web page, sends real activities
to the bot's `/api/messages`, is the Bot Connector the bot answers to (its service URL, on
loopback: the bot trusts it without credentials, see bot/adapters/teams/service_urls.py), and
renders the bot's Adaptive Cards with Microsoft's renderer.

The web page is one person (`Team.me`, its config file's `currentUser`). Others act through the
playground's own HTTP API, as its page does:
- `POST /_conversation/v1/submit`: a card button clicked (`from` is honoured);
- `POST /_internal/v1/customActivities`: any activity, here a message typed by someone else;
- `/_ws_conversation/v1/conversations/stream`: every message the page is shown, with its id
  (the page's own feed; the test reads it to find the card someone else clicks).

Offline it needs `--disable-telemetry` and APPLICATION_INSIGHTS_NO_STATSBEAT=1 (its bundled
Application Insights otherwise calls the cloud metadata address). It listens on every
interface, so it gets a free port of its own and is stopped by its PID.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

PACKAGE_DIR = Path(__file__).resolve().parent / "agents-playground"
PACKAGE = "@microsoft/m365agentsplayground"
START_TIMEOUT = 30.0
# Where the browser test left its screenshots this run (printed in the terminal summary).
SCREENSHOTS = pytest.StashKey[Path]()


class Unavailable(Exception):
    """The playground cannot run here (no npm, the install failed); the message says why."""


def locked_version() -> str:
    """The version package-lock.json pins."""
    lock = json.loads((PACKAGE_DIR / "package-lock.json").read_text())
    version: str = lock["packages"][f"node_modules/{PACKAGE}"]["version"]
    return version


def _installed_version() -> str | None:
    manifest = PACKAGE_DIR / "node_modules" / PACKAGE / "package.json"
    if not manifest.is_file():
        return None
    version: str = json.loads(manifest.read_text()).get("version", "")
    return version


def install() -> Path:
    """`npm ci` unless node_modules already holds the locked version; the CLI's path."""
    cli = PACKAGE_DIR / "node_modules" / PACKAGE / "cli.js"
    if _installed_version() == locked_version() and cli.is_file():
        return cli
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        raise Unavailable("npm and node are not installed (apt-get install npm)")
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=PACKAGE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0 or not cli.is_file():
        raise Unavailable(f"npm ci failed in {PACKAGE_DIR}: {done.stderr.strip()[-2000:]}")
    return cli


@dataclass(frozen=True)
class Person:
    """Someone of the playground's Teams (m365agentsplayground.yml)."""

    id: str
    name: str
    aad_object_id: str

    def account(self) -> dict[str, str]:
        """As a Bot Framework ChannelAccount."""
        return {"id": self.id, "name": self.name, "aadObjectId": self.aad_object_id}


@dataclass(frozen=True)
class Team:
    """The Teams the playground plays: its people, chats and team (its config file,
    https://aka.ms/teams-app-test-tool-config-guide, schema 0.1.1). The browser is `me`."""

    tenant: str = "5b1e7c2a-3f4d-4e8a-9c6b-0d2f1a7e9b31"
    bot_id: str = "28:6f1c7d3e-2b4a-4c5d-8e9f-0a1b2c3d4e5f"
    bot_name: str = "Ambassador"
    me: Person = Person("29:alex-wilber", "Alex Wilber", "8a4f0c6e-1b2d-4e3f-a5b6-c7d8e9f0a1b2")
    others: tuple[Person, ...] = (
        Person("29:megan-bowen", "Megan Bowen", "1c2d3e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5"),
        Person("29:adele-vance", "Adele Vance", "2d3e4f5a-6b7c-4d8e-9fa0-b1c2d3e4f5a6"),
        Person("29:lynne-robbins", "Lynne Robbins", "3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7"),
        Person("29:isaiah-langer", "Isaiah Langer", "4f5a6b7c-8d9e-4fa0-b1c2-d3e4f5a6b7c9"),
        Person("29:patti-fernandez", "Patti Fernandez", "5a6b7c8d-9e0f-4a1b-c2d3-e4f5a6b7c8d0"),
    )  # the playground's schema wants five people besides `me`
    personal_chat: str = "a:1-personal-chat-alex-wilber"
    group_chat: str = "19:group-chat-management-101@thread.v2"
    group_chat_name: str = "Management 101"
    team_id: str = "19:general-channel@thread.tacv2"
    team_name: str = "Ambassadors"

    def person(self, first_name: str) -> Person:
        """Someone else, by first name."""
        return next(p for p in self.others if p.name.split()[0] == first_name)

    def config(self) -> str:
        """The config file's text. JSON is YAML (1.2), which the playground reads."""

        def user(p: Person) -> dict[str, str]:
            first, last = p.name.split()
            email = f"{first[0].lower()}{last.lower()}@example.com"
            return {
                "id": p.id,
                "name": p.name,
                "userPrincipleName": email,  # sic: the playground's spelling
                "aadObjectId": p.aad_object_id,
                "givenName": first,
                "surname": last,
                "email": email,
            }

        config = {
            "version": "0.1.1",
            "tenantId": self.tenant,
            "bot": {"id": self.bot_id, "name": self.bot_name},
            "currentUser": user(self.me),
            "users": [user(p) for p in self.others],
            "personalChat": {"id": self.personal_chat},
            "groupChat": {"id": self.group_chat, "name": self.group_chat_name},
            "team": {
                "id": self.team_id,
                "name": self.team_name,
                "aadGroupId": "4f5a6b7c-8d9e-4fa0-b1c2-d3e4f5a6b7c8",
                "channels": [{"id": "19:announcements@thread.tacv2", "name": "Announcements"}],
            },
        }
        return json.dumps(config, indent=2)


@dataclass
class Message:
    """A message as the page is shown it (created, then maybe updated in place)."""

    conversation: str
    id: str
    body: dict[str, Any]
    updates: int = 0

    @property
    def cards(self) -> list[dict[str, Any]]:
        """Its Adaptive Cards."""
        return [
            a.get("content") or {}
            for a in self.body.get("attachments") or []
            if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
        ]

    def action(self, title: str) -> dict[str, Any] | None:
        """The card's button called `title`, if it has one."""
        for card in self.cards:
            for action in _actions(card.get("body") or []) + list(card.get("actions") or []):
                if action.get("title") == title:
                    return action
        return None


def _actions(elements: list[Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for element in elements:
        if not isinstance(element, dict):
            continue
        if element.get("type") == "ActionSet":
            found += [a for a in element.get("actions") or [] if isinstance(a, dict)]
        for key in ("items", "columns"):
            found += _actions(element.get(key) or [])
    return found


@dataclass
class Feed:
    """What the playground tells its page: messages created, then updated in place."""

    messages: dict[str, Message] = field(default_factory=dict)  # by message id
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def record(self, event: dict[str, Any]) -> None:
        """One frame of the conversation stream."""
        action = event.get("action")
        if action not in ("createMessage", "updateMessage"):
            return
        body = event.get("message") or {}
        message_id = str(body.get("messageId"))
        async with self.changed:
            known = self.messages.get(message_id)
            if action == "updateMessage" and known is not None:
                # (An update of a channel post is announced under the channel: the post's
                # own conversation is the one its creation named.)
                known.body, known.updates = body, known.updates + 1
            else:
                # A new channel post is announced under the channel, with its own
                # conversation (the post's thread) beside it; anything else under its own.
                conversation = body.get("postConversationId") or event["actionConversationId"]
                self.messages[message_id] = Message(conversation, message_id, body)
            self.changed.notify_all()

    async def wait_for(self, found: Callable[[Message], bool], seconds: float = 15.0) -> Message:
        """The latest message `found` accepts, once there is one."""

        def latest() -> Message | None:
            return next((m for m in reversed(self.messages.values()) if found(m)), None)

        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(latest), seconds)
        message = latest()
        assert message is not None
        return message


class AgentsPlayground:
    """One playground process, its API, and its conversation stream read into `feed`."""

    def __init__(self, process: asyncio.subprocess.Process, base_url: str, team: Team) -> None:
        self.process = process
        self.base_url = base_url
        self.team = team
        self.feed = Feed()
        self._http = aiohttp.ClientSession()
        self._tasks: list[asyncio.Task[None]] = []

    @classmethod
    @contextlib.asynccontextmanager
    async def running(
        cls, cli: Path, bot_url: str, workdir: Path, team: Team | None = None
    ) -> AsyncIterator[AgentsPlayground]:
        """The playground talking to the bot at `bot_url` (its `/api/messages`), until exit."""
        team = team or Team()
        config = workdir / ".m365agentsplayground.yml"
        config.write_text(team.config())
        log = workdir / "m365agentsplayground.log"
        env = {
            **os.environ,
            "APPLICATION_INSIGHTS_NO_STATSBEAT": "1",
            "TEAMSAPPTESTER_BROWSER": "none",  # do not open a browser of its own
            "M365_AGENTS_PLAYGROUND_CONFIG_PATH": str(config),
            "M365_AGENTS_PLAYGROUND_LOGFILE": str(log),
        }
        process = await asyncio.create_subprocess_exec(
            shutil.which("node") or "node",
            str(cli),
            "--app-endpoint",
            bot_url.rstrip("/") + "/api/messages",
            "--channel-id",
            "msteams",
            "--port",
            str(_free_port()),
            "--disable-telemetry",
            cwd=workdir,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped with its children
        )
        playground: AgentsPlayground | None = None
        try:
            # "Listening on <port>": another port if that one was taken meanwhile.
            async with asyncio.timeout(START_TIMEOUT):
                listening = await _line_starting(process, "Listening on ")
            playground = cls(process, f"http://127.0.0.1:{listening.split()[-1]}", team)
            await playground._ready(log)
            yield playground
        finally:
            if playground is not None:
                await playground._close()
            await _stop(process)

    async def _ready(self, log: Path) -> None:
        """Wait until it answers (it reads its config file after saying it listens, and
        exits on a bad one), then read its conversation stream."""
        assert self.process.stdout is not None
        self._tasks.append(asyncio.create_task(_drain(self.process.stdout)))
        async with asyncio.timeout(START_TIMEOUT):
            while not await self._answers():
                if self.process.returncode is not None:
                    raise RuntimeError(f"the Agents Playground exited:\n{_tail(log)}")
                await asyncio.sleep(0.1)
        ws = await self._http.ws_connect(
            self.base_url + "/_ws_conversation/v1/conversations/stream"
        )

        async def read() -> None:
            async for frame in ws:
                if frame.type == aiohttp.WSMsgType.TEXT:
                    await self.feed.record(json.loads(frame.data))

        self._tasks.append(asyncio.create_task(read()))

    async def _answers(self) -> bool:
        try:
            async with self._http.get(self.base_url + "/_debug/ping") as response:
                return response.status == 200
        except aiohttp.ClientError:
            return False

    async def _close(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._http.close()

    async def say(self, person: Person, conversation: str, text: str) -> None:
        """`person` writes `text` to the bot in `conversation` (mentioning it unless the
        conversation is a 1:1 chat), as Teams would deliver it."""
        template = await self._get(
            "/_internal/v1/customActivities/template", conversationId=conversation
        )
        personal = template["conversation"].get("conversationType") == "personal"
        mention = f"<at>{self.team.bot_name}</at>"
        activity = {
            **template,
            "type": "message",
            "from": person.account(),
            "text": text if personal else f"{mention} {text}",
            "textFormat": "plain",
            "locale": "en-US",
            "entities": []
            if personal
            else [
                {
                    "type": "mention",
                    "mentioned": {"id": self.team.bot_id, "name": self.team.bot_name},
                    "text": mention,
                }
            ],
            "channelData": self._channel_data(conversation, template),
        }
        await self._post("/_internal/v1/customActivities", activity)

    async def click(self, person: Person, message: Message, title: str) -> None:
        """`person` clicks the button `title` of the card in `message` (an Action.Submit)."""
        action = message.action(title)
        assert action is not None, f"no button {title!r} on {message.body}"
        await self._post(
            "/_conversation/v1/submit",
            {
                "conversation": {"id": message.conversation},
                "replyToId": message.id,
                "value": action.get("data") or {},
                "from": {"id": person.id},
            },
        )

    def _channel_data(self, conversation: str, template: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = {"tenant": {"id": self.team.tenant}}
        if template["conversation"].get("conversationType") == "channel":
            channel = conversation.split(";")[0]
            data |= {"team": {"id": self.team.team_id}, "channel": {"id": channel}}
        return data

    async def _get(self, path: str, **params: str) -> dict[str, Any]:
        async with self._http.get(self.base_url + path, params=params) as response:
            assert response.status == 200, (path, response.status, await response.text())
            answer: dict[str, Any] = await response.json()
            return answer

    async def _post(self, path: str, body: dict[str, Any]) -> None:
        async with self._http.post(self.base_url + path, json=body) as response:
            assert response.status == 200, (path, response.status, await response.text())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _line_starting(process: asyncio.subprocess.Process, prefix: str) -> str:
    """The first line of the process's output that starts with `prefix`."""
    assert process.stdout is not None
    while line := (await process.stdout.readline()).decode(errors="replace"):
        if line.startswith(prefix):
            return line.strip()
    raise RuntimeError(f"the Agents Playground exited ({await process.wait()}) before listening")


async def _drain(stream: asyncio.StreamReader) -> None:
    """Read what the process prints, so that a full pipe never blocks it."""
    while await stream.read(65536):
        pass


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.is_file() else "(no log)"


async def _stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM to the playground's own process group (by its PID), SIGKILL if it lingers."""
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        async with asyncio.timeout(5):
            await process.wait()
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()
