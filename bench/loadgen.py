"""The load generator: concurrent clients posting JSON, timing every request.

Workers pull request numbers from one shared counter until `total` are sent, so a
slow request never holds back the others. Latency is measured with
`time.perf_counter` around one request, from send to the last byte of the answer.

`run_open_loop` is the other shape: requests at a steady rate whatever became of the
earlier ones (request i leaves at t0 + i/rate), as independent people would send them;
its times are `time.monotonic`, the clock a fake platform in this process records too.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

JSON_HEADERS = {"Content-Type": "application/json"}
MAX_ERROR_KINDS = 5
# Generous: a request this slow is reported as an error rather than hanging the bench.
REQUEST_TIMEOUT_S = 60.0

BodyFactory = Callable[[int], dict[str, Any]]
"""Builds the JSON body of request number `i` (0-based)."""

ReplyCheck = Callable[[Any], str | None]
"""Judges a decoded 200 answer: None when it is as expected, else what is wrong."""

Encoder = Callable[[dict[str, Any]], tuple[bytes, dict[str, str]]]
"""Turns a body into the bytes and headers sent (default: JSON), e.g. a signed Slack form."""


JOIN_REPLY = "Welcome aboard"


def learner_joins(prefix: str, conversation: str = "general") -> BodyFactory:
    """Playground `join` bodies, a new learner each (`<prefix><index>`), in English."""

    def body(index: int) -> dict[str, Any]:
        return {
            "user": {"id": f"{prefix}{index}", "name": f"Learner {index}", "locale": "en"},
            "conversation": conversation,
            "text": "join",
        }

    return body


def check_join(answer: Any) -> str | None:
    """A join answer must carry one reply whose text welcomes the learner aboard."""
    replies = answer.get("replies") if isinstance(answer, dict) else None
    if not isinstance(replies, list) or not replies:
        return "no replies in the answer"
    text = str(replies[0].get("text", "")) if isinstance(replies[0], dict) else ""
    return None if JOIN_REPLY in text else f"unexpected reply: {text[:60]}"


def as_json(body: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """The default encoding: a JSON body."""
    return json.dumps(body).encode(), JSON_HEADERS


@dataclass
class LoadResult:
    """What one load phase measured: latencies of the successful requests, and errors."""

    requests: int
    elapsed_s: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    server_cpu_s: float | None = None  # filled in by the caller, who knows the server
    client_cpu_s: float | None = None

    @property
    def ok(self) -> int:
        """Requests answered 200 with the expected reply."""
        return len(self.latencies_ms)

    @property
    def error_count(self) -> int:
        """Requests that failed, were not 200, or had an unexpected reply."""
        return sum(self.errors.values())

    def figures(self) -> dict[str, Any]:
        """Throughput and latency figures, rounded for results.json."""
        ordered = sorted(self.latencies_ms)
        return {
            "requests": self.requests,
            "ok": self.ok,
            "errors": self.error_count,
            "elapsed_s": round(self.elapsed_s, 3),
            "rps": round(self.ok / self.elapsed_s, 1) if self.elapsed_s > 0 else None,
            "p50_ms": _round(percentile(ordered, 50)),
            "p99_ms": _round(percentile(ordered, 99)),
            "mean_ms": _round(statistics.fmean(ordered)) if ordered else None,
            "max_ms": _round(ordered[-1]) if ordered else None,
            "error_kinds": dict(self.errors.most_common(MAX_ERROR_KINDS)),
            # CPU used during the measured phase, in cores (1.0 = one core busy all along).
            "server_cpu_cores": self._cores(self.server_cpu_s),
            "server_cpu_ms_per_request": (
                round(self.server_cpu_s * 1000 / self.requests, 2)
                if self.server_cpu_s is not None
                else None
            ),
            "client_cpu_cores": self._cores(self.client_cpu_s),
        }

    def _cores(self, cpu_s: float | None) -> float | None:
        if cpu_s is None or self.elapsed_s <= 0:
            return None
        return round(cpu_s / self.elapsed_s, 2)


def percentile(ordered: list[float], q: float) -> float | None:
    """The q-th percentile of sorted values, interpolated linearly (numpy's default)."""
    if not ordered:
        return None
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def client_session(concurrency: int) -> aiohttp.ClientSession:
    """A client whose connection pool holds exactly `concurrency` connections."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=concurrency),
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
    )


def unlimited_session() -> aiohttp.ClientSession:
    """A client with no cap on its connections: an open-loop load keeps as many requests in
    flight as the server leaves unanswered, and a cap would turn it back into a closed loop."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0),
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
    )


@dataclass
class Sent:
    """One request of an open-loop load (time.monotonic): when it was due, when it left,
    when its answer (the ack) was read, and what was wrong with it (None: acked as expected)."""

    due: float
    sent: float | None = None
    acked: float | None = None
    problem: str | None = None


async def run_open_loop(
    client: aiohttp.ClientSession,
    url: str,
    body_for: BodyFactory,
    check: ReplyCheck,
    *,
    rate: float,
    total: int,
    encode: Encoder = as_json,
) -> list[Sent]:
    """POST `total` bodies to `url`, request i at t0 + i/`rate`, without waiting for the
    earlier ones (open loop); each request's times, in order. A request late to leave
    (this loop busy) leaves at once: the achieved rate is the caller's to report."""
    start = time.monotonic() + 0.05
    requests = [Sent(due=start + index / rate) for index in range(total)]

    async def one(index: int) -> None:
        record = requests[index]
        payload, headers = encode(body_for(index))  # signed now: Slack checks the timestamp
        record.sent = time.monotonic()
        record.problem = await _post(client, url, payload, headers, check)
        record.acked = time.monotonic()

    tasks = []
    for index, record in enumerate(requests):
        delay = record.due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index)))
    await asyncio.gather(*tasks)
    return requests


async def run_load(
    client: aiohttp.ClientSession,
    url: str,
    body_for: BodyFactory,
    check: ReplyCheck,
    *,
    total: int,
    concurrency: int,
    encode: Encoder = as_json,
) -> LoadResult:
    """POST `total` bodies to `url` from `concurrency` workers; time each request."""
    counter = itertools.count()
    result = LoadResult(requests=total, elapsed_s=0.0)

    async def worker() -> None:
        for index in counter:
            if index >= total:
                return
            payload, headers = encode(body_for(index))
            started = time.perf_counter()
            problem = await _post(client, url, payload, headers, check)
            latency_ms = (time.perf_counter() - started) * 1000
            if problem is None:
                result.latencies_ms.append(latency_ms)
            else:
                result.errors[problem] += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.elapsed_s = time.perf_counter() - started
    return result


async def _post(
    client: aiohttp.ClientSession,
    url: str,
    payload: bytes,
    headers: dict[str, str],
    check: ReplyCheck,
) -> str | None:
    try:
        async with client.post(url, data=payload, headers=headers) as response:
            raw = await response.read()
            if not 200 <= response.status < 300:  # Teams' endpoint answers 202
                return f"HTTP {response.status}: {raw[:120].decode('utf-8', 'replace')}"
            return check(json.loads(raw) if raw else None)  # an empty ack is an answer too
    except (aiohttp.ClientError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {str(exc)[:120]}"
    except ValueError:  # not JSON, or not UTF-8
        return "the answer is not JSON"
