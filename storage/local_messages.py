"""Messages of the local playground, the local adapter's stand-in for a chat platform."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import LocalMessage
from storage.upsert import InsertInto, Prepared, table_of


async def post(
    db: AsyncSession,
    conversation: str,
    text: str,
    card: dict[str, Any] | None,
    in_reply_to: int | None,
    now: datetime,
    dedupe_key: str | None = None,
) -> int:
    """Add a message to a conversation; return its id (the first one's, for a known key)."""
    if dedupe_key is not None:
        query = select(LocalMessage.id).where(LocalMessage.dedupe_key == dedupe_key)
        existing = (await db.execute(query)).scalar_one_or_none()
        if existing is not None:
            return int(existing)
    params = {
        "dedupe_key": dedupe_key,
        "conversation": conversation,
        "text": text,
        "card": card,
        "in_reply_to": in_reply_to,
        "created_at": now,
        "updated_at": now,
    }
    return int((await _POST.execute(db, params)).scalar_one())


_POST = Prepared(
    lambda _insert_into: insert(table_of(LocalMessage)).returning(table_of(LocalMessage).c.id)
)


async def edit(
    db: AsyncSession, message_id: int, text: str, card: dict[str, Any] | None, now: datetime
) -> bool:
    """Replace a message's text and card in place; False when it does not exist."""
    params = {"b_id": message_id, "b_text": text, "b_card": card, "b_now": now}
    result = await _EDIT.execute(db, params)
    return bool(getattr(result, "rowcount", 0))


def _build_edit(_insert_into: InsertInto) -> Any:
    message = table_of(LocalMessage)
    return (
        update(message)
        .where(message.c.id == bindparam("b_id"))
        .values(
            text=bindparam("b_text"),
            card=bindparam("b_card", type_=message.c.card.type),
            updated_at=bindparam("b_now", type_=message.c.updated_at.type),
        )
    )


_EDIT = Prepared(_build_edit)


async def in_conversation(db: AsyncSession, conversation: str) -> list[LocalMessage]:
    """The conversation's messages, oldest first."""
    query = (
        select(LocalMessage)
        .where(LocalMessage.conversation == conversation)
        .order_by(LocalMessage.id)
    )
    return list((await db.execute(query)).scalars())


async def conversations(db: AsyncSession) -> list[str]:
    """Conversations that have at least one message."""
    query = select(LocalMessage.conversation).distinct().order_by(LocalMessage.conversation)
    return list((await db.execute(query)).scalars())
