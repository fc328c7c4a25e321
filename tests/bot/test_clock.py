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
