"""Slack workspaces installed through OAuth: bolt's installation store on our database, the
bot token of each workspace (refreshed when token rotation is on), and bolt's authorize.

One table, `slack_installation`, keeps the latest installation of each workspace (bot
token only: the app asks for no user scopes), its tokens sealed (storage/sealing.py). The
installing user becomes that workspace's admin in the bot. `app_uninstalled` and
`tokens_revoked` (bolt's token revocation listeners call this store) delete the row, take
the installer's admin role back and mark the workspace uninstalled: its data is deleted
after [retention] uninstalled_days (bot/retention.py) unless the app is installed again.

Token rotation (https://api.slack.com/authentication/rotation): a token that expires
within ROTATE_BEFORE is refreshed inside a transaction that holds the installation's row
lock (SELECT … FOR UPDATE on PostgreSQL), so with several replicas only one refreshes it;
the others wait, then read the new token instead of spending the refresh token twice.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.adapters.slack import PLATFORM
from bot.clock import Clock
from bot.core import roles
from storage import members, slack_installations, workspaces
from storage.sealing import Sealer
from storage.slack_installations import BotToken

log = logging.getLogger(__name__)

ROTATE_BEFORE = timedelta(minutes=5)
# A token read from the database is reused this long (a sender posting 1,000 DMs reads it once).
CACHE_SECONDS = 30.0


class SlackTokens:
    """The bot token of each installed workspace, from the database, refreshed when due."""

    def __init__(
        self,
        db_sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        api: AsyncWebClient,
        client_id: str,
        client_secret: str,
        sealer: Sealer,
    ) -> None:
        self._db_sessions = db_sessions
        self._sealer = sealer
        self._clock = clock
        self._api = api
        self._client_id = client_id
        self._client_secret = client_secret
        self._cache: dict[tuple[str | None, str], tuple[float, BotToken]] = {}

    async def bot(self, team_id: str, enterprise_id: str | None = "") -> BotToken | None:
        """The workspace's current bot token, or None when the app is not installed there.
        `enterprise_id` None: whatever its Enterprise Grid organization (what the inbox
        and the outbox know of a workspace is its team id, unique in Slack)."""
        key = (enterprise_id, team_id)
        cached = self._cache.get(key)
        fresh = cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS
        if cached is not None and fresh and not self._expiring(cached[1]):
            return cached[1]
        async with self._db_sessions() as db:
            found = await slack_installations.find(db, self._sealer, team_id, enterprise_id)
        if found is not None and self._expiring(found):
            found = await self._refresh(team_id, found.enterprise_id)
        if found is None:
            self._cache.pop(key, None)
        else:
            self._cache[key] = (time.monotonic(), found)
        return found

    async def bot_token(self, team_id: str) -> str | None:
        """Just the token of the workspace, in an Enterprise Grid organization or not (what
        the outbox's Slack sender and the inbox's handling ask for)."""
        found = await self.bot(team_id, None)
        return found.bot_token if found else None

    @property
    def sealer(self) -> Sealer:
        """What seals the tokens in the database (the installation store writes them too)."""
        return self._sealer

    def forget(self, team_id: str, enterprise_id: str = "") -> None:
        """Drop a cached token (the workspace uninstalled the app)."""
        self._cache.pop((enterprise_id, team_id), None)
        self._cache.pop((None, team_id), None)

    def _expiring(self, token: BotToken) -> bool:
        return (
            token.refresh_token is not None
            and token.expires_at is not None
            and token.expires_at - self._clock.now() < ROTATE_BEFORE
        )

    async def _refresh(self, team_id: str, enterprise_id: str) -> BotToken | None:
        async with self._db_sessions() as db, db.begin():
            current = await slack_installations.find(
                db, self._sealer, team_id, enterprise_id, for_update=True
            )
            if current is None or not self._expiring(current):
                return current  # another replica refreshed it while this one waited
            response = await self._api.oauth_v2_access(
                client_id=self._client_id,
                client_secret=self._client_secret,
                grant_type="refresh_token",
                refresh_token=current.refresh_token,
            )
            now = self._clock.now()
            fresh = replace(
                current,
                bot_token=str(response["access_token"]),
                refresh_token=response.get("refresh_token") or current.refresh_token,
                expires_at=now + timedelta(seconds=int(response.get("expires_in") or 43200)),
            )
            await slack_installations.save(db, self._sealer, fresh, None, now)
            log.info("slack_token_rotated", extra={"workspace": team_id})
            return fresh


class DatabaseInstallationStore(AsyncInstallationStore):
    """bolt's AsyncInstallationStore on our database (bot installations only)."""

    def __init__(
        self, db_sessions: async_sessionmaker[AsyncSession], clock: Clock, tokens: SlackTokens
    ) -> None:
        self._db_sessions = db_sessions
        self._clock = clock
        self._tokens = tokens

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        """Keep the workspace's bot token; the installing user becomes its admin."""
        now = self._clock.now()
        team_id = installation.team_id or ""
        token = BotToken(
            enterprise_id=installation.enterprise_id or "",
            team_id=team_id,
            bot_token=installation.bot_token or "",
            bot_id=installation.bot_id,
            bot_user_id=installation.bot_user_id,
            bot_scopes=",".join(installation.bot_scopes or []),
            refresh_token=installation.bot_refresh_token,
            expires_at=_from_epoch(installation.bot_token_expires_at),
            installer_user_id=installation.user_id,
            team_name=installation.team_name,
        )
        async with self._db_sessions() as db, db.begin():
            await slack_installations.save(db, self._tokens.sealer, token, installation.app_id, now)
            workspace = await workspaces.get_or_create(db, PLATFORM, team_id, now)
            workspace.uninstalled_at = None  # installed again: nothing to delete any more
            if installation.team_name and not workspace.name:
                workspace.name = installation.team_name[:200]
            if installation.user_id:
                await _make_admin(db, workspace.id, installation.user_id, now)
        self._tokens.forget(team_id, token.enterprise_id)
        log.info("slack_installed", extra={"workspace": team_id})

    async def async_save_bot(self, bot: Bot) -> None:
        """Not used: installations are saved whole (async_save)."""
        raise NotImplementedError("bot-only saves are not used")

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        """The workspace's bot, as bolt expects it."""
        found = await self._tokens.bot(team_id or "", enterprise_id or "")
        if found is None:
            return None
        return Bot(
            enterprise_id=found.enterprise_id or None,
            team_id=found.team_id,
            bot_token=found.bot_token,
            bot_id=found.bot_id or "",
            bot_user_id=found.bot_user_id or "",
            bot_scopes=found.bot_scopes or "",
            bot_refresh_token=found.refresh_token,
            bot_token_expires_at=_to_epoch(found.expires_at),
            installed_at=time.time(),
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        """The workspace's installation (bot token; no user tokens are kept)."""
        found = await self._tokens.bot(team_id or "", enterprise_id or "")
        if found is None:
            return None
        return Installation(
            enterprise_id=found.enterprise_id or None,
            team_id=found.team_id,
            team_name=found.team_name,
            user_id=found.installer_user_id or "",
            bot_token=found.bot_token,
            bot_id=found.bot_id,
            bot_user_id=found.bot_user_id,
            bot_scopes=found.bot_scopes or "",
            bot_refresh_token=found.refresh_token,
            bot_token_expires_at=_to_epoch(found.expires_at),
        )

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """tokens_revoked (bot) or app_uninstalled: forget the workspace's token at once,
        take the installer's admin role back, and start the retention delay of its data.
        Slack sends both events, in no set order: the second finds nothing left to do."""
        team, enterprise = team_id or "", enterprise_id or ""
        now = self._clock.now()
        async with self._db_sessions() as db, db.begin():
            installer = await slack_installations.installer_of(db, team, enterprise)
            removed = await slack_installations.remove(db, team, enterprise)
            workspace = await workspaces.mark_uninstalled(db, PLATFORM, team, now)
            if workspace is not None and installer:
                await _take_admin_back(db, workspace.id, installer, now)
        self._tokens.forget(team, enterprise)
        log.info("slack_tokens_deleted", extra={"workspace": team_id, "count": removed})

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        """No user tokens are kept: only a workspace-wide deletion removes anything."""
        if user_id is None:
            await self.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)


