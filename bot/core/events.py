"""Neutral inbound events: what every adapter turns its platform's payloads into."""

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
    """A click on a button, or a form submitted; action_id and value round-trip unchanged."""

    origin: Origin
    user: PlatformUser
    action_id: str
    value: str
    event_id: str | None = None


InboundEvent = CommandEvent | ActionEvent
