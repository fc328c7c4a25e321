"""The database's sums of pulse answers equal a naive computation, on both databases."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage import pulses
from storage.db import create_engine, session_factory
from storage.models import Member, Pulse, PulseAnswer, Workspace
from tests.bot.core.test_stats import sums_of

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


async def _workspace_with_learners(db: AsyncSession, count: int) -> tuple[Workspace, list[Member]]:
    """A workspace and `count` learners in it, flushed (their ids known)."""
    workspace = Workspace(platform="local", external_id="w", created_at=NOW)
    db.add(workspace)
    await db.flush()
    people = [
        Member(
            workspace_id=workspace.id,
            user_id=f"u{n}",
            display_name=f"U{n}",
            created_at=NOW,
            role="learner",
        )
        for n in range(count)
    ]
    db.add_all(people)
    await db.flush()
    return workspace, people


async def test_sums_are_computed_by_the_database_per_pulse(database_url: str) -> None:
    engine = create_engine(database_url)
    db_sessions = session_factory(engine)
    rng = random.Random(7)
    expected: dict[int, list[tuple[int, int | None]]] = {}
    try:
        async with db_sessions() as db, db.begin():
            workspace, people = await _workspace_with_learners(db, 60)
            for number in range(3):
                pulse = Pulse(
                    workspace_id=workspace.id,
                    created_by_id=people[0].id,
                    conversation="general",
                    status="open",
                    reminders_sent=0,
                    recipients=60,
                    created_at=NOW,
                )
                db.add(pulse)
                await db.flush()
                rows = []
                for person in people[: 20 + 15 * number]:
                    score = rng.randint(0, 10)
                    lsat = rng.choice([None, 1, 2, 3, 4, 5])
                    expected.setdefault(pulse.id, []).append((score, lsat))
                    rows.append(
                        {
                            "pulse_id": pulse.id,
                            "member_id": person.id,
                            "score": score,
                            "lsat": lsat,
                            "created_at": NOW,
                            "updated_at": NOW,
                        }
                    )
                await db.execute(insert(PulseAnswer), rows)
        async with db_sessions() as db:
            found = await pulses.sums(db, [*expected, 999])
        assert found == {pid: sums_of(answers) for pid, answers in expected.items()}
    finally:
        await engine.dispose()


async def test_cells_give_the_same_sums_and_closing_keeps_them(database_url: str) -> None:
    engine = create_engine(database_url)
    db_sessions = session_factory(engine)
    rng = random.Random(11)
    answers: list[tuple[int, int | None]] = []
    try:
        async with db_sessions() as db, db.begin():
            workspace, people = await _workspace_with_learners(db, 80)
            pulse = Pulse(
                workspace_id=workspace.id,
                created_by_id=people[0].id,
                conversation="general",
                status="open",
                reminders_sent=0,
                recipients=80,
                created_at=NOW,
            )
            db.add(pulse)
            await db.flush()
            rows = []
            for person in people:
                score, lsat = rng.randint(0, 10), rng.choice([None, 1, 2, 3, 4, 5])
                answers.append((score, lsat))
                rows.append(
                    {
                        "pulse_id": pulse.id,
                        "member_id": person.id,
                        "score": score,
                        "lsat": lsat,
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                )
            await db.execute(insert(PulseAnswer), rows)
            pulse_id = pulse.id
        expected_cells: dict[tuple[int, int | None], int] = {}
        for cell in answers:
            expected_cells[cell] = expected_cells.get(cell, 0) + 1
        async with db_sessions() as db, db.begin():
            counted = await pulses.cells(db, [pulse_id, 999])
            assert counted == {pulse_id: expected_cells}
            assert pulses.sums_of_cells(counted[pulse_id]) == sums_of(answers)
            assert pulses.sums_of_cells({}) == pulses.PulseSums()
            found = await db.get(Pulse, pulse_id)
            assert found is not None
            await pulses.freeze_sums(db, found)
        async with db_sessions() as db:
            kept = await db.get(Pulse, pulse_id)
            assert kept is not None and kept.final_sums is not None
            assert pulses.PulseSums(**kept.final_sums) == sums_of(answers)
            assert kept.final_grid is not None
            assert pulses.thawed_grid(kept.final_grid) == expected_cells
    finally:
        await engine.dispose()
