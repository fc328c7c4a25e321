"""The people a form offers to pick: those the bot knows in the workspace, by name, without
the asker, people who left, the "former member" or another workspace's, at most so many."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from storage import members
from storage.db import create_engine, session_factory
from storage.members import FORMER_MEMBER_ID
from storage.models import Member, MenteeWish, WeeklyActivity, Workspace

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


async def test_the_asker_and_the_workspace_as_they_are_now_in_one_statement(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    db_sessions = session_factory(engine)
    try:
        async with db_sessions() as db, db.begin():
            # A workspace never seen: nothing written, the caller creates it first.
            assert await members.upsert_seen_in(db, "slack", "T1", "U1", "Ann", "en", NOW) is None
            assert (await db.execute(select(func.count()).select_from(Member))).scalar() == 0
            db.add(Workspace(platform="slack", external_id="T1", created_at=NOW, locale="fr"))
        async with db_sessions() as db, db.begin():
            seen = await members.upsert_seen_in(db, "slack", "T1", "U1", "Ann", "en-GB", NOW)
            assert seen is not None
            workspace, ann = seen
            assert (workspace.platform, workspace.external_id, workspace.locale) == (
                "slack",
                "T1",
                "fr",
            )
            assert workspace.uninstalled_at is None and workspace.public_id
            assert (ann.workspace_id, ann.display_name, ann.platform_locale) == (
                workspace.id,
                "Ann",
                "en-GB",
            )
            assert ann.created_at == NOW
            ann.locale = "en"  # `settings language en`: the session writes it at commit
            workspace.uninstalled_at = NOW  # an observer's change, also written at commit
        # Another replica changes the workspace: the next event reads it as it is now.
        async with db_sessions() as db, db.begin():
            await db.execute(
                update(Workspace).where(Workspace.external_id == "T1").values(timezone="UTC")
            )
        later = NOW + timedelta(hours=1)
        async with db_sessions() as db, db.begin():
            # A Slack event knows only the id: the name stays; no locale: the platform's stays.
            seen = await members.upsert_seen_in(db, "slack", "T1", "U1", "U1", None, later)
            assert seen is not None
            workspace, ann = seen
            assert (workspace.timezone, workspace.uninstalled_at) == ("UTC", NOW)
            assert (ann.display_name, ann.locale, ann.platform_locale) == ("Ann", "en", "en-GB")
            assert ann.created_at == NOW  # known since then
            # Known to the session as persistent rows: a change is written at commit.
            workspace.community_conversation = "C1"
        async with db_sessions() as db:
            stored = (await db.execute(select(Workspace))).scalar_one()
            assert stored.community_conversation == "C1"
    finally:
        await engine.dispose()


async def test_the_asker_joins_in_one_statement(database_url: str) -> None:
    engine = create_engine(database_url)
    db_sessions = session_factory(engine)
    try:
        async with db_sessions() as db, db.begin():
            workspace = Workspace(platform="local", external_id="local", created_at=NOW)
            db.add(workspace)
            await db.flush()
            ann = await members.upsert_seen(db, workspace.id, "u-ann", "Ann", None, NOW)
            bob = await members.upsert_seen(db, workspace.id, "u-bob", "Bob", None, NOW)
            db.add(
                MenteeWish(
                    workspace_id=workspace.id, member_id=bob.id, status="stopped", updated_at=NOW
                )
            )
            await db.flush()
            joined_ann = await members.mark_asker_joined(db, ann, None, NOW)
            joined_bob = await members.mark_asker_joined(db, bob, None, NOW)
            assert joined_ann == members.Joined(answered_mentoring=False)
            assert joined_bob == members.Joined(answered_mentoring=True)
            # Already a member (another event's join won the race): nothing recorded.
            assert await members.mark_asker_joined(db, ann, None, NOW) is None
            arrivals = (await db.execute(select(func.sum(WeeklyActivity.arrivals)))).scalar()
            assert arrivals == 2
            assert (await db.execute(select(Member.joined_at))).scalars().all() == [NOW, NOW]
    finally:
        await engine.dispose()
