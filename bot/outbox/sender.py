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
  fan-out of paced DMs or card edits (issue 18: a pacer may sleep up to two seconds);
- the posts a transaction of this process enqueued are handed over when it commits,
  already leased to this sender (bot/outbox/handoff.py), and sent without a claim; a claim
  finds the rest (edits, coalesced messages, retries, what pacing turned away, what other
  processes enqueued), when told there is some (at most every CLAIM_SPACING seconds), or
  every poll interval. A held row is never claimed by this sender (its lease), one whose
  lease is more than half gone before its send is given back to the claims, and beyond
  MAX_HELD rows held new ones go to the claims;
- outcomes are written in batches (bot/outbox/recording.py), and at a stop, with the
  leases of the rows held but not sent given back.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
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
from bot.outbox.recording import Recorder
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
# Rows held (handed over or claimed, not sent yet) beyond which new ones go to the claims.
MAX_HELD = 1000
# Seconds between two claims of a lane told of unleased rows (a card's edits at 50 joins/s
# need not cost a claim each: the edits of one card coalesce anyway); the urgent lane's
# rows are replies, hence its shorter spacing.
CLAIM_SPACING = {True: 0.05, False: 0.25}
# Posts whose platform id is remembered for the edits and thread replies that follow them
# (their outcome may not be written yet).
RECENT_POSTS = 4096


class _NotPostedYet(Exception):
    """The post an edit or a reply refers to has not been sent yet."""


@dataclass
class _Lane:
    """One lane's loop, the rows handed to it, and when it last claimed."""

    urgent: bool
    loop: tasks.WorkLoop | None = None
    handed: deque[OutboxMessage] = field(default_factory=deque)
    wanted: bool = True  # unleased rows were committed: claim soon
    claimed_at: float = float("-inf")  # time.monotonic() of its last claim
    full: bool = False  # its last claim took a whole batch: more is due
    timer: asyncio.TimerHandle | None = None


