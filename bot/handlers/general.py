"""Help, greetings and the friendly answer to anything unknown: never a dead end."""

from __future__ import annotations

from bot.core import roles
from bot.core.commands import Args
from bot.core.context import Context
from bot.core.parsing import Token, fold
from bot.core.replies import Button, Card, Reply

HELP_ACTION = "help.show"
MAX_ECHO = 40


def _next_step(ctx: Context) -> str:
    if roles.allows(ctx.role, roles.ANIMATOR):
        return ctx.t("general.next_step_animator")
    if ctx.actor.joined_at is None:
        return ctx.t("general.next_step_join")
    return ctx.t("general.next_step_member")


def _help_lines(ctx: Context, group: str | None) -> list[str]:
    table = ctx.router.commands
    if group:
        # The group's own command too (`themes` beside `themes export`), listed first.
        alone = [c for c in table.commands if (fold(group),) in c.forms()]
        commands = alone + [c for c in table.group(group) if c not in alone]
    else:
        commands = list(table.commands)
    lines = []
    for command in commands:
        if not command.listed or not roles.allows(ctx.role, command.role):
            continue
        usage = ctx.t(f"commands.{command.key}.usage")
        summary = ctx.t(f"commands.{command.key}.summary")
        lines.append(f"• `{usage}` — {summary}")
    return lines


async def help_(ctx: Context, args: Args | None) -> list[Reply]:
    """List the commands the asker's role allows (or one group: `help session`)."""
    group = args.tokens[0].value if args else None
    lines = _help_lines(ctx, group) if group else []
    if not lines:
        lines = _help_lines(ctx, None)
    role_name = ctx.t(f"roles.{ctx.role}")
    text = "\n".join([ctx.t("general.help_intro", role=role_name), *lines, _next_step(ctx)])
    return [Reply(text)]


async def help_button(ctx: Context, _value: str) -> list[Reply]:
    """The Help button on greetings and refusals."""
    return await help_(ctx, None)


async def hello(ctx: Context, _args: Args) -> list[Reply]:
    """Answer a greeting with who the bot is and the asker's next step."""
    text = ctx.t("general.hello", name=ctx.actor.display_name) + "\n" + _next_step(ctx)
    card = Card(
        title=ctx.t("general.hello_title"),
        body=text,
        buttons=(Button(ctx.t("general.help_button"), HELP_ACTION, "help"),),
    )
    return [Reply(text, card=card)]


async def unknown(ctx: Context, tokens: list[Token]) -> list[Reply]:
    """Anything not understood: say so kindly, suggest the closest command and the next step.
    A group's word with words it does not know (`session foo`) lists the group."""
    table = ctx.router.commands
    word = tokens[0].value
    shown = word if len(word) <= MAX_ECHO else word[: MAX_ECHO - 1] + "…"
    group = table.group(word)
    if group:
        lines = _help_lines(ctx, word)
        if lines:
            text = "\n".join([ctx.t("general.group_help", word=shown), *lines])
            return [Reply(text)]
    suggestion = table.suggest(word)
    if suggestion:
        text = ctx.t("general.unknown_suggest", word=shown, suggestion=suggestion)
    else:
        text = ctx.t("general.unknown", word=shown)
    return [Reply(text + "\n" + _next_step(ctx))]
