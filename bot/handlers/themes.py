"""`themes [training] [period]` (`thèmes`): what the community talks about — its themes
across French and English, each with its key words in the reader's language, its size and
trend, its share of questions and experience reports, how people feel, and example quotes
(authors named for animators only). `themes export` (animators): every post with its theme
as CSV, behind a one-hour link.

The themes are found by bot/voice/ (without labels, from packaged models) and kept up to
date by the scheduler's voice job; the command first reads what was shared since, within a
small budget, so that a post shared a second ago counts in a small community.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit, csv_safe
from bot.core.commands import Args
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.parsing import fold
from bot.core.replies import Button, Card, Reply
from bot.core.roles import ANIMATOR, allows
from bot.handlers.pulse_results import signed
from bot.steering import scope as steering_scope
from bot.steering.filters import Filters
from bot.steering.model import MIN_POSTS_FOR_FIGURES, Scope
from bot.steering.themes import TREND_DAYS, Feeling, Theme, Themes, exported
from bot.steering.themes import themes as themes_of
from bot.voice import clustering
from bot.voice.naming import name_for
from bot.voice.service import bring_up_to_date, shared_voice
from storage import downloads
from storage import voice as voice_store
from storage.models import TrainingSession

KIND = "themes"
LINK_LIFETIME = timedelta(hours=1)
HEADER = (
    "id",
    "kind",
    "language",
    "theme",
    "theme_words",
    "sentiment",
    "created_at",
    "link",
    "text",
)
# Posts read on the spot before answering, about 0.2 s of CPU inside the command's
# transaction (on SQLite it holds the write lock): the voice job reads the rest.
READ_BUDGET = 64
DEFAULT_DAYS = 90
SHOWN = 8
# Period words, folded (accents removed), English and French.
PERIOD_DAYS = {
    "week": 7,
    "semaine": 7,
    "month": 30,
    "mois": 30,
    "quarter": 91,
    "trimestre": 91,
    "year": 365,
    "an": 365,
    "annee": 365,
}
ALL_TIME = frozenset({"all", "tout", "toujours"})
DAYS = re.compile(r"^(\d+)(d|j|days|jours)?$")
# Words around a period that say nothing more ("semaine dernière", "last month").
PERIOD_FILLER = frozenset(
    {"last", "this", "past", "derniere", "dernier", "derniers", "cette", "ce"}
)
DAY_WORDS = frozenset({"d", "j", "day", "days", "jour", "jours"})
MAX_DAYS = 3_650


@dataclass(frozen=True)
class Asked:
    """What `themes` was asked for: a training (None: all) and a period in days (None: all
    time)."""

    training: str | None
    days: int | None


def _days(token: str) -> int | None:
    found = DAYS.match(token)
    if found is None:
        return None
    return int(found.group(1))


def parse(args: Args) -> Asked:
    """The training and period of `themes [training] [period]`; UserError when the period
    is out of range."""
    keys = [token.key for token in args.tokens]
    words = [token.value for token in args.tokens]
    days: int | None = DEFAULT_DAYS
    if len(keys) >= 2 and keys[-1] in PERIOD_FILLER:  # "semaine dernière"
        keys, words = keys[:-1], words[:-1]
    if len(keys) >= 2 and keys[-2] in PERIOD_FILLER and keys[-1] in PERIOD_DAYS:  # "last month"
        keys, words = keys[:-2] + keys[-1:], words[:-2] + words[-1:]
    if keys:
        last = keys[-1]
        if last in ALL_TIME:
            days, keys, words = None, keys[:-1], words[:-1]
        elif last in PERIOD_DAYS:
            days, keys, words = PERIOD_DAYS[last], keys[:-1], words[:-1]
        elif _days(last) is not None:
            days, keys, words = _days(last), keys[:-1], words[:-1]
        elif last in DAY_WORDS and len(keys) >= 2 and keys[-2].isdigit():
            days, keys, words = int(keys[-2]), keys[:-2], words[:-2]
        if days is not None and not 1 <= days <= MAX_DAYS:
            raise UserError("themes.bad_period", max=MAX_DAYS)
    training = " ".join(words).strip() or None
    return Asked(training, days)


async def _training_name(ctx: Context, asked: str) -> str:
    """The training's name as sessions carry it (accents and case do not matter)."""
    names = list(
        (
            await ctx.db.execute(
                select(TrainingSession.name)
                .where(TrainingSession.workspace_id == ctx.workspace.id)
                .distinct()
                .order_by(TrainingSession.name)
            )
        ).scalars()
    )
    for name in names:
        if fold(name) == fold(asked):
            return name
    known = ", ".join(ctx.t("themes.named", name=name) for name in names[:10]) or "—"
    example = names[0] if names else "Management 101"
    raise UserError("themes.unknown_training", name=asked, trainings=known, example=example)


