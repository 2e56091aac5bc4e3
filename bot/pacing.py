"""Pacing for `chat.postMessage`, shared by every thread that posts.

Slack allows about one message per second per channel (short bursts tolerated, not
guaranteed) and a workspace-wide budget on top. `Pacer.wait(channel)` blocks until a post
to `channel` keeps within both; `back_off(seconds, channel)` honours a 429's Retry-After,
for one channel or, without one, for every post.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

# Slack's special rate limit for posting: 1 message per second per channel, and a
# workspace-wide limit that its docs put at several hundred messages per minute.
PER_CHANNEL_INTERVAL = 1.0
WORKSPACE_PER_MINUTE = 300
WINDOW = 60.0
_PRUNE_AT = 1024  # channels remembered before the idle ones are forgotten


class Pacer:
    """Blocks posters so that each channel gets at most one post per `interval` seconds and the
    workspace at most `per_minute` posts in any 60 seconds. Thread-safe.

    `clock` (monotonic seconds) and `sleep` are injectable for deterministic tests.
    """

    def __init__(
        self,
        per_minute: int = WORKSPACE_PER_MINUTE,
        interval: float = PER_CHANNEL_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_minute < 1 or interval < 0:
            raise ValueError("per_minute must be at least 1 and interval not negative")
        self.per_minute, self.interval = per_minute, interval
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}  # channel -> earliest time of its next post
        self._recent: deque[float] = deque()  # times of the workspace's posts in the last WINDOW
        self._paused_until = 0.0  # a workspace-wide Retry-After

    def wait(self, channel: str) -> float:
        """Block until a post to `channel` is allowed, and count it; return the seconds waited."""
        started = self._clock()
        while True:
            with self._lock:
                now = self._clock()
                delay = self._delay(channel, now)
                if delay <= 0:
                    self._record(channel, now)
                    return now - started
            self._sleep(delay)

    def back_off(self, seconds: float, channel: str | None = None) -> None:
        """Hold posts for `seconds` (a 429's Retry-After): to `channel`, or to every channel."""
        with self._lock:
            until = self._clock() + max(seconds, 0.0)
            if channel is None:
                self._paused_until = max(self._paused_until, until)
            else:
                self._next[channel] = max(self._next.get(channel, 0.0), until)

    def _delay(self, channel: str, now: float) -> float:
        while self._recent and self._recent[0] <= now - WINDOW:
            self._recent.popleft()
        budget = self._recent[0] + WINDOW if len(self._recent) >= self.per_minute else 0.0
        return max(self._next.get(channel, 0.0), self._paused_until, budget) - now

    def _record(self, channel: str, now: float) -> None:
        self._recent.append(now)
        self._next[channel] = now + self.interval
        if len(self._next) > _PRUNE_AT:
            self._next = {c: t for c, t in self._next.items() if t > now}
