"""A process-wide limit on agent calls: so many per rolling minute, and a shared pause.

Every request to the agent (thread creation and runs alike) first takes a slot here. When
the service answers 429 with a Retry-After the client honours (at most
CORTEX_MAX_RETRY_AFTER), the client pauses the limiter, and every caller of every thread
waits until then, instead of each one discovering the limit on its own. No caller waits
here longer than it may (`acquire(max_wait)`, the time left of its turn): it gives up.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from core.errors import AgentUnavailable

WINDOW = 60.0  # seconds: the limit is per rolling minute
# The service counts calls when they arrive, a little after they leave here (connection
# set-up, a busy GIL): a slightly longer window keeps its count within the limit too.
ARRIVAL_MARGIN = 0.5

_shared: dict[tuple[str, int], RateLimiter] = {}
_shared_lock = threading.Lock()


class WaitTooLong(AgentUnavailable):
    """Taking a slot would mean waiting longer than the caller may: `reason` says what holds it."""

    def __init__(self, wait: float, reason: str) -> None:
        super().__init__(f"{reason} would hold this call {seconds(wait)}s")
        self.wait, self.reason = wait, reason


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

    def acquire(self, max_wait: float = math.inf) -> float:
        """Wait for a slot and take it; return the seconds waited.

        Raises WaitTooLong, at once and without a slot, when the wait (a pause, or the
        rolling minute being full) would take the total past `max_wait` seconds.
        """
        waited = 0.0
        while True:
            wait, paused = self._try_take()
            if wait <= 0:
                return waited
            if waited + wait > max_wait:
                reason = (
                    "a pause the Cortex service asked for (Retry-After)"
                    if paused
                    else f"the agent rate limit ({self.per_minute} calls a minute)"
                )
                raise WaitTooLong(waited + wait, reason)
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

    def _try_take(self) -> tuple[float, bool]:
        """Take a slot now and return 0, or return how long to wait before trying again
        (and whether it is a pause that holds the caller)."""
        with self._lock:
            now = self._clock()
            while self._calls and self._calls[0] <= now - self.window:
                self._calls.popleft()
            if self._paused_until > now:
                return self._paused_until - now, True
            if len(self._calls) >= self.per_minute:
                return self._calls[0] + self.window - now, False
            self._calls.append(now)
            return 0.0, False


def seconds(value: float) -> str:
    """A duration for a message: 3600, 1.5, 10 (not 9.99723 or 3.6e+03)."""
    return f"{round(value, 1):g}" if value < 1e6 else f"{value:.0f}"


def shared_limiter(endpoint: str, per_minute: int) -> RateLimiter:
    """The one limiter of this process for `endpoint` (e.g. the agent's base URL)."""
    with _shared_lock:
        key = (endpoint, per_minute)
        if key not in _shared:
            _shared[key] = RateLimiter(per_minute, window=WINDOW + ARRIVAL_MARGIN)
        return _shared[key]
