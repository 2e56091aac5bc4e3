"""The posting pacer: one post per second per channel, a workspace budget per minute, Retry-After."""

from __future__ import annotations

import threading
import time

import pytest

from bot.channels.slack_dm.delivery import PACING_MARGIN, shared_pacer
from bot.pacing import WORKSPACE_PER_MINUTE, Pacer


class FakeTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def pacer(per_minute: int = WORKSPACE_PER_MINUTE) -> tuple[Pacer, FakeTime]:
    fake = FakeTime()
    return Pacer(per_minute, clock=fake.clock, sleep=fake.sleep), fake


def post_times(p: Pacer, fake: FakeTime, channels: list[str]) -> list[float]:
    times = []
    for channel in channels:
        p.wait(channel)
        times.append(fake.now - 1000.0)
    return times


def test_one_post_per_second_per_channel_others_unaffected() -> None:
    p, fake = pacer()
    assert post_times(p, fake, ["D1", "D1", "D2", "D1", "D3"]) == [0.0, 1.0, 1.0, 2.0, 2.0]


def test_a_channel_quiet_for_a_while_posts_at_once() -> None:
    p, fake = pacer()
    p.wait("D1")
    fake.now += 5
    assert p.wait("D1") == 0.0


def test_workspace_budget_per_minute() -> None:
    p, fake = pacer(per_minute=3)
    times = post_times(p, fake, ["D1", "D2", "D3", "D4", "D5", "D6", "D7"])
    # three at once, then each waits for the post a minute before it to leave the window
    assert times == [0.0, 0.0, 0.0, 60.0, 60.0, 60.0, 120.0]


def test_budget_and_channel_limits_combine() -> None:
    p, fake = pacer(per_minute=2)
    assert post_times(p, fake, ["D1", "D1", "D1"]) == [0.0, 1.0, 60.0]


def test_retry_after_pauses_one_channel() -> None:
    p, _ = pacer()
    p.wait("D1")
    p.back_off(30, "D1")
    assert p.wait("D2") == 0.0
    assert p.wait("D1") == pytest.approx(30.0)
    assert p.wait("D1") == pytest.approx(1.0)  # then the usual pace


def test_retry_after_without_a_channel_pauses_every_post() -> None:
    p, _ = pacer()
    p.back_off(5)
    assert p.wait("D1") == pytest.approx(5.0)
    assert p.wait("D2") == 0.0
    p.back_off(2)
    p.back_off(1)  # a shorter pause does not shorten a longer one
    assert p.wait("D3") == pytest.approx(2.0)


def test_a_later_back_off_extends_a_channel_pause_never_shortens_it() -> None:
    p, _ = pacer()
    p.back_off(10, "D1")
    p.back_off(3, "D1")
    assert p.wait("D1") == pytest.approx(10.0)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        Pacer(per_minute=0)
    with pytest.raises(ValueError):
        Pacer(interval=-1)


def test_many_channels_are_forgotten_once_idle() -> None:
    p, fake = pacer(per_minute=10_000)
    for n in range(3000):
        p.wait(f"D{n}")
        fake.now += 0.01
    assert len(p._next) <= 1100  # bounded: channels past their pause are dropped


def test_threads_in_real_time_keep_one_second_between_posts_to_a_channel() -> None:
    p = Pacer()
    posted: dict[str, list[float]] = {"D1": [], "D2": []}
    lock = threading.Lock()

    def post(channel: str) -> None:
        p.wait(channel)
        with lock:
            posted[channel].append(time.monotonic())

    started = time.monotonic()
    threads = [threading.Thread(target=post, args=(c,)) for c in ["D1", "D1", "D1", "D2", "D2"]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    elapsed = time.monotonic() - started
    assert [len(v) for v in posted.values()] == [3, 2]
    for times in posted.values():
        gaps = [b - a for a, b in zip(sorted(times), sorted(times)[1:], strict=False)]
        assert all(gap >= 0.99 for gap in gaps), gaps
    assert 1.98 <= elapsed < 15  # three posts to D1 need two seconds; the bound above is generous


def test_the_process_pacer_keeps_slacks_second_and_a_margin_unless_set_otherwise() -> None:
    assert shared_pacer().interval == 1.0 + PACING_MARGIN > 1.0  # WEEKLY_REPORT_POST_INTERVAL unset
    assert shared_pacer(0.0).interval == 0.0
    assert shared_pacer().per_minute == shared_pacer(0.0).per_minute == WORKSPACE_PER_MINUTE
