"""`ambassador-bot demo`, run as a user runs it (a real process), on both databases."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, select

from storage.db import create_engine, session_factory
from storage.models import Member, Pulse, TrainingSession, Workspace
from tests.support.secret_keys import TEST_SECRET_KEY

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _demo(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "AMBASSADOR_SECRET_KEY": TEST_SECRET_KEY,
        "AMBASSADOR_CONFIG": str(REPO / "config" / "ambassador.toml"),
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", "demo", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def _counts(database_url: str) -> dict[str, int]:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as db:
            local = select(Workspace.id).where(
                Workspace.platform == "local", Workspace.external_id == "local"
            )
            members = select(func.count()).select_from(Member).where(Member.workspace_id.in_(local))
            animators = members.where(Member.user_id == "anim1", Member.role == "animator")
            return {
                "members": int((await db.execute(members)).scalar_one()),
                "anim1": int((await db.execute(animators)).scalar_one()),
                "sessions": int(
                    (
                        await db.execute(select(func.count()).select_from(TrainingSession))
                    ).scalar_one()
                ),
                "pulses": int(
                    (await db.execute(select(func.count()).select_from(Pulse))).scalar_one()
                ),
            }
    finally:
        await engine.dispose()


async def _a_slack_community(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as db, db.begin():
            workspace = await db.execute(
                insert(Workspace)
                .values(platform="slack", external_id="T0REAL", created_at=NOW)
                .returning(Workspace.id)
            )
            await db.execute(
                insert(Member).values(
                    workspace_id=workspace.scalar_one(),
                    user_id="U0REAL",
                    display_name="Real Person",
                    role="learner",
                    created_at=NOW,
                )
            )
    finally:
        await engine.dispose()


async def test_an_empty_database_gets_a_community_the_playground_animator_sees(
    database_url: str,
) -> None:
    result = _demo(database_url, "--members", "25")
    assert result.returncode == 0, result.stderr
    assert "Demo community loaded" in result.stdout and "Communauté de démo" in result.stdout
    assert "members: 25," in result.stdout
    assert "Traceback" not in result.stderr
    counts = await _counts(database_url)
    assert counts["anim1"] == 1
    assert counts["members"] > 25 and counts["sessions"] >= 1 and counts["pulses"] >= 1

    again = _demo(database_url, "--members", "25")
    assert again.returncode == 2
    assert "already holds a demo community" in again.stderr and "--force" in again.stderr
    assert "contient déjà une communauté de démo" in again.stderr
    assert await _counts(database_url) == counts

    forced = _demo(database_url, "--members", "25", "--force")
    assert forced.returncode == 0, forced.stderr
    assert (await _counts(database_url))["members"] > counts["members"]


async def test_real_data_is_refused_without_force_in_english_and_french(database_url: str) -> None:
    await _a_slack_community(database_url)
    refused = _demo(database_url, "--members", "20")
    assert refused.returncode == 2
    lines = [line for line in refused.stderr.splitlines() if line.startswith("ambassador-bot:")]
    assert len(lines) == 2, refused.stderr
    assert "real data" in lines[0] and "`ambassador-bot demo --force`" in lines[0]
    assert "données réelles" in lines[1] and "`ambassador-bot demo --force`" in lines[1]
    assert "Traceback" not in refused.stderr
    assert (await _counts(database_url))["members"] == 0

    forced = _demo(database_url, "--members", "20", "--force")
    assert forced.returncode == 0, forced.stderr
    assert (await _counts(database_url))["anim1"] == 1


def test_a_wrong_member_count_is_a_usage_error() -> None:
    result = _demo("sqlite:///unused.db", "--members", "zero")
    assert result.returncode == 2 and "--members" in result.stderr
    assert "Traceback" not in result.stderr
