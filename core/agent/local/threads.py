"""Threads of the local analyst, persisted in `agent_threads` / `agent_messages`.

Inside `deferred()`, new threads and messages are buffered and written in two bulk inserts
at the end: a run of thousands of reports then costs two statements, not thousands. The
engine passes its writer's queue as the store, so those inserts run on the writer thread,
in order before the reports that refer to these threads.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from core.agent.base import Store, Write, run_now
from core.errors import AgentRequestError
from core.warehouse import Warehouse
from core.warehouse.base import ANALYTICS

ORIGIN = "weekly-report"


class IdSequence:
    """Strictly increasing 63-bit ids: milliseconds, then a 10-bit sequence within the
    millisecond, then 10 random bits that tell processes apart.

    More than 1,024 ids in one millisecond borrow the next one, and a clock that steps back
    keeps counting from the last id, so an id is always greater than the one before it in
    this process (the order of messages is the order of their ids).
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._millis = 0
        self._sequence = 0
        self.new_process()

    def new_process(self) -> None:
        """Draw new process bits (a forked child must not share its parent's)."""
        self._process = random.getrandbits(10)

    def next(self) -> int:
        """A new id, greater than every id this sequence gave before."""
        with self._lock:
            now = int(self._clock() * 1000)
            if now > self._millis:
                self._millis, self._sequence = now, 0
            elif self._sequence < 0x3FF:
                self._sequence += 1
            else:
                self._millis, self._sequence = self._millis + 1, 0
            return (self._millis << 20) | (self._sequence << 10) | self._process


_ids = IdSequence()
os.register_at_fork(after_in_child=_ids.new_process)
new_id = _ids.next


class ThreadStore:
    """Creates threads and appends (user, assistant) turns with Cortex's parent rules."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        self._lock = threading.Lock()
        self._depth = 0
        self._threads: list[tuple[str, str, dt.datetime]] = []
        self._messages: list[tuple[int, str, int, str, str, str | None, dt.datetime]] = []
        # thread id -> last assistant message id, for threads created while deferred
        self._pending_last: dict[str, int] = {}

    @contextmanager
    def deferred(self, store: Store = run_now) -> Iterator[None]:
        """Buffer new threads and messages; at the end hand their bulk insert to `store`."""
        with self._lock:
            self._depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                flush = self._depth == 0
            if flush:
                store(self.take())

    def create(self) -> str:
        thread_id = str(new_id())
        row = (thread_id, ORIGIN, _now())
        with self._lock:
            if self._depth:
                self._threads.append(row)
                self._pending_last[thread_id] = 0
                return thread_id
        self.warehouse.insert_rows("agent_threads", ["thread_id", "origin_application", "created_at"], [row])
        return thread_id

    def append_turn(self, thread_id: str, parent_id: int, question: str, answer: str, sql: str | None) -> int:
        """Store the question and its answer; return the assistant message id."""
        self._check_parent(thread_id, parent_id)
        now = _now()
        user_id, assistant_id = new_id(), new_id()
        rows = [
            (user_id, thread_id, parent_id, "user", question, None, now),
            (assistant_id, thread_id, user_id, "assistant", answer, sql, now),
        ]
        with self._lock:
            if self._depth:
                self._messages.extend(rows)
                self._pending_last[thread_id] = assistant_id
                return assistant_id
        self.warehouse.insert_rows("agent_messages", MESSAGE_COLUMNS, rows)
        return assistant_id

    def take(self) -> Write:
        """Empty the buffers; return the write that stores what they held."""
        with self._lock:
            threads, messages = self._threads, self._messages
            self._threads, self._messages, self._pending_last = [], [], {}

        def write() -> None:
            self.warehouse.insert_rows(
                "agent_threads", ["thread_id", "origin_application", "created_at"], threads
            )
            self.warehouse.insert_rows("agent_messages", MESSAGE_COLUMNS, messages)

        return write

    def _check_parent(self, thread_id: str, parent_id: int) -> None:
        with self._lock:
            pending = self._pending_last.get(thread_id)
        if pending is not None:
            if parent_id != pending:
                raise AgentRequestError(
                    f"parent message {parent_id} is not the last assistant message of the thread"
                )
            return
        rows = self.warehouse.query(
            "SELECT t.thread_id, MAX(m.message_id) AS last_id,"
            " MAX(CASE WHEN m.message_id = ? AND m.role = 'assistant' THEN 1 ELSE 0 END) AS parent_ok"
            f" FROM {ANALYTICS}.agent_threads t"
            f" LEFT JOIN {ANALYTICS}.agent_messages m ON m.thread_id = t.thread_id"
            " WHERE t.thread_id = ? GROUP BY t.thread_id",
            [parent_id, thread_id],
        )
        if not rows:
            raise AgentRequestError(f"thread {thread_id} does not exist")
        if parent_id == 0 and rows[0]["last_id"] is None:
            return
        if not rows[0]["parent_ok"]:
            raise AgentRequestError(f"message {parent_id} is not an assistant message of thread {thread_id}")


MESSAGE_COLUMNS = [
    "message_id",
    "thread_id",
    "parent_message_id",
    "role",
    "content",
    "sql_text",
    "created_at",
]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