class OutboxSender:
    """One background task per lane and process that sends due outbox messages; the
    process's outbox handoff (bot/outbox/handoff.py `Handoff`)."""

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
        self._running = False
        # Rows leased to this sender (handed over or claimed) without an outcome yet, and
        # those of them being sent now.
        self._holding: dict[int, OutboxMessage] = {}
        self._sending: set[int] = set()
        self._posted: dict[str, str] = {}  # outbox key → platform id, the newest posts
        self._recorder = Recorder(session_factory, clock)
        self._lanes = {urgent: _Lane(urgent) for urgent in (True, False)}
        for name, urgent in (("outbox-urgent", True), ("outbox-sender", False)):
            lane = self._lanes[urgent]
            lane.loop = tasks.WorkLoop(
                name,
                lambda lane=lane: self._round(lane),  # type: ignore[misc]
                lambda lane=lane: self._until_poll(lane),  # type: ignore[misc]
                log,
                "outbox_loop_failed",
            )

    def register_platform(self, platform: str, sender: PlatformSender) -> None:
        """Route messages of `platform` to `sender`."""
        self._senders[platform] = sender

    def register_refresher(self, name: str, refresher: Refresher) -> None:
        """Let messages name `refresher` to rebuild their content from the database at send time."""
        self._refreshers[name] = refresher

    def wake(self) -> None:
        """Claim due messages now, in both lanes (work was done that may have enqueued some)."""
        for urgent in self._lanes:
            self.poll(urgent)

    # --- the Handoff (bot/outbox/handoff.py) ---------------------------------------------

    def lease_until(self, now: datetime, platform: str) -> datetime | None:
        """A lease for a row being enqueued `now`, while this sender runs, can send to
        `platform` and holds fewer than MAX_HELD rows; else None (the claims find it)."""
        if not self._running or platform not in self._senders or len(self._holding) >= MAX_HELD:
            return None
        return now + timedelta(seconds=self._settings.lease_seconds)

    def take(self, rows: list[OutboxMessage]) -> None:
        """Send these rows, committed leased to this sender, without claiming them."""
        if not self._running:  # stopped while their transaction committed: give them back
            self._recorder.release([row.id for row in rows])
            return
        for row in rows:
            self._holding[row.id] = row
            lane = self._lanes[bool(row.urgent)]
            lane.handed.append(row)
            assert lane.loop is not None
            lane.loop.wake()

    def poll(self, urgent: bool) -> None:
        """Unleased rows of a lane were committed: claim them soon (CLAIM_SPACING)."""
        lane = self._lanes[urgent]
        lane.wanted = True
        assert lane.loop is not None
        lane.loop.wake()

    def start(self) -> None:
        """Start the background loops (one per lane); rows are handed over from now on."""
        self._running = True
        for lane in self._lanes.values():
            assert lane.loop is not None
            lane.loop.start()

    async def stop(self) -> None:
        """Stop the loops, write the outcomes waiting and give back the leases of the rows
        held but not sent (any sender claims them at once). A row being sent when stopped
        keeps its lease: it may have gone, and is sent again only once that runs out."""
        self._running = False
        for lane in self._lanes.values():
            if lane.timer is not None:
                lane.timer.cancel()
                lane.timer = None
            assert lane.loop is not None
            await lane.loop.stop()
            lane.handed.clear()
        self._recorder.release([i for i in self._holding if i not in self._sending])
        self._holding.clear()
        self._sending.clear()
        await self._recorder.close()

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
        """One batch of each lane, the urgent one first, claims included, its outcomes
        written; the count of messages handled."""
        handled = await self._round(self._lanes[True], claim=True)
        handled += await self._round(self._lanes[False], claim=True)
        await self._recorder.flush()
        return handled

    def _until_poll(self, lane: _Lane) -> float:
        """Seconds until the lane's next claim is due without being told (its poll)."""
        return max(0.01, lane.claimed_at + self._settings.poll_interval - time.monotonic())

    def _claim_due(self, lane: _Lane) -> bool:
        """Whether this round of `lane` claims: a poll is due, it was told of unleased rows
        (CLAIM_SPACING after its last claim: a wake-up is set for then), or its last claim
        was full."""
        since = time.monotonic() - lane.claimed_at
        if lane.full or since >= self._settings.poll_interval:
            return True
        if not lane.wanted:
            return False
        wait = CLAIM_SPACING[lane.urgent] - since
        if wait <= 0:
            return True
        if lane.timer is None and lane.loop is not None:
            lane.timer = asyncio.get_running_loop().call_later(wait, self._claim_later, lane)
        return False

    def _claim_later(self, lane: _Lane) -> None:
        lane.timer = None
        if lane.loop is not None:
            lane.loop.wake()

    async def _handed_batch(self, lane: _Lane) -> list[OutboxMessage]:
        """Up to a batch of the rows handed to `lane`, each still held with more than half
        its lease left; one with less is given back to the claims (at once, and the lane
        claims next): sent as its lease runs out, it might be claimed and sent again."""
        now = self._clock.now()
        half = timedelta(seconds=self._settings.lease_seconds / 2)
        batch: list[OutboxMessage] = []
        late: list[int] = []
        while lane.handed and len(batch) < BATCH:
            row = lane.handed.popleft()
            if self._holding.get(row.id) is not row:
                continue  # claimed meanwhile (its lease ran out), and sent from that claim
            if row.claimed_until is None or row.claimed_until - now <= half:
                del self._holding[row.id]
                late.append(row.id)
                continue
            batch.append(row)
        if late:
            log.warning("outbox_handoff_late", extra={"messages": len(late)})
            self._recorder.release(late)
            await self._recorder.flush()
            lane.wanted, lane.claimed_at = True, float("-inf")
        return batch

    async def _claimed_batch(self, lane: _Lane, taken: set[int]) -> list[OutboxMessage]:
        """A claim of due rows of `lane` (none of them this sender's held rows, whose leases
        keep them out, unless one ran out; then the claimed copy replaces the held one, and
        a row being sent is not sent twice)."""
        now = self._clock.now()
        async with self._db_sessions() as db, db.begin():
            lease = timedelta(seconds=self._settings.lease_seconds)
            claimed = await outbox_store.claim_due(db, now, lease, BATCH, urgent=lane.urgent)
        lane.wanted, lane.claimed_at, lane.full = False, time.monotonic(), len(claimed) == BATCH
        fresh = []
        for row in claimed:
            if row.id in taken or row.id in self._sending:
                continue
            self._holding[row.id] = row
            fresh.append(row)
        return fresh

    async def _round(self, lane: _Lane, claim: bool = False) -> int:
        """Send the rows handed to a lane and, when due (or `claim`), a claim's; each
        outcome goes to the recorder. The count of rows handled."""
        batch = await self._handed_batch(lane)
        if claim or self._claim_due(lane):
            try:
                batch += await self._claimed_batch(lane, {row.id for row in batch})
            except Exception:
                lane.handed.extendleft(reversed(batch))  # kept for the next round
                raise
        if not batch:
            return 0
        batch.sort(key=lambda row: row.id)  # per target, in the order they were enqueued
        newest: dict[str, int] = {}
        for message in batch:
            if message.coalesce_key:
                newest[message.coalesce_key] = max(newest.get(message.coalesce_key, 0), message.id)
        by_target: dict[str, list[OutboxMessage]] = {}
        for message in batch:
            if message.coalesce_key and newest[message.coalesce_key] != message.id:
                self._finish(message, Outcome(message.id, OutboxStatus.SUPERSEDED))
            else:
                by_target.setdefault(message.target, []).append(message)
        slots = asyncio.Semaphore(SEND_CONCURRENCY)

        async def send_in_order(messages: list[OutboxMessage]) -> None:
            async with slots:
                for message in messages:
                    self._sending.add(message.id)
                    self._finish(message, await self._send(message, self._posted))

        await asyncio.gather(*(send_in_order(group) for group in by_target.values()))
        return len(batch)

    def _finish(self, message: OutboxMessage, outcome: Outcome) -> None:
        """`message` is done with for now: its outcome goes to the recorder; a post's
        platform id is remembered for the edits and replies that follow it."""
        self._holding.pop(message.id, None)
        self._sending.discard(message.id)
        self._recorder.add(outcome)
        if (
            outcome.status == OutboxStatus.SENT
            and outcome.platform_message_id
            and message.kind == OutboxKind.POST
        ):
            self._posted[message.idempotency_key] = outcome.platform_message_id
            if len(self._posted) > RECENT_POSTS:
                del self._posted[next(iter(self._posted))]

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

        `posted` holds the posts this sender sent lately (their outcome may not be written).
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
