"""Rehearsing with the movable clock: runs passed over by a jump of the clock while the bot
runs are posted; the missed-run grace counts real absence only (the bot not running, or
running without being able to post), and `challenge list` says which, in both languages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.clock import Clock
from bot.server import Runtime, build_app, create_runtime
from bot.settings import Settings
from storage.models import ChallengeOccurrence
from tests.support.playground import Playground, user

# Friday 27 November 2026, 23:00 in Paris: each step of a day lands at 23:00, so the
# Monday 09:00 run is 14 h behind the clock when a step passes over it (grace: 6 h).
FRIDAY_NIGHT = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)
FRIDAY = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # 11:00 in Paris
MONDAY_9_PARIS = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
DAY = 24 * 3600


async def _occurrences(runtime: Runtime) -> list[tuple[str, str | None]]:
    async with runtime.db_sessions() as db:
        rows = await db.execute(
            select(ChallengeOccurrence.status, ChallengeOccurrence.skip_reason).order_by(
                ChallengeOccurrence.planned_at
            )
        )
        return [(status, reason) for status, reason in rows.all()]


async def _cards(bot: Playground) -> list[str]:
    return [m["card"]["body"] for m in await bot.messages() if m["card"]]


@pytest.fixture
async def running(settings: Settings) -> AsyncIterator[Playground]:
    """The bot as `make run` serves it: elected scheduler ticking every second, outbox sending."""
    runtime = create_runtime(settings, Clock(controllable=True, start=FRIDAY_NIGHT))
    client = TestClient(TestServer(build_app(runtime, start_sender=True), host="127.0.0.1"))
    await client.start_server()
    for _ in range(100):  # PostgreSQL: the advisory lock is taken in the background
        if runtime.election.is_leader:
            break
        await asyncio.sleep(0.1)
    assert runtime.election.is_leader
    yield Playground(client, runtime)
    await client.close()
    await runtime.engine.dispose()


async def test_moving_the_clock_a_day_at_a_time_posts_every_weekly_run(
    running: Playground,
) -> None:
    bot = running
    await bot.command("anim1", "challenge post Weekly story every monday 09:00")
    for _ in range(14):
        response = await bot.client.post("/local/api/clock", json={"advance_seconds": DAY})
        assert response.status == 200, await response.text()
    assert await _cards(bot) == ["Weekly story", "Weekly story"], "30 Nov and 7 Dec"
    assert await _occurrences(bot.runtime) == [("posted", None), ("posted", None)]
    listing = await bot.say("anim1", "challenge list")
    assert "skipped" not in listing and "next: Mon 14 Dec, 09:00" in listing
    french = await bot.say(user("anim1", "fr"), "défi liste")
    assert "non publié" not in french and "prochain\u00a0: lun. 14 déc., 09:00" in french


async def test_a_jump_past_several_runs_posts_the_latest_and_says_why_not_the_others(
    bot: Playground,
) -> None:
    await bot.command("anim1", "challenge post Daily tip every day 09:00")
    response = await bot.client.post("/local/api/clock", json={"advance_seconds": 3 * DAY})
    assert response.status == 200
    assert await _cards(bot) == ["Daily tip"], "Monday's only: one post closes the one before"
    assert await _occurrences(bot.runtime) == [
        ("skipped", "superseded"),
        ("skipped", "superseded"),
        ("posted", None),
    ]
    listing = await bot.say("anim1", "challenge list")
    assert (
        "skipped on Sun 29 Nov, 09:00: a later run was due at the same moment, so only that one"
        " was posted"
    ) in listing
    french = await bot.say(user("anim1", "fr"), "défi liste")
    assert (
        "non publié le dim. 29 nov., 09:00\u00a0: une publication plus récente tombait au même"
        " moment, seule cette dernière est partie"
    ) in french


class SleepyWall:
    """Real time as the test plays it: frozen, except while the machine sleeps."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.mark.parametrize(("slept", "posted"), [(3, True), (13, False)])
async def test_a_run_missed_while_the_machine_slept_is_skipped_beyond_the_grace_saying_so(
    settings: Settings, slept: int, posted: bool
) -> None:
    wall = SleepyWall()
    runtime = create_runtime(settings, Clock(controllable=True, start=FRIDAY, wall=wall))
    client = TestClient(TestServer(build_app(runtime, start_sender=False), host="127.0.0.1"))
    await client.start_server()
    bot = Playground(client, runtime)
    try:
        await bot.command("anim1", "challenge post Weekly story every monday 09:00")
        await runtime.clock.set(MONDAY_9_PARIS - timedelta(hours=1))  # ticks: nothing due yet
        wall.now += timedelta(hours=slept)  # asleep: real time (and the clock with it) moves
        await runtime.scheduler.tick()  # the first tick once awake
        await runtime.sender.drain()
        assert len(await _cards(bot)) == (1 if posted else 0)
        listing = await bot.say("anim1", "challenge list")
        french = await bot.say(user("anim1", "fr"), "défi liste")
        if posted:
            assert "skipped" not in listing and "non publié" not in french
            return
        assert await _occurrences(runtime) == [("skipped", "stalled:12.0")]
        assert (
            "skipped on Mon 30 Nov, 09:00: missed by 12.0 h while the bot was running but could"
            " not post (its computer asleep, or its database out of reach)"
        ) in listing
        assert (
            "non publié le lun. 30 nov., 09:00\u00a0: le bot tournait sans pouvoir publier"
            " (ordinateur en veille, ou base de données injoignable), 12,0\u00a0h de retard"
        ) in french
        assert "Mon 7 Dec, 09:00" in listing, "the schedule goes on"
    finally:
        await client.close()
        await runtime.engine.dispose()
