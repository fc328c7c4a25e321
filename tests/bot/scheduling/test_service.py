"""The scheduler's ticks (bot/scheduling/service.py) survive failures, and say so: a tick
never raises, and while nothing scheduled can run the elected process's /readyz is 503."""

from __future__ import annotations

import asyncio
from datetime import datetime

from aiohttp.test_utils import TestClient, TestServer

from bot.clock import Clock
from bot.scheduling.service import Scheduler
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
