"""Slack at the wire: signed requests shaped as Slack sends them, to the real app on a
loopback port, with a fake Slack Web API receiving what the bot posts."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import func, select

from bot.clock import Clock
from bot.i18n import Translator
from bot.server import RUNTIME, Runtime, build_app, create_runtime
from storage.models import (
    Contribution,
    ContributionLike,
    InboxEvent,
    Member,
    MembershipEvent,
    OutboxMessage,
    Workspace,
)
from storage.vocabulary import ReactionKind
from tests.conftest import make_settings
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import (
    SECRET,
    button_click,
    command,
    event,
    interaction,
    json_headers,
    sign,
)
from tests.support.slack_wire import handle_recorded, slack_app

VECTORS = Path(__file__).parent / "golden" / "signature_vectors.json"


@pytest.fixture
async def slack(database_url: str) -> AsyncIterator[tuple[TestClient, FakeSlack, Runtime]]:  # type: ignore[type-arg]
    async with slack_app(database_url) as app:
        yield app


async def _send(client: TestClient, body: str, **headers: str) -> Any:  # type: ignore[type-arg]
    """Post a signed request, then let the inbox worker handle what it recorded."""
    response = await client.post("/slack/events", data=body, headers={**sign(body), **headers})
    await handle_recorded(client.server.app[RUNTIME])
    return response


async def _ask(client: TestClient, fake: FakeSlack, user: str, text: str) -> dict[str, Any]:  # type: ignore[type-arg]
    """`/ambassador <text>` as `user`: acknowledged at once, empty; the answer posted to the
    command's response_url once handled."""
    name = f"cmd{len(fake.calls)}-{user}"
    response = await _send(client, command(user, text, response_url=fake.response_url(name)))
    assert response.status == 200 and await response.text() == ""
    [answer] = fake.responses[name]
    return answer


class Pinned:
    """A clock stopped at the example's time (the example is years old)."""

    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


def test_slacks_documented_signature_example_verifies() -> None:
    vectors = json.loads(VECTORS.read_text())["vectors"]
    for vector in vectors[:2]:
        verifier = SignatureVerifier(vector["secret"], clock=Pinned(float(vector["timestamp"])))
        headers = {
            "x-slack-request-timestamp": vector["timestamp"],
            "x-slack-signature": vector["signature"],
        }
        assert verifier.is_valid_request(vector["body"], headers) is vector["valid"]
    first = vectors[0]
    ours = sign(first["body"], int(first["timestamp"]))["X-Slack-Signature"]
    assert ours == first["signature"], "the tests sign requests exactly as Slack does"


async def test_unsigned_stale_or_forged_requests_are_401_and_change_nothing(
    slack: tuple[TestClient, FakeSlack, Runtime],  # type: ignore[type-arg]
) -> None:
    client, fake, runtime = slack
    body = command("U1", "join")
    stale = sign(body, int(time.time()) - 301)
    forged = {**sign(body), "X-Slack-Signature": "v0=" + "0" * 64}
    for headers in ({"Content-Type": "application/x-www-form-urlencoded"}, stale, forged):
        response = await client.post("/slack/events", data=body, headers=headers)
        assert response.status == 401
    async with runtime.db_sessions() as db:
        assert (await db.execute(select(func.count()).select_from(Workspace))).scalar_one() == 0
    assert fake.calls == []


async def test_the_whole_sign_up_through_slack(
    slack: tuple[TestClient, FakeSlack, Runtime],  # type: ignore[type-arg]
) -> None:
    client, fake, runtime = slack
    answer = await _ask(client, fake, "UANIM", "session start Feedback")
    assert answer["response_type"] == "ephemeral" and "is open" in answer["text"]
    await runtime.sender.drain()
    card = next(body for method, body in fake.calls if method == "chat.postMessage")
    assert card["channel"] == "C1" and card["blocks"][0]["type"] == "header"
    join = next(b for b in card["blocks"] if b["type"] == "actions")["elements"][0]
    assert join["action_id"] == "signup.join#0"

    for user in ("U1", "U2"):
        joined = await _ask(client, fake, user, "join")
        assert "Welcome aboard" in joined["text"]
    click = button_click("U3", join, fake.response_url("click"))
    body = urlencode({"payload": json.dumps(click)})
    assert (await _send(client, body)).status == 200
    responded = fake.responses["click"]
    assert len(responded) == 1 and "Welcome aboard" in responded[0]["text"]
    assert responded[0]["response_type"] == "ephemeral"

    await runtime.sender.drain()
    updates = [b for m, b in fake.calls if m == "chat.update"]
    assert updates and "3 learners joined" in json.dumps(updates[-1])
    dms = {b["channel"] for m, b in fake.calls if m == "chat.postMessage"} - {"C1"}
    assert {"U1", "U2", "U3"} <= dms, "welcome DMs to each learner"
    closed = await _ask(client, fake, "UANIM", "session close")
    assert "3" in closed["text"]
    await runtime.sender.drain()
    posted = [b["text"] for m, b in fake.calls if m == "chat.postMessage" and b["channel"] == "C1"]
    assert any("3 learners joined" in text for text in posted[1:]), "the summary"


