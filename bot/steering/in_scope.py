"""SQL pieces the figures-pulses sections (pulses, referrals, badges, mentoring) share:
what a `Scope` keeps, and months in the viewer's time zone computed by the database.

The scope's rules (docs: the contract): members in scope are the participants of its
sessions (everyone when `session_ids` is None); the period [start, end) filters each
event by its own instant.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Dialect,
    String,
    TypeDecorator,
    case,
    exists,
    literal_column,
    select,
    true,
    type_coerce,
)
from sqlalchemy.types import TypeEngine

from bot.steering.model import Scope
from storage.models import SessionParticipation


class _Instant(TypeDecorator[datetime]):
    """A UTC instant read fast: SQLite keeps it as text, which `datetime.fromisoformat`
    reads some ten times faster than the DateTime type's pattern (thousands of pulses and
    sessions a page); other databases give datetimes already."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String())
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def instant(column: Any) -> Any:
    """`column` (a UtcDateTime) read as `_Instant`: in a SELECT of many rows."""
    return type_coerce(column, _Instant())


def nothing_matches(scope: Scope) -> bool:
    """The filters named sessions and none matched: every figure is empty."""
    return scope.session_ids is not None and not scope.session_ids


def in_period(column: Any, scope: Scope) -> ColumnElement[bool]:
    """The event instant `column` falls in the scope's period (open ends: no bound)."""
    condition: ColumnElement[bool] = true()
    if scope.start is not None:
        condition = condition & (column >= scope.start)
    if scope.end is not None:
        condition = condition & (column < scope.end)
    return condition


def member_in_scope(member_id: Any, scope: Scope, *, few: bool = False) -> ColumnElement[bool]:
    """The member `member_id` took part in one of the scope's sessions (always true for
    the whole workspace).

    For many rows (members, awards): an IN over the sessions' participants, gathered once
    (on a member's id SQLite then reads only those members). For `few` rows (mentors,
    waiting novices, pairs): an EXISTS, one lookup of the participation's member index a
    row, rather than gathering every participant of a large training."""
    if scope.session_ids is None:
        return true()
    if few:
        return exists(
            select(SessionParticipation.id).where(
                SessionParticipation.member_id == member_id,
                SessionParticipation.session_id.in_(scope.session_ids),
            )
        )
    took_part = select(SessionParticipation.member_id).where(
        SessionParticipation.session_id.in_(scope.session_ids)
    )
    return member_id.in_(took_part)


def month_of(instant: datetime, zone: ZoneInfo) -> str:
    """ "2026-09": the month of `instant` in `zone`."""
    return instant.astimezone(zone).strftime("%Y-%m")


def first_day(month: str) -> date:
    """ "2026-09" → 2026-09-01."""
    return date(int(month[:4]), int(month[5:7]), 1)


def months_between(first: datetime, last: datetime, zone: ZoneInfo) -> list[tuple[str, datetime]]:
    """Every month from `first`'s to `last`'s in `zone`, with the UTC instant it starts."""
    year, month = (int(part) for part in month_of(first, zone).split("-"))
    end = month_of(last, zone)
    found: list[tuple[str, datetime]] = []
    while True:
        key = f"{year:04d}-{month:02d}"
        found.append((key, datetime(year, month, 1, tzinfo=zone).astimezone(UTC)))
        if key >= end:
            return found
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def month_index(column: Any, months: list[tuple[str, datetime]]) -> Any:
    """The index in `months` of the month the instant `column` falls in, computed by the
    database as a binary search of CASEs over the months' first instants (about log2(n)
    comparisons a row, exact across time-zone changes; SQLite knows no time zones).
    Instants before the first month get 0, after the last the last index."""

    def search(low: int, high: int) -> Any:
        if high - low == 1:
            return literal_column(str(low))
        middle = (low + high) // 2
        return case((column < months[middle][1], search(low, middle)), else_=search(middle, high))

    return search(0, len(months))
