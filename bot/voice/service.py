"""The voice at work on a workspace: read the contributions not read yet (language,
sentiment, vector, placed in the current themes), and regroup the themes when the posts
have grown or a day has passed.

The computation runs in a worker thread (`asyncio.to_thread`): numpy and scikit-learn
release the GIL for most of it, so the event loop keeps answering meanwhile. Callers: the
scheduler's voice job (bot/jobs/voice.py) keeps every workspace read and grouped, holding
no connection while it computes (`read_apart`, `regroup_apart`); the `themes` command calls
`bring_up_to_date` with a small budget first, so that what was shared a second ago is
already there in a small community.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.voice import clustering, naming
from bot.voice.clustering import Grouping, Space
from bot.voice.encoder import DIMENSIONS, MODEL, Encoder, Vectors, shared_encoder
from bot.voice.sentiment import SentimentModel, shared_sentiment
from bot.voice.text import content_text, language_of
from storage import voice as store
from storage.models import ThemeMap

# Contributions read per step (a step is one transaction).
READ_BATCH = 256
# Regroup when the posts grew by this factor since the themes were found, or a day passed.
GROWTH = 1.25
REGROUP_AFTER = timedelta(days=1)
# Themes are found from the newest posts, at most this many (100,000 take about 10 s and
# 300 MB): older ones are in no theme (the themes are of the community's recent voice).
MAX_GROUPED = 100_000
# A command regroups on the spot only a community this small (a fraction of a second): its
# transaction holds the database's write lock on SQLite meanwhile.
INLINE_REGROUP = 2_000


def to_bytes(vectors: Vectors) -> list[bytes]:
    """Each row as stored: float16 (half the size, the same themes to 3 decimals)."""
    return [row.astype(np.float16).tobytes() for row in vectors]


def from_bytes(stored: Sequence[bytes]) -> Vectors:
    """Stored rows back as float32."""
    if not stored:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    joined = np.frombuffer(b"".join(stored), dtype=np.float16)
    return joined.reshape(len(stored), DIMENSIONS).astype(np.float32)


@dataclass(frozen=True)
class Found:
    """Themes found: each post's theme and the centres (`grouping`), the names to store."""

    grouping: Grouping
    names: dict[str, dict[str, list[str]]]


class Voice:
    """The encoder, the sentiment classifier and the phrasing directions, loaded once."""

    def __init__(self, encoder: Encoder, sentiment: SentimentModel) -> None:
        self.encoder = encoder
        self.sentiment = sentiment
        self._nuisance: NDArray[np.float32] | None = None
        self._lock = threading.Lock()

    def nuisance(self) -> NDArray[np.float32]:
        """The phrasing directions removed before comparing posts."""
        with self._lock:
            if self._nuisance is None:
                self._nuisance = clustering.phrasing_directions(self.encoder)
            return self._nuisance

    def read(
        self, pending: Sequence[store.Unread], grouping: Grouping | None
    ) -> list[store.Reading]:
        """Language, sentiment, vector (and theme, when there are themes) of each post."""
        texts = [row.text for row in pending]
        languages = [language_of(row.text, row.writer_language or "en") for row in pending]
        vectors = self.encoder.embed([content_text(text) for text in texts])
        moods = self.sentiment.predict(texts)
        themes: list[int | None] = (
            [int(theme) for theme in grouping.place(vectors, languages)]
            if grouping is not None
            else [None] * len(pending)
        )
        return [
            store.Reading(row.contribution_id, language, mood, vector, theme)
            for row, language, mood, vector, theme in zip(
                pending, languages, moods, to_bytes(vectors), themes, strict=True
            )
        ]

    def group(self, rows: Sequence[store.Stored]) -> Found:
        """Themes of these posts, named in each language they have."""
        vectors = from_bytes([row.vector for row in rows])
        languages = [row.language for row in rows]
        found = clustering.group(vectors, languages, self.nuisance())
        # Numbered by size (theme 1 the biggest), as the chat, the page and the CSV list them.
        order = np.argsort(-np.bincount(found.labels, minlength=len(found.centres)), kind="stable")
        renumber = np.empty_like(order)
        renumber[order] = np.arange(len(order))
        grouping = Grouping(
            labels=renumber[found.labels], centres=found.centres[order], space=found.space
        )
        keys = naming.key_words(
            [row.text for row in rows], languages, grouping.labels.tolist(), len(grouping.centres)
        )
        names: dict[str, dict[str, list[str]]] = {}
        for (theme, language), words in keys.items():
            names.setdefault(str(theme), {})[language] = words
        return Found(grouping=grouping, names=names)

    def restore(self, found: ThemeMap) -> Grouping:
        """The stored themes, ready to place new posts."""
        centres = np.frombuffer(found.centres, dtype=np.float32).reshape(-1, DIMENSIONS)
        means = np.frombuffer(found.means, dtype=np.float32).reshape(-1, DIMENSIONS)
        languages = found.languages.split(",") if found.languages else []
        space = Space(
            language_means={lang: means[i] for i, lang in enumerate(languages)},
            nuisance=self.nuisance(),
        )
        return Grouping(labels=np.zeros(0, dtype=np.int64), centres=centres, space=space)


_shared: Voice | None = None