async def test_a_learner_cannot_run_animator_commands_on_slack(
    slack: tuple[TestClient, FakeSlack, Runtime],  # type: ignore[type-arg]
) -> None:
    client, fake, runtime = slack
    refused = await _ask(client, fake, "U1", "session start Hack")
    assert refused["text"].startswith("Only animators")
    await runtime.sender.drain()
    assert [m for m, _ in fake.calls if m not in ("users.info", "response_url")] == [], (
        "nothing posted"
    )


async def test_a_form_opens_as_a_modal_and_its_submission_is_the_forms_action(
    slack: tuple[TestClient, FakeSlack, Runtime],  # type: ignore[type-arg]
) -> None:
    client, fake, runtime = slack
    assert (await _send(client, command("UANIM", "challenge"))).status == 200
    opened = [b for m, b in fake.calls if m == "views.open"]
    assert len(opened) == 1 and opened[0]["trigger_id"] == "1.2.3"
    view = opened[0]["view"]
    assert view["callback_id"] == "challenge.form" and view["private_metadata"] == "C1"
    submission = {
        "type": "view_submission",
        "team": {"id": "T1", "domain": "acme"},
        "user": {"id": "UANIM", "username": "anim", "name": "anim", "team_id": "T1"},
        "view": {
            **view,
            "id": "V1",
            "state": {
                "values": {
                    "text": {"value": {"type": "plain_text_input", "value": "Share one win"}}
                }
            },
        },
    }
    body = urlencode({"payload": json.dumps(submission)})
    assert (await _send(client, body)).status == 200
    ephemeral = [b for m, b in fake.calls if m == "chat.postEphemeral"]
    assert len(ephemeral) == 1 and ephemeral[0]["user"] == "UANIM"
    assert "Challenge #1 is posted" in ephemeral[0]["text"]
    await runtime.sender.drain()
    posted = [b for m, b in fake.calls if m == "chat.postMessage"]
    assert posted and posted[0]["channel"] == "C1" and "Share one win" in posted[0]["text"]


async def _send_json(client: TestClient, body: str, **headers: str) -> Any:  # type: ignore[type-arg]
    signed = {**sign(body), "Content-Type": "application/json", **headers}
    response = await client.post("/slack/events", data=body, headers=signed)
    await handle_recorded(client.server.app[RUNTIME])
    return response


