"""OAuth `state` values that any replica can check, each usable once.

A state is `<nonce>.<expiry>.<HMAC-SHA256 of both with SLACK_STATE_SECRET>`: any replica
verifies it without shared memory, and consuming it records the nonce in the database
(replay_key), so a replayed callback is refused
(https://api.slack.com/authentication/oauth-v2#asking, the `state` parameter).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time

from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from storage import replay_keys

log = logging.getLogger(__name__)

LIFETIME_SECONDS = 600


class SignedStateStore(AsyncOAuthStateStore):
    """Issues signed, expiring states; consumes each once (recorded in the database)."""

    def __init__(
        self, secret: str, db_sessions: async_sessionmaker[AsyncSession], clock: Clock
    ) -> None:
        self._secret = secret.encode()
        self._db_sessions = db_sessions
        self._clock = clock

    @property
    def logger(self) -> logging.Logger:
        return log

    def _sign(self, payload: str) -> str:
        return hmac.new(self._secret, payload.encode(), hashlib.sha256).hexdigest()

    async def async_issue(self, *args: object, **kwargs: object) -> str:
        """A new state for one installation attempt."""
        payload = f"{secrets.token_urlsafe(16)}.{int(time.time()) + LIFETIME_SECONDS}"
        return f"{payload}.{self._sign(payload)}"

    async def async_consume(self, state: str) -> bool:
        """True once for a state this app issued and that has not expired."""
        nonce, _, rest = state.partition(".")
        expiry, _, signature = rest.partition(".")
        if not nonce or not expiry.isdigit() or not signature:
            return False
        if not hmac.compare_digest(signature, self._sign(f"{nonce}.{expiry}")):
            return False
        if int(expiry) < time.time():
            return False
        async with self._db_sessions() as db, db.begin():
            key = f"slack-oauth-state:{nonce}"
            return await replay_keys.first_time(db, key, self._clock.now())
