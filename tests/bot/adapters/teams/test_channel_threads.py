"""A session lives in its channel, not in the post it was opened in.

In a channel every new post is its own conversation `<channel>;messageid=<root>`, and only
the replies in its thread share it (captured traffic: tests/support/teams_channel.py). The
core is given the channel; replies to a command are for the asker alone, in their 1:1
chat; what the bot posts on its own (the join card, the summary) is a new post at the
channel's id; no call ever names a thread twice."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from bot.adapters.platform import ENDPOINTS
from bot.adapters.teams.platform import adapter_of
from bot.core.replies import Reply
from bot.handlers import signup
from bot.i18n import Translator
from bot.outbox.queue import Outbox
from bot.server import Runtime
from storage import members, outbox_keys, teams_references, training_sessions, workspaces
from storage.conversations import channel_of
from storage.models import TeamsConversation, TrainingSession
from tests.support.fake_connector import Call, FakeConnector
from tests.support.teams_channel import RECORDED_CHANNEL, Channel
from tests.support.teams_wire import ANIM, TENANT, Client, deliver, personal_activity, settle

LEARNERS = [f"1ea4e400-0000-4000-8000-00000000000{n}" for n in range(4)]


def _said_to(fake: FakeConnector, who: str) -> list[str]:
    """What the bot wrote in `who`'s 1:1 chat (opened by the bot, or where they wrote)."""
    chats = {f"a:1:1-with-{who}"} | {
        c.conversation
        for c in fake.calls
        if c.method == "create" and c.body["members"][0]["id"] == f"29:{who}"
    }
    return [call.shown for call in fake.sent() if call.conversation in chats]


def _join_button(call: Call) -> dict[str, Any]:
    card = call.body["attachments"][0]["content"]
    actions = [a for e in card["body"] if e["type"] == "ActionSet" for a in e["actions"]]
    return dict(next(a for a in actions if a["data"]["action_id"] == signup.JOIN_ACTION)["data"])


def _never_two_thread_parts(fake: FakeConnector) -> None:
    named = [call.conversation for call in fake.calls]
    assert named and all(c.count(";messageid=") <= 1 for c in named), named


async def _session(runtime: Runtime, name: str) -> tuple[TrainingSession, int]:
    async with runtime.db_sessions() as db:
        found = (
            await db.execute(select(TrainingSession).where(TrainingSession.name == name))
        ).scalar_one()
        return found, await training_sessions.learner_count(db, found)


