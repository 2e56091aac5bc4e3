"""A local Cortex Agent REST server: threads and `agents/{name}:run` streamed as real SSE.

It runs on 127.0.0.1 (an ephemeral port) in a thread, speaks HTTP/1.1 with chunked
event streams, records every request, enforces the chaining rules (parent 0 on a thread's
first turn, then its last assistant message id, or an earlier one to fork from; else 400)
and the Authorization header (401), and misbehaves on demand through `Fault`s (a `script`
replaces a turn's events: tests/cortex_scripts.py). Its answers are deterministic text that
names the prompt's customer and section, carried by the event sequence Snowflake documents:
status, thinking, analyst and search tool use/results, text deltas and the aggregated text,
a citation, user and assistant `metadata`, then `response` with its metadata.

    with CortexServer() as server:
        server.faults.append(Fault(every=3, status=503))     # every 3rd :run answers 503
        ... client at server.url with token server.token ...
        assert [r.body["parent_message_id"] for r in server.runs()] == [0, 1002, 1004]
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import json
import re
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from requests.structures import CaseInsensitiveDict

DEFAULT_AGENT = "SNOWFLAKE_INTELLIGENCE.AGENTS.EXECUTIVE_REVIEW_ASSISTANT"
THREADS = "/api/v2/cortex/threads"
STATS = "/_stats"  # not Cortex: what the server saw, for bench/cortex.py
FIXTURES = Path(__file__).parent / "fixtures" / "cortex"
RUN = re.compile(r"^/api/v2/databases/([^/]+)/schemas/([^/]+)/agents/([^/:]+):run$")
# Who the request's credentials name (the thread owner), or None to answer 401.
Authorizer = Callable[[Mapping[str, str]], str | None]
# A scripted turn: (prompt, thread id, user message id, assistant message id) -> its events.
Script = Callable[[str, int, int, int], Iterable[tuple[str, dict[str, Any]]]]

# How a run's stream goes, when a Fault says so:
STREAM_MODES = {
    "normal",  # the full documented sequence
    "done",  # ... followed by `data: [DONE]`
    "nested_metadata",  # metadata events nested as {"metadata": {...}}; `response` without metadata
    "no_response_metadata",  # flat metadata events; `response` without metadata
    "text_only",  # `response.text` blocks without any delta
    "drop",  # some events, then the connection is cut (no terminating chunk)
    "truncate",  # some events, then a clean end of stream without `response`
    "error",  # status, then an `error` event
    "stall",  # some events, then silence for the fault's latency, then the rest
    "linger",  # the whole sequence, then silence for the fault's latency before the stream ends
    "empty",  # a 200 stream with no events at all
    "execute_sql",  # the 2026 shape: `system_execute_sql` tool use with the statement in `input.sql`
    "warning",  # a `response.warning` (code 399569, or the fault's message) and the final `warnings[]`
    "elicitation",  # the answer is a clarifying question (`is_elicitation: true`)
    "cancelled",  # some text, then a final `response` with `status: "cancelled"` (not persisted)
    "endless",  # status, then a `response.status` event every `latency` seconds, never a response
    "trickle",  # status, then a `response.text.delta` every `latency` seconds, never a response
}
ENDLESS = {"endless", "trickle"}
COMMITTING = {
    "normal", "done", "nested_metadata", "no_response_metadata", "text_only", "stall", "linger",
    "execute_sql", "warning", "elicitation",
}  # fmt: skip
CUT_AFTER = 6  # events sent before a "drop", "truncate" or "stall"


@dataclass
class Fault:
    """Misbehaviour for the calls it matches (all given conditions must hold).

    kind: "run" (`:run`), "thread" (thread creation) or "any"; every: each n-th call of that
    kind, retries included; calls: these call numbers (1-based); prompt: runs whose prompt
    contains this; times: at most this many hits. Then: answer `status` (with a Snowflake
    error body and `retry_after`), or stream in `stream` mode, or `replay` a capture file
    byte for byte (in odd-sized chunks); `latency` delays the answer (or, for "stall" and
    "linger", the middle or the end of the stream; for "endless" and "trickle", the gap
    between events). An endless stream stops after `lasts` seconds (a clean end without
    `response`), so that a client that never hangs up fails its test instead of hanging it.
    `message` replaces the message of the error body, the `error` event or the warning, with
    `{token}` standing for the credential the request carried (a server that echoes it).
    `first_text` and `pace` stream a turn as a slow model writes it: event by event, the
    first `response.text.delta` `first_text` seconds after the request arrived and each
    later one `pace` seconds after the one before (Recorded.text_sent says when each went).
    """

    kind: str = "run"
    every: int | None = None
    calls: frozenset[int] | None = None
    prompt: str | None = None
    times: int | None = None
    status: int | None = None
    retry_after: float | None = None
    stream: str | None = None
    replay: str | None = None  # a capture in tests/fixtures/cortex/ to stream verbatim instead
    message: str | None = None  # the error body's, `error` event's or warning's message; {token} echoes it
    script: Script | None = None  # the turn's events instead of the standard answer (tests/cortex_scripts.py)
    latency: float = 0.0
    lasts: float = 30.0
    first_text: float | None = None  # paced: the first text delta this long after the request...
    pace: float = 0.0  # ... and each later one this long after the one before
    hits: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.stream is not None and self.stream not in STREAM_MODES:
            raise ValueError(f"unknown stream mode {self.stream}")

    def matches(self, kind: str, number: int, prompt: str) -> bool:
        return (
            self.kind in (kind, "any")
            and (self.every is None or number % self.every == 0)
            and (self.calls is None or number in self.calls)
            and (self.prompt is None or self.prompt in prompt)
            and (self.times is None or self.hits < self.times)
        )


@dataclass
class Recorded:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: CaseInsensitiveDict[str]
    body: Any
    started: float  # time.monotonic()
    peer: tuple[str, int] = ("", 0)  # the client's address and port: one per TCP connection
    finished: float | None = None
    status: int | None = None
    hung_up: bool = False  # the client closed the connection while the server was still answering
    text_sent: list[float] = field(default_factory=list)  # when each text delta was written (monotonic)

    @property
    def prompt(self) -> str:
        try:
            return str(self.body["messages"][-1]["content"][0]["text"])
        except (KeyError, IndexError, TypeError):
            return ""


@dataclass
class AgentThread:
    thread_id: int
    origin: str
    created: int
    owner: str
    next_id: int
    last_assistant: int = 0
    messages: list[dict[str, Any]] = field(default_factory=list)


class CortexServer:
    """The server and everything it saw. Thread-safe; a context manager starts/stops it."""

    def __init__(
        self,
        token: str = "pat-secret-7f3a9c",
        token_type: str = "PROGRAMMATIC_ACCESS_TOKEN",
        authorize: Authorizer | None = None,
        agent: str = DEFAULT_AGENT,
        latency: float = 0.0,
        thread_shape: str = "object",
    ) -> None:
        self.token, self.token_type = token, token_type
        self.authorize = authorize or self._bearer
        self.agent = agent
        self.latency = latency  # seconds before every answer (benchmarks, timeouts)
        self.thread_shape = thread_shape  # "object" | "string" | "int"
        self.faults: list[Fault] = []
        self.requests: list[Recorded] = []
        self.threads: dict[int, AgentThread] = {}
        self.in_flight = 0
        self.max_concurrent = 0
        self.open_connections = 0  # TCP connections from clients, not yet closed
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {"run": 0, "thread": 0}
        self._thread_ids = itertools.count(1)
        self._httpd: ThreadingHTTPServer | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> CortexServer:
        handler = type("Handler", (_Handler,), {"app": self})
        self._httpd = _HTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        serve = self._httpd.serve_forever
        threading.Thread(
            target=serve, kwargs={"poll_interval": 0.02}, name="cortex-server", daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> CortexServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "the server is not running"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- what it saw ---------------------------------------------------------------------

    def wait_for_connections(self, count: int, timeout: float = 5.0) -> bool:
        """Whether, within `timeout` seconds, exactly `count` client connections are open
        (a client's hang-up reaches the server a moment after it closes its socket)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self.open_connections == count:
                    return True
            time.sleep(0.01)
        return False

    def wait_until_answered(self, record: Recorded, timeout: float = 5.0) -> bool:
        """Whether, within `timeout` seconds, the server is done with `record` (a client's
        hang-up reaches it at its next write after the client closed the connection)."""
        deadline = time.monotonic() + timeout
        while record.finished is None and time.monotonic() < deadline:
            time.sleep(0.01)
        return record.finished is not None

    def _connection(self, delta: int) -> None:
        with self._lock:
            self.open_connections += delta

    def runs(self) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path.endswith(":run")]

    def thread_creates(self) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and r.path == THREADS]

    def call_times(self) -> list[float]:
        with self._lock:
            return [r.started for r in self.requests]

    # -- dispatch ------------------------------------------------------------------------

    def handle(self, h: _Handler) -> None:
        split = urlsplit(h.path)
        if split.path == STATS:  # for a benchmark that runs this server in another process
            with self._lock:
                hung_up = sum(1 for r in self.requests if r.hung_up)
                statuses = [r.status for r in self.requests]
            stats = {"call_times": self.call_times(), "max_concurrent": self.max_concurrent,
                     "hung_up": hung_up, "statuses": statuses, "open_connections": self.open_connections}  # fmt: skip
            h.reply_json(200, stats)
            return
        record = Recorded(h.command, split.path, parse_qs(split.query), CaseInsensitiveDict(dict(h.headers)),
                          h.read_json(), time.monotonic(), (str(h.client_address[0]), int(h.client_address[1])))  # fmt: skip
        with self._lock:
            self.requests.append(record)
            self.in_flight += 1
            self.max_concurrent = max(self.max_concurrent, self.in_flight)
        try:
            record.status = self._route(h, record)
        except (BrokenPipeError, ConnectionResetError):
            record.hung_up = True
            h.close_connection = True  # the client went away (e.g. its timeout); nothing to answer
        finally:
            record.finished = time.monotonic()
            with self._lock:
                self.in_flight -= 1

    def _route(self, h: _Handler, r: Recorded) -> int:
        user = self.authorize(r.headers)
        if user is None:
            return h.reply_error(401, "390303", "Invalid OAuth access token or programmatic access token.")
        run = RUN.match(r.path)
        if r.method == "POST" and run:
            return self._run(h, r, user, ".".join(run.groups()))
        if r.method == "POST" and r.path == THREADS:
            return self._create_thread(h, r, user)
        if r.path.startswith(THREADS + "/") and r.method in ("GET", "DELETE"):
            return self._thread(h, r, user, r.path.removeprefix(THREADS + "/"))
        return h.reply_error(404, "390404", f"No such endpoint {r.method} {r.path}")

    def _fault(self, kind: str, prompt: str = "") -> tuple[int, Fault | None]:
        with self._lock:
            self._counts[kind] += 1
            number = self._counts[kind]
            for fault in self.faults:
                if fault.matches(kind, number, prompt):
                    fault.hits += 1
                    return number, fault
        return number, None

    def _delay(self, fault: Fault | None, since: float) -> None:
        """Answer `latency` seconds after the request arrived (its handling counts towards it)."""
        delay = self.latency + (
            fault.latency if fault and fault.stream not in ("stall", "linger", *ENDLESS) else 0.0
        )
        if delay:
            time.sleep(max(since + delay - time.monotonic(), 0.0))

    # -- threads -------------------------------------------------------------------------

    def _create_thread(self, h: _Handler, r: Recorded, user: str) -> int:
        _, fault = self._fault("thread")
        self._delay(fault, r.started)
        if fault and fault.status:
            return h.reply_error(fault.status, "399500", "Simulated failure", fault.retry_after)
        origin = str((r.body or {}).get("origin_application", ""))
        if len(origin.encode()) > 16:
            return h.reply_error(400, "399400", "origin_application must be at most 16 bytes")
        with self._lock:
            n = next(self._thread_ids)
            thread = AgentThread(10_000 + n, origin, _now_ms(), user, n * 1000)
            self.threads[thread.thread_id] = thread
        body: Any = {
            "thread_id": thread.thread_id, "thread_name": "", "origin_application": origin,
            "created_on": thread.created, "updated_on": thread.created,
        }  # fmt: skip
        if self.thread_shape == "string":
            body = str(thread.thread_id)
        elif self.thread_shape == "int":
            body = thread.thread_id
        return h.reply_json(200, body)

    def _thread(self, h: _Handler, r: Recorded, user: str, thread_id: str) -> int:
        thread = self.threads.get(int(thread_id)) if thread_id.isdigit() else None
        if thread is None or thread.owner != user:
            return h.reply_error(404, "399404", f"Thread {thread_id} does not exist or is not authorized.")
        if r.method == "DELETE":
            with self._lock:
                del self.threads[thread.thread_id]
            return h.reply_json(200, {"status": f"Thread {thread_id} successfully deleted."})
        page_size = min(int(r.query.get("page_size", ["20"])[0]), 100)
        before = int(r.query.get("last_message_id", ["0"])[0]) or None
        newest_first = [m for m in reversed(thread.messages) if before is None or m["message_id"] < before]
        meta = {"thread_id": thread.thread_id, "thread_name": "", "origin_application": thread.origin,
                "created_on": thread.created, "updated_on": thread.created}  # fmt: skip
        return h.reply_json(200, {"metadata": meta, "messages": newest_first[:page_size]})

    # -- runs ----------------------------------------------------------------------------

    def _run(self, h: _Handler, r: Recorded, user: str, agent: str) -> int:
        _, fault = self._fault("run", r.prompt)
        self._delay(fault, r.started)
        message = fault.message.replace("{token}", self.token) if fault and fault.message else None
        if fault and fault.status:
            return h.reply_error(fault.status, "399503", message or "Simulated failure", fault.retry_after)
        if agent.upper() != self.agent.upper():
            return h.reply_error(404, "399404", f"Agent '{agent}' does not exist or not authorized.")
        problem, thread = self._check_run(r, user)
        if problem or thread is None:
            return h.reply_error(400, "399400", problem or "invalid request")
        if fault and fault.replay:
            h.replay(FIXTURES / fault.replay)
            return 200
        mode = (fault.stream if fault else None) or "normal"
        if mode == "empty":
            h.start_stream()
            h.end_stream()
            return 200
        if mode in ENDLESS:
            assert fault is not None
            return self._endless(h, r, mode, fault)
        with self._lock:
            user_id, assistant_id = thread.next_id + 1, thread.next_id + 2
            if mode in COMMITTING:
                thread.next_id += 2
        if fault and fault.script:
            events = list(fault.script(r.prompt, thread.thread_id, user_id, assistant_id))
        else:
            events = list(_events(r.prompt, thread.thread_id, user_id, assistant_id, mode, message))
        # An answer that is ready goes out in one write (a send per event costs the server
        # ~2 ms of Python per call); the faults that cut the stream write event by event.
        paced = fault is not None and (fault.first_text is not None or fault.pace > 0)
        h.start_stream(at_once=not paced and mode not in ("drop", "truncate", "stall", "linger"))
        for i, (name, data) in enumerate(events):
            if paced and name == "response.text.delta":
                assert fault is not None
                after = r.text_sent[-1] + fault.pace if r.text_sent else r.started + (fault.first_text or 0.0)
                time.sleep(max(after - time.monotonic(), 0.0))
            if mode in ("drop", "truncate", "stall") and i == CUT_AFTER:
                if mode == "drop":
                    h.drop()
                    return 200
                if mode == "truncate":
                    h.end_stream()
                    return 200
                time.sleep(fault.latency if fault else 0)
            if name == "response" and mode in COMMITTING:
                # Persist before the final event: a client may chain its next turn at once.
                self._commit(thread, r, user_id, assistant_id, events)
            h.event(name, data)
            if name == "response.text.delta":
                r.text_sent.append(time.monotonic())
        if mode == "done":
            h.raw_event("data: [DONE]\n\n")
        if mode == "linger":
            time.sleep(fault.latency if fault else 0)
        h.end_stream()
        return 200

    def _endless(self, h: _Handler, r: Recorded, mode: str, fault: Fault) -> int:
        """A turn that never ends: progress (or text) every `fault.latency` s until `fault.lasts`."""
        h.start_stream()
        h.event("response.status", {"status": "planning", "message": "Planning the next steps"})
        stop = r.started + fault.lasts
        while time.monotonic() < stop:
            time.sleep(fault.latency or 0.1)
            if mode == "endless":
                h.event(
                    "response.status", {"status": "executing_tool", "message": "Executing tool `analyst`"}
                )
            else:
                h.event(
                    "response.text.delta", {"content_index": 0, "text": "and more ", "is_elicitation": False}
                )
        h.end_stream()
        return 200

    def _check_run(self, r: Recorded, user: str) -> tuple[str | None, AgentThread | None]:
        body = r.body if isinstance(r.body, dict) else {}
        thread_id = body.get("thread_id")
        thread = self.threads.get(thread_id) if isinstance(thread_id, int) else None
        if thread is None:
            return f"thread {body.get('thread_id')!r} does not exist", None
        if thread.owner != user:
            return f"thread {thread.thread_id} belongs to another user", None
        parent = body.get("parent_message_id")
        # Any earlier assistant message forks the conversation from there (as the API allows);
        # a user message's id, or 0 once the thread has turns, is refused.
        assistants = {m["message_id"] for m in thread.messages if m["role"] == "assistant"}
        if parent != thread.last_assistant and parent not in assistants:
            return (
                f"parent_message_id {parent!r} is not the last assistant message of thread "
                f"{thread.thread_id} (expected {thread.last_assistant}) nor an earlier one"
            ), None
        messages = body.get("messages")
        if not (isinstance(messages, list) and len(messages) == 1 and messages[0].get("role") == "user"):
            return "with a thread, messages must hold exactly the new user message", None
        if not r.prompt.strip():
            return "the user message has no text", None
        if r.headers.get("Accept") != "text/event-stream":
            return "this server only streams; send Accept: text/event-stream", None
        return None, thread

    def _commit(
        self,
        thread: AgentThread,
        r: Recorded,
        user_id: int,
        assistant_id: int,
        events: list[tuple[str, dict[str, Any]]],
    ) -> None:
        text = next(d["text"] for n, d in events if n == "response.text")
        with self._lock:
            thread.messages.append({"message_id": user_id, "parent_id": r.body["parent_message_id"], "role": "user",
                                    "content": [{"type": "text", "text": r.prompt}]})  # fmt: skip
            thread.messages.append({"message_id": assistant_id, "parent_id": user_id, "role": "assistant",
                                    "content": [{"type": "text", "text": text}]})  # fmt: skip
            thread.last_assistant = assistant_id

    def _bearer(self, headers: Mapping[str, str]) -> str | None:
        ok = (
            headers.get("Authorization") == f"Bearer {self.token}"
            and headers.get("X-Snowflake-Authorization-Token-Type") == self.token_type
        )
        return "TOKEN_USER" if ok else None


