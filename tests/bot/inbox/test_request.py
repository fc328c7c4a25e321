"""A request is marked done in the transaction of its effects, on both databases: committed
together (the worker learns it), or rolled back together (the request stays pending, for a
claim)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.core.context import WorkspaceContext
from bot.core.replies import Reply
from bot.inbox.journal import Journal
from bot.inbox.request import Request
from bot.server import Runtime
from storage import workspaces
from storage.models import InboxEvent, Workspace


async def _status(runtime: Runtime, event_id: int) -> str:
    async with runtime.db_sessions() as db:
        return str(await db.scalar(select(InboxEvent.status).where(InboxEvent.id == event_id)))


async def _workspaces(runtime: Runtime) -> list[str]:
    async with runtime.db_sessions() as db:
        return list((await db.execute(select(Workspace.external_id))).scalars())


async def test_done_commits_with_the_effects(runtime: Runtime) -> None:
    journal = Journal(runtime.engine, runtime.clock, on_recorded=lambda: None)
    event_id = await journal.record("slack", "command", {"text": "join"})
    assert event_id is not None
    request = Request(event_id)
    delivered: list[list[Reply]] = []

    async def deliver(ctx: WorkspaceContext, replies: list[Reply]) -> None:
        delivered.append(replies)

    async with runtime.db_sessions() as db, db.begin():
        now = runtime.clock.now()
        workspace = await workspaces.get_or_create(db, "slack", "T1", now)  # an effect
        ctx = WorkspaceContext.for_workspace(db, runtime.settings, workspace, now)
        await request.finishing(deliver)(ctx, [Reply("Welcome")])
        assert not request.finished, "not before the commit"
    assert request.finished and delivered == [[Reply("Welcome")]]
    assert await _status(runtime, event_id) == "done"
    assert await _workspaces(runtime) == ["T1"]


async def test_a_rollback_leaves_the_request_pending_and_unfinished(runtime: Runtime) -> None:
    journal = Journal(runtime.engine, runtime.clock, on_recorded=lambda: None)
    event_id = await journal.record("slack", "command", {"text": "join"})
    assert event_id is not None
    request = Request(event_id)
    with pytest.raises(RuntimeError):  # the process fails before the commit
        async with runtime.db_sessions() as db, db.begin():
            await workspaces.get_or_create(db, "slack", "T1", runtime.clock.now())
            await request.finish(db, runtime.clock.now())
            raise RuntimeError("killed before the commit")
    assert not request.finished
    assert await _status(runtime, event_id) == "pending"
    assert await _workspaces(runtime) == [], "no effect either"