async def _scope_of(ctx: Context, asked: Asked) -> Scope:
    training = await _training_name(ctx, asked.training) if asked.training else None
    scope = await steering_scope.resolve(
        ctx.db, ctx.workspace.id, Filters(training=training), ctx.timezone
    )
    if asked.days is None:
        return scope
    return replace(scope, start=ctx.now - timedelta(days=asked.days), end=ctx.now)


async def themes(ctx: Context, args: Args) -> list[Reply]:
    """Reply with the community's themes over the period asked (90 days by default)."""
    if not ctx.settings.voice:
        raise UserError("themes.off")
    asked = parse(args)
    if asked.training:  # the name as the sessions carry it, for the title too
        asked = replace(asked, training=await _training_name(ctx, asked.training))
    scope = await _scope_of(ctx, asked)
    voice = shared_voice()
    await bring_up_to_date(ctx.db, voice, ctx.workspace.id, ctx.now, budget=READ_BUDGET)
    found = await themes_of(
        ctx.db,
        ctx.workspace.id,
        scope,
        ctx.now,
        ctx.t.locale,
        with_names=allows(ctx.role, ANIMATOR),
    )
    return [render(ctx, asked, found)]


def _period(ctx: Context, asked: Asked) -> str:
    if asked.days is None:
        return ctx.t("themes.period_all")
    if asked.days == 1:
        return ctx.t("themes.period_day")
    return ctx.t("themes.period_days", count=asked.days)


def _window(asked: Asked) -> int:
    """The days the trend compares: the period asked, or TREND_DAYS for all time."""
    return asked.days or TREND_DAYS


def feeling_text(ctx: Context, feeling: Feeling) -> str:
    """ "feeling +32 (45 % positive · 42 % neutral · 13 % negative)" in the reader's words;
    under MIN_POSTS_FOR_FIGURES posts, says there are too few."""
    if feeling.net is None:
        return ctx.t("themes.feeling_too_few", count=MIN_POSTS_FOR_FIGURES)
    total = feeling.total
    return ctx.t(
        "themes.feeling",
        net=signed(ctx.t, feeling.net),
        positive=round(100 * feeling.positive / total),
        neutral=round(100 * feeling.neutral / total),
        negative=round(100 * feeling.negative / total),
    )


def trend_text(ctx: Context, theme: Theme, days: int) -> str:
    """ "↗ +50 % on the 30 days before", "→ steady", "new" — or nothing when either window
    has too few posts to say."""
    if theme.now is None or theme.before is None:
        return ""
    if not theme.before:
        return ctx.t("themes.trend_new") if theme.now >= MIN_POSTS_FOR_FIGURES else ""
    if theme.trend is None:
        return ""
    if abs(theme.trend) < 10:
        return ctx.t("themes.trend_steady", count=days)
    key = "themes.trend_up" if theme.trend > 0 else "themes.trend_down"
    return ctx.t(key, change=f"{abs(theme.trend)}", count=days)


def kinds_text(ctx: Context, theme: Theme) -> str:
    """ "questions: 2, experience reports: 1", with the challenge answers when it has some."""
    text = ctx.t("themes.kinds", questions=theme.questions, experiences=theme.experiences)
    if theme.answers:
        text += ctx.t("themes.kinds_answers", count=theme.answers)
    return text


def theme_words(ctx: Context, theme: Theme) -> str:
    """The theme's label in the reader's language (`Theme.label`), or its number when it
    has no key words."""
    return theme.label(ctx.t.locale) or ctx.t("themes.unnamed", number=theme.number + 1)


