"""Is this request really from the Bot Connector, for this bot? (Teams inbound auth.)

The Bot Connector signs a JWT per request
(https://learn.microsoft.com/azure/bot-service/rest-api/bot-framework-rest-connector-authentication):
RS256 with a key published in Bot Framework's OpenID metadata, issuer
`https://api.botframework.com`, audience the bot's Microsoft App ID, valid now (five
minutes of clock skew allowed), the key endorsed for the activity's channel (`msteams`), and
a `serviceurl` claim equal to the activity's serviceUrl (so a stolen token cannot redirect
the bot's answers). Checked with PyJWT; the metadata and keys are fetched with aiohttp
(never blocking the event loop) and kept a day, refetched at once for an unknown key id.
When the metadata cannot be fetched, the request is refused as unavailable (503), never
accepted.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import jwt

ISSUER = "https://api.botframework.com"
LEEWAY_SECONDS = 300
KEYS_FOR_SECONDS = 24 * 3600
REFETCH_AT_MOST_EVERY = 60.0
TIMEOUT = aiohttp.ClientTimeout(total=10)


class IdentityUnavailable(Exception):
    """Bot Framework's keys could not be fetched: refuse the request as unavailable."""


class BotFrameworkAuth:
    """Checks the Authorization header of an activity against Bot Framework's keys."""

    def __init__(self, app_id: str, openid_url: str) -> None:
        self._app_id = app_id
        self._openid_url = openid_url
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def problem(self, authorization: str, activity: dict[str, Any]) -> str | None:
        """Why the request must be refused (401), or None when it is genuine.

        Raises IdentityUnavailable when the keys cannot be fetched (503)."""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return "no bearer token"
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return "not a JWT"
        if header.get("alg") != "RS256":
            return "unexpected signing algorithm"
        key = await self._key(str(header.get("kid", "")))
        if key is None:
            return "unknown signing key"
        channel = str(activity.get("channelId", ""))
        endorsements = key.get("endorsements")
        if isinstance(endorsements, list) and channel not in endorsements:
            return f"the key is not endorsed for channel {channel!r}"
        try:
            claims = jwt.decode(
                token,
                jwt.PyJWK.from_dict(key).key,
                algorithms=["RS256"],
                audience=self._app_id,
                issuer=ISSUER,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            return f"invalid token: {type(exc).__name__}"
        service_url = str(activity.get("serviceUrl", ""))
        if str(claims.get("serviceurl", "")).rstrip("/") != service_url.rstrip("/"):
            return "the token is for another service URL"
        return None

    async def _key(self, kid: str) -> dict[str, Any] | None:
        stale = time.monotonic() - self._fetched_at > KEYS_FOR_SECONDS
        unknown = kid not in self._keys
        recently = time.monotonic() - self._fetched_at < REFETCH_AT_MOST_EVERY
        if stale or (unknown and not recently):
            async with self._lock:
                await self._fetch()
        return self._keys.get(kid)

    async def _fetch(self) -> None:
        try:
            async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
                async with http.get(self._openid_url) as response:
                    metadata = json.loads(await response.text())
                async with http.get(str(metadata["jwks_uri"])) as response:
                    keys = json.loads(await response.text())["keys"]
        except (TimeoutError, aiohttp.ClientError, ValueError, KeyError, TypeError) as exc:
            if not self._keys:
                raise IdentityUnavailable(type(exc).__name__) from None
            # Keep the keys we have; try again in a minute, not on every request.
            self._fetched_at = time.monotonic() - KEYS_FOR_SECONDS + REFETCH_AT_MOST_EVERY
            return
        self._keys = {str(key.get("kid")): key for key in keys if isinstance(key, dict)}
        self._fetched_at = time.monotonic()
