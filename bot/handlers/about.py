"""`about`: what the bot is, what it keeps about the asker and for how long, and how to
see or erase it — what anyone asks before trusting a bot someone else installed."""

from __future__ import annotations

from importlib import metadata

from bot.core.commands import Args
from bot.core.context import Context
from bot.core.replies import Card, Reply

DISTRIBUTION = "ambassador-bot"


def version() -> str:
    """The installed version (pyproject.toml's), or "dev" when run from a bare checkout."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "dev"


async def about(ctx: Context, _args: Args) -> list[Reply]:
    """The bot's version, what it keeps and how long (the [retention] settings the daily
    purge applies, so the figures are the installation's own), and `my data`/`forget me`."""
    t = ctx.t
    kept = ctx.settings.retention
    lines = [
        t("about.intro"),
        t("about.keeps"),
        t("about.requests", days=kept.inbox_days),
        t("about.messages", days=kept.outbox_days),
        t("about.audit", days=kept.audit_days),
        t("about.yours"),
    ]
    title = t("about.title", version=version())
    body = "\n".join(lines)
    return [Reply(f"{title}\n{body}", card=Card(title=title, body=body))]
