"""A Slack request's replies, written to the outbox in the request's own transaction.

Each reply becomes one outbox message carrying the Slack call that shows it (rendered
now, sent by the outbox's Slack sender right after the commit), in the order Slack
users expect: a form first, as a modal (views.open with the request's trigger_id, valid
3 seconds: https://docs.slack.dev/interactivity/handling-user-interaction#modal_responses),
then the answers, each its own message: to the request's response_url (ephemeral,
valid 30 minutes and 5 uses: https://docs.slack.dev/interactivity/handling-user-interaction#message_responses),
else ephemeral in the channel, else in the DM with the bot. So a reply is never lost
between the commit and its send (bot/core/dispatch.py's docstring).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.adapters.slack import PLATFORM, blocks
from bot.core.context import WorkspaceContext
from bot.core.dispatch import Deliver
from bot.core.replies import OutboundMessage, Reply
from bot.i18n import Translator
from storage import outbox_keys

# The outbox message's `extra` entry that holds the Slack call (bot/adapters/slack/sender.py).
CALL = "slack_reply"


@dataclass(frozen=True)
class ReplyAddress:
    """Where a request's replies go: its response_url and trigger_id when it has them,
    the channel it came from, and who asked."""

    inbox_id: int
    user_id: str
    channel: str
    response_url: str = ""
    trigger_id: str = ""
    locale: str = "en"

    def target(self) -> str:
        """The outbox target of these replies: one asker's (they go out in order)."""
        return f"reply:{self.user_id}"


def calls_for(address: ReplyAddress, replies: list[Reply]) -> list[dict[str, Any]]:
    """The Slack calls that show `replies`, in order: the first form as a modal (when the
    request has a trigger_id), then every other reply as one message."""
    calls: list[dict[str, Any]] = []
    form = next((reply.form for reply in replies if reply.form is not None), None)
    if form is not None and address.trigger_id:
        # The modal's own buttons in the person's Slack language, when known.
        view = blocks.modal(form, Translator(address.locale), private_metadata=address.channel)
        calls.append({"via": "views.open", "trigger_id": address.trigger_id, "view": view})
    for reply in replies:
        if reply.form is not None:
            continue
        message = blocks.message(reply.text, reply.card)
        calls.append(answer_call(address, message))
    return calls


def answer_call(address: ReplyAddress, message: dict[str, Any]) -> dict[str, Any]:
    """How one answer reaches the asker alone: the response_url, else ephemeral in the
    channel, else a message in their DM with the bot (the App Home tab has no channel)."""
    if address.response_url:
        return {"via": "response_url", "url": address.response_url, "message": message}
    channel, user = address.channel, address.user_id
    if channel.startswith("D"):  # asked in the DM with the bot: answered there
        return {"via": "dm", "channel": channel, "message": message}
    if channel == user or not channel:  # the App Home tab: the DM with the bot
        return {"via": "dm", "channel": user, "message": message}
    return {"via": "ephemeral", "channel": channel, "user": user, "message": message}


def deliverer(address: ReplyAddress) -> Deliver:
    """The dispatcher's `deliver` for one request (bot/core/dispatch.py)."""

    async def deliver(ctx: WorkspaceContext, replies: list[Reply]) -> None:
        for number, call in enumerate(calls_for(address, replies)):
            text = str(call.get("message", {}).get("text", ""))
            await ctx.outbox.reply(
                outbox_keys.reply(outbox_keys.request(PLATFORM, address.inbox_id), number),
                address.target(),
                OutboundMessage(text, extra={CALL: call}),
            )

    return deliver