async def test_a_session_opened_in_one_post_is_joined_from_others_and_closed_from_a_third(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    channel = Channel(fake)
    opened = channel.post(ANIM, "session start Onboarding")
    await deliver(client, fake, runtime, opened)
    # The join card is the bot's own post: a new post, at the channel's id.
    card = next(c for c in fake.sent(channel.id) if "Onboarding" in c.shown)

    # One learner writes a new post, another replies in the animator's thread, a third
    # clicks Join on the card (in the card's own thread, as Teams sends it).
    await deliver(client, fake, runtime, channel.post(LEARNERS[0], "join"))
    thread = opened["conversation"]["id"]
    await deliver(client, fake, runtime, channel.reply(thread, LEARNERS[1], "join"))
    card_thread = channel.thread(card.activity_id)
    click = channel.click(card_thread, LEARNERS[2], _join_button(card), card.activity_id)
    await deliver(client, fake, runtime, click)
    for learner in LEARNERS[:3]:
        said = _said_to(fake, learner)
        assert any("ambassadors of “Onboarding”" in text for text in said), said
        assert not any("ambassador community!" in text for text in said), said
    # The live card shows the count, updated where it was posted.
    updates = [c for c in fake.calls if c.method == "update" and c.activity_id == card.activity_id]
    assert updates and {c.conversation for c in updates} == {channel.id}
    assert "3 learners" in json.dumps(updates[-1].body)

    await deliver(client, fake, runtime, channel.post(ANIM, "session close"))
    assert any("Closed “Onboarding”: 3 learners joined" in t for t in _said_to(fake, ANIM))
    summary = [c.shown for c in fake.sent(channel.id) if "is closed" in c.shown]
    assert len(summary) == 1 and "3 learners joined" in summary[0], summary
    session, count = await _session(runtime, "Onboarding")
    assert session.closed_at is not None and count == 3
    assert session.conversation == channel.id
    _never_two_thread_parts(fake)


async def test_each_channel_has_its_own_sessions_and_group_chats_are_unchanged(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    design = Channel(fake)
    sales = Channel(fake, "19:5a1e5c4a6e0e4c1f9d1f2b7f3c8e9a10@thread.skype", design.team)
    await deliver(client, fake, runtime, design.post(ANIM, "session start Design"))
    # A join in another channel of the team: no session is open there.
    await deliver(client, fake, runtime, sales.post(LEARNERS[0], "join"))
    assert any("ambassador community!" in t for t in _said_to(fake, LEARNERS[0]))
    _, count = await _session(runtime, "Design")
    assert count == 0

    # A group chat's id has no thread part: it is the conversation, as before.
    chat = "19:3c9a1f0b2d4e4f6a8b0c1d2e3f4a5b6c@thread.v2"

    def in_chat(who: str, text: str) -> dict[str, Any]:
        made = design.post(who, text)
        made["conversation"] = {"id": chat, "conversationType": "groupChat", "tenantId": TENANT}
        made["channelData"] = {"tenant": {"id": TENANT}}
        return made

    await deliver(client, fake, runtime, in_chat(ANIM, "session start Cohort"))
    await deliver(client, fake, runtime, in_chat(LEARNERS[1], "join"))
    session, count = await _session(runtime, "Cohort")
    assert session.conversation == chat and count == 1
    assert any(c.shown.startswith("Become") for c in fake.sent(chat)), "its card"
    async with runtime.db_sessions() as db:
        ids = (await db.execute(select(TeamsConversation.conversation_id))).scalars().all()
    assert ids.count(chat) == 1 and not [i for i in ids if i.startswith(f"{chat};")]
    # In the 1:1 chat no session is open: `join` offers those open in the tenant (item 8).
    await deliver(client, fake, runtime, personal_activity(fake, LEARNERS[2], "join"))
    offer = " ".join(_said_to(fake, LEARNERS[2]))
    assert "2 sessions are open" in offer, offer
    assert "ambassador community!" not in offer
    _never_two_thread_parts(fake)


async def test_a_reply_to_a_command_in_a_thread_goes_to_the_askers_chat_not_the_thread(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    """A reply is for the asker alone (bot/core/replies.py): typed in a channel's thread,
    it goes to their 1:1 chat, never to the thread; the thread and its channel are both
    remembered (what the bot posts there later needs them)."""
    client, fake, runtime = teams
    channel = Channel(fake)
    asked = channel.post(ANIM, "help")
    await deliver(client, fake, runtime, asked)
    before = len(fake.calls)
    handling = adapter_of(client.server.app[ENDPOINTS]).handling
    await handling.deliver(asked, [Reply("Only for you")], "test")
    await settle(runtime)
    sent = [c for c in fake.calls[before:] if c.method == "send"]
    assert [c.shown for c in sent] == ["Only for you"]
    assert "Only for you" in _said_to(fake, ANIM)
    assert not any(c.conversation == asked["conversation"]["id"] for c in fake.sent())
    async with runtime.db_sessions() as db:
        for conversation in (channel.id, asked["conversation"]["id"]):
            found = await teams_references.conversation(db, TENANT, conversation)
            assert found is not None and found.conversation_type == "channel", conversation


async def test_several_replies_reach_the_askers_chat_one_message_each_in_order(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    """`home` answers with three replies: the profile's card, the sessions (text) and the
    shortcuts' card; typed in a channel, each is its own message in the asker's 1:1 chat,
    in that order (as on Slack and in the playground)."""
    client, fake, runtime = teams
    channel = Channel(fake)
    await deliver(client, fake, runtime, channel.post(ANIM, "session start Feedback"))
    before = len(_said_to(fake, ANIM))
    await deliver(client, fake, runtime, channel.post(ANIM, "home"))
    for _ in range(5):  # Teams' per-conversation pace
        await runtime.clock.advance(3)
        await settle(runtime)
    said = _said_to(fake, ANIM)[before:]
    t = Translator("en")
    assert len(said) == 3, said
    profile, sessions, shortcuts = said
    assert t("profile.title", name="") in profile
    assert "Feedback" in sessions and t("home.shortcuts_title") not in sessions
    assert t("home.shortcuts_title") in shortcuts and t("home.shortcut_pairs") in shortcuts


async def test_a_session_stored_with_its_thread_before_is_found_from_any_post(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    """Sessions opened before the core was given the channel keep their thread's id (no
    migration): `join` and `session close` from any post of the channel still find them,
    and their card is still updated in the thread where it was posted."""
    client, fake, runtime = teams
    channel = Channel(fake)
    earlier = channel.post(ANIM, "help")  # the bot knows the thread (and the channel)
    await deliver(client, fake, runtime, earlier)
    thread = earlier["conversation"]["id"]
    async with runtime.db_sessions() as db, db.begin():
        now = runtime.clock.now()
        workspace = await workspaces.get_or_create(db, "teams", TENANT, now)
        opener = await members.upsert_seen(db, workspace.id, ANIM, "Anim", None, now)
        old = await training_sessions.create(
            db, workspace.id, "Legacy", "LEG4CY", thread, opener.id, now
        )
        assert old is not None
        outbox = Outbox(db, "teams", workspace.id, now)
        t = Translator("en")
        refresh = {"name": outbox_keys.SIGNUP_CARD, "session_id": old.id, "locale": "en"}
        card_key, card = outbox_keys.session_card(old.id), signup.join_card(t, old, 0)
        await outbox.post(card_key, thread, card, refresh=refresh)
    await settle(runtime)
    posted = next(c for c in fake.sent(thread) if "Legacy" in c.shown)

    await deliver(client, fake, runtime, channel.post(LEARNERS[0], "join"))
    assert any("ambassadors of “Legacy”" in t for t in _said_to(fake, LEARNERS[0]))
    updates = [
        c for c in fake.calls if c.method == "update" and c.activity_id == posted.activity_id
    ]
    assert updates and {c.conversation for c in updates} == {thread}
    await deliver(client, fake, runtime, channel.post(ANIM, "session close"))
    session, count = await _session(runtime, "Legacy")
    assert session.closed_at is not None and count == 1
    _never_two_thread_parts(fake)


async def test_a_person_mentioned_in_the_personal_chat_is_looked_up_in_distinct_channels(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    """The places searched are the latest channels, one each: several threads of the
    busiest channel (each a reference) do not crowd out the others."""
    client, fake, runtime = teams
    zoe = "20e00000-0000-4000-8000-000000000000"
    far, middle, busy = (
        Channel(fake, f"19:{n}0000000000000000000000000000000@thread.skype", RECORDED_CHANNEL)
        for n in "abc"
    )
    fake.rosters[far.id] = [{"id": "29:zoe", "name": "Zoe", "aadObjectId": zoe}]
    for channel in (far, middle, busy, busy):  # the busy channel, twice: two threads
        await deliver(client, fake, runtime, channel.post(ANIM, "help"))
    made = personal_activity(fake, ANIM, "badge grant <at>Zoe</at> confirmed Great work")
    made["entities"].append(
        {"type": "mention", "text": "<at>Zoe</at>", "mentioned": {"id": "29:zoe", "name": "Zoe"}}
    )
    await deliver(client, fake, runtime, made)
    asked = [call.conversation for call in fake.calls if call.method == "member"]
    assert asked[-1] == far.id, asked
    assert {channel_of(c) for c in asked} >= {busy.id, middle.id, far.id}, asked
    async with runtime.db_sessions() as db:
        workspace = await workspaces.find(db, "teams", TENANT)
        assert workspace is not None
        assert await members.find(db, workspace.id, zoe) is not None, "found, and remembered"
