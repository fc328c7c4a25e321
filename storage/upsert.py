"""Statements for the hot paths: Core, built once per dialect, executed with parameters.

Why: on the machines this runs on, building an INSERT … ON CONFLICT expression costs
more than executing it, and the ORM's bulk DML path costs several times a Core
statement. Hot paths (every event, every join, every outbox message) therefore use
statements built once per dialect on the model's Table and run with a parameter
dict; `attach` turns a returned row back into a persistent ORM object, without
another SELECT, for handlers that modify it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Executable, Row, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from storage.models import Base

ModelT = TypeVar("ModelT", bound=Base)
InsertInto = Callable[[Table], Any]


def table_of(model: type[Base]) -> Table:
    """The Core table behind a mapped class."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _dialect(db: AsyncSession | Session) -> str:
    bind = db.bind
    assert bind is not None, "sessions are always bound to the engine"
    return bind.dialect.name


def insert_for(db: AsyncSession, model: type[Base]) -> Any:
    """A dialect-specific INSERT into `model`'s table (offers on_conflict_do_nothing/update)."""
    insert_into = postgresql.insert if _dialect(db) == "postgresql" else sqlite.insert
    return insert_into(table_of(model))


class Prepared:
    """A statement built once per dialect by `build(insert_into)`, then reused."""

    def __init__(self, build: Callable[[InsertInto], Executable]) -> None:
        self._build = build
        self._built: dict[str, Executable] = {}

    def for_session(self, db: AsyncSession | Session) -> Executable:
        """The statement for the session's database (an async session, or the sync one
        behind it, as the session's event listeners get it)."""
        return self.for_dialect(_dialect(db))

    def for_dialect(self, dialect: str) -> Executable:
        """The statement for a database of `dialect` (a bare connection's dialect.name)."""
        statement = self._built.get(dialect)
        if statement is None:
            insert_into = postgresql.insert if dialect == "postgresql" else sqlite.insert
            statement = self._built[dialect] = self._build(insert_into)
        return statement

    async def execute(self, db: AsyncSession, params: dict[str, Any] | None = None) -> Any:
        """Run it in `session` with `params`."""
        return await db.execute(self.for_session(db), params or {})


def attach(db: AsyncSession, model: type[ModelT], row: Row[Any]) -> ModelT:
    """A persistent `model` instance for `row` (all columns), known to the session, no SELECT."""
    return attach_values(db, model, row._asdict())


def attach_values(db: AsyncSession, model: type[ModelT], values: dict[str, Any]) -> ModelT:
    """`attach` for a row already read into {column: value} (all columns)."""
    key = db.identity_key(model, values["id"])
    existing = db.identity_map.get(key)
    if existing is not None:
        for name, value in values.items():
            set_committed_value(existing, name, value)  # fresh from the database: not dirty
        return existing
    instance = model(**values)
    make_transient_to_detached(instance)
    db.add(instance)
    return instance


def keep(db: AsyncSession, *instances: Base) -> None:
    """Hold `instances` for the session's life. Why: its identity map holds objects weakly,
    and a row read only so that a later `db.get` finds it without a SELECT (a session's
    opener, read with the session) would otherwise be collected before that."""
    db.info.setdefault("kept", []).extend(instances)


def skip_locked(db: AsyncSession, query: Any) -> Any:
    """Lock the selected rows so another replica's claim skips them (PostgreSQL only;
    SQLite runs one process and BEGIN IMMEDIATE already serialises writers)."""
    if _dialect(db) == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query
