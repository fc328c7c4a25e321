"""Teams conversation references and members: remembered on every activity, read by the
sender to write proactively (after a restart too)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import TeamsConversation, TeamsMember
from storage.upsert import insert_for


@dataclass(frozen=True)
class Reference:
    """What a proactive message needs: where (service URL, conversation), as whom (bot id)."""

    tenant_id: str
    conversation_id: str
    service_url: str
    conversation_type: str
    bot_id: str
    aad_object_id: str | None = None
    user_id: str | None = None


async def remember(session: AsyncSession, reference: Reference, now: datetime) -> None:
    """Insert or refresh a conversation reference (its service URL may move)."""
    values = {
        "service_url": reference.service_url,
        "conversation_type": reference.conversation_type,
        "bot_id": reference.bot_id,
        "aad_object_id": reference.aad_object_id,
        "user_id": reference.user_id,
        "updated_at": now,
    }
    statement = insert_for(session, TeamsConversation).values(
        tenant_id=reference.tenant_id, conversation_id=reference.conversation_id, **values
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["tenant_id", "conversation_id"], set_=values
        )
    )


async def remember_member(
    session: AsyncSession,
    tenant_id: str,
    aad_object_id: str,
    user_id: str,
    service_url: str,
    now: datetime,
) -> None:
    """Insert or refresh a person's Teams id under their AAD object id."""
    values = {"user_id": user_id, "service_url": service_url, "updated_at": now}
    statement = insert_for(session, TeamsMember).values(
        tenant_id=tenant_id, aad_object_id=aad_object_id, **values
    )
    await session.execute(
        statement.on_conflict_do_update(index_elements=["tenant_id", "aad_object_id"], set_=values)
    )


def _reference(row: TeamsConversation) -> Reference:
    return Reference(
        tenant_id=row.tenant_id,
        conversation_id=row.conversation_id,
        service_url=row.service_url,
        conversation_type=row.conversation_type,
        bot_id=row.bot_id,
        aad_object_id=row.aad_object_id,
        user_id=row.user_id,
    )


async def conversation(
    session: AsyncSession, tenant_id: str, conversation_id: str
) -> Reference | None:
    """The reference of a conversation the bot has seen."""
    row = (
        await session.execute(
            select(TeamsConversation).where(
                TeamsConversation.tenant_id == tenant_id,
                TeamsConversation.conversation_id == conversation_id,
            )
        )
    ).scalar_one_or_none()
    return _reference(row) if row is not None else None


async def personal(session: AsyncSession, tenant_id: str, aad_object_id: str) -> Reference | None:
    """The 1:1 conversation of the bot with this person, if there is one."""
    row = (
        (
            await session.execute(
                select(TeamsConversation)
                .where(
                    TeamsConversation.tenant_id == tenant_id,
                    TeamsConversation.aad_object_id == aad_object_id,
                    TeamsConversation.conversation_type == "personal",
                )
                .order_by(TeamsConversation.updated_at.desc())
            )
        )
        .scalars()
        .first()
    )
    return _reference(row) if row is not None else None


async def member(session: AsyncSession, tenant_id: str, aad_object_id: str) -> TeamsMember | None:
    """What the bot knows of a person (their Teams id and service URL)."""
    return (
        await session.execute(
            select(TeamsMember).where(
                TeamsMember.tenant_id == tenant_id, TeamsMember.aad_object_id == aad_object_id
            )
        )
    ).scalar_one_or_none()


async def member_by_user_id(
    session: AsyncSession, tenant_id: str, user_id: str
) -> TeamsMember | None:
    """The person behind a Teams user id (`29:…`, what a mention carries), if seen."""
    return (
        (
            await session.execute(
                select(TeamsMember).where(
                    TeamsMember.tenant_id == tenant_id, TeamsMember.user_id == user_id
                )
            )
        )
        .scalars()
        .first()
    )


async def recent_shared(session: AsyncSession, tenant_id: str, limit: int) -> list[Reference]:
    """The tenant's team channels and group chats the bot was most recently active in."""
    rows = (
        await session.execute(
            select(TeamsConversation)
            .where(
                TeamsConversation.tenant_id == tenant_id,
                TeamsConversation.conversation_type != "personal",
            )
            .order_by(TeamsConversation.updated_at.desc())
            .limit(limit)
        )
    ).scalars()
    return [_reference(row) for row in rows]


async def any_in_tenant(session: AsyncSession, tenant_id: str) -> Reference | None:
    """Any reference of the tenant (its service URL and bot id, to open a new conversation)."""
    row = (
        (
            await session.execute(
                select(TeamsConversation)
                .where(TeamsConversation.tenant_id == tenant_id)
                .order_by(TeamsConversation.updated_at.desc())
            )
        )
        .scalars()
        .first()
    )
    return _reference(row) if row is not None else None
