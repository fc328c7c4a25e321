"""The community voice's rows (storage/models.py ContributionVoice, ThemeMap): which
contributions are still to read, their vectors to regroup, their themes, and the
workspace's theme map. No computation here: bot/voice/ does it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Contribution, ContributionVoice, Member, ThemeMap
from storage.upsert import insert_for
from storage.vocabulary import Sentiment

# Ids per UPDATE … WHERE contribution_id IN (…): under every driver's parameter limit.
CHUNK = 1_000


@dataclass(frozen=True)
class Unread:
    """A contribution the voice has not read yet: its text and its writer's language."""

    contribution_id: int
    text: str
    writer_language: str | None


@dataclass(frozen=True)
class Reading:
    """What the voice made of one contribution."""

    contribution_id: int
    language: str
    sentiment: Sentiment
    vector: bytes
    theme: int | None


@dataclass(frozen=True)
class Stored:
    """A read contribution as the regrouping needs it."""

    contribution_id: int
    language: str
    vector: bytes
    text: str


def _unread_query(workspace_id: int) -> Any:
    read = exists().where(ContributionVoice.contribution_id == Contribution.id)
    return (
        select(Contribution.id, Contribution.text, Member.locale, Member.platform_locale)
        .join(Member, Member.id == Contribution.member_id)
        .where(Contribution.workspace_id == workspace_id, ~read)
        .order_by(Contribution.id.desc())
    )


async def unread(db: AsyncSession, workspace_id: int, limit: int) -> list[Unread]:
    """The newest `limit` contributions of the workspace the voice has not read (newest
    first: what was just shared gets its theme first; hidden ones included: they may be
    shown again, and are left out where themes are read)."""
    rows = await db.execute(_unread_query(workspace_id).limit(limit))
    return [Unread(int(row[0]), row[1], row[2] or (row[3] or "")[:2] or None) for row in rows]


async def workspaces_with_unread(db: AsyncSession) -> list[int]:
    """The workspaces that have contributions the voice has not read."""
    read = exists().where(ContributionVoice.contribution_id == Contribution.id)
    query = select(Contribution.workspace_id).where(~read).distinct()
    return [int(workspace_id) for workspace_id in (await db.execute(query)).scalars()]


async def workspaces_written_after(db: AsyncSession, contribution_id: int) -> list[int]:
    """The workspaces with a contribution newer than `contribution_id` (a range of the
    primary key: cheap however many contributions there are)."""
    query = select(Contribution.workspace_id).where(Contribution.id > contribution_id).distinct()
    return [int(workspace_id) for workspace_id in (await db.execute(query)).scalars()]


async def add(db: AsyncSession, workspace_id: int, readings: Sequence[Reading]) -> None:
    """Store what the voice read (a contribution read meanwhile by another process, or
    erased, is skipped)."""
    if not readings:
        return
    still_there = set(
        (
            await db.execute(
                select(Contribution.id).where(
                    Contribution.id.in_([reading.contribution_id for reading in readings])
                )
            )
        ).scalars()
    )
    values = [
        {
            "contribution_id": reading.contribution_id,
            "workspace_id": workspace_id,
            "language": reading.language,
            "sentiment": reading.sentiment,
            "vector": reading.vector,
            "theme": reading.theme,
        }
        for reading in readings
        if reading.contribution_id in still_there
    ]
    if values:
        statement = insert_for(db, ContributionVoice).on_conflict_do_nothing()
        await db.execute(statement, values)


async def stored(db: AsyncSession, workspace_id: int, limit: int) -> list[Stored]:
    """The newest `limit` read contributions of the workspace that are not hidden, oldest
    first."""
    rows = await db.execute(
        select(
            ContributionVoice.contribution_id,
            ContributionVoice.language,
            ContributionVoice.vector,
            Contribution.text,
        )
        .join(Contribution, Contribution.id == ContributionVoice.contribution_id)
        .where(ContributionVoice.workspace_id == workspace_id, Contribution.hidden_at.is_(None))
        .order_by(ContributionVoice.contribution_id.desc())
        .limit(limit)
    )
    return [Stored(int(row[0]), row[1], row[2], row[3]) for row in rows][::-1]


async def read_count(db: AsyncSession, workspace_id: int) -> int:
    """How many contributions of the workspace the voice has read (hidden ones too)."""
    query = select(func.count()).where(ContributionVoice.workspace_id == workspace_id)
    return int((await db.execute(query)).scalar_one())


async def set_themes(
    db: AsyncSession, workspace_id: int, themes: Mapping[int, Iterable[int]]
) -> None:
    """Put each contribution in its theme (`themes`: theme → contribution ids); the
    workspace's other read contributions (hidden ones, and those older than what was
    grouped: their theme's number meant another map) lose theirs."""
    await db.execute(
        update(ContributionVoice)
        .where(ContributionVoice.workspace_id == workspace_id, ContributionVoice.theme.is_not(None))
        .values(theme=None)
    )
    for theme, ids in themes.items():
        listed = list(ids)
        for start in range(0, len(listed), CHUNK):
            await db.execute(
                update(ContributionVoice)
                .where(ContributionVoice.contribution_id.in_(listed[start : start + CHUNK]))
                .values(theme=theme)
            )


async def theme_map(db: AsyncSession, workspace_id: int) -> ThemeMap | None:
    """The workspace's latest themes, if found yet."""
    return await db.get(ThemeMap, workspace_id)


async def save_theme_map(
    db: AsyncSession,
    workspace_id: int,
    *,
    computed_at: datetime,
    posts: int,
    model: str,
    centres: bytes,
    means: bytes,
    languages: str,
    names: dict[str, Any],
) -> None:
    """Replace the workspace's themes."""
    await db.execute(delete(ThemeMap).where(ThemeMap.workspace_id == workspace_id))
    db.add(
        ThemeMap(
            workspace_id=workspace_id,
            computed_at=computed_at,
            posts=posts,
            model=model,
            centres=centres,
            means=means,
            languages=languages,
            names=names,
        )
    )
    await db.flush()
