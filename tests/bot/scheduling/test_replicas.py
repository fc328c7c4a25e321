"""Two real bot processes on one PostgreSQL database: one scheduler, each post exactly once.

Also: a second process on one SQLite file is refused with a clear line.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.scheduling.recurrence import Recurrence, next_run
from storage.db import create_engine, session_factory
from storage.models import Challenge, ChallengeOccurrence, LocalMessage, Member, Workspace
from tests.support.processes import start_bot as _start
from tests.support.secret_keys import TEST_SECRET_KEY

REPO = Path(__file__).resolve().parents[3]


def _role(url: str) -> str:
    with urllib.request.urlopen(url + "readyz", timeout=5) as response:
        return str(json.loads(response.read())["scheduler"])


async def _wait_for(predicate, seconds: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.25)
    raise AssertionError("timed out")


async def _schedule_every_three_seconds(database_url: str) -> None:
    engine = create_engine(database_url)
    now = datetime.now(UTC)
    recurrence = Recurrence("cron", "UTC", start=now, cron={"second": "*/3"})
    async with session_factory(engine)() as db, db.begin():
        workspace = Workspace(platform="local", external_id="local", created_at=now)
        db.add(workspace)
        await db.flush()
        animator = Member(
            workspace_id=workspace.id,
            user_id="anim1",
            display_name="Anim",
            role="animator",
            created_at=now,
        )
        db.add(animator)
        await db.flush()
        db.add(
            Challenge(
                workspace_id=workspace.id,
                created_by_id=animator.id,
                text="Tick",
                locale="en",
                conversation="general",
                recurrence=recurrence.to_json(),
                status="active",
                next_run_at=next_run(recurrence, now),
                open_days=7,
                created_at=now,
            )
        )
    await engine.dispose()


async def _counts(database_url: str) -> tuple[int, int, int]:
    """(posted occurrences, distinct planned times, challenge posts in the playground)."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as db:
            posted = ChallengeOccurrence.status == "posted"
            occurrences = (await db.execute(select(func.count()).where(posted))).scalar_one()
            planned = (
                await db.execute(
                    select(func.count(func.distinct(ChallengeOccurrence.planned_at))).where(posted)
                )
            ).scalar_one()
            messages = (
                await db.execute(select(func.count()).where(LocalMessage.text.like("Challenge:%")))
            ).scalar_one()
    finally:
        await engine.dispose()
    return int(occurrences), int(planned), int(messages)


@pytest.mark.postgres
async def test_one_scheduler_among_replicas_and_a_killed_leader_hands_over(
    postgres_url: str,
) -> None:
    from tests.support.databases import truncate_all

    await truncate_all(postgres_url)
    await _schedule_every_three_seconds(postgres_url)
    first, first_url = _start(postgres_url)
    second, second_url = _start(postgres_url)
    processes = [first, second]
    try:
        await _wait_for(
            lambda: _async({_role(first_url), _role(second_url)} == {"leader", "standby"}), 20
        )
        leader, standby_url = (
            (first, second_url) if _role(first_url) == "leader" else (second, first_url)
        )

        await _wait_for(lambda: _posted_at_least(postgres_url, 3), 30)
        occurrences, planned, messages = await _counts(postgres_url)
        assert occurrences == planned, "one occurrence per planned time"
        await _wait_for(lambda: _messages_caught_up(postgres_url), 10)

        leader.send_signal(signal.SIGKILL)
        leader.wait(timeout=10)
        await _wait_for(lambda: _async(_role(standby_url) == "leader"), 15)
        before = occurrences
        await _wait_for(lambda: _posted_at_least(postgres_url, before + 3), 30)
        await _wait_for(lambda: _messages_caught_up(postgres_url), 10)
        occurrences, planned, messages = await _counts(postgres_url)
        assert occurrences == planned == messages, "after the hand-over, still exactly once"

        # Everything stops across planned times; a restart posts the missed ones once.
        survivor = second if leader is first else first
        survivor.terminate()
        survivor.wait(timeout=20)
        stopped_at = occurrences
        down_from = datetime.now(UTC)
        await asyncio.sleep(7)  # at least two planned times pass with no bot running
        down_until = datetime.now(UTC)
        restarted, _ = _start(postgres_url)
        processes.append(restarted)
        await _wait_for(lambda: _posted_at_least(postgres_url, stopped_at + 2), 30)
        await _wait_for(lambda: _messages_caught_up(postgres_url), 10)
        occurrences, planned, messages = await _counts(postgres_url)
        assert occurrences == planned == messages, "after a restart, missed runs posted once"
        assert await _posted_between(postgres_url, down_from, down_until) >= 2
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=20)


async def _async(value: bool) -> bool:
    return value


async def _posted_at_least(database_url: str, count: int) -> bool:
    return (await _counts(database_url))[0] >= count


async def _messages_caught_up(database_url: str) -> bool:
    occurrences, _, messages = await _counts(database_url)
    assert messages <= occurrences, "a challenge was posted twice"
    return messages == occurrences


def test_a_second_process_on_one_sqlite_file_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/one.db"
    first, _ = _start(url)
    try:
        second = subprocess.run(
            [sys.executable, "-m", "bot", "serve", "--port", "0"],
            cwd=REPO,
            env={**os.environ, "DATABASE_URL": url, "AMBASSADOR_SECRET_KEY": TEST_SECRET_KEY},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1
        assert "use PostgreSQL" in second.stderr and "Traceback" not in second.stderr
    finally:
        first.terminate()
        first.wait(timeout=20)


async def _posted_between(database_url: str, start: datetime, end: datetime) -> int:
    """Occurrences planned while no bot ran, posted after the restart."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as db:
            query = select(func.count()).where(
                ChallengeOccurrence.status == "posted",
                ChallengeOccurrence.planned_at > start,
                ChallengeOccurrence.planned_at < end,
                ChallengeOccurrence.posted_at > end,
            )
            return int((await db.execute(query)).scalar_one())
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_web_only_processes_and_a_worker_share_the_work(postgres_url: str) -> None:
    from tests.support.databases import truncate_all

    await truncate_all(postgres_url)
    await _schedule_every_three_seconds(postgres_url)
    web, web_url = _start(postgres_url, "serve", "--port", "0", "--web-only")
    worker, _ = _start(postgres_url, "worker", ready="worker ready")
    try:
        assert _role(web_url) == "standby", "a web-only process never schedules"
        await _wait_for(lambda: _posted_at_least(postgres_url, 2), 30)
        await _wait_for(lambda: _messages_caught_up(postgres_url), 10)
        body = {"user": {"id": "zoe", "name": "Zoé"}, "conversation": "general", "text": "join"}
        async with aiohttp.ClientSession() as client:
            response = await client.post(web_url + "local/api/command", json=body)
            assert response.status == 200
        await _wait_for(lambda: _has_dm(postgres_url, "dm:zoe"), 10)  # sent by the worker
    finally:
        for process in (web, worker):
            process.terminate()
            assert process.wait(timeout=20) == 0


async def _has_dm(database_url: str, conversation: str) -> bool:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as db:
            query = select(func.count()).where(LocalMessage.conversation == conversation)
            return int((await db.execute(query)).scalar_one()) > 0
    finally:
        await engine.dispose()


def test_splitting_needs_postgresql(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/one.db"}
    for args in (("worker",), ("serve", "--web-only")):
        result = subprocess.run(
            [sys.executable, "-m", "bot", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2 and "needs PostgreSQL" in result.stderr
