"""The scheduler's ticks (bot/scheduling/service.py) survive failures, and say so: a tick
never raises, and while nothing scheduled can run the elected process's /readyz is 503."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from aiohttp.test_utils import TestClient, TestServer

from bot.clock import Clock
from bot.scheduling.service import Scheduler
from bot.scheduling.watch import Lateness
from bot.server import build_app, create_runtime
from tests.conftest import make_settings


class UnreadableClock(Clock):
    """A clock whose reading fails while `broken` (as one moved past year 9999 did)."""

    broken = False

    def now(self) -> datetime:
        if self.broken:
            raise OverflowError("date value out of range")
        return super().now()


async def test_a_tick_survives_failing_finders_and_an_unreadable_clock() -> None:
    clock = UnreadableClock(controllable=True)
    scheduler = Scheduler(clock)
    ran: list[datetime] = []

    async def works(now: datetime) -> int:
        ran.append(now)
        return 1

    async def fails(_now: datetime) -> int:
        raise RuntimeError("a broken finder")

    scheduler.register(fails)
    assert await scheduler.tick() == 0 and scheduler.failing, "nothing could run"
    scheduler.register(works)
    assert await scheduler.tick() == 1 and not scheduler.failing, "some work still runs"
    clock.broken = True
    assert await scheduler.tick() == 0 and scheduler.failing
    clock.broken = False
    assert await scheduler.tick() == 1 and not scheduler.failing
    assert len(ran) == 2


async def _readyz(client: TestClient, wanted: int) -> dict[str, str]:  # type: ignore[type-arg]
    for _ in range(100):  # ticks come every second in real time
        response = await client.get("/readyz")
        if response.status == wanted:
            body: dict[str, str] = await response.json()
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"/readyz never answered {wanted}")


async def test_readyz_is_503_while_the_elected_scheduler_cannot_run(database_url: str) -> None:
    clock = UnreadableClock(controllable=True)
    runtime = create_runtime(make_settings(database_url), clock)
    app = build_app(runtime, start_sender=True)  # elected, ticking every second
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        for _ in range(100):  # PostgreSQL: the advisory lock is taken in the background
            if runtime.election.is_leader:
                break
            await asyncio.sleep(0.1)
        assert (await _readyz(client, 200))["scheduler"] == "leader"
        clock.broken = True
        failing = await _readyz(client, 503)
        assert failing == {"status": "unavailable", "database": "ok", "scheduler": "failing"}
        clock.broken = False
        assert (await _readyz(client, 200))["scheduler"] == "leader"


async def test_becoming_the_scheduler_begins_its_watches_again() -> None:
    """A standby elected later: runs planned before were missed while no scheduler ran."""
    monday_9 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    wall_time = [datetime(2026, 1, 1, tzinfo=UTC)]
    clock = Clock(controllable=True, start=monday_9 - timedelta(days=1), wall=lambda: wall_time[0])
    scheduler = Scheduler(clock)
    watch = scheduler.watch()
    wall_time[0] += timedelta(days=1, hours=3)  # up as a standby for a day
    assert watch.lateness(monday_9, clock.now()).cause == "up"
    scheduler.start()
    try:
        assert watch.lateness(monday_9, clock.now()) == Lateness(timedelta(hours=3), "down")
    finally:
        await scheduler.close()
