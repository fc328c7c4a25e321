"""What reaches the log (bot/logs.py), at the wire: Slack, Teams and playground traffic —
good, badly signed, stale, malformed, failing — with a marker in every text field and
secret; every record of every logger at DEBUG, through the real handler and formatters
that `configure` installs; no marker in any line. And the text format cannot be forged."""

from __future__ import annotations

import io
import json
import logging
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from bot import logs
from bot.core.context import Context
from bot.server import Runtime
from tests.support import teams_wire
from tests.support.doors import Doors, all_doors
from tests.support.playground import user
from tests.support.slack_requests import command, command_fields, event, interaction, sign
from tests.support.slack_wire import handle_recorded

FORMATS = ["text", "json"]


class _Raw(logging.Handler):
    """Every record as a library or our code wrote it, before the guard: proof that the
    traffic did make records carry what must not reach the log."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        extra = " ".join(str(v) for k, v in vars(record).items() if k not in _PLAIN)
        self.texts.append(f"{record.getMessage()} {extra} {record.exc_info}")


_PLAIN = set(vars(logging.makeLogRecord({}))) | {"message", "taskName"}


@dataclass
class Capture:
    stream: io.StringIO
    raw: _Raw

    def lines(self) -> list[str]:
        return self.stream.getvalue().splitlines()


@contextmanager
def debug_log(log_format: str) -> Iterator[Capture]:
    """`logs.configure(log_format, DEBUG)` writing to a buffer, every logger at DEBUG;
    everything put back afterwards."""
    root = logging.getLogger()
    saved_root = (root.handlers[:], root.level)
    loggers = [
        found
        for found in logging.Logger.manager.loggerDict.values()
        if isinstance(found, logging.Logger)
    ]
    saved = {found: (found.level, found.disabled) for found in loggers}
    stream = io.StringIO()
    logs.configure(log_format, logging.DEBUG, stream=stream)
    for found in [*loggers, logging.getLogger("aiohttp.access"), logging.getLogger("apscheduler")]:
        found.setLevel(logging.DEBUG)
        found.disabled = False
    raw = _Raw()
    root.handlers.insert(0, raw)  # before the guarded handler, which rewrites records
    try:
        yield Capture(stream, raw)
    finally:
        root.handlers[:], level = saved_root
        root.setLevel(level)
        for found, (was, disabled) in saved.items():
            found.setLevel(was)
            found.disabled = disabled


@dataclass
class Markers:
    """Unique strings, one per text field or secret sent."""

    made: dict[str, str] = field(default_factory=dict)

    def __call__(self, name: str) -> str:
        self.made[name] = f"mk{name}{secrets.token_hex(6)}"
        return self.made[name]

    def found_in(self, text: str) -> list[str]:
        return [name for name, value in self.made.items() if value in text]


async def _fail_on_boom(runtime: Runtime) -> None:
    """A bug that quotes what someone sent in its exception: anyone named `boom…` makes
    the event fail inside the dispatcher's transaction (rolled back, apology, logged)."""
    for platform in ("slack", "teams", "local"):
        before = runtime.dispatcher.observers.get(platform)

        async def observer(ctx: Context, before: Any = before) -> None:
            if "boom" in ctx.user.name:
                raise ValueError(f"cannot welcome {ctx.user.name}")
            if before is not None:
                await before(ctx)

        runtime.dispatcher.observers[platform] = observer


