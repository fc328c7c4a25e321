"""Slack installations (OAuth, several workspaces): save, find, lock for a token refresh, delete.

The bot and refresh tokens are sealed (storage/sealing.py) on the way in and opened on the
way out: the table never holds them in clear.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SlackInstallation
from storage.sealed_columns import SLACK_BOT_TOKEN, SLACK_REFRESH_TOKEN
from storage.sealing import Sealer
from storage.upsert import insert_for

BOT_TOKEN = SLACK_BOT_TOKEN.purpose
REFRESH_TOKEN = SLACK_REFRESH_TOKEN.purpose


@dataclass(frozen=True)
class BotToken:
    """What the app needs to act in one workspace."""

    enterprise_id: str
    team_id: str
    bot_token: str
    bot_id: str | None
    bot_user_id: str | None
    bot_scopes: str | None
    refresh_token: str | None
    expires_at: datetime | None
    installer_user_id: str | None
    team_name: str | None = None


async def save(
    db: AsyncSession, sealer: Sealer, token: BotToken, app_id: str | None, now: datetime
) -> None:
    """Insert or replace the installation of (enterprise, team): the latest one counts."""
    refresh = token.refresh_token
    values = {
        "bot_token": sealer.seal(BOT_TOKEN, token.bot_token),
        "bot_id": token.bot_id,
        "bot_user_id": token.bot_user_id,
        "bot_scopes": token.bot_scopes,
        "bot_refresh_token": sealer.seal(REFRESH_TOKEN, refresh) if refresh else None,
        "bot_token_expires_at": token.expires_at,
        "installer_user_id": token.installer_user_id,
        "team_name": token.team_name,
        "app_id": app_id,
        "updated_at": now,
    }
    statement = insert_for(db, SlackInstallation).values(
        enterprise_id=token.enterprise_id, team_id=token.team_id, installed_at=now, **values
    )
    await db.execute(
        statement.on_conflict_do_update(index_elements=["enterprise_id", "team_id"], set_=values)
    )


async def find(
    db: AsyncSession,
    sealer: Sealer,
    team_id: str,
    enterprise_id: str | None = "",
    *,
    for_update: bool = False,
) -> BotToken | None:
    """The installation of a workspace; `for_update` locks it until the transaction ends,
    so that only one replica refreshes a rotating token at a time. `enterprise_id` None:
    whatever the workspace's Enterprise Grid organization (a team id is unique in Slack),
    the latest installation if it ever had two.

    The lock is taken by a no-op UPDATE: a row lock on PostgreSQL, the database's write
    lock on SQLite (where SELECT … FOR UPDATE does not exist); a second caller waits,
    then reads what the first one wrote.
    """
    matches = [SlackInstallation.team_id == team_id]
    if enterprise_id is not None:
        matches.append(SlackInstallation.enterprise_id == enterprise_id)
    if for_update:
        await db.execute(
            update(SlackInstallation)
            .where(*matches)
            .values(updated_at=SlackInstallation.updated_at)
        )
    query = (
        select(SlackInstallation)
        .where(*matches)
        .order_by(SlackInstallation.updated_at.desc(), SlackInstallation.id.desc())
        .limit(1)
    )
    row = (await db.execute(query)).scalars().first()
    if row is None:
        return None
    return BotToken(
        enterprise_id=row.enterprise_id,
        team_id=row.team_id,
        bot_token=sealer.open(BOT_TOKEN, row.bot_token),
        bot_id=row.bot_id,
        bot_user_id=row.bot_user_id,
        bot_scopes=row.bot_scopes,
        refresh_token=(
            sealer.open(REFRESH_TOKEN, row.bot_refresh_token) if row.bot_refresh_token else None
        ),
        expires_at=row.bot_token_expires_at,
        installer_user_id=row.installer_user_id,
        team_name=row.team_name,
    )


async def installer_of(db: AsyncSession, team_id: str, enterprise_id: str = "") -> str | None:
    """Who installed the app in a workspace (None: not installed, or not known)."""
    query = select(SlackInstallation.installer_user_id).where(
        SlackInstallation.team_id == team_id, SlackInstallation.enterprise_id == enterprise_id
    )
    return (await db.execute(query)).scalar_one_or_none()


async def remove(db: AsyncSession, team_id: str, enterprise_id: str = "") -> int:
    """Forget a workspace's tokens (app uninstalled, tokens revoked); the number removed."""
    result = await db.execute(
        delete(SlackInstallation).where(
            SlackInstallation.team_id == team_id, SlackInstallation.enterprise_id == enterprise_id
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
