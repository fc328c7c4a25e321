"""What a platform sender must do, and how it reports failures to the outbox."""

from __future__ import annotations

from typing import Protocol

from bot.core.replies import OutboundMessage


class RetryLater(Exception):
    """A temporary failure (429, 5xx, timeout): try again, after `retry_after` if given.

    `throttled` marks a rate limit (429): the platform said "later", not "broken", so the
    message waits without using up its attempts — a long storm never parks it.
    """

    def __init__(
        self, reason: str, retry_after: float | None = None, *, throttled: bool = False
    ) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.throttled = throttled


class NotNow(Exception):
    """Not a failure: the platform's pacing wants this message later (`after` seconds).

    The message keeps its place and its attempts; other conversations go on meanwhile.
    """

    def __init__(self, after: float) -> None:
        super().__init__(f"paced: {after:.2f} s")
        self.after = after


class PermanentFailure(Exception):
    """A failure that no retry will cure (channel not found, bot removed): park the message."""


class PostedWithoutId(Exception):
    """The platform accepted a post but did not say its id (Microsoft 365 Agents
    Playground answers 202 with no body). The message is shown; what needs its id cannot
    be done: an edit in place, a reply in its thread, a reaction found to be on it. The
    outbox decides (sender.py): a live message is posted again once, any other is sent.
    """


class PlatformSender(Protocol):
    """Posts and edits messages on one platform; raises RetryLater, NotNow,
    PermanentFailure, or PostedWithoutId."""

    async def post(
        self, workspace: str, target: str, message: OutboundMessage, *, key: str = ""
    ) -> str:
        """Post `message` to `target` (a conversation, or dm:<user id>); return its id.

        `key` is the outbox idempotency key: a platform that can deduplicate on it (the
        playground) posts once even when a crash made the outbox send twice.
        """
        ...

    async def update(
        self, workspace: str, target: str, message_id: str, message: OutboundMessage
    ) -> None:
        """Replace the message `message_id` in place."""
        ...
