"""One recorded request being handled, marked done in the transaction of its effects.

The inbox worker gives each processor a `Request`. An adapter whose handling writes the
request's effects and replies in one transaction (the dispatcher's, with `deliver`) wraps
its `deliver` with `finishing`: the request's row is marked done in that same transaction,
so its effects, its replies and its "done" commit together or not at all —
- killed before that commit: nothing of it is written, the row is still pending and is
  claimed again once its lease runs out (or released at once by a worker that stops);
- committed: it is done; there is no moment where the effects are written but the request
  is still due (a second handling then only finds its replay key, bot/core/dispatch.py).
The worker learns it was committed (an after_commit listener on that session) and writes
no separate "done" for it; requests whose handling opened no such transaction are marked
done by the worker afterwards, all of a round's in one statement (storage/inbox.py's
`finish_many`).

A processor that finds the request was not for the bot after all (a channel message that is
no reply to a posted question: Slack and Teams send the bot every message of its channels
when it reads threads) calls `forget`: the worker then deletes the row, raw payload and
all, as soon as it is handled, instead of keeping it until the retention purge.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.context import WorkspaceContext
from bot.core.dispatch import Deliver
from bot.core.replies import Reply
from storage import inbox


class Request:
    """A request of the inbox (its `id`, the inbox row's) and whether a transaction that
    marked it done has committed (`finished`)."""

    def __init__(self, event_id: int) -> None:
        self.id = event_id
        self.finished = False
        self.forgotten = False

    def __repr__(self) -> str:
        return f"Request({self.id}, finished={self.finished}, forgotten={self.forgotten})"

    def forget(self) -> None:
        """Not for the bot: delete the request (its raw payload with it) once handled."""
        self.forgotten = True

    async def finish(self, db: AsyncSession, now: datetime) -> None:
        """Mark the request done in `db`'s transaction; `finished` once that commits (a
        rollback leaves it pending, and unfinished here)."""
        await inbox.finish(db, self.id, now)
        event.listen(db.sync_session, "after_commit", self._committed, once=True)

    def _committed(self, _session: Any) -> None:
        self.finished = True

    def finishing(self, deliver: Deliver) -> Deliver:
        """`deliver` that also marks the request done, in the same transaction (the
        dispatcher's: the event's effects, or its refusal's or apology's own)."""

        async def deliver_and_finish(ctx: WorkspaceContext, replies: list[Reply]) -> None:
            await deliver(ctx, replies)
            await self.finish(ctx.db, ctx.now)

        return deliver_and_finish
