"""The one clock (bot/clock.py): forward only, and never beyond ten years ahead of real
time — a clock moved to year 9999 made every later reading overflow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.clock import MAX_AHEAD, Clock


@pytest.mark.parametrize("seconds", [float("nan"), float("inf"), -1.0, 1e308, 10.0**20])
async def test_advancing_by_nonsense_is_refused_and_changes_nothing(seconds: float) -> None:
    clock = Clock(controllable=True)
    before = clock.now()
    with pytest.raises(ValueError):
        await clock.advance(seconds)
    assert before <= clock.now() < before + timedelta(minutes=1)


@pytest.mark.parametrize(
    "when",
    [
        datetime(9999, 12, 31, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5))),
        datetime.now(UTC) + MAX_AHEAD + timedelta(days=1),
        datetime(2000, 1, 1, tzinfo=UTC),
    ],
)
async def test_setting_an_absurd_or_past_date_is_refused_and_changes_nothing(
    when: datetime,
) -> None:
    clock = Clock(controllable=True)
    before = clock.now()
    with pytest.raises(ValueError):
        await clock.set(when)
    assert before <= clock.now() < before + timedelta(minutes=1)


async def test_the_clock_moves_up_to_ten_years_ahead_and_stays_readable() -> None:
    clock = Clock(controllable=True)
    seen: list[datetime] = []

    async def listener(now: datetime) -> None:
        seen.append(now)

    clock.on_advance(listener)
    nine_years = datetime.now(UTC) + timedelta(days=9 * 365)
    assert await clock.set(nine_years) >= nine_years
    room = (clock.latest() - clock.now()).total_seconds()
    assert 0 < room < 2 * 365 * 86400
    await clock.advance(room - 60)
    assert len(seen) == 2


async def test_real_time_is_the_wall_underneath_whatever_the_clock_was_moved_by() -> None:
    wall_time = [datetime(2026, 11, 27, 10, 0, tzinfo=UTC)]
    clock = Clock(
        controllable=True, start=datetime(2026, 11, 30, tzinfo=UTC), wall=lambda: wall_time[0]
    )
    assert clock.real_now() == wall_time[0] and clock.now() == datetime(2026, 11, 30, tzinfo=UTC)
    await clock.advance(86400)
    assert clock.real_now() == wall_time[0], "a move of the clock is no real time"
    wall_time[0] += timedelta(hours=2)
    assert clock.now() == datetime(2026, 12, 1, 2, 0, tzinfo=UTC), "real time moves it too"
    assert clock.latest() == wall_time[0] + MAX_AHEAD
