"""The one clock the whole core reads.

Production uses the system time. Tests and trainers' rehearsals use a clock that
can be moved forward (never back), so scheduled behaviour is tested without sleeps.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

AdvanceListener = Callable[[datetime], Awaitable[None]]
Wall = Callable[[], datetime]
# How far ahead of real time the clock may be moved. Ten years rehearse any programme
# (weekly challenges, quarterly pulses, badges earned over years) and keep every date the
# bot derives from the clock (next runs, expiries, retention) far inside what Python's
# datetime (year 9999) and the databases hold: a clock moved to year 9999 made every later
# reading overflow (OverflowError in `now()`), so every command and scheduler tick failed.
MAX_AHEAD = timedelta(days=3653)


def system_time() -> datetime:
    """The machine's time, aware, in UTC."""
    return datetime.now(UTC)


class Clock:
    """Aware UTC time, shifted by an offset that only ever grows.

    `wall` is the real time underneath (the machine's); tests pass their own to play a
    machine that slept while the bot ran.
    """

    def __init__(
        self, *, controllable: bool = False, start: datetime | None = None, wall: Wall = system_time
    ) -> None:
        self.controllable = controllable
        self._wall = wall
        self._offset = timedelta(0)
        self._listeners: list[AdvanceListener] = []
        if start is not None:
            self._offset = _aware(start) - wall()

    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        return self._wall() + self._offset

    def real_now(self) -> datetime:
        """Real time, whatever the clock was moved by: how long the process really ran
        (the scheduler's watch tells downtime from a jump of the clock with it)."""
        return self._wall()

    def on_advance(self, listener: AdvanceListener) -> None:
        """Call `listener(now)` each time the clock is moved forward (runs what became due)."""
        self._listeners.append(listener)

    def latest(self) -> datetime:
        """The furthest the clock may be moved to now (MAX_AHEAD after real time)."""
        return self._wall() + MAX_AHEAD

    async def advance(self, seconds: float) -> datetime:
        """Move forward by `seconds` (finite, 0 or more, within MAX_AHEAD of real time)
        and run what became due."""
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError("the clock moves forward by a finite number of seconds")
        if seconds > (self.latest() - self.now()).total_seconds():
            raise ValueError("the clock runs at most ten years ahead of real time")
        self._offset += timedelta(seconds=seconds)
        return await self._notify()

    async def set(self, when: datetime) -> datetime:
        """Move forward to `when`; a time in the past, or beyond `latest()`, is refused."""
        try:
            target = _aware(when).astimezone(UTC)
        except OverflowError:  # e.g. 9999-12-31T23:00-05:00 is in year 10000 in UTC
            raise ValueError("the clock runs at most ten years ahead of real time") from None
        if target > self.latest():
            raise ValueError("the clock runs at most ten years ahead of real time")
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
