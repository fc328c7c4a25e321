"""Messages of the local playground, the local adapter's stand-in for a chat platform."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import LocalMessage


async def post(
    session: AsyncSession,
    conversation: str,
    text: str,
    card: dict[str, Any] | None,
    in_reply_to: int | None,
    now: datetime,
) -> LocalMessage:
    """Add a message to a conversation."""
    message = LocalMessage(
        conversation=conversation,
        text=text,
        card=card,
        in_reply_to=in_reply_to,
        created_at=now,
        updated_at=now,
    )
    session.add(message)
    await session.flush()
    return message


async def edit(
    session: AsyncSession, message_id: int, text: str, card: dict[str, Any] | None, now: datetime
) -> bool:
    """Replace a message's text and card in place; False when it does not exist."""
    message = await session.get(LocalMessage, message_id)
    if message is None:
        return False
    message.text = text
    message.card = card
    message.updated_at = now
    return True


async def in_conversation(session: AsyncSession, conversation: str) -> list[LocalMessage]:
    """The conversation's messages, oldest first."""
    query = (
        select(LocalMessage)
        .where(LocalMessage.conversation == conversation)
        .order_by(LocalMessage.id)
    )
    return list((await session.execute(query)).scalars())


async def conversations(session: AsyncSession) -> list[str]:
    """Conversations that have at least one message."""
    query = select(LocalMessage.conversation).distinct().order_by(LocalMessage.conversation)
    return list((await session.execute(query)).scalars())