def shared_voice() -> Voice:
    """The process's voice (models loaded on first use)."""
    global _shared
    if _shared is None:
        encoder = shared_encoder()
        _shared = Voice(encoder, shared_sentiment(encoder))
    return _shared


Sessions = async_sessionmaker[AsyncSession]


async def _pending(
    db: AsyncSession, voice: Voice, workspace_id: int, limit: int
) -> tuple[list[store.Unread], Grouping | None]:
    """The posts to read, and the themes to place them in (None before any, or when the
    themes were found with another encoder)."""
    pending = await store.unread(db, workspace_id, limit)
    if not pending:
        return [], None
    current = await store.theme_map(db, workspace_id)
    grouping = voice.restore(current) if current is not None and current.model == MODEL else None
    return pending, grouping


async def read_some(db: AsyncSession, voice: Voice, workspace_id: int, limit: int) -> int:
    """Read up to `limit` contributions not read yet, in the transaction of `db` (a
    command's: the computation holds its connection meanwhile); how many were read."""
    pending, grouping = await _pending(db, voice, workspace_id, limit)
    if not pending:
        return 0
    readings = await asyncio.to_thread(voice.read, pending, grouping)
    await store.add(db, workspace_id, readings)
    return len(pending)


async def read_apart(db_sessions: Sessions, voice: Voice, workspace_id: int, limit: int) -> int:
    """`read_some` holding no connection while it computes: one short transaction to find
    the posts, one to store what was read (SQLite's engine has a single connection: a
    background job must not keep it for the seconds a batch takes). A post read meanwhile
    by another process, or erased, is skipped when storing."""
    async with db_sessions() as db:
        pending, grouping = await _pending(db, voice, workspace_id, limit)
    if not pending:
        return 0
    readings = await asyncio.to_thread(voice.read, pending, grouping)
    async with db_sessions() as db, db.begin():
        await store.add(db, workspace_id, readings)
    return len(pending)


def is_stale(current: ThemeMap | None, posts: int, now: datetime) -> bool:
    """Whether the themes should be found again for `posts` read posts."""
    if posts < clustering.MIN_POSTS:
        return False
    if current is None or current.model != MODEL:
        return True
    if posts >= current.posts * GROWTH and current.posts < MAX_GROUPED:
        return True
    return posts != current.posts and now - current.computed_at >= REGROUP_AFTER


async def regroup(db: AsyncSession, voice: Voice, workspace_id: int, now: datetime) -> bool:
    """Find the workspace's themes again from the stored vectors, in the transaction of
    `db`; False when there are too few posts (fewer than `clustering.MIN_POSTS` shown)."""
    rows = await store.stored(db, workspace_id, MAX_GROUPED)
    if len(rows) < clustering.MIN_POSTS:
        return False
    found = await asyncio.to_thread(voice.group, rows)
    await _store_found(db, workspace_id, now, rows, found)
    return True


async def regroup_apart(
    db_sessions: Sessions, voice: Voice, workspace_id: int, now: datetime
) -> bool:
    """`regroup` holding no connection while it computes (seconds for a large community):
    the vectors read in one transaction, the themes stored in another. A post erased
    meanwhile simply has no row to update."""
    async with db_sessions() as db:
        rows = await store.stored(db, workspace_id, MAX_GROUPED)
    if len(rows) < clustering.MIN_POSTS:
        return False
    found = await asyncio.to_thread(voice.group, rows)
    async with db_sessions() as db, db.begin():
        await _store_found(db, workspace_id, now, rows, found)
    return True


async def _store_found(
    db: AsyncSession,
    workspace_id: int,
    now: datetime,
    rows: Sequence[store.Stored],
    found: Found,
) -> None:
    """The map and every post's theme."""
    space = found.grouping.space
    languages = sorted(space.language_means)
    means = (
        np.vstack([space.language_means[lang] for lang in languages])
        if languages
        else np.zeros((0, DIMENSIONS), dtype=np.float32)
    )
    await store.save_theme_map(
        db,
        workspace_id,
        computed_at=now,
        posts=len(rows),
        model=MODEL,
        centres=found.grouping.centres.astype(np.float32).tobytes(),
        means=means.astype(np.float32).tobytes(),
        languages=",".join(languages),
        names=found.names,
    )
    members: dict[int, list[int]] = {}
    for row, label in zip(rows, found.grouping.labels, strict=True):
        members.setdefault(int(label), []).append(row.contribution_id)
    await store.set_themes(db, workspace_id, members)


async def bring_up_to_date(
    db: AsyncSession,
    voice: Voice,
    workspace_id: int,
    now: datetime,
    *,
    budget: int,
    regroup_up_to: int = INLINE_REGROUP,
) -> int:
    """Read up to `budget` unread contributions, then regroup if the themes are stale and
    the workspace has at most `regroup_up_to` posts (a command's transaction must stay
    short: larger ones are regrouped by the voice job). How many posts were read."""
    done = 0
    while done < budget:
        read = await read_some(db, voice, workspace_id, min(READ_BATCH, budget - done))
        if not read:
            break
        done += read
    posts = await store.read_count(db, workspace_id)
    if posts <= regroup_up_to and is_stale(await store.theme_map(db, workspace_id), posts, now):
        await regroup(db, voice, workspace_id, now)
    return done
