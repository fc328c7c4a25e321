"""Neutral inbound events: what every adapter turns its platform's payloads into.

Five kinds, each with its own entry point in the dispatcher (bot/core/dispatch.py) and its
own table in the router (bot/core/routing.py): a command typed, a button clicked, a form
submitted, a reaction added to a message or taken off it, a message posted in another's
thread. An adapter says which one happened in its
platform's terms (a Slack modal's submission is a form, a Teams card's submit carrying
`form` is one too); no string convention stands for a kind.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlatformUser:
    """The person behind an event, as the platform describes them."""

    id: str
    name: str
    locale: str | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class Origin:
    """Where an event comes from: platform, workspace (team/tenant) and conversation."""

    platform: str
    workspace: str
    conversation: str
    # True when the conversation is a 1:1 chat with the bot.
    is_direct: bool = False


@dataclass(frozen=True)
class CommandEvent:
    """A command typed by a user (`/ambassador join`, an @mention, a DM to the bot)."""

    origin: Origin
    user: PlatformUser
    text: str
    event_id: str | None = None


@dataclass(frozen=True)
class ActionEvent:
    """A click on a button: its action_id and value come back unchanged."""

    origin: Origin
    user: PlatformUser
    action_id: str
    value: str
    event_id: str | None = None


@dataclass(frozen=True)
class FormSubmission:
    """A form submitted.

    `action_id` is the form's `submit_action_id`, back unchanged (it may carry what the
    form is about after a colon: `pulse.details:12`). `values` is the text of a JSON object,
    field id → what was entered (a string; a list of strings for a `users` field), into
    which each adapter reads its platform's shape. It stays text because the playground's
    API takes it as sent, and each form's handler is the one that tells the asker, in their
    language, what is wrong with it (nothing changes then).
    """

    origin: Origin
    user: PlatformUser
    action_id: str
    values: str
    event_id: str | None = None


@dataclass(frozen=True)
class Reaction:
    """A reaction added to a message, or taken off it (`removed`): one that approves (a
    Slack emoji, a Teams 👍 ❤️ …) or one that says "not useful to me" (`approving`
    False: Slack's 👎).

    `message` names the message as the outbox recorded it when posting it (Slack
    `<channel>:<ts>`, Teams `<conversation>|<activity id>`, the playground's message id).
    Which of its platform's reactions approve, and which disapprove, is each adapter's word
    (Slack's ❌ and Teams' 😢 😠 are neither), and only those become events.
    """

    origin: Origin
    user: PlatformUser
    message: str
    event_id: str | None = None
    approving: bool = True
    removed: bool = False


@dataclass(frozen=True)
class ThreadReply:
    """A message someone posted in the thread of another message (a Slack thread reply, a
    Teams channel reply): maybe a reply to a posted question.

    `parent` names the message replied to as the outbox recorded it when posting it (as
    `Reaction.message`: Slack `<channel>:<ts>`, Teams `<conversation>|<activity id>`).
    `text` is the reply as written, made neutral by the adapter. The playground has no
    such event: its replies are the `reply` command (its post's Reply button).
    """

    origin: Origin
    user: PlatformUser
    parent: str
    text: str
    event_id: str | None = None


InboundEvent = CommandEvent | ActionEvent | FormSubmission | Reaction | ThreadReply
