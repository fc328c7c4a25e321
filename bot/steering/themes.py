"""The community's themes in a scope: for each theme, its key words in the reader's
language, how many posts (and in the period before, for the trend), the share of
questions and experience reports, how people feel (sentiment) and a few quotes.

Read from the themes the voice found (bot/voice/service.py keeps `contribution_voice.theme`
and the workspace's `theme_map`), filtered like every dashboard figure: the scope's
sessions (their participants' posts) and period. Hidden posts are left out.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.steering.in_scope import in_period, member_in_scope, nothing_matches
from bot.steering.model import Feeling, Quote, Scope, Theme, Themes
from storage import voice as voice_store
from storage.models import Contribution, ContributionVoice, Member, TrainingSession
from storage.vocabulary import ContributionKind, Sentiment

# Without a period, the trend compares the last TREND_DAYS with the ones before.
TREND_DAYS = 30
QUOTES = 3
QUOTE_CHARS = 160
# Posts read for quotes (the newest in scope): enough for every theme to have some.
QUOTE_POOL = 2_000


def _windows(scope: Scope, now: datetime) -> tuple[datetime, datetime, datetime]:
    """(before, start, end): the latest window and the one before, of the same length."""
    end = scope.end or now
    start = scope.start or end - timedelta(days=TREND_DAYS)
    return start - (end - start), start, end


def _shorten(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) <= QUOTE_CHARS:
        return flat
    return flat[: QUOTE_CHARS - 1].rsplit(" ", 1)[0] + "…"


async def themes(
    db: AsyncSession,
    workspace_id: int,
    scope: Scope,
    now: datetime,
    language: str | None,
    *,
    with_names: bool,
) -> Themes:
    """The scope's themes, quotes in the reader's `language` first (None: newest first;
    authors' names `with_names`), and the feeling per training."""
    found = await voice_store.theme_map(db, workspace_id)
    if found is None or nothing_matches(scope):
        return Themes((), 0, Feeling(), found.computed_at if found else None)
    before_start, window_start, window_end = _windows(scope, now)
    conditions = [
        ContributionVoice.workspace_id == workspace_id,
        ContributionVoice.theme.is_not(None),
        Contribution.hidden_at.is_(None),
        member_in_scope(Contribution.member_id, scope),
    ]
    if scope.end is not None:
        conditions.append(Contribution.created_at < scope.end)
    lower = min(before_start, scope.start) if scope.start is not None else None
    if lower is not None:
        conditions.append(Contribution.created_at >= lower)
    rows = await db.execute(
        select(
            ContributionVoice.theme,
            Contribution.kind,
            ContributionVoice.sentiment,
            Contribution.created_at,
        )
        .join(Contribution, Contribution.id == ContributionVoice.contribution_id)
        .where(*conditions)
    )
    posts: Counter[int] = Counter()
    before: Counter[int] = Counter()
    latest: Counter[int] = Counter()
    questions: Counter[int] = Counter()
    experiences: Counter[int] = Counter()
    answers: Counter[int] = Counter()
    feelings: dict[int, Feeling] = {}
    overall = Feeling()
    for theme_or_none, kind, sentiment, created_at in rows:
        theme = int(theme_or_none or 0)  # never None: filtered above
        at = created_at if created_at.tzinfo else created_at.replace(tzinfo=now.tzinfo)
        if before_start <= at < window_start:
            before[theme] += 1
        elif window_start <= at < window_end:
            latest[theme] += 1
        if scope.start is not None and at < scope.start:
            continue
        posts[theme] += 1
        questions[theme] += kind == ContributionKind.QUESTION
        experiences[theme] += kind == ContributionKind.EXPERIENCE
        answers[theme] += kind == ContributionKind.ANSWER
        feelings[theme] = feelings.get(theme, Feeling()).plus(sentiment)
        overall = overall.plus(sentiment)
    quotes = await _quotes(db, workspace_id, scope, list(posts), language, with_names)
    listed = tuple(
        Theme(
            number=theme,
            names={lang: tuple(words) for lang, words in found.names.get(str(theme), {}).items()},
            posts=count,
            before=before[theme],
            now=latest[theme],
            questions=questions[theme],
            experiences=experiences[theme],
            feeling=feelings[theme],
            quotes=tuple(quotes.get(theme, ())),
            answers=answers[theme],
        )
        for theme, count in sorted(posts.items(), key=lambda item: (-item[1], item[0]))
    )
    unread = bool(await voice_store.unread(db, workspace_id, 1))
    by_training = await feeling_by_training(db, workspace_id, scope)
    return Themes(listed, sum(posts.values()), overall, found.computed_at, unread, by_training)


async def feeling_by_training(
    db: AsyncSession, workspace_id: int, scope: Scope
) -> dict[str, Feeling]:
    """The feeling of the posts in scope per training: the training of the session each
    author joined the community through (as the activity's heat map counts them)."""
    conditions = [
        ContributionVoice.workspace_id == workspace_id,
        Contribution.hidden_at.is_(None),
        member_in_scope(Contribution.member_id, scope),
        in_period(Contribution.created_at, scope),
    ]
    rows = await db.execute(
        select(TrainingSession.name, ContributionVoice.sentiment, func.count())
        .select_from(ContributionVoice)
        .join(Contribution, Contribution.id == ContributionVoice.contribution_id)
        .join(Member, Member.id == Contribution.member_id)
        .join(TrainingSession, TrainingSession.id == Member.joined_session_id)
        .where(*conditions)
        .group_by(TrainingSession.name, ContributionVoice.sentiment)
    )
    found: dict[str, Feeling] = {}
    for training, sentiment, count in rows:
        found[training] = found.get(training, Feeling()).plus(sentiment, int(count))
    return found


async def _quotes(
    db: AsyncSession,
    workspace_id: int,
    scope: Scope,
    themes_in_scope: list[int],
    language: str | None,
    with_names: bool,
) -> dict[int, list[Quote]]:
    """Up to QUOTES recent posts per theme, in the reader's language first, one per author."""
    if not themes_in_scope:
        return {}
    conditions = [
        ContributionVoice.workspace_id == workspace_id,
        ContributionVoice.theme.in_(themes_in_scope),
        Contribution.hidden_at.is_(None),
        Contribution.kind != ContributionKind.REPLY,
        member_in_scope(Contribution.member_id, scope),
    ]
    if scope.start is not None:
        conditions.append(Contribution.created_at >= scope.start)
    if scope.end is not None:
        conditions.append(Contribution.created_at < scope.end)
    rows = await db.execute(
        select(
            ContributionVoice.theme,
            ContributionVoice.language,
            Contribution.id,
            Contribution.text,
            Contribution.kind,
            Contribution.member_id,
            Member.display_name,
        )
        .join(Contribution, Contribution.id == ContributionVoice.contribution_id)
        .join(Member, Member.id == Contribution.member_id)
        .where(*conditions)
        .order_by(Contribution.id.desc())
        .limit(QUOTE_POOL)
    )
    # The reader's language first, then what people brought of their own before challenge
    # answers (which often repeat a challenge's words); newest first within each.
    candidates = sorted(
        rows,
        key=lambda row: (
            language is not None and row[1] != language,
            row[4] == ContributionKind.ANSWER,
        ),
    )
    said: dict[int, set[str]] = {}
    chosen: dict[int, list[Quote]] = {}
    authors: dict[int, set[int]] = {}
    for theme_or_none, _, contribution_id, text, kind, member_id, name in candidates:
        theme = int(theme_or_none or 0)  # never None: filtered above
        picked = chosen.setdefault(theme, [])
        seen = authors.setdefault(theme, set())
        texts = said.setdefault(theme, set())
        flat = " ".join(text.lower().split())
        if len(picked) >= QUOTES or member_id in seen or not flat or flat in texts:
            continue
        seen.add(member_id)
        texts.add(flat)
        picked.append(Quote(contribution_id, _shorten(text), kind, name if with_names else None))
    return chosen


class ExportedPost(NamedTuple):
    """A post as the themes' CSV gives it."""

    id: int
    kind: ContributionKind
    language: str
    theme: int | None
    sentiment: Sentiment
    created_at: datetime
    link: str | None
    text: str


async def exported(db: AsyncSession, workspace_id: int, scope: Scope) -> list[ExportedPost]:
    """Every read post of the scope that is shown (hidden ones left out), oldest first —
    the themes' CSV."""
    if nothing_matches(scope):
        return []
    query = (
        select(
            Contribution.id,
            Contribution.kind,
            ContributionVoice.language,
            ContributionVoice.theme,
            ContributionVoice.sentiment,
            Contribution.created_at,
            Contribution.link,
            Contribution.text,
        )
        .join(ContributionVoice, ContributionVoice.contribution_id == Contribution.id)
        .where(
            Contribution.workspace_id == workspace_id,
            Contribution.hidden_at.is_(None),
            member_in_scope(Contribution.member_id, scope),
            in_period(Contribution.created_at, scope),
        )
        .order_by(Contribution.id)
    )
    return [ExportedPost(*row) for row in (await db.execute(query)).all()]
