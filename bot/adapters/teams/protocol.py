"""The Bot Framework protocol's shapes, from botbuilder-schema (the models of the Activity
schema that botbuilder-core is built on): what an activity must look like to be handled
(checked by the worker: the SDK's check costs about 0.2 ms, kept off the ack path), and the
activities and conversation parameters the bot sends.

This is the one module of the adapter that uses Bot Framework classes. The transport
around it is the bot's own (aiohttp, PyJWT, the inbox and the outbox) because
botbuilder-core's adapter answers each request only after its replies are sent and fetches
keys with blocking calls; botbuilder-python is no longer maintained upstream (the
Microsoft 365 Agents SDK succeeds it), so replacing the SDK means replacing this module.
The tests speak JSON on the wire; only tests/bot/adapters/teams/test_protocol.py imports
it, and feeds it plain JSON.
"""

from __future__ import annotations

from typing import Any

from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ConversationParameters,
)
from msrest.exceptions import DeserializationError

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


def problem_with(body: dict[str, Any]) -> str | None:
    """Why `body` is not a Bot Framework activity (None when it is one)."""
    try:
        Activity().deserialize(body)
    except DeserializationError:
        # msrest's message quotes the value ("Data: <what was sent>"), which is logged:
        # name the field instead, found by checking each alone (failures only).
        for key, value in body.items():
            try:
                Activity().deserialize({key: value})
            except DeserializationError:
                return f"not a Bot Framework activity: `{key[:64]}` has the wrong shape"
        return "not a Bot Framework activity: a field has the wrong shape"
    return None


def message(
    text: str | None, adaptive_card: dict[str, Any] | None = None, *, summary: str | None = None
) -> dict[str, Any]:
    """A message activity: its text (Markdown, as Teams reads a bot's text), and/or an
    Adaptive Card as its attachment with the `summary` that notifications show. The bot
    sends one or the other (cards.message): Teams shows a text above its card, and
    Microsoft 365 Agents Playground splits such a message in two and answers without an id."""
    attachments = (
        [Attachment(content_type=ADAPTIVE_CARD, content=adaptive_card)]
        if adaptive_card is not None
        else None
    )
    made: dict[str, Any] = Activity(
        type=ActivityTypes.message,
        text=text,
        text_format="markdown" if text is not None else None,
        summary=summary,
        attachments=attachments,
    ).serialize()
    return made


def typing() -> dict[str, Any]:
    """The typing indicator."""
    made: dict[str, Any] = Activity(type=ActivityTypes.typing).serialize()
    return made


def personal_conversation(bot_id: str, user_id: str, tenant_id: str) -> dict[str, Any]:
    """The parameters that open the bot's 1:1 chat with a person (Teams wants the tenant,
    in channelData and tenantId)."""
    made: dict[str, Any] = ConversationParameters(
        is_group=False,
        bot=ChannelAccount(id=bot_id),
        members=[ChannelAccount(id=user_id)],
        channel_data={"tenant": {"id": tenant_id}},
        tenant_id=tenant_id,
    ).serialize()
    # botbuilder-schema writes `tenantID`; the Bot Connector's REST reference names it
    # `tenantId` (https://learn.microsoft.com/azure/bot-service/rest-api/bot-framework-rest-connector-api-reference#conversationparameters-object).
    made["tenantId"] = made.pop("tenantID", tenant_id)
    return made
