"""Claiming due rows of a work queue with a lease (the outbox, the inbox).

A queue table has `id`, `status`, `next_attempt_at` and `claimed_until`. One statement
takes the oldest due rows that nobody holds and leases them (UPDATE … WHERE id IN (SELECT …
[FOR UPDATE SKIP LOCKED]) RETURNING), so several workers never take the same row, and a
row whose lease ran out (its worker crashed) is due again: at-least-once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, or_, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Base
from storage.upsert import InsertInto, Prepared, table_of

RowT = TypeVar("RowT", bound=Base)


def claim_statement(
    model: type[Base], pending: StrEnum, only: Callable[[Table], Any] | None = None
) -> Prepared:
    """The prepared claim statement of a queue table whose due rows have status `pending`
    (and, with `only`, match that condition on the table: a lane of the queue)."""

    def build(insert_into: InsertInto) -> Any:
        table = table_of(model)
        due = (
            select(table.c.id)
            .where(
                table.c.status == pending,
                table.c.next_attempt_at <= bindparam("now"),
                or_(table.c.claimed_until.is_(None), table.c.claimed_until < bindparam("now")),
                *([only(table)] if only is not None else []),
            )
            .order_by(table.c.id)
            .limit(bindparam("limit"))
        )
        if insert_into is postgresql.insert:
            due = due.with_for_update(skip_locked=True)
        return (
            update(table)
            .where(table.c.id.in_(due.scalar_subquery()))
            .values(claimed_until=bindparam("until"))
            .returning(*table.c)
        )

    return Prepared(build)


async def claim(
    db: AsyncSession,
    statement: Prepared,
    make: Callable[..., RowT],
    now: datetime,
    lease: timedelta,
    limit: int,
) -> list[RowT]:
    """Take up to `limit` due rows for `lease`, oldest first, built with `make`."""
    params = {"now": now, "until": now + lease, "limit": limit}
    rows = (await statement.execute(db, params)).all()
    return [make(**row._asdict()) for row in sorted(rows, key=lambda row: row.id)]
