"""HTTP to the Cortex Agent REST API: threads, and runs streamed as server-sent events.

Every request takes a slot from the process's rate limiter first. Connection failures and
408/409/429/5xx answers are retried with jittered exponential backoff that honours
Retry-After (a 429's Retry-After pauses every caller, through the limiter), up to
`RetryPolicy.attempts` in all. A run whose stream already produced an event is never
replayed: the thread may hold its turn. A read that waits longer than CORTEX_TIMEOUT is
not retried either. Vendor exceptions become AgentUnavailable / AgentRequestError here.

Every wait is bounded. A whole call (the turn, its retries, backoff and rate-limiter waits)
ends by CORTEX_TURN_TIMEOUT: each read waits at most what is left of it, and a stream still
going at the deadline is closed (the server sees the hang-up). A Retry-After longer than
CORTEX_MAX_RETRY_AFTER, or than the time left, fails the call at once and pauses no one
else: only a Retry-After that is honoured pauses the shared limiter, so no shared pause is
ever longer than the cap.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import math
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import requests
import requests.adapters
import urllib3.exceptions

from core.agent.base import Answer, AnswerListener, Relay
from core.agent.cortex import sse
from core.agent.cortex.auth import Auth
from core.agent.cortex.config import CortexConfig
from core.agent.cortex.events import AnswerBuilder
from core.agent.ratelimit import RateLimiter, WaitTooLong, seconds, shared_limiter
from core.errors import AgentRequestError, AgentUnavailable

log = logging.getLogger(__name__)

THREADS_PATH = "/api/v2/cortex/threads"
ORIGIN_APPLICATION = "weekly_report"  # at most 16 bytes
RETRYABLE = {408, 409, 429} | set(range(500, 600))
USER_AGENT = "weekly-report/0.1"
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry: attempts in all, backoff base and cap in seconds."""

    attempts: int = 5
    base: float = 0.5
    cap: float = 20.0

    def backoff(self, attempt: int) -> float:
        """Jittered exponential delay after failed attempt number `attempt` (1-based)."""
        ceiling = min(self.cap, self.base * 2 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    what: str  # for messages: "creating a thread", "running DB.SCHEMA.AGENT"
    body: Mapping[str, Any] | None
    params: Mapping[str, Any] | None
    stream: bool


class _Deadline:
    """When a call must be over, on the client's clock."""

    # A read cut short by the deadline can wake a hair before it on a coarse clock.
    SLACK = 0.01

    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self.seconds, self._clock = seconds, clock
        self._end = clock() + seconds

    def left(self) -> float:
        return max(self._end - self._clock(), 0.0)

    @property
    def passed(self) -> bool:
        return self.left() <= self.SLACK


class _TurnOver(Exception):
    """The call's deadline passed while its answer was still streaming."""


class _Retry(Exception):
    """This attempt failed in a way worth another: why, and any Retry-After it carried."""

    def __init__(
        self, reason: str, after: float | None = None, pause_all: bool = False, refreshed: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason, self.after, self.pause_all, self.refreshed = reason, after, pause_all, refreshed


class _BrokenStream(Exception):
    """A 2xx stream that failed; `replayable` if it had not produced a single event."""

    def __init__(self, replayable: bool, reason: str) -> None:
        super().__init__(reason)
        self.replayable = replayable


class CortexClient:
    """The REST client of one Cortex agent endpoint. Thread-safe."""

    def __init__(
        self,
        config: CortexConfig,
        auth: Auth,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self._clock = clock
        self.auth = auth
        self.limiter = limiter or shared_limiter(config.base_url, config.rpm)
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._session = requests.Session()
        # Proxies (HTTPS_PROXY, NO_PROXY...) resolved once for the one host this client talks
        # to, instead of requests re-reading the environment and netrc on every call.
        self._session.proxies = requests.utils.get_environ_proxies(config.base_url)
        self._session.trust_env = False
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=config.pool_size)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)

    def __repr__(self) -> str:
        return f"CortexClient({self.config.base_url!r}, agent={self.config.agent})"

    # -- threads -------------------------------------------------------------------------

    def create_thread(self) -> str:
        """A new thread's id (the service answers an object, a bare string or an integer)."""
        body = {"origin_application": ORIGIN_APPLICATION}
        return self._call("POST", THREADS_PATH, "creating a thread", _thread_id, body=body)

    def get_thread(self, thread_id: str, page_size: int = 20) -> dict[str, Any]:
        """A thread's metadata and its most recent messages (newest first)."""
        params = {"page_size": min(max(page_size, 1), 100)}
        path, what = f"{THREADS_PATH}/{thread_id}", f"reading thread {thread_id}"
        return self._call("GET", path, what, _json_object, params=params)

    def delete_thread(self, thread_id: str) -> None:
        self._call("DELETE", f"{THREADS_PATH}/{thread_id}", f"deleting thread {thread_id}", lambda r, d: None)

    # -- runs ----------------------------------------------------------------------------

    def run(
        self, thread_id: str, parent_message_id: int, prompt: str, listener: AnswerListener | None = None
    ) -> Answer:
        """Ask `prompt` on the thread after `parent_message_id`; the streamed answer, assembled.

        `listener` hears it as it streams (events.AnswerBuilder says what and when). Only an
        attempt whose stream produced no event at all is retried, so it never hears a turn twice.
        """
        body = {
            "thread_id": int(thread_id) if thread_id.isascii() and thread_id.isdigit() else thread_id,
            "parent_message_id": parent_message_id,
            "messages": [{"role": "user", "content": [{"type": "text", "text": prompt}]}],
            "tool_choice": {"type": "auto"},
        }
        what, relay = f"running {self.config.agent}", Relay(listener)
        answer = partial(self._answer, relay=relay)
        return self._call("POST", self.config.agent.run_path, what, answer, body=body, stream=True)

    def close(self) -> None:
        self._session.close()
        self.auth.close()

    # -- the request loop ----------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        what: str,
        consume: Callable[[requests.Response, _Deadline], T],
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        stream: bool = False,
    ) -> T:
        """Send with retries within CORTEX_TURN_TIMEOUT; `consume` reads a 2xx response.
        Raises AgentError otherwise."""
        request = _Request(method, path, what, body, params, stream)
        deadline = _Deadline(self.config.turn_timeout, self._clock)
        attempts, refreshed, last = self.retry.attempts, False, ""
        for attempt in range(1, attempts + 1):
            self._acquire(what, deadline)
            if deadline.passed:
                raise self._turn_timed_out(what, "")
            try:
                return self._attempt(request, consume, deadline, may_refresh=not refreshed)
            except _Retry as retry:
                last, refreshed = retry.reason, refreshed or retry.refreshed
                if attempt < attempts:
                    self._wait_to_retry(attempt, what, retry, deadline)
        raise AgentUnavailable(
            f"{what}: the Cortex agent kept failing ({last}) after {attempts} attempts; try again later"
        )

    def _acquire(self, what: str, deadline: _Deadline) -> None:
        """A slot from the rate limiter, unless waiting for it would outlast the deadline."""
        left = deadline.left()
        try:
            self.limiter.acquire(max_wait=left)
        except WaitTooLong as exc:
            raise AgentUnavailable(
                f"{what}: {exc}, longer than the {seconds(left)}s left of "
                f"CORTEX_TURN_TIMEOUT={seconds(deadline.seconds)}s; try again later"
            ) from exc

    def _attempt(
        self,
        request: _Request,
        consume: Callable[[requests.Response, _Deadline], T],
        deadline: _Deadline,
        may_refresh: bool,
    ) -> T:
        """One try: the consumed 2xx answer, or _Retry, or the AgentError to give up with."""
        try:
            response = self._send(request, deadline)
        except requests.exceptions.ReadTimeout as exc:
            raise self._timed_out(request.what, deadline) from exc
        except requests.exceptions.RequestException as exc:
            if deadline.passed:  # a connection cut short by the deadline is not worth another try
                raise self._turn_timed_out(request.what, "") from exc
            raise _Retry(f"connection failed ({type(exc).__name__})") from exc
        with response:  # leaving it closes a stream not read to its end: the server sees the hang-up
            if response.ok:
                try:
                    return consume(response, deadline)
                except _BrokenStream as exc:
                    if exc.replayable:
                        raise _Retry(str(exc)) from exc
                    raise AgentUnavailable(f"{request.what}: {exc}; the answer was lost, try again") from exc
            status = response.status_code
            if status == 401 and may_refresh and self.auth.refresh():
                raise _Retry("HTTP 401", refreshed=True)
            if status in RETRYABLE:
                after = _retry_after(response.headers.get("Retry-After"))
                raise _Retry(f"HTTP {status}", after, pause_all=status == 429)
            raise self._refusal(status, response, request)

    def _wait_to_retry(self, attempt: int, what: str, retry: _Retry, deadline: _Deadline) -> None:
        """Sleep before the next attempt, or give up (pausing no one) if that wait is too long."""
        after, cap, turn = retry.after, self.config.max_retry_after, seconds(self.config.turn_timeout)
        asked = f"{what}: the Cortex agent asked to retry after {seconds(after or 0)}s ({retry.reason})"
        if after is not None and after > cap:
            raise AgentUnavailable(
                f"{asked}, more than CORTEX_MAX_RETRY_AFTER={seconds(cap)}s; try again later"
            )
        left = deadline.left()
        if after is not None and after >= left:
            raise AgentUnavailable(f"{asked}, past CORTEX_TURN_TIMEOUT={turn}s; try again later")
        delay = 0.0 if retry.refreshed else max(self.retry.backoff(attempt), after or 0.0)
        if delay >= left:
            raise AgentUnavailable(
                f"{what}: the Cortex agent kept failing ({retry.reason}) and the next retry would end after "
                f"CORTEX_TURN_TIMEOUT={turn}s; try again later"
            )
        if retry.pause_all and after is not None:
            # Honoured, so at most the cap: every caller waits it out in the limiter's acquire().
            self.limiter.pause(after)
            delay = 0.0 if retry.refreshed else self.retry.backoff(attempt)
        log.warning(
            "Cortex agent, %s: %s; retry %d of %d in %.1fs", what, retry.reason, attempt,
            self.retry.attempts - 1, delay,
        )  # fmt: skip
        self._sleep(delay)

    def _send(self, request: _Request, deadline: _Deadline) -> requests.Response:
        headers = {
            **self.auth.headers(),
            "Content-Type": "application/json",
            "Accept": "text/event-stream" if request.stream else "application/json",
            "User-Agent": USER_AGENT,
        }
        return self._session.request(
            request.method,
            self.config.base_url + request.path,
            headers=headers,
            json=request.body,
            params=request.params,
            stream=request.stream,
            timeout=(self._read_timeout(deadline),) * 2,
        )

    def _read_timeout(self, deadline: _Deadline) -> float:
        """CORTEX_TIMEOUT, or what is left of the call if that is less."""
        return max(min(self.config.timeout, deadline.left()), _Deadline.SLACK)

    def _timed_out(self, what: str, deadline: _Deadline) -> AgentUnavailable:
        if deadline.passed:  # the read waited what was left of the call, not CORTEX_TIMEOUT
            return self._turn_timed_out(what, "")
        return AgentUnavailable(
            f"{what}: the Cortex agent did not answer within CORTEX_TIMEOUT={self.config.timeout:g}s"
        )

    def _turn_timed_out(self, what: str, then: str) -> AgentUnavailable:
        return AgentUnavailable(
            f"{what}: the Cortex agent did not finish within "
            f"CORTEX_TURN_TIMEOUT={seconds(self.config.turn_timeout)}s{then}"
        )

    def _answer(self, response: requests.Response, deadline: _Deadline, relay: Relay) -> Answer:
        what = f"running {self.config.agent}"
        builder = AnswerBuilder(self.auth.redact, relay=relay)
        if "text/event-stream" not in response.headers.get("Content-Type", ""):
            builder.feed(sse.Event("response", response.text))  # `"stream": false` shape
            return builder.answer()
        body = _Body(response, deadline, self.config.timeout)
        events = sse.parse(body)
        try:
            for event in events:
                if builder.feed(event):
                    break
        except _TurnOver as exc:
            raise self._turn_timed_out(what, "; the stream was closed") from exc
        except requests.exceptions.ConnectionError as exc:
            if exc.args and isinstance(exc.args[0], urllib3.exceptions.ReadTimeoutError):
                if deadline.passed:
                    raise self._turn_timed_out(what, "; the stream was closed") from exc
                raise self._timed_out(what, deadline) from exc
            raise _BrokenStream(builder.events == 0, "the event stream broke off") from exc
        except requests.exceptions.RequestException as exc:
            raise _BrokenStream(builder.events == 0, "the event stream broke off") from exc
        if builder.events == 0:
            raise _BrokenStream(True, "the event stream ended without any event")
        answer = builder.answer()
        _finish_stream(body, events)
        return answer

    def _refusal(self, status: int, response: requests.Response, request: _Request) -> AgentRequestError:
        detail = _detail(response, self.auth.redact)
        agent = self.config.agent
        if status == 401:
            hint = "check CORTEX_TOKEN / CORTEX_TOKEN_TYPE"
        elif status == 403:
            hint = (
                "the role needs USAGE on the agent and its database/schema "
                f"(GRANT USAGE ON AGENT {agent} TO ROLE ...)"
            )
        elif status == 404 and request.path.startswith(THREADS_PATH):
            hint = "check CORTEX_BASE_URL and the thread id"
        elif status == 404:
            hint = f"run SHOW AGENTS IN SCHEMA {agent.database}.{agent.schema} to check CORTEX_AGENT"
        else:
            hint = "the request was refused"
        return AgentRequestError(f"{request.what}: HTTP {status}{detail}; {hint}")