async def _slack_traffic(doors: Doors, mark: Markers, secret: str) -> None:
    client, fake, runtime = doors.client, doors.slack, doors.runtime

    def signed(body: str, timestamp: int | None = None) -> dict[str, str]:
        return sign(body, timestamp, secret)

    async def post(body: str, headers: dict[str, str]) -> int:
        response = await client.post("/slack/events", data=body.encode(), headers=headers)
        await handle_recorded(runtime)
        return response.status

    def cmd(who: str, text: str, url: str | None = None, name: str | None = None) -> str:
        fields = command_fields(who, text, response_url=url or fake.response_url(who))
        fields["user_name"] = name or mark(f"slackname{who}")
        fields["channel_name"] = mark(f"channel{who}")
        fields["team_domain"] = mark(f"domain{who}")
        return urlencode(fields)

    url = fake.response_url(mark("responseurl"))
    good = cmd("UANIM", f"session start {mark('slacktitle')}", url)
    assert await post(good, signed(good)) == 200
    assert fake.responses, "the answer went to the response_url"
    fake.server_errors = 1  # the first post of the card fails: retried
    await runtime.sender.drain()
    await runtime.clock.advance(120)
    await runtime.sender.drain()
    joined = cmd("U1", f"join {mark('slackjoin')}")
    assert await post(joined, signed(joined)) == 200
    # Bolt logs the whole body of a badly signed or stale request (text, response_url).
    forged = cmd("U2", f"share {mark('forgedtext')}", mark("forgedurl"))
    assert await post(forged, {**signed(forged), "X-Slack-Signature": "v0=" + "0" * 64}) == 401
    stale = cmd("U2", f"share {mark('staletext')}")
    assert await post(stale, signed(stale, int(time.time()) - 400)) == 401
    odd = cmd("U2", mark("oddstamp"))
    assert await post(odd, {**signed(odd), "X-Slack-Request-Timestamp": mark("stamp")}) == 401
    deep = json.dumps({"text": mark("deeptext")})[:-1] + ', "x": ' + "[" * 5000 + "}"
    assert await post(deep, {"Content-Type": "application/json"}) == 401
    view = interaction({"type": "view_submission", "view": mark("viewtext")})
    assert await post(view, signed(view)) == 400
    mention = event({"type": "app_mention", "user": "U1", "text": f"<@UBOT> {mark('mention')}"})
    assert await post(mention, {**signed(mention), "Content-Type": "application/json"}) == 200
    unhandled = event({"type": "pin_added", "user": "U1", "text": mark("unhandled")}, "Ev9")
    await post(unhandled, {**signed(unhandled), "Content-Type": "application/json"})
    click = interaction(
        {
            "type": "block_actions",
            "user": {"id": "U3", "name": mark("clickname")},
            "team": {"id": "T1"},
            "channel": {"id": "C1"},
            "response_url": fake.response_url(mark("clickurl")),
            "actions": [{"action_id": mark("actionid"), "value": mark("actionvalue")}],
        }
    )
    assert await post(click, signed(click)) == 200
    boom = cmd("UBOOM", "join", name=f"boom{mark('slackboom')}")
    assert await post(boom, signed(boom)) == 200
    # A response_url nobody answers: the reply's send fails, is logged, retried (the
    # handling succeeded: the reply waits in the outbox).
    lost = cmd("U4", "help", f"http://127.0.0.1:9/response/{mark('losturl')}")
    assert await post(lost, signed(lost)) == 200


async def _teams_traffic(doors: Doors, mark: Markers) -> None:
    client, fake, runtime = doors.client, doors.teams, doors.runtime

    async def send(body: Any, **headers: str) -> int:
        response = await teams_wire.send(client, fake, body, **headers)
        await teams_wire.settle(runtime)
        return response.status

    anim = teams_wire.activity(fake, teams_wire.ANIM, f"session start {mark('teamstitle')}")
    anim["from"]["name"] = mark("teamsname")
    assert await send(anim) == 202
    forged = teams_wire.activity(fake, "someone", f"join {mark('teamsforged')}")
    assert await send(forged, Authorization=f"Bearer {mark('badjwt')}") == 401
    odd = teams_wire.activity(fake, "odd", "help", timestamp=mark("teamsstamp"))
    assert await send(odd) == 202  # refused by the worker, against the schema
    assert await send('{"text": "' + mark("teamsdeep") + '", "x": ' + "[" * 5000) == 400
    boom = teams_wire.activity(fake, "boomer", "join")
    boom["from"]["name"] = f"boom{mark('teamsboom')}"
    assert await send(boom) == 202
    invoke = teams_wire.activity(
        fake,
        "clicker",
        type="invoke",
        name="adaptiveCard/action",
        value={"action": {"data": {"action_id": "x", "value": mark("invokevalue")}}},
    )
    assert await send(invoke) == 200


async def _local_traffic(doors: Doors, mark: Markers) -> None:
    client = doors.client

    async def post(path: str, body: Any) -> int:
        data = body if isinstance(body, str) else json.dumps(body)
        headers = {"Content-Type": "application/json"}
        response = await client.post(path, data=data.encode(), headers=headers)
        await doors.runtime.sender.drain()
        return response.status

    anim = user("anim1", name=mark("localname"))
    start = {"user": anim, "conversation": "general", "text": f"session start {mark('lt')}"}
    assert await post("/local/api/command", start) == 200
    bob = user("bob", name=mark("bobname"))
    joined = {"user": bob, "conversation": "general", "text": f"join {mark('localjoin')}"}
    assert await post("/local/api/command", joined) == 200
    value = {"user": bob, "conversation": "general", "action_id": "x", "value": mark("lv")}
    assert await post("/local/api/action", value) == 200
    assert await post("/local/api/command", '{"text": "' + mark("localbroken")) == 400
    assert (
        await post("/local/api/command", '{"text": "' + mark("ld") + '", "x":' + "[" * 5000) == 400
    )
    boom = {"user": user("boomer", name=f"boom{mark('localboom')}"), "conversation": "general"}
    assert await post("/local/api/command", {**boom, "text": "join"}) == 200
    assert await post("/local/api/clock", {"now": mark("localclock")}) == 400


