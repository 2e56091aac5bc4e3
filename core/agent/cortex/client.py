"""HTTP to the Cortex Agent REST API: threads, and runs streamed as server-sent events.

Every request takes a slot from the process's rate limiter first. Connection failures and
408/409/429/5xx answers are retried with jittered exponential backoff that honours
Retry-After (a 429's Retry-After pauses every caller, through the limiter), up to
`RetryPolicy.attempts` in all. A run whose stream already produced an event is never
replayed: the thread may hold its turn. A read that waits longer than CORTEX_TIMEOUT is
not retried either. Vendor exceptions become AgentUnavailable / AgentRequestError here.
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
from typing import Any, TypeVar

import requests
import requests.adapters
import urllib3.exceptions

from core.agent.base import Answer
from core.agent.cortex import sse
from core.agent.cortex.auth import Auth
from core.agent.cortex.config import CortexConfig
from core.agent.cortex.events import AnswerBuilder
from core.agent.ratelimit import RateLimiter, shared_limiter
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
    max_retry_after: float = 300.0  # a longer Retry-After gives up at once

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
    ) -> None:
        self.config = config
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
        self._call("DELETE", f"{THREADS_PATH}/{thread_id}", f"deleting thread {thread_id}", lambda r: None)

    # -- runs ----------------------------------------------------------------------------

    def run(self, thread_id: str, parent_message_id: int, prompt: str) -> Answer:
        """Ask `prompt` on the thread after `parent_message_id`; the streamed answer, assembled."""
        body = {
            "thread_id": int(thread_id) if thread_id.isascii() and thread_id.isdigit() else thread_id,
            "parent_message_id": parent_message_id,
            "messages": [{"role": "user", "content": [{"type": "text", "text": prompt}]}],
            "tool_choice": {"type": "auto"},
        }
        what = f"running {self.config.agent}"
        return self._call("POST", self.config.agent.run_path, what, self._answer, body=body, stream=True)

    def close(self) -> None:
        self._session.close()
        self.auth.close()

    # -- the request loop ----------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        what: str,
        consume: Callable[[requests.Response], T],
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        stream: bool = False,
    ) -> T:
        """Send with retries; `consume` reads a 2xx response. Raises AgentError otherwise."""
        request = _Request(method, path, what, body, params, stream)
        attempts, refreshed, last = self.retry.attempts, False, ""
        for attempt in range(1, attempts + 1):
            self.limiter.acquire()
            try:
                return self._attempt(request, consume, may_refresh=not refreshed)
            except _Retry as retry:
                last, refreshed = retry.reason, refreshed or retry.refreshed
                if attempt < attempts:
                    self._wait_to_retry(attempt, what, retry)
        raise AgentUnavailable(
            f"{what}: the Cortex agent kept failing ({last}) after {attempts} attempts; try again later"
        )

    def _attempt(self, request: _Request, consume: Callable[[requests.Response], T], may_refresh: bool) -> T:
        """One try: the consumed 2xx answer, or _Retry, or the AgentError to give up with."""
        try:
            response = self._send(request)
        except requests.exceptions.ReadTimeout as exc:
            raise self._timed_out(request.what) from exc
        except requests.exceptions.RequestException as exc:
            raise _Retry(f"connection failed ({type(exc).__name__})") from exc
        with response:
            if response.ok:
                try:
                    return consume(response)
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

    def _wait_to_retry(self, attempt: int, what: str, retry: _Retry) -> None:
        after = retry.after
        if after is not None and after > self.retry.max_retry_after:
            if retry.pause_all:
                self.limiter.pause(after)
            raise AgentUnavailable(
                f"{what}: the Cortex agent asked to retry after {after:g}s ({retry.reason}); try again later"
            )
        if retry.pause_all and after is not None:
            self.limiter.pause(after)  # every caller waits, in the limiter's acquire()
            after = None
        delay = 0.0 if retry.refreshed else max(self.retry.backoff(attempt), after or 0.0)
        log.warning(
            "Cortex agent, %s: %s; retry %d of %d in %.1fs", what, retry.reason, attempt,
            self.retry.attempts - 1, delay,
        )  # fmt: skip
        self._sleep(delay)

    def _send(self, request: _Request) -> requests.Response:
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
            timeout=(self.config.timeout, self.config.timeout),
        )

    def _timed_out(self, what: str) -> AgentUnavailable:
        return AgentUnavailable(
            f"{what}: the Cortex agent did not answer within CORTEX_TIMEOUT={self.config.timeout:g}s"
        )

    def _answer(self, response: requests.Response) -> Answer:
        builder = AnswerBuilder(self.auth.redact)
        if "text/event-stream" not in response.headers.get("Content-Type", ""):
            builder.feed(sse.Event("response", response.text))  # `"stream": false` shape
            return builder.answer()
        events = sse.parse(response.iter_content(chunk_size=None))
        try:
            for event in events:
                if builder.feed(event):
                    break
        except requests.exceptions.ConnectionError as exc:
            if exc.args and isinstance(exc.args[0], urllib3.exceptions.ReadTimeoutError):
                raise self._timed_out(f"running {self.config.agent}") from exc
            raise _BrokenStream(builder.events == 0, "the event stream broke off") from exc
        except requests.exceptions.RequestException as exc:
            raise _BrokenStream(builder.events == 0, "the event stream broke off") from exc
        if builder.events == 0:
            raise _BrokenStream(True, "the event stream ended without any event")
        answer = builder.answer()
        _finish_stream(response, events)
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


def _finish_stream(response: requests.Response, events: Iterator[sse.Event]) -> None:
    """Read what follows the final event (normally just the stream's last chunk).

    A response read to its end hands its connection back to the pool; one left unread is
    closed, and every call then paid a new TCP connection. The answer is already complete,
    so a server slow to end the stream only costs DRAIN_TIMEOUT, and then that connection.
    """
    sock = getattr(getattr(response.raw, "connection", None), "sock", None)
    if sock is not None:
        sock.settimeout(DRAIN_TIMEOUT)  # urllib3 sets the read timeout again on its next request
    try:
        for _ in events:
            pass
    except (requests.exceptions.RequestException, OSError, urllib3.exceptions.HTTPError):
        pass


def _thread_id(response: requests.Response) -> str:
    try:
        payload: Any = response.json()
    except ValueError:
        payload = response.text.strip()
    if isinstance(payload, Mapping):
        payload = payload.get("thread_id")
    if isinstance(payload, bool) or not isinstance(payload, (str, int)) or not str(payload).strip():
        raise AgentUnavailable("the Cortex threads API answered without a thread id")
    return str(payload).strip()


def _json_object(response: requests.Response) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError as exc:
        raise AgentUnavailable("the Cortex threads API answered with something other than JSON") from exc
    if not isinstance(payload, dict):
        raise AgentUnavailable("the Cortex threads API answered with something other than a JSON object")
    return payload