def _detail(response: requests.Response, redact: Callable[[str], str]) -> str:
    """`: <message> (request <id>)` from a Snowflake error body, on one line, redacted before
    it is shortened (a credential cut in two would no longer be recognised)."""
    try:
        body = response.json()
    except ValueError:
        body = {"message": response.text}
    if not isinstance(body, Mapping):
        return ""
    message = " ".join(redact(str(body.get("message") or "")).split())[:200]
    request_id = redact(str(body.get("request_id") or ""))
    return (f": {message}" if message else "") + (f" (request {request_id})" if request_id else "")


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds, from delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - dt.datetime.now(dt.UTC)).total_seconds(), 0.0)


DRAIN_TIMEOUT = 1.0  # seconds to wait for the end of a stream whose answer is complete


class _Body:
    """A streamed body's chunks as they come: each read waits at most `read_timeout` and never
    past the deadline, and once the deadline has passed, _TurnOver, however busy the stream."""

    def __init__(self, response: requests.Response, deadline: _Deadline, read_timeout: float) -> None:
        self.response, self.deadline, self.read_timeout = response, deadline, read_timeout

    def __iter__(self) -> Iterator[bytes]:
        chunks = self.response.iter_content(chunk_size=None)
        while True:
            if self.deadline.passed:
                raise _TurnOver()
            self._set_read_timeout(max(min(self.read_timeout, self.deadline.left()), _Deadline.SLACK))
            try:
                chunk = next(chunks)
            except StopIteration:
                return
            yield chunk

    def _set_read_timeout(self, timeout: float) -> None:
        # urllib3 set the socket's timeout when the response began, and sets it again on the
        # connection's next request; in between, this is what each read waits.
        sock = getattr(getattr(self.response.raw, "connection", None), "sock", None)
        if sock is not None:
            sock.settimeout(timeout)


