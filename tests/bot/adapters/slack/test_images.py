"""Badge images on Slack (bot/adapters/slack/images.py): sent only from an address Slack can
fetch, and when Slack still refuses one (`invalid_blocks`, "downloading image failed"),
the badge announcement, the badge DM, `me` and the Home tab go out without it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from bot.adapters.slack import blocks
from bot.adapters.slack.images import reachable, refused, without
from bot.core.replies import Card
from bot.server import Runtime
from storage.models import OutboxMessage
from tests.conftest import FRIDAY
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import command, event, json_headers, sign
from tests.support.slack_wire import Client, handle_recorded, slack_app

PUBLIC = "https://ambassador.example.org"


@pytest.mark.parametrize(
    ("url", "fetchable"),
    [
        (f"{PUBLIC}/badges/images/junior.png", True),
        ("https://203.0.113.7/badge.png", False),  # documentation range: not global
        ("https://8.8.8.8/badge.png", True),
        ("http://ambassador.example.org/badge.png", False),  # not https
        ("https://127.0.0.1:3978/badges/images/junior.png", False),
        ("http://127.0.0.1:3978/badges/images/junior.png", False),  # the default address
        ("https://0.0.0.0:3978/badge.png", False),
        ("https://10.1.2.3/badge.png", False),
        ("https://192.168.1.20/badge.png", False),
        ("https://[::1]/badge.png", False),
        ("https://[fd00::1]/badge.png", False),
        ("https://localhost/badge.png", False),
        ("https://bot.localhost/badge.png", False),
        ("https://ambassador/badge.png", False),  # a single-label intranet name
        ("https://ambassador.corp/badge.png", False),
        ("https://bot.internal/badge.png", False),
        ("https://printer.local/badge.png", False),
        ("https://[not-an-address/badge.png", False),
        ("", False),
        (None, False),
    ],
)
def test_an_image_is_sent_only_from_where_slack_can_fetch_it(
    url: str | None, fetchable: bool
) -> None:
    assert reachable(url) is fetchable
    card = Card(title="Junior", body="Well done", image_url=url)
    kinds = [block["type"] for block in blocks.message("x", card)["blocks"]]
    assert ("image" in kinds) is fetchable


def test_what_counts_as_a_refused_image_and_what_a_message_is_without_it() -> None:
    failed = "downloading image failed [json-pointer:/blocks/3/image_url]"
    assert refused({"ok": False, "error": "invalid_blocks", "errors": [failed]})
    assert refused({"ok": False, "error": "invalid_arguments", "errors": [failed]})
    assert refused("invalid_blocks")
    assert not refused({"ok": False, "error": "channel_not_found"})
    assert not refused({"ok": False, "error": "ratelimited", "errors": "image"})
    message = blocks.message("x", Card(title="Junior", image_url=f"{PUBLIC}/j.png"))
    bare = without(message)
    assert [b["type"] for b in bare["blocks"]] == ["header"] and bare["text"] == "x"
    view = {"view": {"type": "home", "blocks": message["blocks"]}}
    assert [b["type"] for b in without(view)["view"]["blocks"]] == ["header"]


def _blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
    holder = body.get("view", body)
    holder = json.loads(holder) if isinstance(holder, str) else holder
    found = holder.get("blocks") or []
    return list(json.loads(found) if isinstance(found, str) else found)


def _has_image(body: dict[str, Any]) -> bool:
    return any(block.get("type") == "image" for block in _blocks(body))


async def _ask(client: Client, fake: FakeSlack, runtime: Runtime, user: str, text: str) -> str:
    name = f"{user}-{len(fake.calls)}-{len(fake.refused)}"
    body = command(user, text, response_url=fake.response_url(name))
    assert (await client.post("/slack/events", data=body, headers=sign(body))).status == 200
    await handle_recorded(runtime)
    return name


async def _promote(client: Client, fake: FakeSlack, runtime: Runtime) -> None:
    """A session, a learner, and the animator's grant: an announcement and a DM, with the
    badge's image."""
    await _ask(client, fake, runtime, "UANIM", "session start Feedback")
    await _ask(client, fake, runtime, "ULEARN", "join")
    await _ask(client, fake, runtime, "UANIM", "badge grant <@ULEARN|learn> junior Great")
    for _ in range(5):
        await runtime.sender.drain()
        await runtime.clock.advance(5)


async def test_badges_reach_slack_without_their_image_when_slack_cannot_fetch_it(
    database_url: str,
) -> None:
    async with slack_app(database_url, start=FRIDAY, PUBLIC_BASE_URL=PUBLIC) as app:
        client, fake, runtime = app
        fake.refuse_images = True
        await _promote(client, fake, runtime)
        posted = [b for m, b in fake.calls if m == "chat.postMessage"]
        announcements = [b for b in posted if "ULEARN" in b["text"] or "Junior" in b["text"]]
        dms = [b for b in posted if b["channel"] == "ULEARN"]
        me = await _ask(client, fake, runtime, "ULEARN", "me")
        opened = {"type": "app_home_opened", "user": "ULEARN", "tab": "home", "event_ts": "1.1"}
        home = event(opened, "EvHome")
        response = await client.post("/slack/events", data=home, headers=json_headers(home))
        assert response.status == 200
        await handle_recorded(runtime)
        async with runtime.db_sessions() as db:
            sent = (await db.execute(select(OutboxMessage))).scalars()
            statuses = {m.idempotency_key: m.status for m in sent}
    refused_kinds = sorted({method for method, body in fake.refused if _has_image(body)})
    # Each was first sent with its image, refused, then sent without it.
    assert refused_kinds == ["chat.postMessage", "response_url", "views.publish"]
    assert set(statuses.values()) == {"sent"}, statuses
    assert any(b["channel"] != "ULEARN" for b in announcements), "the community post"
    assert dms and not any(_has_image(b) for b in posted)
    [answer] = fake.responses[me]
    assert not _has_image(answer) and answer["text"]
    [view] = [b for m, b in fake.calls if m == "views.publish"]
    assert _blocks(view) and not _has_image(view)


async def test_with_the_default_address_no_image_is_sent_at_all(database_url: str) -> None:
    """PUBLIC_BASE_URL unset: the images would be at http://127.0.0.1:3978, out of Slack's
    reach; the messages go without them, at the first try."""
    async with slack_app(database_url, start=FRIDAY) as (client, fake, runtime):
        fake.refuse_images = True
        await _promote(client, fake, runtime)
        posted = [b for m, b in fake.calls if m == "chat.postMessage"]
    assert any(b["channel"] == "ULEARN" for b in posted), "the badge DM"
    assert fake.refused == [] and not any(_has_image(b) for b in posted)