@pytest.mark.parametrize("log_format", FORMATS)
async def test_no_text_secret_or_response_url_of_any_door_reaches_the_log(
    database_url: str, log_format: str
) -> None:
    mark = Markers()
    secrets_sent = {
        "signing_secret": mark("signingsecret"),
        "slack_token": f"xoxb-{mark('slacktoken')}",
        "teams_password": mark("teamspassword"),
        "teams_token": mark("teamstoken"),
    }
    with debug_log(log_format) as log:
        async with all_doors(database_url, **secrets_sent) as doors:
            await _fail_on_boom(doors.runtime)
            await _slack_traffic(doors, mark, secrets_sent["signing_secret"])
            await _teams_traffic(doors, mark)
            await _local_traffic(doors, mark)
            bearer = doors.teams.bearer(teams_wire.APP_ID).removeprefix("Bearer ")
    output = log.stream.getvalue()
    assert "event_handled" in output and "event_failed" in output, "our lines are there"
    assert "outbox_retry" in output, "the lost response_url failed the reply's send"
    leaked = mark.found_in(output)
    assert leaked == [], f"in the log: {leaked}"
    assert bearer.split(".")[2] not in output, "the Bot Connector's token"
    raw = "\n".join(log.raw.texts)
    carried = mark.found_in(raw)
    print("carried by records before the guard:", carried)
    assert carried, "the traffic made records carry what the guard keeps out"
    if log_format == "json":
        for line in log.lines():
            json.loads(line)  # one JSON object per line, whatever was sent


@pytest.mark.parametrize("log_format", FORMATS)
async def test_a_bad_signature_request_carrying_a_marker_leaves_it_in_no_log_line(
    database_url: str, log_format: str
) -> None:
    marker = f"marker-{secrets.token_hex(8)}"
    with debug_log(log_format) as log:
        async with all_doors(database_url) as doors:
            body = command("U1", f"share {marker}", response_url=f"https://x/{marker}")
            headers = {**sign(body), "X-Slack-Signature": "v0=" + "1" * 64}
            response = await doors.client.post("/slack/events", data=body, headers=headers)
            assert response.status == 401
            as_json = json.dumps({"type": "event_callback", "event": {"text": marker}})
            stale = sign(as_json, int(time.time()) - 3600)
            response = await doors.client.post(
                "/slack/events", data=as_json, headers={**stale, "Content-Type": "application/json"}
            )
            assert response.status == 401
    assert log.lines(), "the log was written (DEBUG, every logger)"
    assert not [line for line in log.lines() if marker in line]


async def test_anonymous_big_requests_do_not_grow_the_log_by_their_size(database_url: str) -> None:
    with debug_log("text") as log:
        async with all_doors(database_url) as doors:
            for _ in range(5):
                text = "x" * 1_000_000
                slack = urlencode({"command": "/ambassador", "text": text})
                teams = json.dumps({"type": "message", "text": text})
                local = json.dumps({"user": user("u1"), "conversation": "c", "text": text})
                for path, body, kind in (
                    ("/slack/events", slack, "application/x-www-form-urlencoded"),
                    ("/api/messages", teams, "application/json"),
                    ("/local/api/command", local, "application/json"),
                ):
                    response = await doors.client.post(
                        path, data=body.encode()[:1_000_000], headers={"Content-Type": kind}
                    )
                    assert 400 <= response.status < 500
    size = len(log.stream.getvalue())
    assert size < 20_000, f"15 MB of anonymous requests wrote {size} characters of log"


def _record(msg: str, level: int = logging.INFO, name: str = "bot.x", **extra: Any) -> Any:
    return logging.makeLogRecord(
        {"msg": msg, "levelno": level, "levelname": "INFO", "name": name, **extra}
    )


