"""Runs a typed command or a clicked action through the tables it is given.

The tables (bot/router.py) name the handlers; this module knows none of them, so the
handlers can read the table (`help` lists it) through their context without importing the
module that imports them. Roles are checked here: a command's or an action's least role
is in its table row (a handler asks more only for one of its arguments: `pulse results
all`, whose `pulse results` row is open to everyone).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.core.commands import ActionTable, Args, CommandHandler, CommandTable
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.parsing import Token, strip_prefix, tokenize
from bot.core.replies import Reply

# What answers words that name no command (the first token is what was typed).
UnknownHandler = Callable[[Context, list[Token]], Awaitable[list[Reply]]]


class Router:
    """The command and action tables, and how an event finds its handler in them."""

    def __init__(
        self,
        commands: CommandTable,
        actions: ActionTable,
        *,
        on_empty: CommandHandler,
        on_unknown: UnknownHandler,
    ) -> None:
        self.commands = commands
        self.actions = actions
        self._on_empty = on_empty
        self._on_unknown = on_unknown

    async def command(self, ctx: Context, text: str) -> list[Reply]:
        """Find the command named by `text` and run it, or explain what can be typed."""
        tokens = tokenize(strip_prefix(text))
        if not tokens:
            ctx.command_key = "empty"
            return await self._on_empty(ctx, Args(()))
        match = self.commands.match(tokens)
        if match is None:
            ctx.command_key = "unknown"
            return await self._on_unknown(ctx, tokens)
        ctx.command_key = match.command.key
        ctx.require(match.command.role)
        return await match.command.handler(ctx, match.args)

    async def action(self, ctx: Context, action_id: str, value: str) -> list[Reply]:
        """Run the handler of a clicked button or submitted form."""
        found = self.actions.get(action_id)
        if found is None:
            raise UserError("errors.unknown_action")
        action, argument = found
        ctx.command_key = action.action_id
        ctx.require(action.role)
        if argument and action.with_argument is not None:
            return await action.with_argument(ctx, value, argument)
        assert action.handler is not None  # ActionTable.get returns a runnable action only
        return await action.handler(ctx, value)
