"""Handing the messages a transaction enqueued to this process's sender once it commits.

Without it, every message costs its sender a claim (an UPDATE … RETURNING in a transaction
of its own) to find what the handler has just written, though both run in one process
(issue 18: about two claims per join at 50 joins/s). With it:

1. while a transaction enqueues a post, the `Outbox` asks the sender wired to its database
   sessions (`connect`) for a lease (`Handoff.lease_until`): a running sender grants one,
   and the row is inserted already leased to it, so that no claim (its own poll, another
   replica's) takes it;
2. the `Outbox` keeps those rows in memory; when the transaction commits (the session's
   `after_commit`), they are handed to the sender (`Handoff.take`), which sends them
   without claiming them; a rolled-back transaction hands nothing (the rows never existed);
3. the rows it left unleased (edits, coalesced messages, anything refused a lease) are
   found by a claim: the sender is told which lanes have some (`Handoff.poll`).

A process that dies holding rows loses nothing: their lease runs out and any sender claims
them (at-least-once, as before). A savepoint rolled back under an `Outbox` (none is used
today) makes it hand nothing: its rows are then sent by a claim once their lease runs out.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, SessionTransaction

from storage.models import OutboxMessage

if TYPE_CHECKING:
    from bot.outbox.queue import Outbox

# Keys of Session.info: the sender of the sessions' process, and the outboxes waiting for
# the current transaction to end.
_HANDOFF = "outbox_handoff"
_WAITING = "outbox_waiting"


class Handoff(Protocol):
    """What a sender offers the outbox of its process (bot/outbox/sender.py)."""

    def lease_until(self, now: datetime, platform: str) -> datetime | None:
        """Until when a new message of `platform` enqueued `now` is leased to this sender;
        None: enqueue it unleased, for a claim (the sender does not run here, is stopping,
        or holds enough already)."""
        ...

    def take(self, rows: list[OutboxMessage]) -> None:
        """Send these messages, committed with the leases this sender granted, unclaimed."""
        ...

    def poll(self, urgent: bool) -> None:
        """Unleased messages of one lane (the urgent replies, or everything else) were
        committed: claim them soon."""
        ...


def connect(db_sessions: async_sessionmaker[AsyncSession], handoff: Handoff) -> None:
    """Hand what transactions of `db_sessions` enqueue to `handoff` (this process's sender)."""
    db_sessions.configure(info={_HANDOFF: handoff})


def of(db: AsyncSession) -> Handoff | None:
    """The handoff of the process that opened `db` (None: nobody is told; a claim finds it)."""
    found: Handoff | None = db.info.get(_HANDOFF)
    return found


def watch(db: AsyncSession, outbox: Outbox) -> None:
    """Tell `outbox` when the transaction of `db` ends (`committed` on a commit only)."""
    waiting: list[Outbox] = db.info.setdefault(_WAITING, [])
    if not any(seen is outbox for seen in waiting):
        waiting.append(outbox)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    waiting = session.info.pop(_WAITING, None)
    for outbox in waiting or ():
        outbox.committed()


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, _previous: SessionTransaction) -> None:
    # Any rollback, a savepoint's too: what was written may be gone, so nothing is handed
    # (a row that did survive is claimed when its lease runs out).
    waiting = session.info.pop(_WAITING, None)
    for outbox in waiting or ():
        outbox.rolled_back()
