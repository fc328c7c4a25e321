"""The context of every event: the workspace and the asker read in one statement, never
from a cache — a change made anywhere (another replica, a handler) is what the next event
sees."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event, update

from bot.core.context import Context
from bot.core.dispatch import MAX_IN_FLIGHT
from bot.core.replies import Reply
from storage.models import Workspace
from tests.support.playground import Playground, user


def statements_of(playground: Playground) -> list[str]:
    """Every statement the bot runs from here on."""
    seen: list[str] = []

    @event.listens_for(playground.runtime.engine.sync_engine, "before_cursor_execute")
    def _record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(statement)

    return seen


async def test_the_first_event_creates_the_workspace_the_next_read_it_with_the_asker(
    playground: Playground,
) -> None:
    seen = statements_of(playground)
    assert "join [CODE]" in await playground.say(user("zed"), "help")
    assert any(s.startswith("INSERT INTO workspace") for s in seen)

    seen.clear()
    assert "join [CODE]" in await playground.say(user("zed"), "help")
    assert not any("FROM workspace" in s and s.startswith("SELECT") for s in seen)
    assert not any(s.startswith("INSERT INTO workspace") for s in seen)


async def test_a_workspace_changed_elsewhere_is_seen_by_the_next_event(
    playground: Playground,
) -> None:
    # zed chose no language and his platform sends none: the workspace's is his.
    assert "join [CODE]" in await playground.say(user("zed"), "help")
    async with playground.runtime.db_sessions() as db, db.begin():
        await db.execute(update(Workspace).values(locale="fr"))  # as another replica would
    assert "rejoindre [CODE]" in await playground.say(user("zed"), "help")
    # His own choice (`settings language`) wins from his next event on.
    assert "English" in await playground.say(user("zed"), "réglages langue anglais")
    assert "join [CODE]" in await playground.say(user("zed"), "aide")
    async with playground.runtime.db_sessions() as db, db.begin():
        await db.execute(update(Workspace).values(locale="en"))
    assert "join [CODE]" in await playground.say(user("nina"), "help")


async def test_at_most_max_in_flight_events_are_handled_at_once_the_rest_wait_their_turn(
    playground: Playground,
) -> None:
    """Admission control: the scheduler and the sender share the loop with requests, so a
    crowd of requests waits before its transactions open instead of all at once."""
    # The workspace exists first (else every event waits on its creator's new row).
    assert "join [CODE]" in await playground.say(user("anim1"), "help")
    dispatcher = playground.runtime.dispatcher
    real_router = dispatcher.router
    entered: list[str] = []
    release = asyncio.Event()

    class BlockingRouter:
        """The real router, after waiting for the test to let every blocked event go."""

        def __getattr__(self, name: str) -> Any:
            return getattr(real_router, name)

        async def command(self, ctx: Context, text: str) -> list[Reply]:
            entered.append(ctx.actor.user_id)
            await release.wait()
            return await real_router.command(ctx, text)

    # SQLite's writer is one connection: there the pool admits one transaction at a time.
    admitted = 1 if playground.runtime.engine.dialect.name == "sqlite" else MAX_IN_FLIGHT
    dispatcher.router = BlockingRouter()  # type: ignore[assignment]
    try:
        crowd = [
            asyncio.create_task(playground.say(user(f"u{n}"), "help"))
            for n in range(MAX_IN_FLIGHT + 3)
        ]
        for _ in range(200):  # until the admitted ones are all waiting in the router
            if len(entered) == admitted:
                break
            await asyncio.sleep(0.01)
        for _ in range(20):  # a while longer: nobody else gets in
            await asyncio.sleep(0.01)
        assert len(entered) == admitted
        release.set()
        answers = await asyncio.gather(*crowd)
    finally:
        dispatcher.router = real_router
    assert len(entered) == MAX_IN_FLIGHT + 3
    assert all("join [CODE]" in answer for answer in answers)
