"""Who Slack users are — name, language, time zone, email — from users.info, after the ack.

Slack's requests carry only an id (events) or a handle (slash commands). The directory is
asked once per person and hour, in the background, never on the path of Slack's
3-second ack: a first event is handled under the name Slack sent, the next ones under the
directory's (https://api.slack.com/methods/users.info; `include_locale` gives the
language, which a modal's buttons follow). A failed lookup changes nothing. What it says
reaches the member's row shortly after, written in batches (profile_writes.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import logs
from bot.adapters.slack import PLATFORM
from bot.adapters.slack.profile_writes import ProfileWriter
from bot.core.events import PlatformUser
from storage.members import DirectoryProfile

log = logging.getLogger(__name__)

FRESH_SECONDS = 3600.0
LOOKUP_TIMEOUT = 5.0


@dataclass(frozen=True)
class Profile:
    """What the directory says about one person."""

    name: str
    locale: str | None
    timezone: str | None
    email: str | None


class SlackProfiles:
    """A per-process cache of directory profiles, filled by background lookups."""

    def __init__(self, db_sessions: async_sessionmaker[AsyncSession]) -> None:
        # The members' rows follow the directory in batches (profile_writes.py).
        self._writer = ProfileWriter(db_sessions, PLATFORM)
        self._known: dict[tuple[str, str], tuple[float, Profile]] = {}
        self._tasks: dict[tuple[str, str], asyncio.Task[None]] = {}

    def user(self, team: str, user_id: str, fallback_name: str | None = None) -> PlatformUser:
        """The person as the core sees them: the directory's name and language when known."""
        found = self._known.get((team, user_id))
        if found is None:
            return PlatformUser(id=user_id, name=(fallback_name or user_id)[:200])
        profile = found[1]
        return PlatformUser(user_id, profile.name, profile.locale, profile.timezone)

    def refresh_later(self, team: str, user_id: str, api: AsyncWebClient) -> None:
        """Look the person up in the background unless that was done within the hour."""
        key = (team, user_id)
        found = self._known.get(key)
        if not user_id or key in self._tasks:
            return
        if found is not None and time.monotonic() - found[0] < FRESH_SECONDS:
            return
        task = asyncio.create_task(self._refresh(team, user_id, api))
        self._tasks[key] = task
        task.add_done_callback(lambda _done: self._tasks.pop(key, None))

    async def close(self) -> None:
        """Stop lookups still running, write the profiles looked up (at shutdown)."""
        for task in list(self._tasks.values()):
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        await self._writer.close()

    async def _refresh(self, team: str, user_id: str, api: AsyncWebClient) -> None:
        try:
            response = await asyncio.wait_for(
                api.users_info(user=user_id, include_locale=True), LOOKUP_TIMEOUT
            )
            person = response.get("user") or {}
            details = person.get("profile") or {}
            name = (
                details.get("display_name") or details.get("real_name") or person.get("name") or ""
            )
            profile = Profile(
                name=str(name)[:200] or user_id,
                locale=person.get("locale"),
                timezone=person.get("tz"),
                email=details.get("email"),
            )
            self._known[(team, user_id)] = (time.monotonic(), profile)
            self._writer.add(
                DirectoryProfile(
                    workspace=team,
                    user_id=user_id,
                    name=profile.name,
                    platform_locale=profile.locale,
                    email=profile.email,
                    timezone=profile.timezone,
                )
            )
        except Exception as exc:  # a directory hiccup must never reach the user
            log.warning(
                "slack_profile_lookup_failed",
                extra={"workspace": team, "error": logs.describe(exc)},
            )
