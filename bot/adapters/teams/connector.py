"""The Bot Connector REST API, spoken directly with aiohttp (the bodies are shaped by
protocol.py), so the calls are async, paced and retried by the outbox.

Calls: send to a conversation, update an activity, create a 1:1 conversation, read a
conversation's members page by page or one by one
(https://learn.microsoft.com/azure/bot-service/rest-api/bot-framework-rest-connector-api-reference).
The bot's token comes from the client-credentials flow against the tenant's token endpoint
(single-tenant, the default for new bots) and is reused until five minutes before expiry.
Without credentials (local testing) no token is sent.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.adapters.teams import protocol
from bot.adapters.teams.service_urls import ServiceUrls
from bot.adapters.teams.settings import TeamsSettings
from bot.outbox.delivery import PermanentFailure, PostedWithoutId, RetryLater

SCOPE = "https://api.botframework.com/.default"
TIMEOUT = aiohttp.ClientTimeout(total=30)
# Teams asks for retries on these (https://learn.microsoft.com/microsoftteams/platform/bots/how-to/rate-limit).
RETRY_STATUSES = frozenset({412, 429, 502, 503, 504})
# The bot was removed, the conversation or the person is gone: no retry will cure it.
GONE_CODES = frozenset(
    {"BotNotInConversationRoster", "ConversationNotFound", "ConversationBlockedByUser", "NotFound"}
)


class BotToken:
    """The bot's own access token, fetched once and renewed before it expires."""

    def __init__(self, teams: TeamsSettings) -> None:
        self._teams = teams
        self._token = ""
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def header(self, http: aiohttp.ClientSession) -> dict[str, str]:
        """The Authorization header (none without credentials)."""
        if not self._teams.authenticated:
            return {}
        async with self._lock:
            if time.monotonic() > self._expires - 300:
                await self._fetch(http)
        return {"Authorization": f"Bearer {self._token}"}

    async def _fetch(self, http: aiohttp.ClientSession) -> None:
        form = {
            "grant_type": "client_credentials",
            "client_id": self._teams.app_id,
            "client_secret": self._teams.app_password,
            "scope": SCOPE,
        }
        try:
            async with http.post(self._teams.token_endpoint, data=form) as response:
                data = await response.json(content_type=None)
                if response.status != 200 or not isinstance(data, dict):
                    raise RetryLater(f"teams token endpoint answered {response.status}")
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise RetryLater(f"teams token endpoint unreachable: {type(exc).__name__}") from None
        self._token = str(data.get("access_token", ""))
        self._expires = time.monotonic() + float(data.get("expires_in") or 3600)


class Connector:
    """Send, update and create conversations on a Bot Connector (a trusted service URL
    only: service_urls.py)."""

    def __init__(self, teams: TeamsSettings) -> None:
        self._token = BotToken(teams)
        self._http: aiohttp.ClientSession | None = None
        self._service_urls = ServiceUrls(teams)

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=TIMEOUT)
        return self._http

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._http is not None:
            await self._http.close()

    async def send(self, service_url: str, conversation: str, activity: dict[str, Any]) -> str:
        """POST an activity to a conversation; its id (PostedWithoutId when the answer has
        none)."""
        url = (
            f"{self._base(service_url)}/v3/conversations/{quote(conversation, safe='')}/activities"
        )
        data = await self._call("POST", url, activity)
        activity_id = data.get("id")
        if not isinstance(activity_id, str) or not activity_id:
            # Accepted (2xx) and shown, but no id to update it by (the outbox decides).
            raise PostedWithoutId(f"teams answered {conversation[:80]} without an activity id")
        return activity_id

    async def update(
        self, service_url: str, conversation: str, activity_id: str, activity: dict[str, Any]
    ) -> None:
        """PUT a new version of an activity (a card updated in place)."""
        url = (
            f"{self._base(service_url)}/v3/conversations/{quote(conversation, safe='')}"
            f"/activities/{quote(activity_id, safe='')}"
        )
        await self._call("PUT", url, {**activity, "id": activity_id})

    async def create_personal(
        self, service_url: str, tenant_id: str, bot_id: str, user_id: str
    ) -> str:
        """Open the 1:1 conversation of the bot with a person; its id."""
        body = protocol.personal_conversation(bot_id, user_id, tenant_id)
        data = await self._call("POST", f"{self._base(service_url)}/v3/conversations", body)
        conversation = data.get("id")
        if not conversation:
            raise RetryLater("teams: the new conversation has no id")
        return str(conversation)

    async def member(self, service_url: str, conversation: str, user_id: str) -> dict[str, Any]:
        """One member of a conversation (their AAD object id and name), by Teams user id."""
        url = (
            f"{self._base(service_url)}/v3/conversations/"
            f"{quote(conversation.split(';')[0], safe='')}/members/{quote(user_id, safe='')}"
        )
        return await self._call("GET", url, None)

    async def roster_size(self, service_url: str, conversation: str, page_size: int = 500) -> int:
        """How many people are in a team, channel or chat: the paged members call, page by
        page (Teams serves at most 500 per page and has deprecated the unpaged call,
        https://learn.microsoft.com/microsoftteams/platform/bots/how-to/get-teams-context).
        Bots are not counted (their entries have no AAD object id)."""
        # A channel thread's id names its root message; the roster is the channel's.
        url = (
            f"{self._base(service_url)}/v3/conversations/"
            f"{quote(conversation.split(';')[0], safe='')}/pagedmembers"
        )
        count, token = 0, ""
        while True:
            params = {"pageSize": str(page_size)}
            if token:
                params["continuationToken"] = token
            data = await self._call("GET", url, None, params=params)
            members = data.get("members")
            if isinstance(members, list):
                count += sum(1 for m in members if isinstance(m, dict) and m.get("aadObjectId"))
            token = str(data.get("continuationToken") or "")
            if not token:
                return count

    def _base(self, service_url: str) -> str:
        # Checked before every call: the bot's token goes with it (service_urls.py).
        if not self._service_urls.trusted(service_url):
            raise PermanentFailure("teams: the conversation's service URL is not trusted")
        return service_url.rstrip("/")

    async def _call(
        self,
        method: str,
        url: str,
        body: dict[str, Any] | None,
        params: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        http = self._session()
        headers = await self._token.header(http)
        try:
            async with http.request(
                method, url, json=body, params=params, headers=headers
            ) as response:
                data = await response.json(content_type=None) if response.content_length else {}
                status = response.status
                retry_after = response.headers.get("Retry-After")
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise RetryLater(f"teams unreachable: {type(exc).__name__}") from None
        except ValueError:
            data, status, retry_after = {}, 502, None
        if 200 <= status < 300:
            return data if isinstance(data, dict) else {}
        code = _error_code(data)
        if status in RETRY_STATUSES:
            reason = f"teams {status} {code}".strip()
            raise RetryLater(reason, _seconds(retry_after), throttled=status == 429)
        if status in (403, 404) and (code in GONE_CODES or status == 404):
            raise PermanentFailure(f"teams: {code or 'not found'} (the bot was removed?)")
        if status == 401:
            raise RetryLater("teams 401: token refused")
        raise PermanentFailure(f"teams {status} {code}".strip())


def _error_code(data: Any) -> str:
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        return str(data["error"].get("code", ""))
    return ""


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
