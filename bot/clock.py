"""The one clock the whole core reads.

Production uses the system time. Tests and trainers' rehearsals use a clock that
can be moved forward (never back), so scheduled behaviour is tested without sleeps.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

AdvanceListener = Callable[[datetime], Awaitable[None]]


class Clock:
    """Aware UTC time, shifted by an offset that only ever grows."""

    def __init__(self, *, controllable: bool = False, start: datetime | None = None) -> None:
        self.controllable = controllable
        self._offset = timedelta(0)
        self._listeners: list[AdvanceListener] = []
        if start is not None:
            self._offset = _aware(start) - datetime.now(UTC)

    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        return datetime.now(UTC) + self._offset

    def on_advance(self, listener: AdvanceListener) -> None:
        """Call `listener(now)` each time the clock is moved forward (runs what became due)."""
        self._listeners.append(listener)

    async def advance(self, seconds: float) -> datetime:
        """Move forward by `seconds` (must be positive) and run what became due."""
        if seconds < 0:
            raise ValueError("the clock never moves back")
        self._offset += timedelta(seconds=seconds)
        return await self._notify()

    async def set(self, when: datetime) -> datetime:
        """Move forward to `when`; a time in the past is refused."""
        target = _aware(when)
        current = self.now()
        if target < current:
            raise ValueError("the clock never moves back")
        self._offset += target - current
        return await self._notify()

    async def _notify(self) -> datetime:
        now = self.now()
        for listener in self._listeners:
            await listener(now)
        return now


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
