"""Spacing requests to a platform so that its rate limits are met before they are hit.

A generic cell rate algorithm per key: at most `per_second` requests per second on
average, `burst` of them back to back. Slack allows about one message per second per
channel with short bursts, and a workspace-wide rate on top
(https://docs.slack.dev/apis/web-api/rate-limits); Teams 7 per second per conversation
and 50 per second per tenant
(https://learn.microsoft.com/microsoftteams/platform/bots/how-to/rate-limit).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Hashable

from bot.outbox.delivery import NotNow

# Keys whose schedule is this far in the past are forgotten (a fan-out to 100,000 DM
# channels must not keep 100,000 entries forever).
_FORGET_AFTER = 60.0


class Pacer:
    """When the next request for a key may go, given a rate and a burst."""

    def __init__(
        self,
        per_second: float,
        burst: int = 1,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_second <= 0 or burst < 1:
            raise ValueError("a pacer needs a positive rate and a burst of at least 1")
        self._interval = 1.0 / per_second
        self._tolerance = (burst - 1) * self._interval
        self._now = now
        self._next: dict[Hashable, float] = {}  # theoretical arrival time per key
        self._pruned_at = now()

    def delay(self, key: Hashable) -> float:
        """Seconds to wait before a request for `key` is within the rate (0: go now)."""
        due = self._next.get(key)
        if due is None:
            return 0.0
        return max(0.0, due - self._tolerance - self._now())

    def take(self, key: Hashable) -> None:
        """Count one request for `key`, sent now."""
        now = self._now()
        self._next[key] = max(self._next.get(key, now), now) + self._interval
        if now - self._pruned_at > _FORGET_AFTER:
            self._pruned_at = now
            self._next = {k: due for k, due in self._next.items() if due > now}

    async def wait_and_take(self, key: Hashable) -> None:
        """Reserve the next slot for `key` and sleep until it comes (concurrent callers get
        successive slots)."""
        wait = self.delay(key)
        self.take(key)
        if wait > 0:
            await asyncio.sleep(wait)


class WindowPacer:
    """At most `count` requests per key in any `seconds`-long window, for each limit given
    (Teams per conversation: 7 per second, 8 per 2 s, 60 per 30 s, 1,800 per hour)."""

    def __init__(
        self, limits: list[tuple[int, float]], now: Callable[[], float] = time.monotonic
    ) -> None:
        self._limits = sorted(limits, key=lambda limit: limit[1])
        self._longest = max(seconds for _, seconds in limits)
        self._now = now
        self._sent: dict[Hashable, deque[float]] = {}

    def delay(self, key: Hashable) -> float:
        """Seconds until one more request for `key` stays within every window (0: now)."""
        sent = self._sent.get(key)
        if not sent:
            return 0.0
        now = self._now()
        wait = 0.0
        for count, seconds in self._limits:
            within = [at for at in sent if at > now - seconds]
            if len(within) >= count:
                # The oldest request that must leave the window before one more fits.
                wait = max(wait, within[len(within) - count] + seconds - now)
        return wait

    def take(self, key: Hashable) -> None:
        """Count one request for `key`, sent now; forget what left the longest window."""
        now = self._now()
        sent = self._sent.setdefault(key, deque())
        sent.append(now)
        while sent and sent[0] <= now - self._longest:
            sent.popleft()


class Reservations:
    """Slots of a pacer kept for the messages it could not send yet, by outbox key.

    A fan-out beyond a pacer's rate (a welcome DM per join, 150 joins a second, 10 DMs a
    second allowed) leaves a backlog. Told only "not now, try in `wait`", every waiting
    message would come back at the next free slot together and be turned away again —
    the outbox re-reading the whole backlog at each slot (its CPU grows with the backlog,
    issue 18). Instead each message turned away takes the next slot for itself and is
    given back to the outbox until then: it comes back once, at its own slot, and goes.
    Kept in memory: after a restart the backlog is paced again from its first message.
    """

    def __init__(
        self, pacer: Pacer, max_sleep: float, now: Callable[[], float] = time.monotonic
    ) -> None:
        self._pacer = pacer
        self._max_sleep = max_sleep
        self._now = now
        self._slots: dict[str, float] = {}
        self._pruned_at = now()

    async def take(self, pace_key: Hashable, message_key: str) -> None:
        """Return once the message `message_key` may go under `pace_key`'s rate (after a
        sleep of at most `max_sleep`), or raise NotNow with a slot kept for it."""
        now = self._now()
        slot = self._slots.pop(message_key, None) if message_key else None
        if slot is None:
            wait = self._pacer.delay(pace_key)
            self._pacer.take(pace_key)  # the next slot is this message's, whatever happens
            slot = now + wait
        if slot - now > self._max_sleep:
            if message_key:
                self._slots[message_key] = slot
                self._prune(now)
            raise NotNow(slot - now)
        if slot > now:
            await asyncio.sleep(slot - now)

    def _prune(self, now: float) -> None:
        """Forget slots long past (their message was parked, superseded or sent elsewhere)."""
        if now - self._pruned_at > _FORGET_AFTER:
            self._pruned_at = now
            self._slots = {key: at for key, at in self._slots.items() if at > now - _FORGET_AFTER}
