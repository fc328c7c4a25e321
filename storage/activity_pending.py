"""The rollup's deltas (storage/activity.py), held in memory and written as the
transaction's last statements, just before its COMMIT.

Why: every join of a training session adds one arrival to that session's `activity_week`
row. Written where the join happens, the upsert takes the row's lock early and holds it
through the rest of the transaction; on PostgreSQL, concurrent joins of one session queued
on it (issue 18: up to 37 transactions waiting, `Lock:transactionid`). Summed here per row
and written by a `before_commit` listener, the lock is held from that last statement to the
COMMIT.

What keeps the rollup exact:

- a statement of the session that reads or writes a rollup table, or deletes a row one
  refers to (its workspace, an occurrence), first writes what is pending (a
  `do_orm_execute` listener): a transaction reads its own writes;
- the transaction's end forgets them, so a rollback writes nothing;
- inside a savepoint (`begin_nested`), deltas are written at once, as before: they go with
  it if it rolls back. Pending deltas a statement had to write inside a savepoint come back
  to pending if that savepoint rolls back;
- `discard` before a rebuild, which recomputes them from the base tables.

The listeners are on SQLAlchemy's `Session` class, so every session holds to them, whoever
made it. They run in the session's sync context: with the async engine that is the
greenlet `AsyncSession` runs its sync session in, where `Session.execute` may run SQL
(https://docs.sqlalchemy.org/en/20/orm/extensions/asyncio.html#using-events-with-the-asyncio-extension).
What the guard does not see: statements run on a `Connection` directly, and rows the ORM's
unit of work deletes (`session.delete` then a flush) — read the rollup, or delete a
workspace, through `session.execute` (or call `write_pending` first).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from typing import Any, cast

from sqlalchemy import Executable, Table, event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction
from sqlalchemy.sql import visitors
from sqlalchemy.sql.expression import TableClause

from storage.models import OccurrenceActivity, WeeklyActivity
from storage.upsert import InsertInto, Prepared, table_of

WeekKey = tuple[int, date, int]  # (workspace, week, session id or 0)
OccurrenceKey = tuple[int, int, int]  # (workspace, occurrence, session id or 0)

_KEY = "activity_pending"
_WEEKS = table_of(WeeklyActivity)
_OCCURRENCES = table_of(OccurrenceActivity)


def _counters(table: Table, key: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(c.name for c in table.columns if c.name not in ("id", "workspace_id", *key))


# Every column but the row's key is a count (storage/activity.py names them).
COUNTERS = _counters(_WEEKS, ("week", "session_id"))
ANSWER_COUNTERS = _counters(_OCCURRENCES, ("occurrence_id", "session_id"))
_ROLLUP = frozenset({_WEEKS.name, _OCCURRENCES.name})
# A row the rollup refers to, deleted with deltas still pending: they are written first (the
# deletion then cascades to them) rather than after it, where they would refer to nothing.
_PARENTS = frozenset(
    key.column.table.name for table in (_WEEKS, _OCCURRENCES) for key in table.foreign_keys
)


class Pending:
    """Deltas summed per rollup row, not written yet."""

    def __init__(self) -> None:
        self.weeks: dict[WeekKey, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
        self.occurrences: dict[OccurrenceKey, dict[str, int]] = defaultdict(
            lambda: dict.fromkeys(ANSWER_COUNTERS, 0)
        )

    def __bool__(self) -> bool:
        return bool(self.weeks) or bool(self.occurrences)

    def add(
        self,
        workspace_id: int,
        weeks: Mapping[tuple[date, int], Mapping[str, int]],
        occurrences: Mapping[tuple[int, int], Mapping[str, int]],
    ) -> None:
        """Add the workspace's deltas: per (week, session) and per (occurrence, session)."""
        for (week, session_id), counts in weeks.items():
            _sum_into(self.weeks[(workspace_id, week, session_id)], counts)
        for (occurrence_id, session_id), counts in occurrences.items():
            _sum_into(self.occurrences[(workspace_id, occurrence_id, session_id)], counts)

    def merge(self, other: Pending) -> None:
        """Add `other`'s deltas to these."""
        for week_key, counts in other.weeks.items():
            _sum_into(self.weeks[week_key], counts)
        for occurrence_key, counts in other.occurrences.items():
            _sum_into(self.occurrences[occurrence_key], counts)

    def drop_workspace(self, workspace_id: int) -> None:
        """Forget the workspace's deltas."""
        for week_key in [key for key in self.weeks if key[0] == workspace_id]:
            del self.weeks[week_key]
        for occurrence_key in [key for key in self.occurrences if key[0] == workspace_id]:
            del self.occurrences[occurrence_key]

    def parameters(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The upserts' parameters, non-zero rows only, in key order: transactions that
        write several rows lock them in the same order (no deadlock between them)."""
        weeks = [
            {"workspace_id": w, "week": week, "session_id": s, **counts}
            for (w, week, s), counts in sorted(self.weeks.items())
            if any(counts.values())
        ]
        occurrences = [
            {"workspace_id": w, "occurrence_id": o, "session_id": s, **counts}
            for (w, o, s), counts in sorted(self.occurrences.items())
            if any(counts.values())
        ]
        return weeks, occurrences


def _sum_into(total: dict[str, int], counts: Mapping[str, int]) -> None:
    for name, n in counts.items():
        total[name] += n


class _State:
    """What a session holds: the pending deltas, and those a statement wrote inside a
    savepoint (with the savepoint), to take back if it rolls back."""

    def __init__(self) -> None:
        self.pending = Pending()
        self.provisional: list[tuple[SessionTransaction, Pending]] = []


def _build_add(insert_into: InsertInto) -> Executable:
    statement = insert_into(_WEEKS)
    return statement.on_conflict_do_update(
        index_elements=["workspace_id", "week", "session_id"],
        set_={name: _WEEKS.c[name] + statement.excluded[name] for name in COUNTERS},
    )


_ADD = Prepared(_build_add)


def _build_add_answers(insert_into: InsertInto) -> Executable:
    statement = insert_into(_OCCURRENCES)
    return statement.on_conflict_do_update(
        index_elements=["occurrence_id", "session_id"],
        set_={name: _OCCURRENCES.c[name] + statement.excluded[name] for name in ANSWER_COUNTERS},
    )


_ADD_ANSWERS = Prepared(_build_add_answers)


async def add(
    db: AsyncSession,
    workspace_id: int,
    weeks: Mapping[tuple[date, int], Mapping[str, int]],
    occurrences: Mapping[tuple[int, int], Mapping[str, int]],
) -> None:
    """Count the workspace's deltas (`counter = counter + delta` per row): held until the
    commit, or written at once inside a savepoint (or outside any transaction)."""
    if not db.in_transaction() or db.in_nested_transaction():
        deltas = Pending()
        deltas.add(workspace_id, weeks, occurrences)
        await db.run_sync(_execute, deltas)
        return
    state = db.info.get(_KEY)
    if state is None:
        state = db.info[_KEY] = _State()
    state.pending.add(workspace_id, weeks, occurrences)


async def write_pending(db: AsyncSession) -> None:
    """Write the session's pending deltas now (the listeners do it before the commit and
    before a statement that needs them)."""
    await db.run_sync(_write)


def discard(db: AsyncSession, workspace_id: int) -> None:
    """Forget the workspace's pending deltas (before a rebuild recomputes its rollup)."""
    state = db.info.get(_KEY)
    if state is not None:
        state.pending.drop_workspace(workspace_id)