async def test_a_mention_is_a_command_and_a_retried_event_has_one_effect(
    slack: tuple[TestClient, FakeSlack, Runtime],  # type: ignore[type-arg]
) -> None:
    client, fake, runtime = slack
    mention = {
        "type": "app_mention",
        "user": "U1",
        "text": "<@UBOT> join",
        "ts": "1700000000.000100",
        "channel": "C1",
        "event_ts": "1700000000.000100",
    }
    assert (await _send_json(client, event(mention))).status == 200
    # Slack thinks it was not received and sends it again, twice.
    for retry in ("1", "2"):
        again = await _send_json(
            client,
            event(mention),
            **{"X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "timeout"},
        )
        assert again.status == 200
    replies = [b for m, b in fake.calls if m == "chat.postEphemeral"]
    assert len(replies) == 1 and replies[0]["user"] == "U1" and replies[0]["channel"] == "C1"
    assert "Welcome" in replies[0]["text"]
    async with runtime.db_sessions() as db:
        joined = await db.execute(
            select(func.count())
            .select_from(MembershipEvent)
            .where(MembershipEvent.kind == "joined")
        )
        assert joined.scalar_one() == 1


async def test_a_direct_message_is_a_command_answered_in_the_dm(
    slack: tuple[TestClient, FakeSlack, Runtime],  # type: ignore[type-arg]
) -> None:
    client, fake, _runtime = slack
    message = {
        "type": "message",
        "channel": "D1",
        "channel_type": "im",
        "user": "U2",
        "text": "help",
        "ts": "1700000000.000200",
    }
    assert (await _send_json(client, event(message, "Ev2"))).status == 200
    own = {**message, "user": "UBOT", "bot_id": "BBOT", "text": "Here is what you can do"}
    assert (await _send_json(client, event(own, "Ev3"))).status == 200
    answers = [b for m, b in fake.calls if m == "chat.postMessage"]
    assert len(answers) == 1 and answers[0]["channel"] == "D1"
    assert "Here is what you can do" in answers[0]["text"]


async def test_the_request_url_check_is_answered(
    slack: tuple[TestClient, FakeSlack, Runtime],  # type: ignore[type-arg]
) -> None:
    client, _fake, _runtime = slack
    sample = Path(__file__).parent / "golden" / "url_verification.json"
    body = sample.read_text().strip()
    answer = await _send_json(client, body)
    assert answer.status == 200
    assert json.loads(body)["challenge"] in await answer.text()


async def test_the_app_home_tab_shows_the_profile_and_its_shortcuts_work(
    slack: tuple[TestClient, FakeSlack, Runtime],  # type: ignore[type-arg]
) -> None:
    client, fake, _runtime = slack
    await _send(client, command("UANIM", "session start Feedback"))
    opened = {
        "type": "app_home_opened",
        "user": "UANIM",
        "channel": "D0LAN2Q65",
        "tab": "home",
        "event_ts": "1515449522000016",
    }
    assert (await _send_json(client, event(opened, "EvHome1"))).status == 200
    published = [b for m, b in fake.calls if m == "views.publish"]
    assert len(published) == 1 and published[0]["user_id"] == "UANIM"
    view = published[0]["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    assert "Feedback" in json.dumps(view), "the animator's open session"
    shortcuts = [
        element
        for block in view["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]
    sessions = next(e for e in shortcuts if e["value"] == "sessions")
    assert sessions["action_id"].startswith("home.shortcut#")

    # A click in the Home tab has no channel and no response_url: answered in the DM.
    click = {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "acme"},
        "user": {"id": "UANIM", "username": "uanim", "name": "uanim", "team_id": "T1"},
        "view": {"id": "V1", "type": "home"},
        "trigger_id": "1.2.9",
        "actions": [
            {
                "type": "button",
                "action_id": sessions["action_id"],
                "block_id": "b",
                "value": "sessions",
                "action_ts": "1700000000.2",
            }
        ],
    }
    assert (await _send(client, urlencode({"payload": json.dumps(click)}))).status == 200
    dm = [b for m, b in fake.calls if m == "chat.postMessage" and b["channel"] == "UANIM"]
    assert dm and "Feedback" in dm[-1]["text"]

    # The Messages tab opening is not a reason to redraw anything.
    opened["tab"] = "messages"
    await _send_json(client, event(opened, "EvHome2"))
    assert len([m for m, _ in fake.calls if m == "views.publish"]) == 1


def _header(message: dict[str, Any]) -> str | None:
    """The title of the card a Slack message shows (its header block), else None."""
    blocks = message.get("blocks") or []
    return next((b["text"]["text"] for b in blocks if b["type"] == "header"), None)


async def test_several_replies_reach_slack_one_message_each_in_order(
    slack: tuple[TestClient, FakeSlack, Runtime],  # type: ignore[type-arg]
) -> None:
    """`home` answers with three replies: the profile's card, the sessions (text) and the
    shortcuts' card. Each is its own ephemeral message, in that order, none merged or
    dropped (as on Teams and in the playground): to the response_url, and in the DM."""
    client, fake, _runtime = slack
    await _send(client, command("UANIM", "session start Feedback"))
    t = Translator("en")
    response = await _send(client, command("UANIM", "home", response_url=fake.response_url("h")))
    assert response.status == 200
    answers = fake.responses["h"]
    assert [a["response_type"] for a in answers] == ["ephemeral"] * 3
    profile, sessions, shortcuts = answers
    assert (_header(profile) or "").endswith(t("profile.title", name=""))
    assert _header(sessions) is None and "Feedback" in sessions["text"]
    assert _header(shortcuts) == t("home.shortcuts_title")
    buttons = [e for b in shortcuts["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [e["value"] for e in buttons] == [
        "challenge",
        "pulse",
        "results",
        "pairs",
        "sessions",
        "help",
    ]

    typed = {
        "type": "message",
        "channel": "D1",
        "channel_type": "im",
        "user": "UANIM",
        "text": "home",
        "ts": "1700000000.000300",
    }
    before = len(fake.calls)
    assert (await _send_json(client, event(typed, "EvHomeDm"))).status == 200
    in_dm = [b for m, b in fake.calls[before:] if m == "chat.postMessage"]
    assert [b["channel"] for b in in_dm] == ["D1"] * 3
    assert [_header(b) for b in in_dm] == [_header(a) for a in answers]
    assert [b["text"] for b in in_dm] == [a["text"] for a in answers]


async def test_people_get_their_directory_name_language_and_email(
    slack: tuple[TestClient, FakeSlack, Runtime],  # type: ignore[type-arg]
) -> None:
    client, fake, runtime = slack
    fake.directory["UANIM"] = {
        "id": "UANIM",
        "name": "chloe",
        "locale": "fr-FR",
        "tz": "Europe/Paris",
        "profile": {
            "display_name": "Chloé",
            "real_name": "Chloé Martin",
            "email": "chloe@example.org",
        },
    }
    mention = {
        "type": "app_mention",
        "user": "UANIM",
        "text": "<@UBOT> help",
        "ts": "1700000001.000100",
        "channel": "C1",
        "event_ts": "1700000001.000100",
    }
    assert (await _send_json(client, event(mention, "EvWho"))).status == 200
    for _ in range(100):  # the lookup runs after the answer
        async with runtime.db_sessions() as db:
            member = (
                await db.execute(select(Member).where(Member.user_id == "UANIM"))
            ).scalar_one()
        if member.email:
            break
        await asyncio.sleep(0.02)
    assert (member.display_name, member.email) == ("Chloé", "chloe@example.org")
    assert member.platform_locale == "fr-FR" and member.timezone == "Europe/Paris"
    assert [m for m, _ in fake.calls].count("users.info") == 1

    # An event with only the id does not erase the name; a modal speaks her language.
    assert (await _send(client, command("UANIM", "challenge"))).status == 200
    opened = [b for m, b in fake.calls if m == "views.open"][-1]["view"]
    assert opened["submit"]["text"] == "Envoyer"
    async with runtime.db_sessions() as db:
        member = (await db.execute(select(Member).where(Member.user_id == "UANIM"))).scalar_one()
    assert member.display_name == "Chloé"
    assert [m for m, _ in fake.calls].count("users.info") == 1, "once per hour, not per event"


async def test_a_command_acknowledged_before_a_crash_is_handled_after_the_restart(
    database_url: str,
) -> None:
    fake = FakeSlack()
    await fake.start()
    settings = make_settings(
        database_url,
        SLACK_BOT_TOKEN=fake.token,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_BASE_URL=fake.base_url,
        AMBASSADOR_ADMINS="slack:UANIM",
    )
    try:
        # The first process records and acknowledges, then dies before handling it.
        first = create_runtime(settings, Clock(controllable=True))
        body = command("UANIM", "session start Feedback", response_url=fake.response_url("r"))
        async with TestClient(TestServer(build_app(first, start_sender=False))) as client:
            acked = await client.post("/slack/events", data=body, headers=sign(body))
            assert acked.status == 200 and await acked.text() == ""
        await first.engine.dispose()
        assert "r" not in fake.responses

        # The restarted process picks the request up at start and answers it.
        second = create_runtime(settings, Clock(controllable=True))
        async with TestClient(TestServer(build_app(second))):
            for _ in range(200):
                if "r" in fake.responses:
                    break
                await asyncio.sleep(0.02)
        await second.engine.dispose()
        [answer] = fake.responses["r"]
        assert "is open" in answer["text"]
        cards = [b for m, b in fake.calls if m == "chat.postMessage" and b["channel"] == "C1"]
        assert len(cards) == 1, "the join card, posted once"
    finally:
        await fake.close()


async def test_malformed_requests_are_400_or_401_and_record_nothing(
    slack: tuple[TestClient, FakeSlack, Runtime],  # type: ignore[type-arg]
) -> None:
    client, fake, runtime = slack
    form = "application/x-www-form-urlencoded"
    cases = [
        ("payload=notjson", form, "`payload` is not JSON"),
        (urlencode({"payload": "[1, 2]"}), form, "not a JSON object"),
        (
            urlencode({"payload": json.dumps({"type": "view_submission", "view": "x"})}),
            form,
            "`view`",
        ),
        (
            urlencode({"payload": json.dumps({"type": "block_actions", "actions": ["x"]})}),
            form,
            "`actions`",
        ),
        ("command=%2Fambassador&text=join", form, "lacks team_id, channel_id, user_id"),
        ("[1, 2]", "application/json", "not a JSON object"),
        ("{not json", "application/json", "is not JSON"),
        (json.dumps({"type": "event_callback", "event": "x"}), "application/json", "`event`"),
    ]
    for body, content_type, says in cases:
        signed = await client.post(
            "/slack/events", data=body, headers={**sign(body), "Content-Type": content_type}
        )
        assert signed.status == 400, body
        assert says in (await signed.json())["error"], body
        unsigned = await client.post(
            "/slack/events", data=body, headers={"Content-Type": content_type}
        )
        assert unsigned.status == 401, body
    assert await runtime.inbox.drain() == 0, "nothing was recorded"
    assert fake.calls == []


async def test_what_the_bot_never_asked_for_is_acknowledged_and_dropped(
    slack: tuple[TestClient, FakeSlack, Runtime],  # type: ignore[type-arg]
) -> None:
    """Legacy dialogs (their `state` is a string: https://api.slack.com/dialogs), legacy
    attachment buttons, shortcuts, suggestions and events the bot does not handle: 200 (a
    404 is a failure to Slack), options empty where Slack waits for some; nothing recorded,
    nothing posted."""
    client, fake, runtime = slack
    team = {"id": "T1", "domain": "acme"}
    user = {"id": "U1", "name": "u1", "team_id": "T1"}
    dialog = {"team": team, "user": user, "channel": {"id": "C1"}, "callback_id": "d1"}
    dialog["response_url"] = fake.response_url("dialog")
    interactions = [
        {**dialog, "type": "dialog_submission", "submission": {"a": "b"}, "state": "Limo"},
        {**dialog, "type": "dialog_cancellation", "state": "Limo"},
        {**dialog, "type": "dialog_suggestion", "name": "n", "value": "x", "state": "Limo"},
        {**dialog, "type": "interactive_message", "actions": [{"name": "n", "value": "v"}]},
        {"type": "shortcut", "team": team, "user": user, "callback_id": "s", "trigger_id": "1"},
        {"type": "block_suggestion", "team": team, "user": user, "action_id": "a", "value": "x"},
    ]
    answers = []
    for payload in interactions:
        body = urlencode({"payload": json.dumps(payload)})
        response = await client.post("/slack/events", data=body, headers=sign(body))
        answers.append((payload["type"], response.status, await response.text()))
    joined = event({"type": "member_joined_channel", "user": "U1", "channel": "C1"}, "EvJ")
    response = await client.post("/slack/events", data=joined, headers=json_headers(joined))
    answers.append(("member_joined_channel", response.status, await response.text()))
    assert [(kind, status) for kind, status, _ in answers] == [
        (kind, 200) for kind, _, _ in answers
    ]
    suggestions = {kind: json.loads(text) for kind, _, text in answers if "suggestion" in kind}
    none: dict[str, Any] = {"options": []}
    assert suggestions == {"dialog_suggestion": none, "block_suggestion": none}
    assert await runtime.inbox.drain() == 0, "nothing was recorded"
    assert fake.calls == []


async def test_a_mentoring_pair_is_introduced_in_a_group_dm(
    slack: tuple[TestClient, FakeSlack, Runtime],  # type: ignore[type-arg]
) -> None:
    client, fake, runtime = slack
    await _ask(client, fake, "UANIM", "session start Feedback")
    for user in ("UMARC", "UNOVA"):
        await _ask(client, fake, user, "join")
    granted = await _ask(client, fake, "UANIM", "badge grant <@UMARC|marc> confirmed")
    assert "UMARC" in granted["text"] or "marc" in granted["text"].lower()
    assert "mentor" in (await _ask(client, fake, "UMARC", "mentor on"))["text"].lower()
    await _ask(client, fake, "UNOVA", "mentor request")
    await _ask(client, fake, "UANIM", "pair")
    await runtime.sender.drain()
    opened = [b for m, b in fake.calls if m == "conversations.open"]
    assert [b["users"] for b in opened] == ["UNOVA,UMARC"]
    group = [b for m, b in fake.calls if m == "chat.postMessage" and b["channel"] == "GUMARCUNOVA"]
    assert len(group) == 1 and "mentor" in group[0]["text"].lower()
    one_to_one = [
        b["text"]
        for m, b in fake.calls
        if m == "chat.postMessage" and b["channel"] in ("UMARC", "UNOVA")
    ]
    assert not any("Meet your mentor" in text for text in one_to_one), "no separate intros"


async def test_a_shared_mention_and_link_are_posted_as_real_ones_and_typed_text_as_typed(
    slack: tuple[TestClient, FakeSlack, Runtime],  # type: ignore[type-arg]
) -> None:
    """With should_escape, Slack sends mentions and links as markup and what people typed
    escaped (https://api.slack.com/reference/surfaces/formatting#escaping): the post shows
    the person and the link, and `<script>` and `&` as typed, escaped once."""
    client, fake, runtime = slack
    typed = (
        "share Thanks <@U0BOB0001|bob> for <https://example.org/guide?a=1&amp;b=2|the guide> "
        "in <#C0TIPS|tips>: &lt;script&gt; &amp; <!channel>"
    )
    await _ask(client, fake, "U1", typed)
    await runtime.sender.drain()
    [post] = [b for m, b in fake.calls if m == "chat.postMessage" and "Thanks" in b["text"]]
    shown = " ".join([post["text"], *(b["text"]["text"] for b in post["blocks"] if "text" in b)])
    assert "Thanks <@U0BOB0001> for <https://example.org/guide?a=1&amp;b=2|the guide>" in shown
    assert "in <#C0TIPS>: &lt;script&gt; &amp; @channel" in shown
    assert "&amp;lt;" not in shown and "&amp;amp;" not in shown and "<!channel>" not in shown
    async with runtime.db_sessions() as db:
        [stored] = (await db.execute(select(Contribution.text))).scalars().all()
    assert stored == (
        "Thanks <@U0BOB0001> for [the guide](https://example.org/guide?a=1&b=2) "
        "in <#C0TIPS>: <script> & @channel"
    )


async def _posted_share(
    client: TestClient,  # type: ignore[type-arg]
    fake: FakeSlack,
    runtime: Runtime,
    text: str,
) -> tuple[str, str]:
    """`share <text>` as U1: the channel and ts of its post (as the outbox stored them)."""
    await _ask(client, fake, "U1", f"share {text}")
    await runtime.sender.drain()
    post = next(b for m, b in fake.calls if m == "chat.postMessage" and text in b["text"])
    channel = post["channel"]
    async with runtime.db_sessions() as db:
        found = await db.execute(
            select(OutboxMessage.platform_message_id).where(
                OutboxMessage.platform_message_id.like(f"{channel}:%")
            )
        )
        stored = found.scalars().first()
    assert stored
    return channel, stored.split(":", 1)[1]


async def _reactions(runtime: Runtime) -> list[tuple[str, ReactionKind]]:
    async with runtime.db_sessions() as db:
        rows = await db.execute(
            select(Member.user_id, ContributionLike.kind)
            .join(Member, Member.id == ContributionLike.member_id)
            .order_by(Member.user_id)
        )
        return [(user_id, kind) for user_id, kind in rows.all()]


PUBLIC_SLACK = Path(__file__).parents[3] / "fixtures" / "public" / "slack"


def _replayed(template: str, user: str, emoji: str, on: tuple[str, str], event_id: str) -> str:
    """A reaction event as Slack sent it (a public fixture: bolt's reaction_added, the
    java-slack-sdk reaction_removed skeleton), for this workspace, person, emoji and post.
    The enterprise id goes: this workspace is no Enterprise Grid's."""
    body = json.loads((PUBLIC_SLACK / template).read_text())
    body.pop("enterprise_id", None)
    body.update(team_id="T1", api_app_id="A1", event_id=event_id)
    channel, ts = on
    body["event"].update(
        user=user,
        reaction=emoji,
        item_user="U1",
        item={"type": "message", "channel": channel, "ts": ts},
    )
    return json.dumps(body)


ADDED = "bolt/event__reaction_added.json"
REMOVED = "java_skeletons/ReactionRemovedPayload.json"


async def test_emojis_on_a_posted_share_like_dislike_and_come_off_silently(
    slack: tuple[TestClient, FakeSlack, Runtime],  # type: ignore[type-arg]
) -> None:
    client, fake, runtime = slack
    post = await _posted_share(client, fake, runtime, "I gave my first feedback today")
    added = [
        ("U2", "tada"),  # any approving emoji: a like
        ("U2", "heart"),  # the same person: still one like
        ("U3", "+1"),
        ("U3", "-1::skin-tone-2"),  # 👎 (with a skin tone): switches to a dislike
        ("U4", "x"),  # neither
    ]
    for n, (user, emoji) in enumerate(added):
        assert (
            await _send_json(client, _replayed(ADDED, user, emoji, post, f"EvA{n}"))
        ).status == 200
    other = (post[0], "1.000001")  # not a share: nothing
    await _send_json(client, _replayed(ADDED, "U4", "+1", other, "EvA9"))
    assert await _reactions(runtime) == [("U2", ReactionKind.LIKE), ("U3", ReactionKind.DISLIKE)]
    await runtime.clock.advance(2)
    await runtime.sender.drain()
    assert _like_labels(fake) == [Translator("en")("contributions.like", count=1)]

    removed = [
        ("U3", "+1"),  # her 👍 taken off: no longer her reaction, the dislike stays
        ("U4", "x"),
    ]
    for n, (user, emoji) in enumerate(removed):
        assert (
            await _send_json(client, _replayed(REMOVED, user, emoji, post, f"EvR{n}"))
        ).status == 200
    assert await _reactions(runtime) == [("U2", ReactionKind.LIKE), ("U3", ReactionKind.DISLIKE)]
    await _send_json(client, _replayed(REMOVED, "U3", "-1", post, "EvR3"))
    await _send_json(client, _replayed(REMOVED, "U2", "heart", post, "EvR4"))
    assert await _reactions(runtime) == []
    await runtime.clock.advance(2)
    await runtime.sender.drain()
    assert _like_labels(fake) == [Translator("en")("contributions.like", count=0)]
    told = [
        m
        for m, b in fake.calls
        if m == "chat.postEphemeral" or (m == "chat.postMessage" and b["channel"] != post[0])
    ]
    assert told == [], "a reaction gets no answer"


def _like_labels(fake: FakeSlack) -> list[str]:
    """The Like button's label on the post's latest edit."""
    edits = [b for m, b in fake.calls if m == "chat.update"]
    assert edits, "the post is edited to show its likes"
    return [
        element["text"]["text"]
        for block in edits[-1]["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"].startswith("contribution.like")
    ]


async def test_the_dislike_button_is_a_signed_click_answered_privately(
    slack: tuple[TestClient, FakeSlack, Runtime],  # type: ignore[type-arg]
) -> None:
    client, fake, runtime = slack
    await _posted_share(client, fake, runtime, "Ask one open question per meeting")
    card = next(
        b for m, b in fake.calls if m == "chat.postMessage" and "open question" in b["text"]
    )
    buttons = next(b for b in card["blocks"] if b["type"] == "actions")["elements"]
    dislike = next(b for b in buttons if b["action_id"].startswith("contribution.dislike"))
    assert dislike["text"]["text"] == "👎 Not useful to me"
    named = "post #1 by u1 (“Ask one open question per meeting”)"
    for n, expected in enumerate(
        (f"Noted: {named} is not useful", f"Your “not useful to me” on {named} is taken back")
    ):
        name = f"dislike{n}"
        click = button_click("U2", dislike, fake.response_url(name), channel=card["channel"])
        assert (await _send(client, interaction(click))).status == 200
        [answer] = fake.responses[name]
        assert answer["text"].startswith(expected) and answer["response_type"] == "ephemeral"
        assert await _reactions(runtime) == ([("U2", ReactionKind.DISLIKE)] if n == 0 else [])


async def _count(runtime: Runtime, model: Any) -> int:
    async with runtime.db_sessions() as db:
        return (await db.execute(select(func.count()).select_from(model))).scalar_one()


async def test_a_signed_command_replayed_within_its_window_has_one_effect(
    slack: tuple[TestClient, FakeSlack, Runtime],  # type: ignore[type-arg]
) -> None:
    client, fake, runtime = slack
    body = command(
        "U1", "share Ask one open question per meeting", response_url=fake.response_url("s")
    )
    headers = sign(body)  # one signature, one timestamp: the same request three times
    for _ in range(3):
        response = await client.post("/slack/events", data=body, headers=headers)
        assert response.status == 200 and await response.text() == ""
    await handle_recorded(runtime)
    assert await _count(runtime, Contribution) == 1
    assert await _count(runtime, InboxEvent) == 1
    assert len(fake.responses["s"]) == 1, "answered once"
    # The same words sent again as a new request (a new signature) are a new share.
    await _send(client, command("U1", "share Ask one open question per meeting"))
    assert await _count(runtime, Contribution) == 2


async def test_a_replayed_click_has_one_effect_even_when_replays_arrive_together(
    slack: tuple[TestClient, FakeSlack, Runtime],  # type: ignore[type-arg]
) -> None:
    client, fake, runtime = slack
    await _ask(client, fake, "UANIM", "session start Feedback")
    await runtime.sender.drain()
    card = next(body for method, body in fake.calls if method == "chat.postMessage")
    join = next(b for b in card["blocks"] if b["type"] == "actions")["elements"][0]
    click = button_click("U3", join, fake.response_url("click"))
    body = urlencode({"payload": json.dumps(click)})
    headers = sign(body)
    before = await _count(runtime, InboxEvent)
    answers = await asyncio.gather(
        *(client.post("/slack/events", data=body, headers=headers) for _ in range(3))
    )
    assert [answer.status for answer in answers] == [200, 200, 200]
    await handle_recorded(runtime)
    assert await _count(runtime, InboxEvent) == before + 1
    assert (
        len(fake.responses["click"]) == 1 and "Welcome aboard" in fake.responses["click"][0]["text"]
    )


async def test_slacks_verification_token_is_not_kept_in_the_inbox(
    slack: tuple[TestClient, FakeSlack, Runtime],  # type: ignore[type-arg]
) -> None:
    client, fake, runtime = slack
    answer = await _ask(client, fake, "UANIM", "help")
    assert answer["text"]
    mention = {"type": "app_mention", "user": "UANIM", "text": "<@UBOT> help", "ts": "1.2"}
    assert (await _send_json(client, event(mention))).status == 200
    async with runtime.db_sessions() as db:
        payloads = (await db.execute(select(InboxEvent.payload))).scalars().all()
    assert len(payloads) == 2 and {p.get("team_id") for p in payloads} == {"T1"}
    assert all("token" not in payload for payload in payloads), "the app's verification token"


async def test_each_kind_of_share_is_posted_with_its_title_and_a_watch_with_its_link(
    slack: tuple[TestClient, FakeSlack, Runtime],  # type: ignore[type-arg]
) -> None:
    """Issue 19 at the wire: signed `/ambassador share question …`, `share experience …`
    and `share watch <link> …` (the link as Slack's markup) post under their kind's title."""
    client, fake, runtime = slack
    asked = await _ask(client, fake, "U1", "share question How do you say no kindly?")
    assert "question is posted" in asked["text"]
    await _ask(client, fake, "U1", "share experience I asked for feedback: it worked")
    watched = await _ask(
        client, fake, "U1", "share watch <https://example.org/feedback?a=1&amp;b=2> Worth it"
    )
    assert "watch link is shared" in watched["text"]
    refused = await _ask(client, fake, "U1", "share watch example dot org")
    assert refused["text"].startswith("A watch needs a link")
    await runtime.sender.drain()
    posts = [b for m, b in fake.calls if m == "chat.postMessage"]
    titles = [b["text"]["text"] for post in posts for b in post["blocks"] if b["type"] == "header"]
    assert [t.split(" from ")[0].split(" by ")[0] for t in titles] == [
        "Question",
        "Experience report",
        "Watch shared",
    ], titles
    buttons = [
        element
        for block in posts[-1]["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]
    assert any(b.get("url") == "https://example.org/feedback?a=1&b=2" for b in buttons), buttons
    async with runtime.db_sessions() as db:
        stored = (await db.execute(select(Contribution.kind, Contribution.link))).all()
    assert [(str(k), link) for k, link in stored] == [
        ("question", None),
        ("experience", None),
        ("watch", "https://example.org/feedback?a=1&b=2"),
    ]


async def test_share_alone_opens_a_modal_with_the_kind_and_its_submission_shares(
    slack: tuple[TestClient, FakeSlack, Runtime],  # type: ignore[type-arg]
) -> None:
    client, fake, runtime = slack
    assert (await _send(client, command("U1", "share"))).status == 200
    [opened] = [b for m, b in fake.calls if m == "views.open"]
    view = opened["view"]
    assert view["callback_id"] == "contribution.share"
    kind = next(b for b in view["blocks"] if b.get("block_id") == "kind")["element"]
    assert kind["type"] == "static_select"
    assert [o["value"] for o in kind["options"]] == ["share", "question", "experience", "watch"]
    submission = {
        "type": "view_submission",
        "team": {"id": "T1", "domain": "acme"},
        "user": {"id": "U1", "username": "u1", "name": "u1", "team_id": "T1"},
        "view": {
            **view,
            "id": "V1",
            "state": {
                "values": {
                    "kind": {
                        "value": {
                            "type": "static_select",
                            "selected_option": {"value": "watch"},
                        }
                    },
                    "text": {"value": {"type": "plain_text_input", "value": "Worth it"}},
                    "link": {
                        "value": {"type": "plain_text_input", "value": "https://example.org/a"}
                    },
                }
            },
        },
    }
    assert (await _send(client, urlencode({"payload": json.dumps(submission)}))).status == 200
    await runtime.sender.drain()
    [post] = [b for m, b in fake.calls if m == "chat.postMessage"]
    assert "Watch shared by" in post["text"] and "Worth it" in post["text"]
