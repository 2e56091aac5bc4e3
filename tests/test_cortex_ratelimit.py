"""The agent rate limiter, on simulated time: a rolling minute, a shared pause, many threads."""

from __future__ import annotations

import threading

import pytest

from core.agent.ratelimit import RateLimiter, WaitTooLong, shared_limiter
from tests.simulated_time import SimulatedTime


class GatedTime:
    """Simulated time for threads: `sleep` records the wait, then blocks until `release`."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waiting: list[float] = []
        self.cond = threading.Condition()
        self.gate = threading.Event()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.cond:
            self.waiting.append(seconds)
            self.cond.notify_all()
        assert self.gate.wait(timeout=30)

    def release_at(self, now: float) -> None:
        self.now = now
        self.gate.set()


def run_threads(limit: RateLimiter, n: int) -> tuple[list[threading.Thread], list[float]]:
    waited: list[float] = []
    threads = [threading.Thread(target=lambda: waited.append(limit.acquire())) for _ in range(n)]
    for t in threads:
        t.start()
    return threads, waited


def limiter(rpm: int, clock: SimulatedTime) -> RateLimiter:
    return RateLimiter(rpm, clock=clock, sleep=clock.sleep)


def test_at_most_n_per_rolling_minute() -> None:
    clock = SimulatedTime()
    limit = limiter(3, clock)
    assert [limit.acquire() for _ in range(3)] == [0, 0, 0]
    clock.now = 30.0
    assert limit.acquire() == pytest.approx(30.0)  # the first slot frees at t=60
    assert clock.now == pytest.approx(60.0)
    clock.now = 61.0  # the other two t=0 calls have left the window
    assert [limit.acquire(), limit.acquire()] == [0, 0]
    assert limit.acquire() == pytest.approx(59.0)  # the t=60 call leaves the window at t=120


def test_a_pause_holds_callers_and_the_longest_pause_wins() -> None:
    clock = SimulatedTime()
    limit = limiter(100, clock)
    limit.pause(5)
    limit.pause(2)  # shorter: does not cut the pause short
    assert limit.paused_for() == pytest.approx(5)
    assert limit.acquire() == pytest.approx(5)
    assert limit.paused_for() == 0
    assert limit.acquire() == 0


def test_the_limit_holds_across_threads() -> None:
    """10 threads race for 5 slots: exactly 5 go at once, 5 wait for the window to move."""
    time = GatedTime()
    limit = RateLimiter(5, clock=time, sleep=time.sleep)
    threads, waited = run_threads(limit, 10)
    with time.cond:
        assert time.cond.wait_for(lambda: len(time.waiting) == 5 and len(waited) == 5, timeout=30)
    assert time.waiting == [60.0] * 5 and waited == [0.0] * 5
    time.release_at(60.0)
    for t in threads:
        t.join(timeout=30)
    assert sorted(waited) == [0.0] * 5 + [60.0] * 5


def test_a_pause_holds_every_thread() -> None:
    time = GatedTime()
    limit = RateLimiter(100, clock=time, sleep=time.sleep)
    limit.pause(7)  # e.g. one caller got 429 with Retry-After: 7
    threads, waited = run_threads(limit, 4)
    with time.cond:
        assert time.cond.wait_for(lambda: len(time.waiting) == 4, timeout=30)
    assert time.waiting == [7.0] * 4 and waited == []  # nobody got through during the pause
    time.release_at(7.0)
    for t in threads:
        t.join(timeout=30)
    assert waited == [7.0] * 4


def test_one_shared_limiter_per_endpoint() -> None:
    a = shared_limiter("https://acct.snowflakecomputing.com", 60)
    assert shared_limiter("https://acct.snowflakecomputing.com", 60) is a
    assert shared_limiter("https://other.snowflakecomputing.com", 60) is not a
    with pytest.raises(ValueError):
        RateLimiter(0)


def test_no_caller_waits_longer_than_it_may() -> None:
    clock = SimulatedTime()
    limit = limiter(1, clock)
    assert limit.acquire(max_wait=0) == 0  # nothing to wait for: a slot at once
    with pytest.raises(
        WaitTooLong, match=r"^the agent rate limit \(1 calls a minute\) would hold this call 60s$"
    ):
        limit.acquire(max_wait=59)
    limit.pause(90)
    with pytest.raises(
        WaitTooLong, match=r"^a pause the Cortex service asked for \(Retry-After\) would hold"
    ):
        limit.acquire(max_wait=89)
    assert clock.sleeps == []  # gave up at once, without sleeping
    assert limit.acquire(max_wait=90) == pytest.approx(90)  # within the bound: waits, then takes the slot
