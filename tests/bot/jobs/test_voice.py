"""The scheduler's voice job (bot/jobs/voice.py): new contributions are read and grouped in
a background task, outside the tick; a tick with nothing new starts nothing."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.jobs import voice as voice_module
from bot.jobs.voice import LOOK_EVERY, VoiceJob
from bot.voice.service import Voice
from storage.models import ContributionVoice, ThemeMap
from tests.bot.handlers.test_themes import _share_all
from tests.support.playground import Playground


async def _counts(bot: Playground) -> tuple[int, int]:
    async with bot.runtime.db_sessions() as db:
        read = (await db.execute(select(func.count()).select_from(ContributionVoice))).scalar()
        maps = (await db.execute(select(func.count()).select_from(ThemeMap))).scalar()
    return int(read or 0), int(maps or 0)


async def test_new_contributions_are_read_and_grouped_in_the_background(bot: Playground) -> None:
    await _share_all(bot)  # 12 posts in two languages, none read yet
    assert await _counts(bot) == (0, 0)
    job = VoiceJob(bot.runtime.db_sessions)
    now = bot.runtime.clock.now()
    assert await job.run_due(now) == 0, "the tick only starts the work"
    assert job._task is not None
    read = await job._task
    assert read == 12
    assert await _counts(bot) == (12, 1)
    # The next tick reports what the finished run read, and starts nothing new.
    assert await job.run_due(now + LOOK_EVERY) == 12
    assert job._task is None


async def test_a_tick_with_nothing_new_starts_nothing(bot: Playground) -> None:
    await _share_all(bot)
    job = VoiceJob(bot.runtime.db_sessions)
    now = bot.runtime.clock.now()
    await job.run_due(now)
    assert job._task is not None
    await job._task
    await job.run_due(now + LOOK_EVERY)
    # Nothing new, the stale look done an hour ago at most: no task.
    assert await job.run_due(now + 2 * LOOK_EVERY) == 0
    assert job._task is None
    # Too early for another look even with a new post: nothing either.
    await bot.command("anim1", "share One more tip about meetings: stand up")
    assert await job.run_due(now + 2 * LOOK_EVERY + timedelta(seconds=1)) == 0
    assert job._task is None
    await job.run_due(now + 4 * LOOK_EVERY)
    assert job._task is not None
    assert await job._task == 1
    assert (await _counts(bot))[0] == 13


async def test_a_backlog_is_read_a_slice_per_look(
    bot: Playground, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(voice_module, "PER_LOOK", 5)
    await _share_all(bot)  # 12 unread posts
    job = VoiceJob(bot.runtime.db_sessions)
    now = bot.runtime.clock.now()
    await job.run_due(now)
    assert job._task is not None and await job._task == 5
    assert (await _counts(bot))[0] == 5
    # Not all read: the next look goes on, without waiting for a new post.
    await job.run_due(now + LOOK_EVERY)
    assert job._task is not None and await job._task == 5
    await job.run_due(now + 2 * LOOK_EVERY)
    assert job._task is not None and await job._task == 2
    assert await _counts(bot) == (12, 1)


async def test_the_database_is_free_while_the_job_computes(
    bot: Playground, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's engine has one connection: while the voice reads a batch (a second or so
    of CPU in a thread), requests must still reach the database."""
    await _share_all(bot)
    computing, release = threading.Event(), threading.Event()
    real_read = Voice.read

    def slow_read(self: Voice, *args: Any) -> Any:
        computing.set()
        assert release.wait(10)
        return real_read(self, *args)

    monkeypatch.setattr(Voice, "read", slow_read)
    job = VoiceJob(bot.runtime.db_sessions)
    await job.run_due(bot.runtime.clock.now())
    assert job._task is not None
    assert await asyncio.to_thread(computing.wait, 10)
    # The batch is being computed: another request's query goes through meanwhile.
    reply = await asyncio.wait_for(bot.say("anim1", "session status"), timeout=5)
    assert reply
    release.set()
    assert await job._task == 12
