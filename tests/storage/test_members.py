"""The people a form offers to pick: those the bot knows in the workspace, by name, without
the asker, people who left, the "former member" or another workspace's, at most so many."""

from __future__ import annotations

from datetime import UTC, datetime

from storage import members
from storage.db import create_engine, session_factory
from storage.members import FORMER_MEMBER_ID
from storage.models import Member, Workspace

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


async def test_the_people_to_offer(database_url: str) -> None:
    engine = create_engine(database_url)
    db_sessions = session_factory(engine)
    try:
        async with db_sessions() as db, db.begin():
            here = Workspace(platform="teams", external_id="tenant-a", created_at=NOW)
            elsewhere = Workspace(platform="teams", external_id="tenant-b", created_at=NOW)
            db.add_all([here, elsewhere])
            await db.flush()

            def person(workspace: Workspace, user_id: str, name: str, **more: object) -> Member:
                return Member(
                    workspace_id=workspace.id,
                    user_id=user_id,
                    display_name=name,
                    role="learner",
                    created_at=NOW,
                    **more,
                )

            asker = person(here, "u-asker", "Alice")
            db.add_all(
                [
                    asker,
                    person(here, "u-zoe", "Zoé"),
                    person(here, "u-bob", "Bob"),
                    person(here, "u-dana", "Dana"),
                    person(here, "u-left", "Carl", left_at=NOW),
                    person(here, FORMER_MEMBER_ID, "Former member"),
                    person(elsewhere, "u-eve", "Eve"),
                ]
            )
            await db.flush()
            asker_id = asker.id
            workspace_id = here.id
        async with db_sessions() as db:
            offered = await members.people_to_offer(db, workspace_id, asker_id, 10)
            first_two = await members.people_to_offer(db, workspace_id, asker_id, 2)
        assert offered == [("Bob", "u-bob"), ("Dana", "u-dana"), ("Zoé", "u-zoe")]
        assert first_two == offered[:2]
    finally:
        await engine.dispose()