def _finish_stream(body: _Body, events: Iterator[sse.Event]) -> None:
    """Read what follows the final event (normally just the stream's last chunk).

    A response read to its end hands its connection back to the pool; one left unread is
    closed, and every call then paid a new TCP connection. The answer is already complete,
    so a server slow to end the stream only costs DRAIN_TIMEOUT (less if the call's deadline
    is nearer), and then that connection.
    """
    body.read_timeout = DRAIN_TIMEOUT
    try:
        for _ in events:
            pass
    except (requests.exceptions.RequestException, OSError, urllib3.exceptions.HTTPError, _TurnOver):
        pass


def _thread_id(response: requests.Response, _: _Deadline) -> str:
    try:
        payload: Any = response.json()
    except ValueError:
        payload = response.text.strip()
    if isinstance(payload, Mapping):
        payload = payload.get("thread_id")
    if isinstance(payload, bool) or not isinstance(payload, (str, int)) or not str(payload).strip():
        raise AgentUnavailable("the Cortex threads API answered without a thread id")
    return str(payload).strip()


def _json_object(response: requests.Response, _: _Deadline) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError as exc:
        raise AgentUnavailable("the Cortex threads API answered with something other than JSON") from exc
    if not isinstance(payload, dict):
        raise AgentUnavailable("the Cortex threads API answered with something other than a JSON object")
    return payload