def answer_text(prompt: str) -> str:
    """The deterministic answer to `prompt`: it names the customer and the section."""
    customer = (re.search(r"CUST_\d+", prompt) or [""])[0] or "the customer"
    section = re.search(r"Section: ([^.\n]+)", prompt)
    title = section.group(1).strip() if section else "Follow-up"
    asked = prompt.rsplit("Question: ", 1)[-1]  # a follow-up's words, after the client's scope note
    return (
        f"## {title}\n\n{customer}: revenue grew 4.2% week over week and click-through is 0.3 points "
        f"above the industry benchmark. Asked: {' '.join(asked.split())[:60]}"
    )


def _events(
    prompt: str, thread_id: int, user_id: int, assistant_id: int, mode: str, message: str | None = None
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The documented event sequence of one turn."""
    customer = (re.search(r"CUST_\d+", prompt) or [""])[0] or "CUST_00000"
    sql = (
        "SELECT SUM(revenue) AS revenue FROM CUSTOMER_SUCCESS_DATA.ANALYTICS.conversions "
        f"WHERE customer_id = '{customer}'"
    )
    text = answer_text(prompt) if mode != "elicitation" else CLARIFYING_QUESTION
    elicitation = mode == "elicitation"
    pieces = [text[i : i + len(text) // 4 + 1] for i in range(0, len(text), len(text) // 4 + 1)]
    citation = {
        "type": "cortex_search_citation", "index": 0, "search_result_id": "cs_0001",
        "doc_id": "CS-007", "doc_title": "Retail: win-back emails lift conversions 18%",
        "text": "A retail customer lifted conversions 18% with win-back emails.",
    }  # fmt: skip
    result_set = {
        "statementHandle": "01b2-0001",
        "resultSetMetaData": {"partition": 0, "numRows": 1, "format": "jsonv2", "rowType": [
            {"name": "REVENUE", "type": "FIXED", "length": 0, "precision": 38, "scale": 2, "nullable": True}]},
        "data": [["1234.50"]],
    }  # fmt: skip
    warning = {
        "code": "399569",
        "message": message or "Tool `web_search` is not accessible to the current role",
    }
    yield "response.status", {"status": "planning", "message": "Planning the next steps"}
    yield "response.thinking.delta", {"content_index": 0, "text": "The user wants a section "}
    yield "response.thinking.delta", {"content_index": 0, "text": f"about {customer}."}
    yield "response.thinking", {"content_index": 0, "text": f"The user wants a section about {customer}."}
    yield "response.status", {"status": "executing_tool", "message": "Executing tool `analyst`"}
    if mode == "execute_sql":
        yield from _execute_sql_events(sql, result_set)
    else:
        yield from _analyst_events(prompt, sql)
    yield "response.table", {"content_index": 2, "tool_use_id": "toolu_01", "query_id": "01b2-0001",
                             "title": "Revenue", "result_set": result_set}  # fmt: skip
    yield "response.tool_use", {"content_index": 3, "tool_use_id": "toolu_02", "type": "cortex_search",
                                "name": "case_studies", "input": {"query": "win-back"}}  # fmt: skip
    yield "response.tool_result", {"content_index": 3, "tool_use_id": "toolu_02", "type": "cortex_search",
                                   "name": "case_studies", "status": "success", "content": [{"type": "json", "json": {
                                       "searchResults": [{"doc_id": "CS-007", "doc_title": citation["doc_title"],
                                                          "text": citation["text"], "source_id": 1}]}}]}  # fmt: skip
    if mode == "error":
        yield (
            "error",
            {
                "code": "399504",
                "message": message or "Error during execution",
                "request_id": str(uuid.uuid4()),
            },
        )
        return
    if mode == "warning":
        yield "response.warning", warning
    if mode == "cancelled":
        yield "response.text.delta", {"content_index": 4, "text": pieces[0], "is_elicitation": False}
        yield "response", {"role": "assistant", "status": "cancelled", "content": [
            {"type": "text", "text": pieces[0], "annotations": [], "is_elicitation": False}]}  # fmt: skip
        return
    if mode != "text_only":
        for piece in pieces:
            yield "response.text.delta", {"content_index": 4, "text": piece, "is_elicitation": elicitation}
        yield "response.text.annotation", {"content_index": 4, "annotation_index": 0, "annotation": citation}
    yield (
        "response.text",
        {"content_index": 4, "text": text, "annotations": [citation], "is_elicitation": elicitation},
    )
    final_texts = [{"type": "text", "text": text, "annotations": [citation], "is_elicitation": elicitation}]
    if mode == "text_only":  # a second block, also without deltas
        yield "response.text", {"content_index": 5, "text": "That is all for this section."}
        final_texts.append({"type": "text", "text": "That is all for this section."})
    for role, message_id in (("user", user_id), ("assistant", assistant_id)):
        meta = {"role": role, "message_id": message_id}
        yield "metadata", {"metadata": meta} if mode == "nested_metadata" else meta
    tool_use: dict[str, Any] = {"tool_use_id": "toolu_01", "type": "cortex_analyst_text2sql"}
    if mode == "execute_sql":
        tool_use = {"tool_use_id": "toolu_01", "type": "system_execute_sql", "input": {"sql": sql}}
    final: dict[str, Any] = {"role": "assistant", "status": "completed", "content": [
        {"type": "thinking", "thinking": {"text": f"The user wants a section about {customer}."}},
        {"type": "tool_use", "tool_use": tool_use},
        {"type": "table", "table": {"tool_use_id": "toolu_01", "query_id": "01b2-0001", "result_set": result_set}},
        *final_texts,
    ], "warnings": [warning] if mode == "warning" else []}  # fmt: skip
    if mode not in ("nested_metadata", "no_response_metadata"):
        final["metadata"] = {
            "thread_id": thread_id,
            "user_message_id": user_id,
            "assistant_message_id": assistant_id,
        }
    yield "response", final


CLARIFYING_QUESTION = "Which week do you mean: the last complete week, or the week in progress?"


def _analyst_events(prompt: str, sql: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Cortex Analyst as documented until 2026: the SQL in the tool result's JSON."""
    yield "response.tool_use", {"content_index": 1, "tool_use_id": "toolu_01", "type": "cortex_analyst_text2sql",
                                "name": "analyst", "input": {"query": prompt[:200]}}  # fmt: skip
    yield "response.tool_result.status", {"tool_use_id": "toolu_01", "tool_type": "cortex_analyst_text2sql",
                                          "status": "Executing SQL", "message": "Executing query"}  # fmt: skip
    yield "response.tool_result", {"content_index": 1, "tool_use_id": "toolu_01", "type": "cortex_analyst_text2sql",
                                   "name": "analyst", "status": "success", "content": [{"type": "json", "json": {
                                       "sql": sql, "text": "Revenue for the week.", "query_id": "01b2-0001"}}]}  # fmt: skip


def _execute_sql_events(sql: str, result_set: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The shape reported since April 2026: a `system_execute_sql` tool use carries the statement
    in `input.sql`, and its result carries the result set (no SQL in the result, no analyst delta)."""
    yield "response.tool_use", {"content_index": 1, "tool_use_id": "toolu_01", "type": "system_execute_sql",
                                "name": "analyst", "input": {"sql": sql}, "client_side_execute": False}  # fmt: skip
    yield "response.tool_result", {"content_index": 1, "tool_use_id": "toolu_01", "type": "system_execute_sql",
                                   "name": "analyst", "status": "success", "content": [{"type": "json", "json": {
                                       "query_id": "01b2-0001", "result_set": result_set}}]}  # fmt: skip


@contextmanager
def fakesnow_server() -> Iterator[int]:
    """fakesnow's Snowflake-protocol server on an ephemeral port; yields the port.

    Not `fakesnow.server()`: that works once per process, because the submodule it imports
    replaces the package's `server` function (a later call gets "'module' object is not
    callable"). This serves the same ASGI app without touching that attribute.
    """
    import uvicorn

    app = importlib.import_module("fakesnow.server").app
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="fakesnow-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        raise RuntimeError("fakesnow's server did not start")
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def fakesnow_sessions() -> dict[str, Any]:
    """The live sessions of fakesnow's server (token -> connection), to check a session token."""
    sessions: dict[str, Any] = importlib.import_module("fakesnow.server").sessions
    return sessions


def end_fakesnow_sessions(keep: Iterable[str] = ()) -> None:
    """Log out the sessions of fakesnow's server (but `keep`), as Snowflake does when a client closes.

    fakesnow's login returns no master token, so the connector skips its logout request and
    the server keeps each session, and with FAKESNOW_DB_PATH its DuckDB files, attached;
    the next login to the same files then fails. Between two commands, end them here.
    """
    sessions, kept = fakesnow_sessions(), set(keep)
    for token in [t for t in sessions if t not in kept]:
        sessions.pop(token).close()


def fakesnow_session_authorizer(revoked: set[str] | None = None) -> Authorizer:
    """Accepts `Snowflake Token="<t>"` (and no token-type header) for live fakesnow sessions."""
    revoked = set() if revoked is None else revoked

    def authorize(headers: Mapping[str, str]) -> str | None:
        found = re.fullmatch(r'Snowflake Token="([^"]+)"', headers.get("Authorization", ""))
        if not found or "X-Snowflake-Authorization-Token-Type" in headers or found[1] in revoked:
            return None
        return "FAKE" if found[1] in fakesnow_sessions() else None

    return authorize


def _now_ms() -> int:
    return int(time.time() * 1000)


class _HTTPServer(ThreadingHTTPServer):
    # Python's default accept queue of 5 drops the SYNs of a burst of new connections (16
    # workers connecting at once), which the client's kernel resends only after 1 s.
    request_queue_size = 256

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (after the final event, or on their timeout) are not errors."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # idle keep-alive connections are closed after this
    # Events are many small writes: with Nagle's algorithm each would wait for the client's
    # delayed ACK (~40 ms on Linux), a stall a real server does not have.
    disable_nagle_algorithm = True
    app: CortexServer

    def setup(self) -> None:
        super().setup()
        self.app._connection(+1)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.app._connection(-1)

    def do_GET(self) -> None:
        self.app.handle(self)

    def do_POST(self) -> None:
        self.app.handle(self)

    def do_DELETE(self) -> None:
        self.app.handle(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests read `requests`

    def read_json(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw else None
        except json.JSONDecodeError:
            return raw.decode(errors="replace")

    def reply_json(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> int:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        return status

    def reply_error(self, status: int, code: str, message: str, retry_after: float | None = None) -> int:
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else None
        body = {"message": message, "code": code, "request_id": str(uuid.uuid4())}
        return self.reply_json(status, body, headers)

    def start_stream(self, at_once: bool = False) -> None:
        """Start a chunked event stream; `at_once` holds its chunks until `end_stream`."""
        self._held: list[bytes] | None = [] if at_once else None
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def event(self, name: str, data: Any) -> None:
        self.chunk(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())

    def raw_event(self, text: str) -> None:
        self.chunk(text.encode())

    def chunk(self, data: bytes) -> None:
        framed = b"%x\r\n%s\r\n" % (len(data), data)
        held: list[bytes] | None = getattr(self, "_held", None)
        if held is not None:
            held.append(framed)
            return
        self.wfile.write(framed)
        self.wfile.flush()

    def replay(self, path: Path, size: int = 61) -> None:
        """Stream a capture file as is, cut in chunks that split lines and CRLFs anywhere."""
        data = path.read_bytes()
        content_type = "application/json" if path.suffix == ".json" else "text/event-stream"
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for start in range(0, len(data), size):
            self.chunk(data[start : start + size])
        self.end_stream()

    def end_stream(self) -> None:
        held, self._held = getattr(self, "_held", None) or [], None
        self.wfile.write(b"".join([*held, b"0\r\n\r\n"]))
        self.wfile.flush()

    def drop(self) -> None:
        """Cut the connection mid-stream, as a failing proxy or server would."""
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True


def serve_forever(argv: list[str] | None = None) -> None:
    """`python -m tests.cortex_server --latency 0.1`: serve until stdin closes; prints the URL.

    With `--scripts`, a prompt containing `[script:NAME]` is answered with that scripted turn
    of tests/cortex_scripts.py (LEAKS or BENIGN), for bench/guard.py.
    """
    parser = argparse.ArgumentParser(description="a local Cortex Agents server")
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--token", default="pat-secret-7f3a9c")
    parser.add_argument(
        "--scripts", action="store_true", help="answer [script:NAME] prompts with that script"
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="JSON",
        help='a Fault\'s fields, e.g. {"stream": "endless"}',
    )
    args = parser.parse_args(argv)
    with CortexServer(token=args.token, latency=args.latency) as server:
        server.faults.extend(_fault(json.loads(text)) for text in args.fault)
        if args.scripts:
            from tests.cortex_scripts import BENIGN, LEAKS

            scripts = {**{n: s for n, (_, s) in LEAKS.items()}, **BENIGN}
            server.faults.extend(Fault(prompt=f"[script:{n}]", script=s) for n, s in scripts.items())
        print(server.url, flush=True)
        sys.stdin.read()


def _fault(fields: dict[str, Any]) -> Fault:
    if "calls" in fields:
        fields["calls"] = frozenset(fields["calls"])
    return Fault(**fields)


if __name__ == "__main__":
    serve_forever()
