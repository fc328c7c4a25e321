"""The context of every event: the workspace and the asker read in one statement, never
from a cache — a change made anywhere (another replica, a handler) is what the next event
sees."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, update

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
