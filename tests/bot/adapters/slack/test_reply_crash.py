"""A reply survives a kill -9 between its commit and its send, and is delivered once after
the restart (issue 18). Real processes, both databases.

The join's response_url is at first a port nobody listens on, so the reply, committed with
the join, cannot be sent; the bot is killed (SIGKILL) once the database shows both the join
and its reply waiting in the outbox; then the response_url comes up and the bot starts again
on the same database: the reply arrives exactly once, and the join happened once.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from sqlalchemy import func, select

from storage.db import create_engine, session_factory
from storage.models import OutboxMessage, SessionParticipation
from tests.support.fake_slack import FakeSlack
from tests.support.processes import REPO, start_bot
from tests.support.slack_requests import SECRET, command, sign


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _until(check: Callable[[], Awaitable[bool]], seconds: float = 60) -> None:
    for _ in range(int(seconds / 0.1)):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("not reached in time")


async def _post(url: str, body: str) -> None:
    async with (
        aiohttp.ClientSession() as client,
        client.post(f"{url}slack/events", data=body, headers=sign(body)) as answer,
    ):
        assert answer.status == 200


async def test_a_reply_committed_but_not_sent_when_killed_is_sent_once_after_restart(
    database_url: str, tmp_path: Path
) -> None:
    # A short outbox lease and backoff: the killed process's claim runs out in 2 s.
    config = (REPO / "config" / "ambassador.toml").read_text()
    (tmp_path / "bot.toml").write_text(
        config.replace("lease_seconds = 60.0", "lease_seconds = 2.0").replace(
            "backoff_base = 2.0", "backoff_base = 0.5"
        )
    )
    shutil.copytree(REPO / "config" / "badges", tmp_path / "badges")  # the ladder's images
    fake = FakeSlack()
    await fake.start()
    env = {
        "SLACK_BOT_TOKEN": fake.token,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_BASE_URL": fake.base_url,
        "AMBASSADOR_ADMINS": "slack:UANIM",
        "AMBASSADOR_LOCALE": "en",
        "AMBASSADOR_CONFIG": str(tmp_path / "bot.toml"),
    }
    engine = create_engine(database_url)
    db_sessions = session_factory(engine)

    async def count(statement: object) -> int:
        async with db_sessions() as db:
            return int(await db.scalar(statement) or 0)  # type: ignore[call-overload]

    port = _free_port()  # nobody listens there yet
    late = FakeSlack()
    bot, url = start_bot(database_url, env=env)
    processes = [bot]
    try:
        await _post(
            url, command("UANIM", "session start Crash", response_url=fake.response_url("s"))
        )
        await _until(lambda: _answered(fake, "s"))
        response_url = f"http://127.0.0.1:{port}/response/join"
        await _post(url, command("U1", "join", response_url=response_url))
        reply_waits = (
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.idempotency_key.like("slack:%:reply:0"))
            .where(OutboxMessage.status == "pending")
            .where(OutboxMessage.payload["extra"]["slack_reply"]["url"].as_string() == response_url)
        )
        joined = select(func.count()).select_from(SessionParticipation)
        # Committed together: the join, and its reply not sent (its response_url is down).
        await _until(lambda: _both(count, joined, reply_waits))
        bot.send_signal(signal.SIGKILL)
        bot.wait(timeout=30)

        await late.start(port=port)  # the response_url answers from now on
        bot, url = start_bot(database_url, env=env)
        processes.append(bot)
        await _until(lambda: _answered(late, "join"))
        await asyncio.sleep(3)  # longer than the lease: a second send would show up now
        [welcome] = late.responses["join"]
        assert "Welcome aboard" in welcome["text"]
        assert await count(joined) == 1, "joined once"
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
        await engine.dispose()
        await fake.close()
        await late.close()


async def _answered(fake: FakeSlack, name: str) -> bool:
    return bool(fake.responses.get(name))


async def _both(
    count: Callable[[object], Awaitable[int]], joined: object, reply_waits: object
) -> bool:
    return await count(joined) == 1 and await count(reply_waits) == 1
