"""Drains the outbox through each platform's sender, with retries and backoff.

Rules it keeps:
- nothing is dropped silently: a message that keeps failing is parked as
  "failed" with its last error, logged at ERROR, and kept in the table;
- a 429's Retry-After is honoured (Slack: https://docs.slack.dev/apis/web-api/rate-limits,
  Teams: https://learn.microsoft.com/microsoftteams/platform/bots/how-to/rate-limit);
- messages are claimed with a lease, so several replicas never send the same row
  at the same time and a crashed sender's rows become due again;
- bursts of edits of the same card are coalesced: only the newest is sent;
- a post the platform accepted without saying its id (PostedWithoutId) is never a silent
  failure later: a live message (`refresh`: the join card, a contribution's post, a
  badge celebration — edited in place later) is posted again once, since an edit needs
  the id (the first copy stays as it was: an accepted post cannot be taken back without
  its id), and parked with the reason if the second post has no id either; any other
  message is shown and needs no id, so it is recorded as sent (no duplicate), with a
  warning, and a reply meant for its thread goes unthreaded;
- messages to one target go in order, one after the other; different targets are sent
  side by side (at most SEND_CONCURRENCY at once);
- two lanes, each its own loop: the urgent one sends the replies to people's own requests
  (`Outbox.reply`), the other everything else, so that an answer never waits behind a
  fan-out of paced DMs or card edits (issue 18: a pacer may sleep up to two seconds).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import logs, tasks
from bot.clock import Clock
from bot.core.replies import OutboundMessage
from bot.outbox.delivery import (
    NotNow,
    PermanentFailure,
    PlatformSender,
    PostedWithoutId,
    RetryLater,
)
from bot.settings import OutboxSettings
from storage import outbox_store
from storage.models import OutboxMessage, Workspace
from storage.outbox_store import Outcome
from storage.vocabulary import OutboxKind, OutboxStatus

log = logging.getLogger(__name__)

Refresher = Callable[[AsyncSession, dict[str, Any]], Awaitable[OutboundMessage | None]]
BATCH = 50
# Targets sent to side by side within a batch (each target's messages stay in order).
SEND_CONCURRENCY = 16
# An edit waits this long when the message it edits has not been posted yet.
WAIT_FOR_ORIGINAL = timedelta(seconds=1)
# How the error of a post accepted without an id begins (its second time parks it).
WITHOUT_ID = "posted without an id"


class _NotPostedYet(Exception):
    """The post an edit or a reply refers to has not been sent yet."""


class OutboxSender:
    """One background task per process that sends due outbox messages."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        clock: Clock,
        settings: OutboxSettings,
    ) -> None:
        self._db_sessions = session_factory
        self._clock = clock
        self._settings = settings
        self._senders: dict[str, PlatformSender] = {}
        self._refreshers: dict[str, Refresher] = {}
        self._workspaces: dict[int, str] = {}
        self._lanes = [
            tasks.WorkLoop(
                name,
                lambda urgent=urgent: self._lane(urgent),  # type: ignore[misc]
                lambda: settings.poll_interval,
                log,
                "outbox_loop_failed",
            )
            for name, urgent in (("outbox-urgent", True), ("outbox-sender", False))
        ]

    def register_platform(self, platform: str, sender: PlatformSender) -> None:
        """Route messages of `platform` to `sender`."""
        self._senders[platform] = sender

    def register_refresher(self, name: str, refresher: Refresher) -> None:
        """Let messages name `refresher` to rebuild their content from the database at send time."""
        self._refreshers[name] = refresher

    def wake(self) -> None:
        """Look for due messages now (called after a transaction that enqueued some commits)."""
        for lane in self._lanes:
            lane.wake()

    def start(self) -> None:
        """Start the background loops (one per lane)."""
        for lane in self._lanes:
            lane.start()

    async def stop(self) -> None:
        """Stop the loops; unsent messages stay in the table for the next start."""
        for lane in self._lanes:
            await lane.stop()

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
        """One batch of each lane, the urgent one first; the count of messages handled."""
        return await self._lane(True) + await self._lane(False)

    async def _lane(self, urgent: bool) -> int:
        """Claim one batch of due messages of a lane, send each, record the outcomes; return
        the count.

        Outcomes are written once per batch: a crash before that write only means the
        batch is sent again when its lease runs out (at-least-once, never lost).
        """
        now = self._clock.now()
        async with self._db_sessions() as db, db.begin():
            lease = timedelta(seconds=self._settings.lease_seconds)
            batch = await outbox_store.claim_due(db, now, lease, BATCH, urgent=urgent)
        if not batch:
            return 0
        newest: dict[str, int] = {}
        for message in batch:
            if message.coalesce_key:
                newest[message.coalesce_key] = max(newest.get(message.coalesce_key, 0), message.id)
        posted: dict[str, str] = {}  # idempotency key → platform id, for edits in this batch
        outcomes: list[Outcome] = []
        by_target: dict[str, list[OutboxMessage]] = {}
        for message in batch:
            if message.coalesce_key and newest[message.coalesce_key] != message.id:
                outcomes.append(Outcome(message.id, OutboxStatus.SUPERSEDED))
            else:
                by_target.setdefault(message.target, []).append(message)
        slots = asyncio.Semaphore(SEND_CONCURRENCY)

        async def send_in_order(messages: list[OutboxMessage]) -> None:
            async with slots:
                for message in messages:
                    outcome = await self._send(message, posted)
                    if (
                        outcome.status == OutboxStatus.SENT
                        and outcome.platform_message_id
                        and message.kind == OutboxKind.POST
                    ):
                        posted[message.idempotency_key] = outcome.platform_message_id
                    outcomes.append(outcome)

        await asyncio.gather(*(send_in_order(group) for group in by_target.values()))
        async with self._db_sessions() as db, db.begin():
            await outbox_store.record(db, outcomes, self._clock.now())
        return len(batch)

    async def _send(self, message: OutboxMessage, posted: dict[str, str]) -> Outcome:
        now = self._clock.now()
        try:
            sender = self._senders.get(message.platform)
            if sender is None:
                raise RetryLater(f"no sender configured for platform {message.platform}")
            content, workspace, original_id = await self._prepare(message, posted)
            if message.kind == OutboxKind.UPDATE:
                if original_id is None:
                    raise _NotPostedYet(message.update_of or "")
                await sender.update(workspace, message.target, original_id, content)
                platform_id = original_id
            else:
                platform_id = await sender.post(
                    workspace, message.target, content, key=message.idempotency_key
                )
        except _NotPostedYet as exc:
            # Edits and thread replies wait for the post they refer to (not an attempt).
            return _postpone(message, f"waiting for {exc}", now + WAIT_FOR_ORIGINAL)
        except NotNow as exc:
            # Pacing (one message per second per Slack channel…): no attempt is used up.
            return _postpone(message, str(exc), now + timedelta(seconds=exc.after))
        except RetryLater as exc:
            if exc.throttled:  # a rate limit: wait as told, no attempt used
                delay = (exc.retry_after or 1.0) * random.uniform(1.0, 1.2)
                return _postpone(message, str(exc), now + timedelta(seconds=delay))
            return self._retry(message, now, str(exc), exc.retry_after)
        except PermanentFailure as exc:
            return self._park(message, str(exc))
        except PostedWithoutId as exc:
            return self._without_id(message, now, str(exc))
        except Exception as exc:
            log.exception("outbox_send_error", extra={"outbox_key": message.idempotency_key})
            # The row keeps the message for operators; the log line only what is safe.
            error = f"{type(exc).__name__}: {exc}"
            return self._retry(message, now, error, None, logged=logs.describe(exc))
        log.info(
            "outbox_sent",
            extra={"platform": message.platform, "outbox_key": message.idempotency_key},
        )
        return Outcome(message.id, OutboxStatus.SENT, platform_message_id=platform_id)

    async def _prepare(
        self, message: OutboxMessage, posted: dict[str, str]
    ) -> tuple[OutboundMessage, str, str | None]:
        """The content to send, the workspace's platform id, and the id of the post to edit.

        `posted` holds the posts sent earlier in this batch (not yet recorded).
        """
        content = OutboundMessage.from_json(message.payload)
        workspace = self._workspaces.get(message.workspace_id)
        original_id = (
            posted.get(message.update_of or "") if message.kind == OutboxKind.UPDATE else None
        )
        needs_original = message.kind == OutboxKind.UPDATE and original_id is None
        simple = not (message.refresh or content.in_reply_to or needs_original)
        if simple and workspace is not None:
            return content, workspace, original_id
        async with self._db_sessions() as db:
            if message.refresh:
                refresher = self._refreshers.get(str(message.refresh.get("name")))
                fresh = await refresher(db, message.refresh) if refresher else None
                content = fresh or content
            if workspace is None:
                found = await db.get(Workspace, message.workspace_id)
                workspace = self._workspaces[message.workspace_id] = (
                    found.external_id if found else ""
                )
            if needs_original and message.update_of:
                original = await outbox_store.platform_id_of(db, message.update_of)
                if original is None or original[0] in (
                    OutboxStatus.FAILED,
                    OutboxStatus.SUPERSEDED,
                ):
                    raise PermanentFailure(
                        f"the message to edit ({message.update_of}) was never posted"
                    )
                if original[0] != OutboxStatus.PENDING and not original[1]:
                    raise PermanentFailure(
                        f"the message to edit ({message.update_of}) was {WITHOUT_ID}"
                    )
                original_id = original[1]
            if content.in_reply_to:
                thread = posted.get(content.in_reply_to) or await self._thread_id(
                    db, content.in_reply_to
                )
                content = replace(content, in_reply_to=thread)
        return content, workspace, original_id

    async def _thread_id(self, db: AsyncSession, key: str) -> str | None:
        """The platform id of the post a reply belongs under (None: post it unthreaded)."""
        found = await outbox_store.platform_id_of(db, key)
        if found is None or found[0] in (OutboxStatus.FAILED, OutboxStatus.SUPERSEDED):
            return None
        if found[1] is None and found[0] == OutboxStatus.PENDING:
            raise _NotPostedYet(key)
        return found[1] or None  # posted without an id: unthreaded

    def _without_id(self, message: OutboxMessage, now: datetime, reason: str) -> Outcome:
        """A post shown but answered without its id (the policy in the module's docstring)."""
        if message.refresh is None:
            log.warning(
                "outbox_sent_without_id",
                extra={"platform": message.platform, "outbox_key": message.idempotency_key},
            )
            return Outcome(message.id, OutboxStatus.SENT)
        if (message.last_error or "").startswith(WITHOUT_ID):
            return self._park(
                message,
                f"{WITHOUT_ID} twice ({reason}): this live message cannot be edited in place",
            )
        return self._retry(message, now, f"{WITHOUT_ID} ({reason}): posting it again once", None)

    def _retry(
        self,
        message: OutboxMessage,
        now: datetime,
        error: str,
        retry_after: float | None,
        logged: str | None = None,
    ) -> Outcome:
        attempts = message.attempts + 1
        if attempts >= self._settings.max_attempts:
            return self._park(message, error, logged)
        backoff = min(self._settings.backoff_base * 2 ** (attempts - 1), self._settings.backoff_cap)
        # Jitter spreads retries of many messages so they do not hit the platform together.
        delay = max(retry_after or 0.0, backoff * random.uniform(0.8, 1.2))
        log.warning(
            "outbox_retry",
            extra={
                "platform": message.platform,
                "outbox_key": message.idempotency_key,
                "attempt": attempts,
                "delay_s": round(delay, 2),
                "error": (logged or error)[:200],
            },
        )
        return Outcome(
            message.id,
            OutboxStatus.PENDING,
            error=error,
            attempts=attempts,
            next_attempt_at=now + timedelta(seconds=delay),
        )

    def _park(self, message: OutboxMessage, error: str, logged: str | None = None) -> Outcome:
        log.error(
            "outbox_failed",
            extra={
                "platform": message.platform,
                "outbox_key": message.idempotency_key,
                "error": (logged or error)[:200],
            },
        )
        return Outcome(message.id, OutboxStatus.FAILED, error=error)


def _postpone(message: OutboxMessage, reason: str, until: datetime) -> Outcome:
    """Send `message` at `until`, keeping its attempts: waiting is not failing."""
    return Outcome(
        message.id,
        OutboxStatus.PENDING,
        error=reason,
        attempts=message.attempts,
        next_attempt_at=until,
    )
