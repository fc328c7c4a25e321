"""The scheduler's voice job: every contribution read (language, sentiment, vector, theme)
soon after it is written, and each workspace's themes found again when stale
(bot/voice/service.py).

The work runs as one background task at a time, not inside the scheduler's tick: grouping
a large community takes seconds of CPU (in a worker thread), and a tick waiting for it
would hold back challenge posts and pulses. A tick only starts the task when there may be
something to do: a contribution newer than the last one read, or an hour since the last
look at stale themes (a day-old map of a community that changed is regrouped).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.jobs.job import Job
from bot.settings import Settings
from bot.voice import service
from storage import voice as store
from storage.models import Contribution, ThemeMap

log = logging.getLogger(__name__)

# How often a tick looks for new contributions, and for day-old themes.
LOOK_EVERY = timedelta(seconds=5)
STALE_EVERY = timedelta(hours=1)
# Posts read per workspace and look: a backlog (an upgrade over years of posts, a bulk
# import) is read at most this fast, about a third of a core, the rest left to requests.
PER_LOOK = 2_048


class VoiceJob:
    """The job's state in the scheduler's process."""

    def __init__(self, db_sessions: async_sessionmaker[AsyncSession]) -> None:
        self._db_sessions = db_sessions
        self._task: asyncio.Task[int] | None = None
        self._next_look: datetime | None = None
        self._next_stale: datetime | None = None
        self._read_up_to = 0
        # Workspaces whose backlog the last look did not finish (read on at the next one).
        self._backlog: set[int] = set()

    async def run_due(self, now: datetime) -> int:
        """Start the background work when there may be some; how many posts the last
        finished run read."""
        if self._task is not None and not self._task.done():
            return 0
        finished = 0
        if self._task is not None:
            finished = self._task.result() if not self._task.cancelled() else 0
            self._task = None
        if self._next_look is not None and now < self._next_look:
            return finished
        self._next_look = now + LOOK_EVERY
        async with self._db_sessions() as db:
            newest = int((await db.execute(select(func.max(Contribution.id)))).scalar() or 0)
        check_stale = self._next_stale is None or now >= self._next_stale
        if newest <= self._read_up_to and not self._backlog and not check_stale:
            return finished
        if check_stale:
            self._next_stale = now + STALE_EVERY
        self._task = asyncio.create_task(self._work(now, newest, check_stale))
        return finished

    async def _work(self, now: datetime, newest: int, check_stale: bool) -> int:
        voice = service.shared_voice()
        read = 0
        try:
            async with self._db_sessions() as db:
                if self._read_up_to:
                    # Where something was written since the last look (the primary key's
                    # range: no scan of every contribution), and the unfinished backlogs.
                    since = await store.workspaces_written_after(db, self._read_up_to)
                    workspaces = set(since) | self._backlog
                else:  # this process's first look: every workspace with something unread
                    workspaces = set(await store.workspaces_with_unread(db))
                if check_stale:
                    old = select(ThemeMap.workspace_id).where(
                        ThemeMap.computed_at < now - service.REGROUP_AFTER
                    )
                    workspaces.update(int(w) for w in (await db.execute(old)).scalars())
            backlog: set[int] = set()
            for workspace_id in sorted(workspaces):
                budget = PER_LOOK
                while budget > 0:
                    step = min(service.READ_BATCH, budget)
                    done = await service.read_apart(self._db_sessions, voice, workspace_id, step)
                    read += done
                    budget -= done
                    if done < step:
                        break
                else:
                    backlog.add(workspace_id)  # more to read: the next look goes on
                async with self._db_sessions() as db:
                    posts = await store.read_count(db, workspace_id)
                    current = await store.theme_map(db, workspace_id)
                if service.is_stale(current, posts, now):
                    await service.regroup_apart(self._db_sessions, voice, workspace_id, now)
                    log.info("voice_regrouped", extra={"workspace": workspace_id, "posts": posts})
            self._backlog = backlog
            self._read_up_to = max(self._read_up_to, newest)
        except Exception:  # the next look tries again; the tick must not see this
            log.exception("voice_failed")
        if read:
            log.info("voice_read", extra={"count": read})
        return read

    async def next_due(self) -> datetime | None:
        """The voice has no planned moment: the ticks look every LOOK_EVERY."""
        return None


def job(db_sessions: async_sessionmaker[AsyncSession], settings: Settings) -> Job:
    """The voice job; with AMBASSADOR_VOICE=0, one that never does anything."""
    if not settings.voice:
        return Job(_nothing, _never)
    work = VoiceJob(db_sessions)
    return Job(work.run_due, work.next_due)


async def _nothing(_now: datetime) -> int:
    return 0


async def _never() -> datetime | None:
    return None
