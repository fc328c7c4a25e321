"""The audit log's storage on both databases: newest first with today's names, ids set to
NULL when a member row is deleted, purged by age in batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select

from storage import audit
from storage.db import create_engine, session_factory
from storage.models import AuditEntry, Member, Workspace

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


async def test_latest_names_the_living_and_forgets_the_erased(database_url: str) -> None:
    engine = create_engine(database_url)
    db_sessions = session_factory(engine)
    try:
        async with db_sessions() as db, db.begin():
            workspace = Workspace(platform="slack", external_id="T1", created_at=NOW)
            other = Workspace(platform="slack", external_id="T2", created_at=NOW)
            db.add_all([workspace, other])
            await db.flush()
            ann, ben = (
                Member(
                    workspace_id=workspace.id,
                    user_id=user_id,
                    display_name=name,
                    role="learner",
                    created_at=NOW,
                )
                for user_id, name in (("U1", "Ann"), ("U2", "Ben"))
            )
            db.add_all([ann, ben])
            await db.flush()
            for minutes, action, subject in ((0, "role.add", ben.id), (5, "pulse.send", None)):
                await audit.add(
                    db,
                    workspace_id=workspace.id,
                    platform="slack",
                    at=NOW + timedelta(minutes=minutes),
                    action=action,
                    actor_member_id=ann.id,
                    subject_member_id=subject,
                    detail={"role": "animator"} if subject else {"pulse": 4},
                )
            await audit.add(
                db,
                workspace_id=other.id,
                platform="slack",
                at=NOW,
                action="pulse.send",
                actor_member_id=None,
                detail={"pulse": 1},
            )
        async with db_sessions() as db:
            listed = await audit.latest(db, workspace.id, 10)
        assert [(e.action, e.actor_name, e.subject_name, e.detail) for e in listed] == [
            ("pulse.send", "Ann", None, {"pulse": 4}),
            ("role.add", "Ann", "Ben", {"role": "animator"}),
        ]
        assert not listed[0].by_system

        async with db_sessions() as db, db.begin():
            await db.execute(delete(Member).where(Member.id == ben.id))
        async with db_sessions() as db:
            listed = await audit.latest(db, workspace.id, 1)
            assert [(e.action, e.actor_name) for e in listed] == [("pulse.send", "Ann")]
            listed = await audit.latest(db, workspace.id, 10)
            assert (listed[1].actor_name, listed[1].subject_name) == ("Ann", None)
            ids = (await db.execute(select(AuditEntry.subject_member_id))).scalars().all()
            assert ben.id not in ids, "the erased person's id is gone from the log"
            system = await audit.latest(db, other.id, 10)
            assert [(e.by_system, e.actor_name) for e in system] == [(True, None)]

        async with db_sessions() as db, db.begin():
            await db.execute(delete(Workspace).where(Workspace.id == workspace.id))
        async with db_sessions() as db:
            left = (await db.execute(select(AuditEntry.workspace_id))).scalars().all()
        assert left == [other.id], "a workspace's log goes with it"
    finally:
        await engine.dispose()


async def test_purge_deletes_entries_older_than_the_cutoff_in_batches(database_url: str) -> None:
    engine = create_engine(database_url)
    db_sessions = session_factory(engine)
    try:
        async with db_sessions() as db, db.begin():
            workspace = Workspace(platform="local", external_id="local", created_at=NOW)
            db.add(workspace)
            await db.flush()
            for day in range(25):
                await audit.add(
                    db,
                    workspace_id=workspace.id,
                    platform="local",
                    at=NOW - timedelta(days=day),
                    action="pulse.send",
                    actor_member_id=None,
                    detail={"pulse": day},
                )
        cutoff = NOW - timedelta(days=9, hours=12)  # days 10 to 24 are older: 15 entries
        purged = []
        while True:
            async with db_sessions() as db, db.begin():
                count = await audit.purge_older_than(db, cutoff, 4)
            purged.append(count)
            if count < 4:
                break
        assert purged == [4, 4, 4, 3]
        async with db_sessions() as db:
            kept = (await db.execute(select(AuditEntry.detail))).scalars().all()
            oldest = (await db.execute(select(func.min(AuditEntry.at)))).scalar_one()
        assert sorted(d["pulse"] for d in kept) == list(range(10))
        assert oldest == NOW - timedelta(days=9)
    finally:
        await engine.dispose()
