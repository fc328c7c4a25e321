"""POST /local/api/clock with absurd values: 400 saying how to do it right, the clock not
moved, the bot still working (year 9999 once broke every command until a restart while
/readyz stayed 200)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp.test_utils import TestClient

from bot.clock import MAX_AHEAD
from tests.support.playground import Playground

ABSURD: list[tuple[str, str, str]] = [
    # (raw JSON body, field, what the refusal says)
    ('{"advance_seconds": NaN}', "", "NaN, which is not a JSON value"),
    ('{"advance_seconds": Infinity}', "", "Infinity, which is not a JSON value"),
    ('{"advance_seconds": 1e308}', "advance_seconds", "at most ten years ahead"),
    ('{"advance_seconds": 1e999}', "advance_seconds", "at most ten years ahead"),
    ('{"advance_seconds": ' + "9" * 400 + "}", "advance_seconds", "at most ten years ahead"),
    ('{"advance_seconds": -1}', "advance_seconds", "0 or more, e.g. 3600"),
    ('{"advance_seconds": true}', "advance_seconds", "0 or more, e.g. 3600"),
    ('{"advance_seconds": "60"}', "advance_seconds", "0 or more, e.g. 3600"),
    ('{"now": "9999-12-31T00:00:00Z"}', "now", "'now' must be before"),
    ('{"now": "9999-12-31T23:59:59-05:00"}', "now", "beyond the year 9999"),
    ('{"now": "2200-01-01T00:00:00+00:00"}', "now", "at most ten years ahead"),
    ('{"now": "0001-01-01T00:00:00+01:00"}', "now", "beyond the year 9999"),
    ('{"now": "next tuesday"}', "now", "ISO 8601"),
    ('{"now": 1700000000}', "now", "ISO 8601"),
]


async def test_absurd_clock_moves_are_400_and_move_nothing(
    client: TestClient,  # type: ignore[type-arg]
    playground: Playground,
) -> None:
    clock = playground.runtime.clock
    for body, field, says in ABSURD:
        before = clock.now()
        response = await client.post(
            "/local/api/clock", data=body, headers={"Content-Type": "application/json"}
        )
        assert response.status == 400, body
        refusal = await response.json()
        assert says in refusal["error"], (body, refusal)
        assert refusal.get("field", "") == field, body
        assert clock.now() - before < timedelta(minutes=1), body
    readable = await client.get("/local/api/clock")
    assert readable.status == 200
    assert "what you can do" in await playground.say("anim1", "help"), "the bot still works"
    assert (await client.get("/readyz")).status == 200


async def test_the_clock_moves_up_to_ten_years_ahead_and_the_bot_still_works(
    client: TestClient,  # type: ignore[type-arg]
    playground: Playground,
) -> None:
    await playground.command("anim1", "session start Rehearsal")
    target = datetime.now(UTC) + MAX_AHEAD - timedelta(days=1)
    response = await client.post("/local/api/clock", json={"now": target.isoformat()})
    assert response.status == 200
    assert datetime.fromisoformat((await response.json())["now"]) >= target
    beyond = await client.post("/local/api/clock", json={"advance_seconds": 3 * 86400})
    assert beyond.status == 400 and "at most" in (await beyond.json())["error"]
    assert "Rehearsal" in await playground.say("anim1", "session status")
