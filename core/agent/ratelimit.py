"""A process-wide limit on agent calls: so many per rolling minute, and a shared pause.

Every request to the agent (thread creation and runs alike) first takes a slot here. When
the service answers 429 with Retry-After, the client pauses the limiter, and every caller
of every thread waits until then, instead of each one discovering the limit on its own.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW = 60.0  # seconds: the limit is per rolling minute
# The service counts calls when they arrive, a little after they leave here (connection
# set-up, a busy GIL): a slightly longer window keeps its count within the limit too.
ARRIVAL_MARGIN = 0.5

_shared: dict[tuple[str, int], RateLimiter] = {}
_shared_lock = threading.Lock()


class RateLimiter:
    """At most `per_minute` acquisitions in any rolling `window`, and none while paused.

    Thread-safe. `clock` and `sleep` are injectable so tests run on simulated time.
    """

    def __init__(
        self,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        window: float = WINDOW,
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._calls: deque[float] = deque()
        self._paused_until = float("-inf")

    def acquire(self) -> float:
        """Wait for a slot and take it; return the seconds waited."""
        waited = 0.0
        while True:
            wait = self._try_take()
            if wait <= 0:
                return waited
            self._sleep(wait)
            waited += wait

    def pause(self, seconds: float) -> None:
        """Hold every caller for `seconds` from now (a longer pause already set wins)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + max(seconds, 0.0))

    def paused_for(self) -> float:
        """Seconds left in the current pause (0 if none)."""
        with self._lock:
            return max(self._paused_until - self._clock(), 0.0)

    def _try_take(self) -> float:
        """Take a slot now and return 0, or return how long to wait before trying again."""
        with self._lock:
            now = self._clock()
            while self._calls and self._calls[0] <= now - self.window:
                self._calls.popleft()
            if self._paused_until > now:
                return self._paused_until - now
            if len(self._calls) >= self.per_minute:
                return self._calls[0] + self.window - now
            self._calls.append(now)
            return 0.0


def shared_limiter(endpoint: str, per_minute: int) -> RateLimiter:
    """The one limiter of this process for `endpoint` (e.g. the agent's base URL)."""
    with _shared_lock:
        key = (endpoint, per_minute)
        if key not in _shared:
            _shared[key] = RateLimiter(per_minute, window=WINDOW + ARRIVAL_MARGIN)
        return _shared[key]
