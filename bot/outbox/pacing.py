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
