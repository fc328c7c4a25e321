"""A pulse to 2,000 members, the bot killed (kill -9) half-way twice: after each restart every
member has exactly one question and at most one reminder. Real processes, both databases."""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from sqlalchemy import func, insert, select

from storage.db import create_engine, session_factory
from storage.models import (
    LocalMessage,
    Member,
    OutboxMessage,
    Pulse,
    SessionParticipation,
    TrainingSession,
    Workspace,
)
from storage.vocabulary import OutboxStatus
from tests.support.processes import REPO
from tests.support.processes import start_bot as _start

MEMBERS = 2000
ANSWERING = 100
CODE = "BIGONE"


async def _seed(database_url: str) -> None:
    engine = create_engine(database_url)
    now = datetime.now(UTC) - timedelta(hours=1)
    try:
        async with session_factory(engine)() as db, db.begin():
            workspace = Workspace(platform="local", external_id="local", created_at=now)
            db.add(workspace)
            await db.flush()
            animator = Member(
                workspace_id=workspace.id, user_id="anim1", display_name="Anim", created_at=now
            )
            db.add(animator)
            await db.flush()
            session = TrainingSession(
                workspace_id=workspace.id,
                name="Big training",
                code=CODE,
                conversation="general",
                opened_by_id=animator.id,
                opened_at=now,
                closed_at=now,
            )
            db.add(session)
            await db.flush()
            rows = [
                {
                    "workspace_id": workspace.id,
                    "user_id": f"u{n:04d}",
                    "display_name": f"Learner {n}",
                    "role": "learner",
                    "locale": "en",
                    "joined_at": now,
                    "created_at": now,
                }
                for n in range(MEMBERS)
            ]
            await db.execute(insert(Member), rows)
            ids = (await db.execute(select(Member.id).where(Member.user_id != "anim1"))).scalars()
            await db.execute(
                insert(SessionParticipation),
                [{"session_id": session.id, "member_id": i, "joined_at": now} for i in ids],
            )
    finally:
        await engine.dispose()


async def _dm_counts(database_url: str, prefix: str) -> dict[str, int]:
    """DMs to learners whose text starts with `prefix`, per conversation."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as db:
            query = (
                select(LocalMessage.conversation, func.count())
                .where(
                    LocalMessage.conversation.like("dm:u%"), LocalMessage.text.like(prefix + "%")
                )
                .group_by(LocalMessage.conversation)
            )
            return {c: int(n) for c, n in (await db.execute(query)).all()}
    finally:
        await engine.dispose()


async def _settled(database_url: str) -> bool:
    """The pulse is open and nothing is left to deliver."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as db:
            status = (await db.execute(select(Pulse.status))).scalar_one_or_none()
            pending = (
                await db.execute(
                    # (The outbox has no "sending" status: a message is pending until sent.)
                    select(func.count()).where(OutboxMessage.status == OutboxStatus.PENDING)
                )
            ).scalar_one()
            return status == "open" and int(pending) == 0
    finally:
        await engine.dispose()


async def _kill_when(process: subprocess.Popen[str], database_url: str, prefix: str) -> int:
    """kill -9 once some, not all, of the DMs are delivered; return how many were."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        delivered = sum((await _dm_counts(database_url, prefix)).values())
        if delivered >= 300:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            return delivered
        await asyncio.sleep(0.02)
    raise AssertionError("the DMs did not start going out")


async def _wait(predicate, seconds: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.25)
    raise AssertionError("timed out")


async def _post(url: str, path: str, body: dict[str, object]) -> dict[str, object]:
    async with aiohttp.ClientSession() as client:
        response = await client.post(url + path, json=body, timeout=aiohttp.ClientTimeout(300))
        assert response.status == 200, await response.text()
        data: dict[str, object] = await response.json()
        return data


async def test_fan_out_to_2000_members_survives_kill_9(database_url: str, tmp_path: Path) -> None:
    await _seed(database_url)
    # A short outbox lease: what a killed process had claimed is retried after 3 s, not 60.
    config = (REPO / "config" / "ambassador.toml").read_text()
    (tmp_path / "bot.toml").write_text(
        config.replace("lease_seconds = 60.0", "lease_seconds = 3.0")
    )
    shutil.copytree(REPO / "config" / "badges", tmp_path / "badges")  # the ladder's images
    env = {
        "AMBASSADOR_ADMINS": "local:anim1",
        "LOCAL_CLOCK_CONTROL": "1",
        "AMBASSADOR_CONFIG": str(tmp_path / "bot.toml"),
    }
    bot, url = _start(database_url, env=env)
    processes = [bot]
    try:
        anim = {"user": {"id": "anim1", "name": "Anim"}, "conversation": "general"}
        sent = await _post(url, "local/api/command", {**anim, "text": f"pulse send session {CODE}"})
        assert "to 2000 members" in str(sent)
        at_kill = await _kill_when(bot, database_url, "Your opinion")
        assert at_kill < MEMBERS, "killed half-way, not after the end"

        bot, url = _start(database_url, env=env)
        processes.append(bot)
        await _wait(lambda: _settled(database_url), 120)
        questions = await _dm_counts(database_url, "Your opinion")
        assert len(questions) == MEMBERS and set(questions.values()) == {1}

        for n in range(ANSWERING):
            learner = {"id": f"u{n:04d}", "name": f"Learner {n}"}
            body = {"user": learner, "conversation": f"dm:u{n:04d}"}
            await _post(
                url, "local/api/action", {**body, "action_id": "pulse.score", "value": "1:9"}
            )

        # Three days later the reminder goes out; the bot is killed while delivering it.
        reminding = asyncio.create_task(
            _post(url, "local/api/clock", {"advance_seconds": 3 * 24 * 3600 + 1})
        )
        at_kill = await _kill_when(bot, database_url, "Reminder")
        reminding.cancel()
        assert at_kill < MEMBERS - ANSWERING
        bot, url = _start(database_url, env=env)
        processes.append(bot)
        # A restarted bot reads the real time again: move it to the same moment.
        await _post(url, "local/api/clock", {"advance_seconds": 3 * 24 * 3600 + 2})
        await _wait(lambda: _settled(database_url), 120)
        reminders = await _dm_counts(database_url, "Reminder")
        assert set(reminders.values()) == {1}, "one reminder at most"
        answered = {f"dm:u{n:04d}" for n in range(ANSWERING)}
        assert set(reminders) == set(questions) - answered, "reminded: exactly who did not answer"
        questions = await _dm_counts(database_url, "Your opinion")
        assert set(questions.values()) == {1}
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=20)
