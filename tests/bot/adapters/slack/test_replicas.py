"""Slack across processes on one PostgreSQL: a web-only process records and acknowledges;
what it recorded while no worker ran is answered once a worker process starts, and the
worker sends the outbox too (the join card posted once)."""

from __future__ import annotations

import asyncio
import signal

import aiohttp

from tests.support.databases import truncate_all
from tests.support.fake_slack import FakeSlack
from tests.support.processes import start_bot
from tests.support.slack_requests import SECRET, command, sign


async def _answered(fake: FakeSlack, name: str, seconds: float = 30) -> list[dict]:  # type: ignore[type-arg]
    for _ in range(int(seconds / 0.1)):
        if fake.responses.get(name):
            return fake.responses[name]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no answer at {name}")


async def test_a_web_only_process_records_and_a_worker_answers(postgres_url: str) -> None:
    # The run's PostgreSQL database is shared: start from empty tables (an earlier test's
    # workspace T1 or member U1, with their languages, would be this test's).
    await truncate_all(postgres_url)
    fake = FakeSlack()
    await fake.start()
    env = {
        "SLACK_BOT_TOKEN": fake.token,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_BASE_URL": fake.base_url,
        "AMBASSADOR_ADMINS": "slack:UANIM",
        "AMBASSADOR_LOCALE": "en",
    }
    web, web_url = start_bot(postgres_url, "serve", "--port", "0", "--web-only", env=env)
    worker = None
    try:
        async with aiohttp.ClientSession() as client:
            # No worker yet: acknowledged (recorded), not answered.
            body = command("UANIM", "session start Feedback", response_url=fake.response_url("a"))
            async with client.post(f"{web_url}slack/events", data=body, headers=sign(body)) as r:
                assert r.status == 200 and await r.text() == ""
            await asyncio.sleep(1.5)
            assert "a" not in fake.responses

            worker, _ = start_bot(postgres_url, "worker", ready="worker ready", env=env)
            [answer] = await _answered(fake, "a")
            assert "is open" in answer["text"]
            body = command("U1", "join", response_url=fake.response_url("b"))
            async with client.post(f"{web_url}slack/events", data=body, headers=sign(body)) as r:
                assert r.status == 200
            [answer] = await _answered(fake, "b")
            assert "Welcome aboard" in answer["text"]
        for _ in range(100):  # the worker also sends the outbox: the card and the welcome DM
            posted = {b["channel"] for m, b in fake.calls if m == "chat.postMessage"}
            if {"C1", "U1"} <= posted:
                break
            await asyncio.sleep(0.1)
        assert {"C1", "U1"} <= posted
        cards = [b for m, b in fake.calls if m == "chat.postMessage" and b["channel"] == "C1"]
        assert len(cards) == 1
    finally:
        for process in (worker, web):
            if process is not None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
        await fake.close()
