"""Teams conversation references and members: remembered on every activity, read by the
sender to write proactively (after a restart too)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.conversations import channel_of
from storage.models import TeamsConversation, TeamsMember
from storage.upsert import insert_for

# Rows read per place wanted by `recent_shared`: a channel's own reference and its threads'.
SHARED_PER_PLACE = 4


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
    # A channel's team (channelData.team.id), so that removing the bot from a team forgets
    # every channel of it.
    team_id: str | None = None


async def remember(db: AsyncSession, reference: Reference, now: datetime) -> None:
    """Insert or refresh a conversation reference (its service URL may move)."""
    values = {
        "service_url": reference.service_url,
        "conversation_type": reference.conversation_type,
        "bot_id": reference.bot_id,
        "aad_object_id": reference.aad_object_id,
        "user_id": reference.user_id,
        "updated_at": now,
    }
    if reference.team_id:
        values["team_id"] = reference.team_id
    statement = insert_for(db, TeamsConversation).values(
        tenant_id=reference.tenant_id, conversation_id=reference.conversation_id, **values
    )
    await db.execute(
        statement.on_conflict_do_update(
            index_elements=["tenant_id", "conversation_id"], set_=values
        )
    )


async def remember_member(
    db: AsyncSession,
    tenant_id: str,
    aad_object_id: str,
    user_id: str,
    service_url: str,
    now: datetime,
) -> None:
    """Insert or refresh a person's Teams id under their AAD object id."""
    values = {"user_id": user_id, "service_url": service_url, "updated_at": now}
    statement = insert_for(db, TeamsMember).values(
        tenant_id=tenant_id, aad_object_id=aad_object_id, **values
    )
    await db.execute(
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


async def conversation(db: AsyncSession, tenant_id: str, conversation_id: str) -> Reference | None:
    """The reference of a conversation the bot has seen."""
    row = (
        await db.execute(
            select(TeamsConversation).where(
                TeamsConversation.tenant_id == tenant_id,
                TeamsConversation.conversation_id == conversation_id,
            )
        )
    ).scalar_one_or_none()
    return _reference(row) if row is not None else None


async def personal(db: AsyncSession, tenant_id: str, aad_object_id: str) -> Reference | None:
    """The 1:1 conversation of the bot with this person, if there is one."""
    row = (
        (
            await db.execute(
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


async def member(db: AsyncSession, tenant_id: str, aad_object_id: str) -> TeamsMember | None:
    """What the bot knows of a person (their Teams id and service URL)."""
    return (
        await db.execute(
            select(TeamsMember).where(
                TeamsMember.tenant_id == tenant_id, TeamsMember.aad_object_id == aad_object_id
            )
        )
    ).scalar_one_or_none()


async def member_by_user_id(db: AsyncSession, tenant_id: str, user_id: str) -> TeamsMember | None:
    """The person behind a Teams user id (`29:…`, what a mention carries), if seen."""
    return (
        (
            await db.execute(
                select(TeamsMember).where(
                    TeamsMember.tenant_id == tenant_id, TeamsMember.user_id == user_id
                )
            )
        )
        .scalars()
        .first()
    )


async def recent_shared(db: AsyncSession, tenant_id: str, limit: int) -> list[Reference]:
    """The tenant's team channels and group chats the bot was most recently active in, one
    reference per channel (a channel and its threads, remembered together, have one
    roster)."""
    rows = (
        await db.execute(
            select(TeamsConversation)
            .where(
                TeamsConversation.tenant_id == tenant_id,
                TeamsConversation.conversation_type != "personal",
            )
            .order_by(TeamsConversation.updated_at.desc())
            .limit(limit * SHARED_PER_PLACE)
        )
    ).scalars()
    places: dict[str, Reference] = {}
    for row in rows:
        place = channel_of(row.conversation_id)
        if place not in places or row.conversation_id == place:  # the channel's own first
            places[place] = _reference(row)
    return list(places.values())[:limit]


async def any_in_tenant(db: AsyncSession, tenant_id: str) -> Reference | None:
    """Any reference of the tenant (its service URL and bot id, to open a new conversation)."""
    row = (
        (
            await db.execute(
                select(TeamsConversation)
                .where(TeamsConversation.tenant_id == tenant_id)
                .order_by(TeamsConversation.updated_at.desc())
            )
        )
        .scalars()
        .first()
    )
    return _reference(row) if row is not None else None


def _in_conversation(conversation_id: str) -> ColumnElement[bool]:
    """The conversation and its threads (`<channel>;messageid=<root>`: one id per post)."""
    root = conversation_id.split(";")[0]
    escaped = root.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(
        TeamsConversation.conversation_id == root,
        TeamsConversation.conversation_id.like(f"{escaped};%", escape="\\"),
    )


async def forget_team(
    db: AsyncSession, tenant_id: str, team_id: str, conversation_ids: list[str]
) -> int:
    """The bot was removed from a team: forget its channels (those remembered before their
    team was, migration 0017, are known by the conversations named); how many."""
    result = await db.execute(
        delete(TeamsConversation).where(
            TeamsConversation.tenant_id == tenant_id,
            or_(
                TeamsConversation.team_id == team_id,
                *(_in_conversation(c) for c in conversation_ids if c),
            ),
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def forget_conversation(db: AsyncSession, tenant_id: str, conversation_id: str) -> int:
    """The bot was removed from a group chat or a person's 1:1 chat: forget it; how many."""
    result = await db.execute(
        delete(TeamsConversation).where(
            TeamsConversation.tenant_id == tenant_id, _in_conversation(conversation_id)
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def places_left(db: AsyncSession, tenant_id: str) -> tuple[int, int]:
    """The tenant's conversations the bot still knows: (team channels and group chats,
    1:1 chats)."""
    personal = TeamsConversation.conversation_type == "personal"
    row = (
        await db.execute(
            select(func.count().filter(~personal), func.count().filter(personal)).where(
                TeamsConversation.tenant_id == tenant_id
            )
        )
    ).one()
    return int(row[0]), int(row[1])


async def forget_tenant(db: AsyncSession, tenant_id: str) -> None:
    """The bot is gone from the tenant: every conversation reference and Teams id of it."""
    await db.execute(delete(TeamsConversation).where(TeamsConversation.tenant_id == tenant_id))
    await db.execute(delete(TeamsMember).where(TeamsMember.tenant_id == tenant_id))
