"""Command, button and form tables, and matching typed words against them."""

from __future__ import annotations

import difflib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.core.context import Context
from bot.core.events import Reaction, ThreadReply
from bot.core.parsing import Token, fold, join_tokens
from bot.core.replies import Reply
from storage.vocabulary import MemberRole


@dataclass(frozen=True)
class Args:
    """What follows the command words."""

    tokens: tuple[Token, ...]

    @property
    def text(self) -> str:
        """The rest as free text (quotes removed when the whole rest was quoted)."""
        return join_tokens(list(self.tokens))

    def __bool__(self) -> bool:
        return bool(self.tokens)


CommandHandler = Callable[[Context, Args], Awaitable[list[Reply]]]
# A button's handler gets its value; a form's, the submitted values (the JSON object's text).
ActionHandler = Callable[[Context, str], Awaitable[list[Reply]]]
# The reaction row's handler gets the reaction (the message reacted to, approving or not,
# added or taken off).
ReactionHandler = Callable[[Context, Reaction], Awaitable[list[Reply]]]
ThreadReplyHandler = Callable[[Context, ThreadReply], Awaitable[list[Reply]]]
# A form whose action_id carries an argument after a colon: `challenge.answer:12:success`.
ArgumentActionHandler = Callable[[Context, str, str], Awaitable[list[Reply]]]


@dataclass(frozen=True)
class Command:
    """One command: its English words, French aliases, handler and the role it needs.

    `key` names its help texts in the catalogues (commands.<key>.usage / .summary).
    """

    key: str
    words: tuple[str, ...]
    handler: CommandHandler
    role: MemberRole = MemberRole.LEARNER
    aliases: tuple[tuple[str, ...], ...] = ()
    # Shown in `help`; greetings and the like are not.
    listed: bool = True
    # Its words are the whole command: `challenge` opens the form, while `challenge foo` is
    # not this command but an unknown member of the `challenge …` group, answered with the
    # group's help (for everyone, whatever this command's role).
    exact: bool = False

    def forms(self) -> tuple[tuple[str, ...], ...]:
        """Every way of typing it, folded (lower case, no accents)."""
        return tuple(tuple(fold(w) for w in form) for form in (self.words, *self.aliases))


@dataclass(frozen=True)
class Action:
    """A button, matched by its action_id; the handler gets the button's value."""

    action_id: str
    handler: ActionHandler
    role: MemberRole = MemberRole.LEARNER


@dataclass(frozen=True)
class ReactionRow:
    """The router's one reaction row: its action_id names it in logs (and in the
    playground's API, which has no emoji), its handler gets the reaction."""

    action_id: str
    handler: ReactionHandler
    role: MemberRole = MemberRole.LEARNER


@dataclass(frozen=True)
class ThreadReplyRow:
    """The router's one row for messages posted in a thread (`ThreadReply`): its action_id
    names it in logs."""

    action_id: str
    handler: ThreadReplyHandler
    role: MemberRole = MemberRole.LEARNER


@dataclass(frozen=True)
class FormAction:
    """A form's submission, matched by the form's submit_action_id; the handler gets the
    submitted values.

    With `with_argument`, the action_id may carry an argument after a colon (a form
    remembers what it is about that way on every platform); that handler receives it.
    """

    action_id: str
    handler: ActionHandler | None = None
    role: MemberRole = MemberRole.LEARNER
    with_argument: ArgumentActionHandler | None = None


@dataclass(frozen=True)
class Match:
    """The command found for some text, and its arguments."""

    command: Command
    args: Args


class CommandTable:
    """Finds the command named by the first words of a text (longest form wins)."""

    def __init__(self, commands: Sequence[Command]) -> None:
        self.commands = tuple(commands)
        self._forms = sorted(
            ((form, command) for command in commands for form in command.forms()),
            key=lambda item: -len(item[0]),
        )

    def match(self, tokens: list[Token]) -> Match | None:
        """The command whose words start `tokens`, or None."""
        keys = [token.key for token in tokens]
        for form, command in self._forms:
            size = len(form)
            if command.exact and len(tokens) > size:
                continue
            if (
                len(tokens) >= size
                and tuple(keys[:size]) == form
                and not any(token.quoted for token in tokens[:size])
            ):
                return Match(command, Args(tuple(tokens[size:])))
        return None

    def group(self, first_word: str) -> list[Command]:
        """Commands starting with `first_word` (e.g. every `session …` command)."""
        key = fold(first_word)
        return [
            command
            for command in self.commands
            if any(len(form) > 1 and form[0] == key for form in command.forms())
        ]

    def suggest(self, word: str) -> str | None:
        """The closest known first word to a mistyped one (`joni` → `join`)."""
        known = sorted({form[0] for form, _ in self._forms})
        close = difflib.get_close_matches(fold(word), known, n=1, cutoff=0.75)
        return close[0] if close else None


class ActionTable:
    """Finds the handler of a button's action_id."""

    def __init__(self, actions: Sequence[Action]) -> None:
        self._actions = {action.action_id: action for action in actions}

    def get(self, action_id: str) -> Action | None:
        """The button's action, or None."""
        return self._actions.get(action_id)

    def ids(self) -> list[str]:
        """Every registered action_id."""
        return list(self._actions)


class FormTable:
    """Finds the handler of a form's submit_action_id (which may carry an argument)."""

    def __init__(self, forms: Sequence[FormAction]) -> None:
        self._forms = {form.action_id: form for form in forms}

    def get(self, action_id: str) -> tuple[FormAction, str] | None:
        """The form for `action_id` and its argument ("" when none), or None."""
        form = self._forms.get(action_id)
        if form is not None and form.handler is not None:
            return form, ""
        base, sep, argument = action_id.partition(":")
        form = self._forms.get(base) if sep else None
        if form is not None and form.with_argument is not None:
            return form, argument
        return None

    def ids(self) -> list[str]:
        """Every registered submit_action_id (without argument)."""
        return list(self._forms)
