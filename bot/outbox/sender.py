"""Drains the outbox through each platform's sender, with retries and backoff.

Rules it keeps:
- nothing is dropped silently: a message that keeps failing is parked as
  "failed" with its last error, logged at ERROR, and kept in the table;
- a 429's Retry-After is honoured (Slack: https://docs.slack.dev/apis/web-api/rate-limits,
  Teams: https://learn.microsoft.com/microsoftteams/platform/bots/how-to/rate-limit);
- messages are claimed with a lease, so several replicas never send the same row
  at the same time and a crashed sender's rows become due again;
- bursts of edits of the same card are coalesced: only the newest is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.core.replies import OutboundMessage
from bot.outbox.delivery import PermanentFailure, PlatformSender, RetryLater
from bot.settings import OutboxSettings
from storage import outbox_store
from storage.models import OutboxMessage, Workspace

log = logging.getLogger(__name__)

Refresher = Callable[[AsyncSession, dict[str, Any]], Awaitable[OutboundMessage | None]]
LEASE = timedelta(seconds=60)
BATCH = 50
# An edit waits this long when the message it edits has not been posted yet.
WAIT_FOR_ORIGINAL = timedelta(seconds=1)


class OutboxSender:
    """One background task per process that sends due outbox messages."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        clock: Clock,
        settings: OutboxSettings,
    ) -> None:
        self._sessions = session_factory
        self._clock = clock
        self._settings = settings
        self._senders: dict[str, PlatformSender] = {}
        self._refreshers: dict[str, Refresher] = {}
        self._workspaces: dict[int, str] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def register_platform(self, platform: str, sender: PlatformSender) -> None:
        """Route messages of `platform` to `sender`."""
        self._senders[platform] = sender

    def register_refresher(self, name: str, refresher: Refresher) -> None:
        """Let messages name `refresher` to rebuild their content from the database at send time."""
        self._refreshers[name] = refresher

    def wake(self) -> None:
        """Look for due messages now (called after a transaction that enqueued some commits)."""
        self._wake.set()

    def start(self) -> None:
        """Start the background loop."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="outbox-sender")

    async def stop(self) -> None:
        """Stop the loop; unsent messages stay in the table for the next start."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            try:
                processed = await self.run_once()
            except Exception:  # the loop must survive a database outage
                log.exception("outbox_loop_failed")
                processed = 0
            if processed:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._settings.poll_interval)

    async def drain(self, max_rounds: int = 100) -> int:
        """Send everything due now (tests and the clock's "run what became due")."""
        total = 0
        for _ in range(max_rounds):
            processed = await self.run_once()
            if not processed:
                break
            total += processed
        return total

    async def run_once(self) -> int:
        """Claim one batch of due messages and handle each; return how many were handled."""
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            batch = await outbox_store.claim_due(session, now, LEASE, BATCH)
        for message in batch:
            await self._handle(message)
        return len(batch)

    async def _handle(self, message: OutboxMessage) -> None:
        now = self._clock.now()
        try:
            async with self._sessions() as session, session.begin():
                if message.kind == "update" and await outbox_store.newer_pending_exists(
                    session, message
                ):
                    await outbox_store.finish(session, message.id, status="superseded", now=now)
                    return
                content = await self._content(session, message)
                original_id = await self._original_id(session, message)
                workspace = await self._workspace(session, message.workspace_id)
            sender = self._senders.get(message.platform)
            if sender is None:
                raise RetryLater(f"no sender configured for platform {message.platform}")
            if message.kind == "update":
                if original_id is None:
                    await self._defer(message, now + WAIT_FOR_ORIGINAL)
                    return
                await sender.update(workspace, message.target, original_id, content)
                platform_id = original_id
            else:
                platform_id = await sender.post(workspace, message.target, content)
        except RetryLater as exc:
            await self._retry(message, now, str(exc), exc.retry_after)
            return
        except PermanentFailure as exc:
            await self._park(message, now, str(exc))
            return
        except Exception as exc:
            log.exception("outbox_send_error", extra={"outbox_key": message.idempotency_key})
            await self._retry(message, now, f"{type(exc).__name__}: {exc}", None)
            return
        async with self._sessions() as session, session.begin():
            await outbox_store.finish(
                session, message.id, status="sent", now=now, platform_message_id=platform_id
            )
        log.info(
            "outbox_sent",
            extra={"platform": message.platform, "outbox_key": message.idempotency_key},
        )

    async def _content(self, session: AsyncSession, message: OutboxMessage) -> OutboundMessage:
        if message.refresh:
            refresher = self._refreshers.get(str(message.refresh.get("name")))
            if refresher is not None:
                fresh = await refresher(session, message.refresh)
                if fresh is not None:
                    return fresh
        return OutboundMessage.from_json(message.payload)

    async def _original_id(self, session: AsyncSession, message: OutboxMessage) -> str | None:
        if message.kind != "update" or not message.update_of:
            return None
        original = await outbox_store.by_key(session, message.update_of)
        if original is None or original.status in ("failed", "superseded"):
            raise PermanentFailure(f"the message to edit ({message.update_of}) was never posted")
        return original.platform_message_id

    async def _workspace(self, session: AsyncSession, workspace_id: int) -> str:
        cached = self._workspaces.get(workspace_id)
        if cached is None:
            workspace = await session.get(Workspace, workspace_id)
            cached = workspace.external_id if workspace else ""
            self._workspaces[workspace_id] = cached
        return cached

    async def _defer(self, message: OutboxMessage, when: datetime) -> None:
        async with self._sessions() as session, session.begin():
            await outbox_store.retry_later(
                session, message.id, message.attempts, when, "waiting for the original post"
            )

    async def _retry(
        self, message: OutboxMessage, now: datetime, error: str, retry_after: float | None
    ) -> None:
        attempts = message.attempts + 1
        if attempts >= self._settings.max_attempts:
            await self._park(message, now, error)
            return
        backoff = min(self._settings.backoff_base * 2 ** (attempts - 1), self._settings.backoff_cap)
        # Jitter spreads retries of many messages so they do not hit the platform together.
        delay = max(retry_after or 0.0, backoff * random.uniform(0.8, 1.2))
        async with self._sessions() as session, session.begin():
            await outbox_store.retry_later(
                session, message.id, attempts, now + timedelta(seconds=delay), error
            )
        log.warning(
            "outbox_retry",
            extra={
                "platform": message.platform,
                "outbox_key": message.idempotency_key,
                "attempt": attempts,
                "delay_s": round(delay, 2),
                "error": error[:200],
            },
        )

    async def _park(self, message: OutboxMessage, now: datetime, error: str) -> None:
        async with self._sessions() as session, session.begin():
            await outbox_store.finish(session, message.id, status="failed", now=now, error=error)
        log.error(
            "outbox_failed",
            extra={
                "platform": message.platform,
                "outbox_key": message.idempotency_key,
                "error": error[:200],
            },
        )
