"""The watch tells the bot's absence from a jump of the movable clock (real clock, played wall)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.clock import Clock
from bot.scheduling.watch import Lateness, Watch, on_time

MONDAY_9 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


class Wall:
    """Real time as the test plays it: frozen, except when the machine "sleeps"."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _watched(start: datetime) -> tuple[Watch, Clock, Wall]:
    wall = Wall()
    clock = Clock(controllable=True, start=start, wall=wall)
    return Watch(clock), clock, wall


async def test_a_run_passed_over_by_a_jump_of_the_clock_is_on_time() -> None:
    watch, clock, _wall = _watched(MONDAY_9 - timedelta(days=3))
    started = watch.pass_started()
    watch.passed(started)
    now = await clock.advance(3 * 86400 + 13 * 3600)  # Monday 22:00, 13 h after the run
    assert watch.lateness(MONDAY_9, now) == Lateness(timedelta(0), "up")


async def test_a_run_planned_before_the_watch_began_is_late_by_all_of_it() -> None:
    watch, clock, _wall = _watched(MONDAY_9 + timedelta(hours=8))  # started 8 h after the run
    assert watch.lateness(MONDAY_9, clock.now()) == Lateness(timedelta(hours=8), "down")
    now = await clock.advance(3600)
    assert watch.lateness(MONDAY_9, now) == Lateness(timedelta(hours=9), "down")


async def test_real_time_without_a_completed_pass_counts_and_a_pass_resets_it() -> None:
    watch, clock, wall = _watched(MONDAY_9 - timedelta(hours=1))
    watch.passed(watch.pass_started())
    wall.now += timedelta(hours=13)  # the machine slept: real time and the clock both moved
    now = clock.now()
    assert watch.lateness(MONDAY_9, now) == Lateness(timedelta(hours=12), "up")
    watch.passed(watch.pass_started())
    wall.now += timedelta(minutes=2)
    assert watch.lateness(now - timedelta(minutes=1), clock.now()).by == timedelta(minutes=2)
    # A pass that failed does not count: `passed` is only called after a committed pass.
    watch.pass_started()
    wall.now += timedelta(hours=7)
    assert watch.lateness(now, clock.now()).by == timedelta(hours=7, minutes=2)


async def test_begin_again_when_elected_makes_earlier_runs_missed_while_down() -> None:
    watch, clock, wall = _watched(MONDAY_9 - timedelta(days=1))
    wall.now += timedelta(days=1, hours=3)  # a standby for a day, elected 3 h after the run
    watch.begin()
    assert watch.lateness(MONDAY_9, clock.now()) == Lateness(timedelta(hours=3), "down")


def test_a_run_a_command_starts_is_late_only_by_its_own_delay() -> None:
    assert on_time(MONDAY_9, MONDAY_9).by == timedelta(0)
    assert on_time(MONDAY_9 + timedelta(seconds=1), MONDAY_9).by == timedelta(0)
