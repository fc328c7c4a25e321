"""How late a scheduled run is through downtime, as opposed to a jump of the movable clock.

A run found due later than planned is late for one of three reasons, and only the first
two are the bot's absence:

- down: planned before this process became the scheduler (the bot, or every scheduler
  among the replicas, was not running then);
- stalled: the process was up, but no pass of its scheduler completed for a long stretch
  of real time (the machine asleep, the database out of reach);
- neither: the core's clock was moved forward while the process ran (tests and trainers'
  rehearsals, bot/clock.py). Such a run fell due while the bot was watching: it is on time.

So the lateness counted against the grace period is the time nobody watched: all of it
for a run planned before the watch began, else at most the real time since the last
completed pass. APScheduler drops runs later than their misfire grace time by default
(https://apscheduler.readthedocs.io/en/3.x/userguide.html#missed-job-executions-and-coalescing):
missed runs need this explicit, tested policy instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.clock import Clock

# down: planned before the watch began; up: planned while this process was the scheduler
# (late, if at all, by real time without a completed pass: stalled).
Cause = Literal["down", "up"]


@dataclass(frozen=True)
class Lateness:
    """How late a run is through the bot's absence, and why."""

    by: timedelta
    cause: Cause


class Watch:
    """One due-work finder's view of when this process was really watching.

    The finder calls `pass_started()` before it looks for due runs, `lateness()` for each
    run it finds, and `passed()` once its pass is committed.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.begin()

    def begin(self) -> None:
        """The process starts watching (at start-up, or when elected scheduler): what was
        planned before happened while it was not running."""
        self._since = self._clock.now()
        self._seen_real = self._clock.real_now()

    def pass_started(self) -> datetime:
        """The real time a pass begins (hand it to `passed` when the pass succeeds)."""
        return self._clock.real_now()

    def passed(self, started: datetime) -> None:
        """A pass that began at real time `started` completed: all that was due is handled."""
        self._seen_real = max(self._seen_real, started)

    def lateness(self, planned: datetime, now: datetime) -> Lateness:
        """How late the run `planned` is at `now` through the bot's absence."""
        if planned < self._since:
            return Lateness(now - planned, "down")
        unwatched = max(self._clock.real_now() - self._seen_real, timedelta(0))
        return Lateness(min(now - planned, unwatched), "up")


def on_time(planned: datetime, now: datetime) -> Lateness:
    """The lateness of a run started by a command (its own moment: never the bot's absence)."""
    return Lateness(max(now - planned, timedelta(0)), "down")
