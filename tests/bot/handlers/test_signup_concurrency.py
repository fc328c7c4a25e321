"""Many joins at once: exact counts, one member per person, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.server import Runtime
from storage.models import Member, OutboxMessage, SessionParticipation
from tests.support.playground import Playground, user


async def _count(runtime: Runtime, statement) -> int:  # type: ignore[no-untyped-def]
    async with runtime.db_sessions() as db:
        return int((await db.execute(statement)).scalar_one())


async def test_200_distinct_learners_joining_at_once_make_200_members(
    playground: Playground, runtime: Runtime
) -> None:
    await playground.command("anim1", "session start Crowd")
    body = {"conversation": "general", "text": "join"}

    async def join(i: int) -> int:
        response = await playground.client.post(
            "/local/api/command", json={**body, "user": user(f"learner{i}", "en")}
        )
        text = (await response.json())["replies"][0]["text"]
        assert "Welcome aboard" in text, text
        return response.status

    statuses = await asyncio.gather(*(join(i) for i in range(200)))
    assert statuses == [200] * 200
    await runtime.sender.drain()

    joined = select(func.count()).select_from(Member).where(Member.joined_at.is_not(None))
    assert await _count(runtime, joined) == 200
    assert await _count(runtime, select(func.count()).select_from(SessionParticipation)) == 200
    welcomes = select(func.count()).where(OutboxMessage.idempotency_key.like("welcome:%"))
    assert await _count(runtime, welcomes) == 200
    card = next(m for m in await playground.messages() if m["card"])
    assert card["card"]["fields"][1]["value"] == "200 learners joined"


async def test_the_same_learner_joining_20_times_at_once_is_one_member(
    playground: Playground, runtime: Runtime
) -> None:
    await playground.command("anim1", "session start Eager")
    body = {"conversation": "general", "text": "join", "user": user("bob", "en")}

    async def join() -> str:
        response = await playground.client.post("/local/api/command", json=body)
        assert response.status == 200
        return str((await response.json())["replies"][0]["text"])

    texts = await asyncio.gather(*(join() for _ in range(20)))
    assert sum("Welcome aboard" in text for text in texts) == 1
    assert sum("already in" in text for text in texts) == 19
    await runtime.sender.drain()
    assert (
        await _count(
            runtime, select(func.count()).select_from(Member).where(Member.user_id == "bob")
        )
        == 1
    )
    assert await _count(runtime, select(func.count()).select_from(SessionParticipation)) == 1
    assert len(await playground.welcomes("bob")) == 1
    card = next(m for m in await playground.messages() if m["card"])
    assert card["card"]["fields"][1]["value"] == "1 learner joined"
