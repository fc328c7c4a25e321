"""The voice at work on a workspace (bot/voice/service.py): what is read and stored, when
the themes are found again, and that a command never regroups a large community inline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import func, select

from bot.voice import service
from bot.voice.encoder import MODEL
from storage.models import ContributionVoice, ThemeMap
from tests.bot.handlers.test_themes import _share_all
from tests.support.playground import Playground

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _map(posts: int, computed_at: datetime = NOW, model: str = MODEL) -> ThemeMap:
    return ThemeMap(
        workspace_id=1,
        computed_at=computed_at,
        posts=posts,
        model=model,
        centres=b"",
        means=b"",
        languages="",
        names={},
    )


def test_themes_are_found_again_when_posts_grew_by_a_quarter_or_a_day_passed() -> None:
    assert not service.is_stale(None, 5, NOW), "too few posts for themes"
    assert service.is_stale(None, 6, NOW)
    assert not service.is_stale(_map(100), 124, NOW)
    assert service.is_stale(_map(100), 125, NOW)
    assert not service.is_stale(_map(100), 101, NOW + timedelta(hours=23))
    assert service.is_stale(_map(100), 101, NOW + timedelta(days=1))
    assert not service.is_stale(_map(100), 100, NOW + timedelta(days=9)), "nothing new"
    assert service.is_stale(_map(100, model="older-encoder"), 100, NOW)


def test_vectors_are_stored_as_float16_and_read_back_close() -> None:
    rows = np.random.default_rng(1).normal(size=(3, 512)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    stored = service.to_bytes(rows)
    assert all(len(row) == 1024 for row in stored)
    assert np.allclose(service.from_bytes(stored), rows, atol=1e-3)


async def test_a_command_does_not_regroup_a_large_community_inline(bot: Playground) -> None:
    await _share_all(bot)  # 12 posts
    voice = service.shared_voice()
    now = bot.runtime.clock.now()
    async with bot.runtime.db_sessions() as db, db.begin():
        read = await service.bring_up_to_date(db, voice, 1, now, budget=5, regroup_up_to=4)
    assert read == 5, "5 of 12 read"
    async with bot.runtime.db_sessions() as db:
        read = (await db.execute(select(func.count()).select_from(ContributionVoice))).scalar()
        maps = (await db.execute(select(func.count()).select_from(ThemeMap))).scalar()
    assert (read, maps) == (5, 0), "read within the budget, not regrouped: left to the job"
    async with bot.runtime.db_sessions() as db, db.begin():
        assert await service.bring_up_to_date(db, voice, 1, now, budget=64) == 7, "the rest"
    async with bot.runtime.db_sessions() as db:
        languages = dict(
            (
                await db.execute(
                    select(ContributionVoice.language, func.count()).group_by(
                        ContributionVoice.language
                    )
                )
            ).all()
        )
        assert (await db.execute(select(func.count()).select_from(ThemeMap))).scalar() == 1
    assert languages == {"fr": 6, "en": 6}
