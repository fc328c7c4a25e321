"""Admins manage roles and the community conversation; others cannot."""

from __future__ import annotations

from sqlalchemy import select

from bot.handlers.community import community_conversation
from bot.server import Runtime
from storage import workspaces
from storage.models import Member, MembershipEvent
from tests.support.playground import Playground


async def _member(runtime: Runtime, user_id: str) -> Member:
    async with runtime.db_sessions() as db:
        return (await db.execute(select(Member).where(Member.user_id == user_id))).scalar_one()


async def test_admin_makes_and_unmakes_an_animator(
    playground: Playground, runtime: Runtime
) -> None:
    assert "Carol is now animator" not in await playground.say("bob", "role add @carol animator")
    await playground.command({"id": "carol", "name": "Carol"}, "hello")
    assert await playground.say("anim1", "role add @carol animator") == "Carol is now animator."
    assert "already" in await playground.say("anim1", "role add @carol animator")
    assert "The join window" in await playground.say("carol", "session start Her session")
    assert (await _member(runtime, "carol")).role == "animator"
    assert "no longer" in await playground.say("anim1", "rôle retirer @carol animateur")
    assert (await _member(runtime, "carol")).role == "learner"
    async with runtime.db_sessions() as db:
        kinds = list(
            (await db.execute(select(MembershipEvent.kind).order_by(MembershipEvent.id))).scalars()
        )
    assert kinds == ["role_added", "role_removed"]


async def test_role_commands_explain_their_usage(playground: Playground) -> None:
    assert "`role add @user animator`" in await playground.say("anim1", "role add carol animator")
    assert "`role add @user animator`" in await playground.say("anim1", "role add @carol wizard")


async def test_learners_are_refused_and_nothing_changes(
    playground: Playground, runtime: Runtime
) -> None:
    await playground.command("bob", "hello")
    refused = await playground.say("bob", "role add @bob animator")
    assert refused.startswith("Only admins")
    assert (await _member(runtime, "bob")).role == "learner"


async def test_community_conversation_defaults_to_the_latest_session_then_follows_the_admin(
    playground: Playground, runtime: Runtime
) -> None:
    async def current() -> str | None:
        async with runtime.db_sessions() as db:
            workspace = await workspaces.find(db, "local", "local")
            assert workspace is not None
            return await community_conversation(db, workspace)

    await playground.command("anim1", "session start A", conversation="room-a")
    assert await current() == "room-a"
    assert "not in a direct message" in await playground.say(
        "anim1", "community here", conversation="dm:anim1"
    )
    await playground.command("anim1", "community here", conversation="ambassadors")
    await playground.command("anim1", "session start B", conversation="room-b")
    assert await current() == "ambassadors"
