"""`audit [n]` (admins): the latest changes to roles, badges and pulses, exports and erasures.

Each line says when (in the asker's time zone), who, what and from which platform. Names
come from today's member rows: an erased person reads "a former member".
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from bot.audit import SELF
from bot.core.commands import Args
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.replies import Reply
from bot.i18n import Translator, catalogue
from storage import audit
from storage.audit import Listed

DEFAULT_COUNT = 20
MAX_COUNT = 100
# With the year: the log goes back as far as the retention keeps it (a year by default).
WHEN_FORMAT = "d MMM y, HH:mm"


def _count(args: Args) -> int:
    if not args:
        return DEFAULT_COUNT
    raw = args.tokens[0].value
    if len(args.tokens) > 1 or not raw.isdigit() or not 1 <= int(raw) <= MAX_COUNT:
        raise UserError("audit.usage", max=MAX_COUNT, default=DEFAULT_COUNT)
    return int(raw)


async def show(ctx: Context, args: Args) -> list[Reply]:
    """`audit [n]`: the n latest entries of this workspace, newest first (default 20)."""
    count = _count(args)
    entries = await audit.latest(ctx.db, ctx.workspace.id, count)
    t = ctx.t
    if not entries:
        return [Reply(t("audit.empty"))]
    title = t("audit.title", count=len(entries), zone=ctx.timezone)
    return [Reply("\n".join([title, *(line(ctx, t, entry) for entry in entries)]))]


def line(ctx: Context, t: Translator, entry: Listed) -> str:
    """One entry in words: `• 27 Nov 2026, 11:00 — Anim1 granted … (Slack)`."""
    former = t("audit.former_member")
    if entry.by_system:
        who = t("audit.the_bot")
    else:
        who = entry.actor_name if entry.actor_name is not None else former
    when = format_datetime(entry.at, WHEN_FORMAT, tzinfo=ZoneInfo(ctx.timezone), locale=t.locale)
    return t(
        "audit.line",
        when=when,
        who=who,
        what=_what(ctx, t, entry, former),
        platform=_known(t, f"audit.platform.{entry.platform}", entry.platform),
    )


def _what(ctx: Context, t: Translator, entry: Listed, former: str) -> str:
    detail = entry.detail
    params: dict[str, Any] = {
        "subject": entry.subject_name if entry.subject_name is not None else former,
        "pulse": detail.get("pulse", "?"),
        "role": _known(t, f"roles.{detail.get('role')}", str(detail.get("role", "?"))),
        "level": _level(ctx, t, str(detail.get("level", "?"))),
    }
    if detail.get(SELF) and _exists(t, f"audit.self.{entry.action}"):
        return t(f"audit.self.{entry.action}", **params)
    if _exists(t, f"audit.action.{entry.action}"):
        return t(f"audit.action.{entry.action}", **params)
    return entry.action  # recorded by a newer version of the bot: its code says enough


def _level(ctx: Context, t: Translator, level_id: str) -> str:
    for level in ctx.settings.ladder.levels:
        if level.id == level_id:
            return level.name(t.locale)
    return level_id  # a level since removed from the ladder: its id still says which


def _exists(t: Translator, key: str) -> bool:
    return key in catalogue(t.locale)


def _known(t: Translator, key: str, fallback: str) -> str:
    return t(key) if _exists(t, key) else fallback
