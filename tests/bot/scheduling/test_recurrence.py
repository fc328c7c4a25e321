"""Fire times, DST included: every run once, at the wall time people expect."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.scheduling.recurrence import Recurrence, next_run, upcoming

PARIS = ZoneInfo("Europe/Paris")


def _local(runs: list[datetime]) -> list[str]:
    return [run.astimezone(PARIS).strftime("%Y-%m-%d %H:%M %z") for run in runs]


def test_spring_forward_missing_time_runs_once_at_the_first_valid_instant() -> None:
    daily = Recurrence(
        "cron",
        "Europe/Paris",
        start=datetime(2027, 3, 1, tzinfo=PARIS),
        cron={"hour": "2", "minute": "30"},
    )
    runs = upcoming(daily, datetime(2027, 3, 27, 12, tzinfo=PARIS), 3)
    assert _local(runs) == [
        "2027-03-28 03:00 +0200",  # 02:30 does not exist that night
        "2027-03-29 02:30 +0200",
        "2027-03-30 02:30 +0200",
    ]


def test_fall_back_repeated_time_runs_once() -> None:
    daily = Recurrence(
        "cron",
        "Europe/Paris",
        start=datetime(2026, 10, 1, tzinfo=PARIS),
        cron={"hour": "2", "minute": "30"},
    )
    runs = upcoming(daily, datetime(2026, 10, 24, 12, tzinfo=PARIS), 3)
    assert _local(runs) == [
        "2026-10-25 02:30 +0200",  # the first of the two 02:30s, and only that one
        "2026-10-26 02:30 +0100",
        "2026-10-27 02:30 +0100",
    ]


def test_weekly_keeps_its_wall_time_across_both_changes() -> None:
    weekly = Recurrence(
        "cron",
        "Europe/Paris",
        start=datetime(2026, 10, 1, tzinfo=PARIS),
        cron={"day_of_week": "6", "hour": "9", "minute": "0"},
    )
    autumn = upcoming(weekly, datetime(2026, 10, 18, 12, tzinfo=PARIS), 2)
    assert _local(autumn) == ["2026-10-25 09:00 +0100", "2026-11-01 09:00 +0100"]
    spring = upcoming(weekly, datetime(2027, 3, 21, 12, tzinfo=PARIS), 2)
    assert _local(spring) == ["2027-03-28 09:00 +0200", "2027-04-04 09:00 +0200"]


def test_every_two_weeks_steps_in_wall_clock_time_not_elapsed_time() -> None:
    fortnightly = Recurrence(
        "interval", "Europe/Paris", start=datetime(2026, 10, 19, 9, tzinfo=PARIS), interval_days=14
    )
    runs = upcoming(fortnightly, datetime(2026, 10, 1, tzinfo=UTC), 3)
    assert _local(runs) == [
        "2026-10-19 09:00 +0200",
        "2026-11-02 09:00 +0100",
        "2026-11-16 09:00 +0100",
    ]


def test_interval_in_a_spring_gap_runs_at_the_first_valid_instant() -> None:
    weekly = Recurrence(
        "interval",
        "Europe/Paris",
        start=datetime(2027, 3, 21, 2, 30, tzinfo=PARIS),
        interval_days=7,
    )
    runs = upcoming(weekly, datetime(2027, 3, 22, tzinfo=UTC), 2)
    assert _local(runs) == ["2027-03-28 03:00 +0200", "2027-04-04 02:30 +0200"]


def test_end_is_inclusive_and_then_there_is_no_more() -> None:
    weekly = Recurrence(
        "cron",
        "Europe/Paris",
        start=datetime(2026, 12, 1, tzinfo=PARIS),
        end=datetime(2026, 12, 14, 23, 59, tzinfo=PARIS),
        cron={"day_of_week": "0", "hour": "9", "minute": "0"},
    )
    runs = upcoming(weekly, datetime(2026, 12, 1, tzinfo=UTC), 5)
    assert _local(runs) == ["2026-12-07 09:00 +0100", "2026-12-14 09:00 +0100"]


def test_once_runs_only_while_in_the_future_and_survives_json() -> None:
    once = Recurrence("once", "Europe/Paris", start=datetime(2026, 12, 1, 9, tzinfo=PARIS))
    restored = Recurrence.from_json(once.to_json())
    assert restored == once
    assert next_run(restored, datetime(2026, 11, 30, tzinfo=UTC)) == datetime(
        2026, 12, 1, 8, tzinfo=UTC
    )
    assert next_run(restored, datetime(2026, 12, 2, tzinfo=UTC)) is None
