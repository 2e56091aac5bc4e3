"""Injected faults and enforced rate limits, both answered the way Slack answers them."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_ERRORS = {429: "ratelimited", 500: "internal_error", 503: "service_unavailable"}

# Slack's documented limits, as (per channel per second, per workspace per minute): Tier 2 is
# "20+ per minute", Tier 4 "100+ per minute" (docs.slack.dev/apis/web-api/rate-limits; each
# method's page names its tier). assistant.threads.setStatus is "special" with no published
# figure, so it is not here: limit it with limit_rate() when a test wants it limited.
TIERS: dict[str, tuple[int | None, int | None]] = {
    "chat.startStream": (None, 20),  # Tier 2
    "chat.appendStream": (None, 100),  # Tier 4
    "chat.stopStream": (None, 20),  # Tier 2
    "files.getUploadURLExternal": (None, 100),  # Tier 4
    "files.completeUploadExternal": (None, 100),  # Tier 4
}


@dataclass
class Refusal:
    """An HTTP answer that replaces the method's own."""

    status: int
    body: dict[str, Any]
    retry_after: int | None = None
    after: bool = False  # the method ran first: its work is done, only its answer is lost

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}


@dataclass
class FaultRule:
    """Fail calls to `method` that satisfy `when`: every Nth of them, at most `times`, or all.

    `seen` counts the matching calls so far and `fired` the ones it failed. With `after`, the
    method runs first and only its answer is replaced (a response lost after the work landed).
    """

    method: str
    status: int = 429
    retry_after: int | None = None
    every: int | None = None
    times: int | None = None
    when: Callable[[dict[str, Any]], bool] | None = None
    error: str | None = None
    after: bool = False
    seen: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        if self.status == 429 and self.retry_after is None:
            self.retry_after = 1
        if self.error is None:
            self.error = _ERRORS.get(self.status, "fatal_error")

    def refuse(self, method: str, params: dict[str, Any]) -> Refusal | None:
        if method != self.method or (self.when is not None and not self.when(params)):
            return None
        self.seen += 1
        if self.times is not None and self.fired >= self.times:
            return None
        if self.every is not None and self.seen % self.every:
            return None
        self.fired += 1
        return Refusal(self.status, {"ok": False, "error": self.error}, self.retry_after, self.after)


@dataclass
class Hold:
    """Take calls to `method` that satisfy `when` (at most `times`) but answer, and store, them
    only once `until()` is true or `timeout` seconds passed: a request that reached Slack and
    lands late (as one sent by a process just before it died can). Both predicates run under
    the server's lock; `held` counts the calls held so far."""

    method: str
    until: Callable[[], bool]
    when: Callable[[dict[str, Any]], bool] | None = None
    times: int | None = 1
    timeout: float = 60.0
    held: int = 0

    def holds(self, method: str, params: dict[str, Any]) -> bool:
        if method != self.method or (self.times is not None and self.held >= self.times):
            return False
        if self.when is not None and not self.when(params):
            return False
        self.held += 1
        return True


@dataclass
class RateLimit:
    """Sliding-window limits on one method: per channel per second and per workspace per minute."""

    method: str
    per_channel_per_second: int | None = None
    per_workspace_per_minute: int | None = None
    _by_channel: dict[str, deque[float]] = field(default_factory=dict)
    _workspace: deque[float] = field(default_factory=deque)

    def refuse(self, channel: str | None, now: float) -> Refusal | None:
        """Admit a call (recording it) or say how long to wait, in whole seconds as Retry-After does."""
        windows = []
        if self.per_workspace_per_minute is not None:
            windows.append((self._workspace, 60.0, self.per_workspace_per_minute))
        if self.per_channel_per_second is not None and channel:
            windows.append((self._by_channel.setdefault(channel, deque()), 1.0, self.per_channel_per_second))
        wait = max((_wait(calls, span, limit, now) for calls, span, limit in windows), default=0.0)
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            return Refusal(429, {"ok": False, "error": "ratelimited"}, retry_after)
        for calls, _, _ in windows:
            calls.append(now)
        return None


def _wait(calls: deque[float], span: float, limit: int, now: float) -> float:
    while calls and calls[0] <= now - span:
        calls.popleft()
    return calls[0] + span - now if len(calls) >= limit else 0.0
