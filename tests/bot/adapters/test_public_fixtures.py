"""Every public fixture (tests/fixtures/public: sources in its PROVENANCE.md, licences in its
README.md) replayed through the real app as the platform would send it: Slack's really
signed, Teams' with a Bot Connector token from the fake issuer. Whatever they hold, the bot
answers with no 5xx (but the 501 the Bot Framework gives an invoke a bot does not handle),
logs nothing at ERROR, and its inbox worker handles every recorded request with no failure;
what it sends out on the way reaches the fakes without a failure either.

What a sender must adapt at send time (PROVENANCE.md) is done here, never in the files:
response_urls point at the fake Slack, the slash command is `/ambassador`, each of bolt's
Events API callbacks gets its own event_id (they all reuse `Ev111`), a Teams activity's
serviceUrl is the fake Bot Connector's (the Bot Connector always sends one; some
serialization fixtures have none) and a botbuilder-js recording sends only its body.
Payloads that are not inbound are listed in NOT_INBOUND with the reason, and skipped.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from sqlalchemy import select

from bot.server import Runtime
from storage import workspaces
from storage.models import InboxEvent, OutboxMessage
from tests.support import teams_wire
from tests.support.fake_connector import FakeConnector
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import sign
from tests.support.slack_wire import handle_recorded, install, slack_app

PUBLIC = Path(__file__).parents[2] / "fixtures" / "public"
# The uninstall events last: with OAuth they delete the token the others need.
SLACK = sorted(
    (p for p in (PUBLIC / "slack").rglob("*") if p.is_file()),
    key=lambda p: ("uninstalled" in p.name or "revoked" in p.name.lower(), str(p)),
)
TEAMS = sorted(p for p in (PUBLIC / "teams").rglob("*") if p.is_file())
# Activity types a bot sends and never receives: replaying them would test nothing real.
NOT_INBOUND = {
    # A commandResult answers a `command` activity; the bot that got the command sends it
    # (https://github.com/microsoft/botframework-sdk/blob/main/specs/botframework-activity/botframework-activity.md#command-result-activity).
    "commandResult": "sent by a bot in answer to a command, never to one",
}
SLACK_HOOKS = "https://hooks.slack.com/"
INTERACTIONS = frozenset(
    {
        "block_actions",
        "block_suggestion",
        "dialog_cancellation",
        "dialog_submission",
        "dialog_suggestion",
        "interactive_message",
        "message_action",
        "shortcut",
        "view_closed",
        "view_submission",
        "workflow_step_edit",
    }
)
# java-slack-sdk's skeletons keep every field with an empty value: their events' `type`
# is "" (not `event_callback`) and their action_id and callback_id are "", which is what
# bolt routes on. No listener can take them: bolt's 404, as for any request it cannot route.
SKELETONS_UNROUTABLE = {
    f"slack/java_skeletons/{name}.json": 404
    for name in (
        "AppHomeOpenedPayload",
        "AppMentionPayload",
        "AppUninstalledPayload",
        "BlockActionPayload",
        "MessageBotPayload",
        "MessageChangedPayload",
        "MessagePayload",
        "TokensRevokedPayload",
        "ViewSubmissionPayload",
    )
}
# With OAuth, bolt asks for the workspace's token before routing: the skeletons' workspace
# ("") has none, so they get the not-installed message (200), through their response_url
# when they have one; two of them have an empty one, which no client can post to (400).
SKELETONS_NOT_INSTALLED = {
    "slack/java_skeletons/BlockActionPayload.json": 400,
    "slack/java_skeletons/MessageShortcutPayload.json": 400,
}
# Teams fixtures whose channelId is not Teams' (Web Chat, a placeholder, none): the Bot
# Connector's keys are endorsed per channel, so their token is refused (auth.py).
OTHER_CHANNELS = {
    "teams/teams.net/Events__ReadReceiptActivity.json": 401,
    "teams/teams.net/Invokes__HandoffActivity.json": 401,
    "teams/teams.net/Invokes__SuggestedActionSubmitActivity.json": 401,
    "teams/teams.net/Message__MessageActivity_webChat.json": 401,
    "teams/teams.py/signin_failure_invoke_activity.json": 401,
    "teams/teams.py/suggested_action_submit_invoke_activity.json": 401,
}


def _name(path: Path) -> str:
    return str(path.relative_to(PUBLIC))


def _to_fake(value: Any, fake: FakeSlack, name: str) -> Any:
    """Every Slack response_url in `value` pointed at the fake Slack."""
    if isinstance(value, str) and value.startswith(SLACK_HOOKS):
        return fake.response_url(name)
    if isinstance(value, dict):
        return {key: _to_fake(item, fake, name) for key, item in value.items()}
    if isinstance(value, list):
        return [_to_fake(item, fake, name) for item in value]
    return value


def slack_request(path: Path, fake: FakeSlack) -> tuple[str, dict[str, str]]:
    """The body and headers Slack would send for the fixture at `path`, signed now."""
    name = path.stem
    text = path.read_text()
    if path.suffix == ".txt":  # the literal form string of a slash command or ssl_check
        fields = dict(parse_qsl(text, keep_blank_values=True))
        if "command" in fields:
            fields["command"] = "/ambassador"
        body = urlencode(_to_fake(fields, fake, name))
        return body, sign(body)
    data = _to_fake(json.loads(text), fake, name)
    if "event" in data:  # an Events API callback: JSON
        if path.parent.name == "bolt":
            data["event_id"] = f"Ev-{name}"
        body = json.dumps(data)
        return body, {**sign(body), "Content-Type": "application/json"}
    assert data.get("type") in INTERACTIONS, name
    body = urlencode({"payload": json.dumps(data)})  # interactivity: form-encoded
    return body, sign(body)


def teams_activity(path: Path, fake: FakeConnector) -> dict[str, Any]:
    """The activity the Bot Connector would post for the fixture at `path`."""
    data = json.loads(path.read_text())
    if {"method", "url", "body"} <= set(data):  # a botbuilder-js recording
        data = data["body"]
    return {**data, "serviceUrl": fake.service_url}


def _unhandled_invoke(activity: dict[str, Any]) -> bool:
    """An invoke other than a card's Action.Execute: the Bot Framework's 501 (app.py)."""
    return activity.get("type") == "invoke" and activity.get("name") != "adaptiveCard/action"


def test_every_public_fixture_is_replayed_or_skipped_by_rule() -> None:
    assert len(SLACK) + len(TEAMS) == 138, "PROVENANCE.md lists 138 payloads"
    skipped = {_name(p) for p in TEAMS if json.loads(p.read_text()).get("type") in NOT_INBOUND}
    assert skipped == {"teams/teams.net/Command__CommandResultActivity.json"}
    for path in SLACK:  # a form string, an Events API callback or an interaction payload
        if path.suffix == ".txt":
            assert parse_qsl(path.read_text(), strict_parsing=True), _name(path)
        else:
            data = json.loads(path.read_text())
            assert "event" in data or data.get("type") in INTERACTIONS, _name(path)


async def _rows(runtime: Runtime, model: Any) -> list[Any]:
    async with runtime.db_sessions() as db:
        return list((await db.execute(select(model).order_by(model.id))).scalars())


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]


async def _send_everything(runtime: Runtime) -> None:
    """Send what the outbox holds, past its pacing (the clock moved, not slept)."""
    for _ in range(30):
        await runtime.sender.drain()
        if all(m.status != "pending" for m in await _rows(runtime, OutboxMessage)):
            return
        await runtime.clock.advance(5)
    raise AssertionError("the outbox did not empty")


async def _handled_without_failure(runtime: Runtime) -> list[str]:
    """The kinds of requests the inbox recorded; each one handled at the first attempt."""
    recorded = await _rows(runtime, InboxEvent)
    failed = [(e.kind, e.attempts, e.last_error) for e in recorded if e.status != "done"]
    assert failed == [] and [e.attempts for e in recorded if e.attempts] == []
    messages = await _rows(runtime, OutboxMessage)
    assert [(m.idempotency_key, m.last_error) for m in messages if m.status != "sent"] == []
    return sorted({e.kind for e in recorded})


@pytest.mark.parametrize("oauth", [False, True], ids=["single-workspace", "oauth"])
async def test_slacks_public_payloads_are_answered_and_handled_without_error(
    database_url: str, oauth: bool, caplog: pytest.LogCaptureFixture
) -> None:
    answers: dict[str, int] = {}
    async with slack_app(database_url, oauth=oauth) as (client, fake, runtime):
        if oauth:  # the workspace of bolt's fixtures (in org E111); the others are not
            fake.enterprises["T111"] = "E111"
            await install(client, fake, "T111", "W111")
        with caplog.at_level(logging.INFO):
            for path in SLACK:
                body, headers = slack_request(path, fake)
                response = await client.post("/slack/events", data=body, headers=headers)
                answers[_name(path)] = response.status
                await handle_recorded(runtime)
            await _send_everything(runtime)
        kinds = await _handled_without_failure(runtime)
        answered = {name for name, posts in fake.responses.items() if posts}
        async with runtime.db_sessions() as db:
            t111 = await workspaces.find(db, "slack", "T111")
    assert t111 is not None and t111.uninstalled_at is not None, "app_uninstalled, at last"
    expected = SKELETONS_NOT_INSTALLED if oauth else SKELETONS_UNROUTABLE
    assert {name: s for name, s in answers.items() if s != 200} == expected
    assert _errors(caplog) == []
    # (With OAuth, the one modal submission comes from a workspace that did not install it.)
    assert kinds == ["action", "command", "event"] + ([] if oauth else ["view"])
    # The slash command and bolt's button clicks were answered at their response_url.
    assert {"command__slash_command_body", "interaction__block_actions__authorize"} <= answered


async def test_teams_public_activities_are_answered_and_handled_without_error(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    answers: dict[str, int] = {}
    unhandled: dict[str, int] = {}
    async with teams_wire.teams_app(database_url) as (client, fake, runtime):
        with caplog.at_level(logging.INFO):
            for path in TEAMS:
                activity = teams_activity(path, fake)
                if activity.get("type") in NOT_INBOUND:
                    continue
                response = await teams_wire.send(client, fake, activity)
                answers[_name(path)] = response.status
                if _unhandled_invoke(activity) and _name(path) not in OTHER_CHANNELS:
                    unhandled[_name(path)] = 501
                await handle_recorded(runtime)
            await _send_everything(runtime)
        kinds = await _handled_without_failure(runtime)
        replied = [call for call in fake.calls if call.method == "send"]
    assert {name: s for name, s in answers.items() if s != 202} == {**OTHER_CHANNELS, **unhandled}
    assert _errors(caplog) == []
    assert kinds == ["activity"]
    assert replied, "the messages were answered through the fake Bot Connector"
