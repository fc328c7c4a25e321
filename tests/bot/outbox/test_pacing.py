"""The pacer on a hand-driven clock: bursts, steady rate, keys kept apart."""

from __future__ import annotations

import pytest

from bot.outbox.delivery import NotNow
from bot.outbox.pacing import Pacer, Reservations


class HandClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_one_per_interval() -> None:
    clock = HandClock()
    pacer = Pacer(per_second=1.0, burst=3, now=clock)
    for _ in range(3):
        assert pacer.delay("C1") == 0
        pacer.take("C1")
    assert pacer.delay("C1") == pytest.approx(1.0)
    clock.now += 0.4
    assert pacer.delay("C1") == pytest.approx(0.6)
    clock.now += 0.6
    assert pacer.delay("C1") == 0
    pacer.take("C1")
    assert pacer.delay("C1") == pytest.approx(1.0)


def test_keys_do_not_share_a_pace_and_idle_keys_are_forgotten() -> None:
    clock = HandClock()
    pacer = Pacer(per_second=2.0, now=clock)
    pacer.take("C1")
    assert pacer.delay("C1") == pytest.approx(0.5)
    assert pacer.delay("C2") == 0
    clock.now += 120
    pacer.take("C2")  # prunes what is long past
    assert "C1" not in pacer._next and pacer.delay("C1") == 0


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Pacer(per_second=0)


async def test_wait_and_take_sleeps_until_the_next_slot() -> None:
    import time

    pacer = Pacer(per_second=20.0)  # real time: one each 50 ms
    started = time.monotonic()
    for _ in range(3):
        await pacer.wait_and_take("W")
    assert time.monotonic() - started >= 0.09


def test_windows_hold_each_limit() -> None:
    from bot.outbox.pacing import WindowPacer

    clock = HandClock()
    pacer = WindowPacer([(7, 1.0), (8, 2.0), (60, 30.0)], now=clock)
    for _ in range(7):
        assert pacer.delay("conv") == 0
        pacer.take("conv")
    assert pacer.delay("conv") == pytest.approx(1.0), "7 per second"
    clock.now += 1.0
    pacer.take("conv")  # the 8th, one second later
    assert pacer.delay("conv") == pytest.approx(1.0), "8 per 2 s: wait for the first ones"
    clock.now += 1.0
    sent = 8
    while sent < 60:
        wait = pacer.delay("conv")
        clock.now += wait
        pacer.take("conv")
        sent += 1
    assert clock.now - 1000.0 <= 30.0
    assert pacer.delay("conv") > 0, "60 per 30 s"
    assert pacer.delay("other") == 0, "each conversation its own"


async def test_a_backlog_is_turned_away_once_each_then_goes_at_its_own_slot() -> None:
    """A fan-out of 100 beyond the rate: each message is given back once with a slot of
    its own, comes back at that slot and goes — not turned away again at every slot."""
    clock = [0.0]
    pacer = Pacer(per_second=10, now=lambda: clock[0])
    slots = Reservations(pacer, max_sleep=0.0, now=lambda: clock[0])
    due: dict[str, float] = {}
    for n in range(100):
        try:
            await slots.take("T1", f"dm:{n}")
            due[f"dm:{n}"] = 0.0  # the first goes at once
        except NotNow as later:
            due[f"dm:{n}"] = later.after
    expected = [n * 0.1 for n in range(100)]
    assert all(abs(a - b) < 1e-9 for a, b in zip(sorted(due.values()), expected, strict=True)), (
        "one slot each, 0.1 s apart"
    )
    turned_away_again = 0
    for key, at in sorted(due.items(), key=lambda item: item[1]):
        if at == 0.0:
            continue
        clock[0] = at  # the outbox brings it back when told
        try:
            await slots.take("T1", key)
        except NotNow:
            turned_away_again += 1
    assert turned_away_again == 0
    # Brought back early (a moved clock), a message keeps its slot.
    try:
        await slots.take("T1", "late")
    except NotNow as later:
        first = later.after
    try:
        await slots.take("T1", "late")
    except NotNow as again:
        assert abs(again.after - first) < 1e-9
