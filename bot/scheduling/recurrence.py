"""When something runs: once, on a cron-like rule, or every N days/weeks — and DST done right.

APScheduler's triggers do the calendar arithmetic (zoneinfo time zones); this module
stores them as plain JSON (nothing pickled) and fixes the two DST cases where a wall
time is not one instant:
- a wall time that does not exist on the spring-forward day runs at the first valid
  instant after it (Europe/Paris 02:30 on the last Sunday of March runs at 03:00), once;
- a wall time that exists twice on the fall-back day runs once (at its first instant).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TICK = timedelta(microseconds=1)  # "strictly after" for APScheduler's inclusive `now`


@dataclass(frozen=True)
class Recurrence:
    """A schedule in a form the database can hold and people can read.

    kind "once": `start` only; kind "cron": `cron` fields (minute, hour, day_of_week, …);
    kind "interval": every `interval_days` days from `start`. `end` is inclusive.
    """

    kind: str
    timezone: str
    start: datetime
    end: datetime | None = None
    cron: dict[str, str] = field(default_factory=dict)
    interval_days: int = 0

    def to_json(self) -> dict[str, Any]:
        """A JSON object for the database."""
        return {
            "kind": self.kind,
            "timezone": self.timezone,
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end else None,
            "cron": dict(self.cron),
            "interval_days": self.interval_days,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Recurrence:
        """Rebuild from the database."""
        return cls(
            kind=str(data["kind"]),
            timezone=str(data["timezone"]),
            start=datetime.fromisoformat(data["start"]),
            end=datetime.fromisoformat(data["end"]) if data.get("end") else None,
            cron={str(k): str(v) for k, v in (data.get("cron") or {}).items()},
            interval_days=int(data.get("interval_days") or 0),
        )

    @property
    def zone(self) -> ZoneInfo:
        """The time zone the wall times are in."""
        return ZoneInfo(self.timezone)

    def trigger(self) -> BaseTrigger:
        """The APScheduler trigger that computes the fire times (once and cron rules)."""
        if self.kind == "once":
            return DateTrigger(run_date=self.start, timezone=self.zone)
        return CronTrigger(
            **self.cron, start_date=self.start, end_date=self.end, timezone=self.zone
        )


def _wall(when: datetime, zone: ZoneInfo) -> datetime:
    """The naive wall-clock time of an instant in `zone`."""
    return when.astimezone(zone).replace(tzinfo=None)


def _first_valid_instant(candidate: datetime, zone: ZoneInfo) -> datetime:
    """The candidate's instant, or, when its wall time does not exist, the first one after it."""
    wall = candidate.replace(tzinfo=None) if candidate.tzinfo else candidate
    instant = candidate.astimezone(UTC)
    if _wall(instant, zone) == wall:
        return instant
    # In a spring-forward gap: scan the gap minute by minute for the first instant whose
    # wall time is at or after the wanted one (gaps are at most a few hours).
    probe = wall.replace(tzinfo=zone, fold=1).astimezone(UTC) - timedelta(hours=3)
    probe = probe.replace(second=0, microsecond=0)
    for _ in range(60 * 6):
        if _wall(probe, zone) >= wall:
            return probe
        probe += timedelta(minutes=1)
    return instant


def next_run(recurrence: Recurrence, after: datetime) -> datetime | None:
    """The first run strictly after `after` (aware), in UTC; None when there is no more."""
    if recurrence.kind == "once":
        start = recurrence.start.astimezone(UTC)
        return start if start > after else None
    if recurrence.kind == "interval":
        return _next_interval(recurrence, after)
    trigger = recurrence.trigger()
    zone = recurrence.zone
    previous_wall = _wall(after, zone)
    cursor = after
    for _ in range(1000):
        candidate = trigger.get_next_fire_time(None, cursor + _TICK)
        if candidate is None:
            return None
        if recurrence.end is not None and candidate > recurrence.end:
            return None
        fire = _first_valid_instant(candidate, zone)
        repeated_wall = candidate.replace(tzinfo=None) == previous_wall
        if fire > after and not repeated_wall:
            return fire
        cursor = max(candidate.astimezone(UTC), cursor + _TICK)
    return None


def _next_interval(recurrence: Recurrence, after: datetime) -> datetime | None:
    # Wall-clock steps, not elapsed time: APScheduler 3's IntervalTrigger adds a fixed
    # duration, so "every 2 weeks at 09:00" would drift to 08:00 after the autumn change.
    zone = recurrence.zone
    start_wall = _wall(recurrence.start, zone)
    step = max(recurrence.interval_days, 1)
    first = max(0, (_wall(after, zone) - start_wall).days // step)
    for index in range(first, first + 3):
        wall = start_wall + timedelta(days=index * step)
        fire = _first_valid_instant(wall.replace(tzinfo=zone), zone)
        if recurrence.end is not None and fire > recurrence.end:
            return None
        if fire > after:
            return fire
    return None


def first_run(recurrence: Recurrence, now: datetime) -> datetime | None:
    """The first run at or after `now` (a run due this very instant counts)."""
    return next_run(recurrence, now - _TICK)


def upcoming(recurrence: Recurrence, after: datetime, count: int) -> list[datetime]:
    """The next `count` runs after `after` (for tests and for showing a schedule)."""
    runs: list[datetime] = []
    cursor = after
    while len(runs) < count:
        run = next_run(recurrence, cursor)
        if run is None:
            break
        runs.append(run)
        cursor = run
    return runs
