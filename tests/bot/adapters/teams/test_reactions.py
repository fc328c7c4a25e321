"""A reaction on Teams (👍 ❤️ …) on a posted share is a like, once per person; 😢 and 😠
are not; a reaction on any other message changes nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.server import Runtime
from storage.models import ContributionLike
from tests.support.fake_connector import FakeConnector
from tests.support.teams_wire import ANIM, CHANNEL_ROOT, GOLDEN, Client, activity, send, settle

BOB = "b0b00000-0000-4000-8000-000000000002"
CHLOE = "c410e000-0000-4000-8000-000000000003"


def _reaction(fake: FakeConnector, who: str, kind: str, on: str, n: int) -> dict[str, Any]:
    made = activity(fake, who, type="messageReaction", replyToId=on, id=f"reaction-{n}")
    made["reactionsAdded"] = [{"type": kind}]
    made.pop("text", None)
    return made


async def _likes(runtime: Runtime) -> int:
    async with runtime.db_sessions() as db:
        return int(
            (await db.execute(select(func.count()).select_from(ContributionLike))).scalar_one()
        )


async def test_a_reaction_on_a_posted_share_is_a_like_once(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    await send(client, fake, activity(fake, ANIM, "share Tip: start 1:1s with a success"))
    await settle(runtime)
    post = next(c for c in fake.sent(CHANNEL_ROOT) if "start 1:1s" in c.shown)
    greeting = await send(client, fake, activity(fake, BOB, "hello"))
    assert greeting.status == 202
    await settle(runtime)
    other = next(c for c in fake.sent() if "I help the learners" in c.shown)

    reactions = [
        (BOB, "like", post.activity_id),
        (BOB, "heart", post.activity_id),  # the same person: one like
        (CHLOE, "sad", post.activity_id),  # not a like
        (CHLOE, "like", other.activity_id),  # not a share
    ]
    for n, (who, kind, on) in enumerate(reactions):
        assert (await send(client, fake, _reaction(fake, who, kind, on, n))).status == 202
    await settle(runtime)
    assert await _likes(runtime) == 1
    await runtime.clock.advance(3)
    await settle(runtime)
    updated = [c for c in fake.calls if c.method == "update" and c.activity_id == post.activity_id]
    assert updated, "the post shows its like"


async def test_a_reaction_naming_the_post_in_its_legacy_form_is_a_like(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    # As Teams documents it (msteams-docs, "Reactions added to bot message"): `replyToId`
    # is the message's numeric id, `legacy.replyToId` the `1:…` id the Bot Connector
    # answered the bot when it posted — the one the bot stored.
    sample = json.loads((GOLDEN / "messageReaction_added_docs.json").read_text())
    assert not sample["replyToId"].startswith("1:")
    assert sample["legacy"]["replyToId"].startswith("1:")
    client, fake, runtime = teams
    await send(client, fake, activity(fake, ANIM, "share Tip: ask before you advise"))
    await settle(runtime)
    post = next(c for c in fake.sent(CHANNEL_ROOT) if "ask before you advise" in c.shown)
    assert post.activity_id.startswith("1:")

    numeric = _reaction(fake, BOB, "like", "1759881600000", 10)
    numeric["legacy"] = {"replyToId": post.activity_id}
    elsewhere = _reaction(fake, CHLOE, "heart", "1759881600001", 11)
    elsewhere["legacy"] = {"replyToId": "1:not-a-post-of-the-bot"}
    for reaction in (numeric, elsewhere):
        assert (await send(client, fake, reaction)).status == 202
    await settle(runtime)
    assert await _likes(runtime) == 1, "Bob's like counts; a reaction elsewhere does not"


PUBLIC_DOCS = Path(__file__).parents[3] / "fixtures" / "public" / "teams" / "msteams-docs"


def _removal(fake: FakeConnector, who: str, kind: str, on: str, n: int) -> dict[str, Any]:
    """A reaction taken off, shaped as msteams-docs' "Reactions removed from bot message"
    sample: the same activity as one added, with `reactionsRemoved` instead."""
    sample = json.loads((PUBLIC_DOCS / "messageReaction_removed_docs.json").read_text())
    made = _reaction(fake, who, kind, on, n)
    made.pop("reactionsAdded")
    made["reactionsRemoved"] = [{"type": kind}]
    assert "reactionsAdded" not in sample and sample["reactionsRemoved"] == [{"type": "like"}]
    assert set(sample) - set(made) <= {"legacy", "timestamp"}, set(sample) - set(made)
    return made


async def _kinds(runtime: Runtime) -> list[str]:
    async with runtime.db_sessions() as db:
        rows = await db.execute(select(ContributionLike.kind).order_by(ContributionLike.id))
        return [str(kind) for kind in rows.scalars()]


async def test_a_reaction_taken_off_takes_the_like_back_and_a_sad_one_is_neither(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    await send(client, fake, activity(fake, ANIM, "share Tip: name one thing that went well"))
    await settle(runtime)
    post = next(c for c in fake.sent(CHANNEL_ROOT) if "went well" in c.shown)
    steps = [
        _reaction(fake, BOB, "like", post.activity_id, 20),
        _reaction(fake, CHLOE, "heart", post.activity_id, 21),
        _removal(fake, CHLOE, "sad", post.activity_id, 22),  # not a like: nothing
        _removal(fake, BOB, "like", post.activity_id, 23),  # Bob's like goes
    ]
    for step in steps:
        assert (await send(client, fake, step)).status == 202
    await settle(runtime)
    assert await _kinds(runtime) == ["like"], "Chloe's like stays, Bob's is taken back"
    # A reaction taken off twice (Teams retrying, or a removal of nothing): no change.
    assert (
        await send(client, fake, _removal(fake, BOB, "heart", post.activity_id, 24))
    ).status == 202
    await settle(runtime)
    assert await _kinds(runtime) == ["like"]
    told = [c for c in fake.calls if c.method == "send" and c.conversation != CHANNEL_ROOT]
    assert not any("like" in c.shown.lower() for c in told), "reactions get no answer"


async def test_the_dislike_button_is_the_way_on_teams_and_a_like_reaction_switches_it(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    await send(client, fake, activity(fake, ANIM, "share Tip: ask what went well first"))
    await settle(runtime)
    post = next(c for c in fake.sent(CHANNEL_ROOT) if "went well first" in c.shown)
    card = post.body["attachments"][0]["content"]
    actions = [a for e in card["body"] if e["type"] == "ActionSet" for a in e["actions"]]
    actions += list(card.get("actions") or [])
    dislike = next(
        a for a in actions if a.get("data", {}).get("action_id") == "contribution.dislike"
    )
    assert dislike["type"] == "Action.Submit" and dislike["title"] == "👎 Not useful to me"
    # Bob clicks it on the channel's post: answered in his 1:1 chat, the post unchanged.
    assert (await send(client, fake, activity(fake, BOB, value=dislike["data"]))).status == 202
    await settle(runtime)
    assert await _kinds(runtime) == ["dislike"]
    told = [c.shown for c in fake.calls if c.method == "send" and c.conversation != CHANNEL_ROOT]
    assert any(re.match(r"Noted: post #\d+ by \S+ \(“", shown) for shown in told), told
    # Then a 👍 reaction: his one reaction becomes a like; taken off, it goes.
    await send(client, fake, _reaction(fake, BOB, "like", post.activity_id, 30))
    await settle(runtime)
    assert await _kinds(runtime) == ["like"]
    await send(client, fake, _removal(fake, BOB, "like", post.activity_id, 31))
    await settle(runtime)
    assert await _kinds(runtime) == []
