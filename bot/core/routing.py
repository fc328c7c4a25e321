"""Runs a typed command, a clicked button, a submitted form or a reaction through the
tables it is given.

The tables (bot/router.py) name the handlers; this module knows none of them, so the
handlers can read the table (`help` lists it) through their context without importing the
module that imports them, and no adapter needs a handler's name for anything (a reaction
is routed to the one reaction row, whatever its key). Roles are checked here: a
command's, a button's, a form's or the reaction's least role is in its row (a handler
asks more only for one of its arguments: `pulse results all`, whose `pulse results` row is
open to everyone).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.core.commands import (
    ActionTable,
    Args,
    CommandHandler,
    CommandTable,
    FormTable,
    ReactionRow,
    ThreadReplyRow,
)
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.events import Reaction, ThreadReply
from bot.core.parsing import Token, strip_prefix, tokenize
from bot.core.replies import Reply

# What answers words that name no command (the first token is what was typed).
UnknownHandler = Callable[[Context, list[Token]], Awaitable[list[Reply]]]


class Router:
    """The command, button and form tables and the reaction row, and how an event finds
    its handler in them."""

    def __init__(
        self,
        commands: CommandTable,
        actions: ActionTable,
        forms: FormTable,
        *,
        reaction: ReactionRow,
        thread_reply: ThreadReplyRow | None = None,
        on_empty: CommandHandler,
        on_unknown: UnknownHandler,
    ) -> None:
        self.commands = commands
        self.actions = actions
        self.forms = forms
        self.reaction_row = reaction
        self.thread_reply_row = thread_reply
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
        """Run the handler of a clicked button."""
        action = self.actions.get(action_id)
        if action is None:
            raise UserError("errors.unknown_action")
        ctx.command_key = action.action_id
        ctx.require(action.role)
        return await action.handler(ctx, value)

    async def form(self, ctx: Context, action_id: str, values: str) -> list[Reply]:
        """Run the handler of a submitted form (`action_id`: its submit_action_id)."""
        found = self.forms.get(action_id)
        if found is None:
            raise UserError("errors.unknown_action")
        form, argument = found
        ctx.command_key = form.action_id
        ctx.require(form.role)
        if argument and form.with_argument is not None:
            return await form.with_argument(ctx, values, argument)
        assert form.handler is not None  # FormTable.get returns a runnable form only
        return await form.handler(ctx, values)

    async def reaction(self, ctx: Context, reaction: Reaction) -> list[Reply]:
        """Run the reaction row's handler on a reaction added or taken off."""
        ctx.command_key = self.reaction_row.action_id
        ctx.require(self.reaction_row.role)
        return await self.reaction_row.handler(ctx, reaction)

    async def thread_reply(self, ctx: Context, reply: ThreadReply) -> list[Reply]:
        """Run the thread row's handler on a message posted in a thread (none: ignored)."""
        row = self.thread_reply_row
        if row is None:
            return []
        ctx.command_key = row.action_id
        ctx.require(row.role)
        return await row.handler(ctx, reply)