def test_a_field_cannot_forge_a_line_or_a_field_in_the_text_format() -> None:
    forged = "x\n12:00:00 error admin_granted user=eve\r\x1b[2J\u2028\u0085"
    try:
        raise OSError(forged)
    except OSError as exc:
        failure = exc
    record = _record(
        f"event{forged}",
        exc_info=(OSError, failure, failure.__traceback__),
        user=forged,
        other='a b="c" level=error',
    )
    line = logs.TextFormatter().format(record)
    first, *rest = line.split("\n")
    assert all(part.startswith("    ") for part in rest), "traceback lines are indented"
    assert "\r" not in line and "\x1b" not in line and "\u2028" not in line
    assert "\u0085" not in line
    assert "\\n12:00:00 error admin_granted" in first
    assert 'other="a b=\\"c\\" level=error"' in first, "a value cannot add a field"
    unquoted = re.sub(r'"(?:[^"\\]|\\.)*"', '""', first)
    assert re.findall(r"([\w.-]+)=", unquoted) == ["user", "other"], "nor the event"
    assert len(line.splitlines()) == len(line.split("\n")), "no other line separator"


def test_json_lines_escape_line_separators_and_control_characters() -> None:
    record = _record("evt", user="a\u2028b\u2029c\x85d\ne\x1bf")
    line = logs.JsonFormatter().format(record)
    assert len(line.splitlines()) == 1
    assert json.loads(line)["user"] == "a\u2028b\u2029c\x85d\ne\x1bf"


def test_values_are_cut_so_no_line_is_as_long_as_a_request() -> None:
    record = _record("evt", note="y" * 1_000_000)
    for formatter in (logs.TextFormatter(), logs.JsonFormatter()):
        assert len(formatter.format(record)) < 2_000


def test_libraries_records_below_warning_are_dropped_and_their_warnings_reduced() -> None:
    guard = logs.LibraryGuard()
    body = "token=x&text=secret words&response_url=https://hooks.slack.com/c/1"
    info = _record(f"Invalid request signature detected (body: {body})", name="slack_bolt.X")
    assert guard.filter(info) is False
    for message in (f"Unhandled request ({body})", f"Unhandled request: {body}"):
        warning = _record(message, logging.WARNING, "app.py:AsyncApp")
        assert guard.filter(warning) is True
        assert warning.getMessage() == "Unhandled request" and warning.source == "app.py:AsyncApp"
    templated = _record("Error handling request from %s", logging.ERROR, "aiohttp.server")
    templated.args = ("203.0.113.9",)
    assert guard.filter(templated) and templated.getMessage() == "Error handling request from %s"
    ours = _record("event_handled", logging.DEBUG, "bot.core.dispatch")
    assert guard.filter(ours) and ours.getMessage() == "event_handled"


def test_exceptions_keep_their_message_only_when_it_carries_no_data() -> None:
    assert logs.describe(ValueError("Invalid isoformat string: 'my secret plan'")) == (
        "ValueError (message withheld: it may quote what was sent)"
    )
    assert "x" not in logs.describe(KeyError("x"))
    assert logs.describe(ConnectionRefusedError(111, "Connection refused")).endswith(
        "Connection refused"
    )
    down = OperationalError("SELECT 1", {}, Exception("could not connect to server"))
    assert "could not connect" in logs.describe(down)
    unique = IntegrityError("INSERT", {}, Exception("DETAIL: Key (text)=(my words) exists"))
    assert "my words" not in logs.describe(unique) and "IntegrityError" in logs.describe(unique)
    plan = "my secret plan"
    try:
        try:
            int(plan)
        except ValueError as exc:
            raise RuntimeError("while parsing") from exc
    except RuntimeError as exc:
        text = logs.format_exception(exc)
    assert "my secret plan" not in text and "int(plan)" in text, "frames, not values"
    assert text.count("Traceback") == 2
    assert "ValueError" in text and "RuntimeError" in text and "direct cause" in text


def test_a_slack_api_error_keeps_its_error_code_only() -> None:
    from slack_sdk.errors import SlackApiError, SlackRequestError
    from slack_sdk.web.slack_response import SlackResponse

    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack.test/api/chat.postMessage",
        req_args={},
        data={"ok": False, "error": "channel_not_found", "text": "my secret plan"},
        headers={},
        status_code=200,
    )
    error = SlackApiError("The request failed: my secret plan", response)
    assert logs.describe(error) == "slack_sdk.errors.SlackApiError: channel_not_found"
    # Another of the SDK's errors is not known to carry no data: its message is withheld.
    other = logs.describe(SlackRequestError("my secret plan"))
    assert "my secret plan" not in other and "withheld" in other