class DatabaseAuthorize(AsyncAuthorize):
    """bolt's authorize: each request's workspace token from the database (refreshed when due)."""

    def __init__(self, tokens: SlackTokens) -> None:
        self._tokens = tokens

    async def __call__(
        self,
        *,
        context: Any,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        actor_enterprise_id: str | None = None,
        actor_team_id: str | None = None,
        actor_user_id: str | None = None,
    ) -> AuthorizeResult | None:
        found = await self._tokens.bot(team_id or "", enterprise_id or "")
        if found is None:
            return None
        return AuthorizeResult(
            enterprise_id=found.enterprise_id or None,
            team_id=found.team_id,
            bot_token=found.bot_token,
            bot_id=found.bot_id,
            bot_user_id=found.bot_user_id,
            bot_scopes=found.bot_scopes,
            user_id=user_id,
        )


async def _make_admin(db: AsyncSession, workspace_id: int, user_id: str, now: datetime) -> None:
    member = await members.get_or_create(db, workspace_id, user_id, now)
    if member.role != roles.ADMIN:
        member.role = roles.ADMIN
        await members.record_event(
            db, member.id, "role_added", now, detail={"role": roles.ADMIN, "by": "slack_install"}
        )


async def _take_admin_back(
    db: AsyncSession, workspace_id: int, user_id: str, now: datetime
) -> None:
    """The installer was made admin by the installation: the role ends with it (back to
    learner, as `role remove` does)."""
    member = await members.find(db, workspace_id, user_id)
    if member is not None and member.role == roles.ADMIN:
        member.role = roles.LEARNER
        await members.record_event(
            db,
            member.id,
            "role_removed",
            now,
            detail={"role": roles.ADMIN, "by": "slack_uninstall"},
        )


def _from_epoch(seconds: int | None) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


def _to_epoch(when: datetime | None) -> int | None:
    return int(when.timestamp()) if when else None
