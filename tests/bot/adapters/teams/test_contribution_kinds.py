"""The kinds of share on Teams (issue 19): a channel message `share question …` or
`partager veille <link> …` posts under its kind's title (a watch with its link as a
button); `share` alone answers, in the 1:1 chat, the form with the kind as a choice set."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from bot.server import Runtime
from storage.models import Contribution
from tests.support.fake_connector import FakeConnector
from tests.support.teams_wire import ANIM, CHANNEL_ROOT, Client, activity, send, settle


def _elements(element: Any) -> list[dict[str, Any]]:
    """Every object of an Adaptive Card, depth first."""
    found: list[dict[str, Any]] = []
    if isinstance(element, dict):
        found.append(element)
        for value in element.values():
            found += _elements(value)
    elif isinstance(element, list):
        for value in element:
            found += _elements(value)
    return found


async def test_each_kind_is_posted_with_its_title(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    for text in (
        "share question How do you say no kindly?",
        "share experience I asked for feedback: it worked",
        "partager veille https://example.org/feedback Worth it",
    ):
        assert (await send(client, fake, activity(fake, ANIM, text))).status == 202
        await settle(runtime)
    posts = fake.sent(CHANNEL_ROOT)
    shown = "\n".join(c.shown for c in posts)
    for title in ("Question from", "Experience report from", "Watch shared by"):
        assert title in shown, shown
    watch = next(c for c in posts if "Watch shared by" in c.shown)
    urls = [e.get("url") for e in _elements(watch.body) if e.get("type") == "Action.OpenUrl"]
    assert "https://example.org/feedback" in urls
    async with runtime.db_sessions() as db:
        kinds = (await db.execute(select(Contribution.kind).order_by(Contribution.id))).scalars()
        assert [str(kind) for kind in kinds] == ["question", "experience", "watch"]


async def test_a_watch_without_a_link_is_refused_and_nothing_is_posted(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    await send(client, fake, activity(fake, ANIM, "share watch not a link"))
    await settle(runtime)
    assert any("A watch needs a link" in c.shown for c in fake.sent())
    async with runtime.db_sessions() as db:
        assert (await db.execute(select(Contribution.id))).first() is None


async def test_share_alone_answers_the_form_with_the_kind_as_a_choice(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    await send(client, fake, activity(fake, ANIM, "share"))
    await settle(runtime)
    cards = [e for c in fake.sent() for e in _elements(c.body)]
    [choices] = [e for e in cards if e.get("type") == "Input.ChoiceSet" and e.get("id") == "kind"]
    assert [c["value"] for c in choices["choices"]] == ["share", "question", "experience", "watch"]
    assert choices.get("value") == "share"
    submit = next(e for e in cards if e.get("type") == "Action.Submit")
    assert "contribution.share" in json.dumps(submit)