def pending(db: AsyncSession | Session) -> Pending:
    """The session's deltas not written yet (empty: none)."""
    state = db.info.get(_KEY)
    return state.pending if state is not None else Pending()


def _execute(session: Session, deltas: Pending) -> None:
    weeks, occurrences = deltas.parameters()
    if weeks:
        session.execute(_ADD.for_session(session), weeks)
    if occurrences:
        session.execute(_ADD_ANSWERS.for_session(session), occurrences)


def _write(session: Session) -> None:
    state = session.info.get(_KEY)
    if state is None or not state.pending:
        return
    # Taken before it runs: the upserts go through `_before_statement` too.
    written, state.pending = state.pending, Pending()
    savepoint = session.get_nested_transaction()
    if savepoint is not None:
        state.provisional.append((savepoint, written))
    _execute(session, written)


# --- the listeners ----------------------------------------------------------------------------


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    _write(session)


@event.listens_for(Session, "do_orm_execute")
def _before_statement(orm_execute_state: ORMExecuteState) -> None:
    session = orm_execute_state.session
    state = session.info.get(_KEY)
    if state is None or not state.pending:
        return
    tables = _tables(orm_execute_state.statement)
    if tables & _ROLLUP or (orm_execute_state.is_delete and tables & _PARENTS):
        _write(session)


@event.listens_for(Session, "after_soft_rollback")
def _after_soft_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    state = session.info.get(_KEY)
    if state is None or not previous_transaction.nested:
        return
    kept = []
    for savepoint, written in state.provisional:
        if _within(savepoint, previous_transaction):
            state.pending.merge(written)  # its writes are undone: pending again
        else:
            kept.append((savepoint, written))
    state.provisional = kept


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_KEY, None)  # committed, or rolled back: nothing left to write


def _within(transaction: SessionTransaction, ancestor: SessionTransaction) -> bool:
    current: SessionTransaction | None = transaction
    while current is not None:
        if current is ancestor:
            return True
        current = current.parent
    return False


def _tables(statement: Executable) -> set[str]:
    """The names of the tables a statement reads or writes (subqueries included)."""
    return {
        element.name
        for element in visitors.iterate(cast(visitors.ExternallyTraversible, statement))
        if isinstance(element, TableClause)
    }