def render(ctx: Context, asked: Asked, found: Themes) -> Reply:
    """The themes as a reply (the biggest `SHOWN`)."""
    t = ctx.t
    scope_text = f" — {t('themes.named', name=asked.training)}" if asked.training else ""
    title = t("themes.title", period=_period(ctx, asked)) + scope_text
    if not found.themes:
        needed = clustering.MIN_POSTS
        body = t("themes.none_yet", count=needed) if found.found_at is None else t("themes.empty")
        return Reply(f"{title}\n{body}", card=Card(title=title, body=body))
    lines = [t("themes.summary", count=found.posts, themes=len(found.themes))]
    for theme in found.themes[:SHOWN]:
        trend = trend_text(ctx, theme, _window(asked))
        lines.append(
            t(
                "themes.line",
                number=theme.number + 1,
                words=theme_words(ctx, theme),
                count=theme.posts,
                trend=f" ({trend})" if trend else "",
                kinds=kinds_text(ctx, theme),
                feeling=feeling_text(ctx, theme.feeling),
            )
        )
        for quote in theme.quotes:
            lines.append(
                t("themes.quote_named", text=quote.text, name=quote.author)
                if quote.author
                else t("themes.quote", text=quote.text)
            )
    if len(found.themes) > SHOWN:
        lines.append(t("themes.more", count=len(found.themes) - SHOWN))
    lines.append(t("themes.overall", feeling=feeling_text(ctx, found.feeling)))
    lines.append(t("themes.legend"))
    if found.unread:
        lines.append(t("themes.reading"))
    body = "\n".join(lines)
    return Reply(f"{title}\n{body}", card=Card(title=title, body=body))


async def export(ctx: Context, args: Args) -> list[Reply]:
    """Reply with a one-hour link to every post and its theme as CSV (animators)."""
    if not ctx.settings.voice:
        raise UserError("themes.off")
    asked = parse(args)
    training = await _training_name(ctx, asked.training) if asked.training else None
    voice = shared_voice()
    await bring_up_to_date(ctx.db, voice, ctx.workspace.id, ctx.now, budget=READ_BUDGET)
    token = await downloads.create(
        ctx.db,
        workspace_id=ctx.workspace.id,
        member_id=ctx.actor.id,
        kind=KIND,
        params={
            "workspace_id": ctx.workspace.id,
            "training": training,
            "days": asked.days,
            "at": ctx.now.isoformat(),
            "language": ctx.t.locale,
        },
        expires_at=ctx.now + LINK_LIFETIME,
        now=ctx.now,
    )
    await audit.record(ctx, "themes.export")
    url = f"{ctx.settings.base_url}/downloads/{token}"
    title = ctx.t("themes.export_title")
    body = ctx.t("themes.export_body")
    card = Card(title=title, body=body, buttons=(Button(ctx.t("themes.export_button"), url=url),))
    return [Reply(f"{title} {body} {url}", card=card)]


async def csv_chunks(db: AsyncSession, params: dict[str, Any]) -> AsyncIterator[bytes]:
    """The CSV of an export link: one row per post shown in the community (hidden ones
    left out), with its theme's number and key words, oldest first."""
    workspace_id = int(params["workspace_id"])
    found = await voice_store.theme_map(db, workspace_id)
    names = found.names if found is not None else {}
    language = str(params.get("language") or "en")
    training = str(params["training"]) if params.get("training") else None
    scope = await steering_scope.resolve(db, workspace_id, Filters(training=training), "UTC")
    if params.get("days"):
        at = datetime.fromisoformat(str(params["at"]))
        scope = replace(scope, start=at - timedelta(days=int(params["days"])))
    keyed = {
        (int(theme), lang): words
        for theme, by_language in names.items()
        for lang, words in by_language.items()
    }
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(csv_safe.row(HEADER))
    for post in await exported(db, workspace_id, scope):
        theme = post.theme
        words = " · ".join(name_for(keyed, theme, language)) if theme is not None else ""
        created = post.created_at
        writer.writerow(
            csv_safe.row(
                (
                    str(post.id),
                    str(post.kind),
                    post.language,
                    "" if theme is None else str(theme + 1),
                    words,
                    str(post.sentiment),
                    (created.astimezone(UTC) if created.tzinfo else created).isoformat(
                        timespec="seconds"
                    ),
                    post.link or "",
                    post.text,
                )
            )
        )
        if buffer.tell() > 64_000:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")
