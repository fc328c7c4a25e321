"""A member's own settings: language, time zone, and whether colleagues' invitations reach
them."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.commands import Args
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.parsing import fold
from bot.core.replies import Reply

LANGUAGE_WORDS = {
    "en": "en",
    "english": "en",
    "anglais": "en",
    "fr": "fr",
    "french": "fr",
    "francais": "fr",
}


async def language(ctx: Context, args: Args) -> list[Reply]:
    """`settings language fr|en`: the language the bot uses with this member."""
    choice = LANGUAGE_WORDS.get(fold(args.text)) if args else None
    if choice is None:
        raise UserError("preferences.language_usage")
    ctx.actor.locale = choice
    return [Reply(ctx.t("preferences.language_set"))]


async def timezone(ctx: Context, args: Args) -> list[Reply]:
    """`settings timezone Europe/Paris`: the time zone used for this member's dates."""
    name = args.text
    if not name or len(name) > 64:
        raise UserError("preferences.timezone_usage")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError("preferences.timezone_unknown", zone=name[:64]) from None
    ctx.actor.timezone = name
    return [Reply(ctx.t("preferences.timezone_set", zone=name))]


ON_WORDS = {"on", "yes", "oui", "true", "1"}
OFF_WORDS = {"off", "no", "non", "false", "0"}


async def invitations(ctx: Context, args: Args) -> list[Reply]:
    """`settings invitations on|off`: whether colleagues' recommendations reach this member."""
    choice = fold(args.text) if args else ""
    if choice in ON_WORDS:
        ctx.actor.invitations_off_at = None
        return [Reply(ctx.t("preferences.invitations_on"))]
    if choice in OFF_WORDS:
        ctx.actor.invitations_off_at = ctx.actor.invitations_off_at or ctx.now
        return [Reply(ctx.t("preferences.invitations_off"))]
    raise UserError("preferences.invitations_usage")
