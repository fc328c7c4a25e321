"""`home`: a member's home page (Slack's App Home tab renders it): their profile and level
progress, and for animators the sessions and one-click shortcuts to what they do most."""

from __future__ import annotations

from bot.core import roles
from bot.core.commands import Args
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.replies import Button, Card, Reply
from bot.handlers import profile, signup

SHORTCUT_ACTION = "home.shortcut"
# Shortcut → the command it runs (as if typed: the same role checks apply).
SHORTCUTS = {
    "challenge": "challenge",
    "pulse": "pulse",
    "results": "pulse results",
    "pairs": "pair preview",
    "sessions": "session list",
    "badges": "badges",
    "mentor": "mentor request",
    "help": "help",
    "share": "share",
}
_LEARNER = ("share", "badges", "mentor", "help")
_ANIMATOR = ("challenge", "pulse", "results", "pairs", "sessions", "help")


async def home(ctx: Context, args: Args) -> list[Reply]:
    """The asker's profile; for animators their sessions too; then the shortcuts."""
    replies = await profile.me(ctx, args)
    animator = roles.allows(ctx.role, roles.ANIMATOR)
    if animator:
        replies += await signup.list_sessions(ctx, args)
    names = _ANIMATOR if animator else _LEARNER
    buttons = tuple(Button(ctx.t(f"home.shortcut_{name}"), SHORTCUT_ACTION, name) for name in names)
    title = ctx.t("home.shortcuts_title")
    replies.append(Reply(title, card=Card(title=title, buttons=buttons)))
    return replies


async def shortcut(ctx: Context, value: str) -> list[Reply]:
    """A home-page shortcut runs its command exactly as if it had been typed."""
    text = shortcut_command(value)
    if text is None:
        raise UserError("errors.unknown_action")
    return await ctx.router.command(ctx, text)


def shortcut_command(value: str) -> str | None:
    """The command a shortcut button stands for (None for a value no button carries)."""
    return SHORTCUTS.get(value)
