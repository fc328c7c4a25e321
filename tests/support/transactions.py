"""What an engine commits, for the tests: the statements of each committed transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


@contextmanager
def committed(engine: AsyncEngine) -> Iterator[list[list[str]]]:
    """Collects, while open, the statements of each transaction committed on `engine` (per
    connection, in order of commit); rolled back ones are left out."""
    found: list[list[str]] = []
    pending: dict[int, list[str]] = {}

    def statement(conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        pending.setdefault(id(conn), []).append(sql)

    def commit(conn: Any) -> None:
        found.append(pending.pop(id(conn), []))

    def rollback(conn: Any) -> None:
        pending.pop(id(conn), None)

    sync = engine.sync_engine
    listeners = (("before_cursor_execute", statement), ("commit", commit), ("rollback", rollback))
    for name, listener in listeners:
        event.listen(sync, name, listener)
    try:
        yield found
    finally:
        for name, listener in listeners:
            event.remove(sync, name, listener)
