"""What the local Slack server records, and the small value types it hands out."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Call:
    """One Web API request as the server saw it (the token itself is never kept).

    `at` is the server's clock (`time.monotonic()` unless injected) when it took the call (the instant rate limits judge);
    `token_kind` is "bot", "app", "none", "invalid" or, for POSTs to a slash command's
    `response_url`, "response_url" (method "response_url"), and for a file's bytes POSTed to
    its upload URL, "upload_url" (method "upload").
    """

    method: str
    params: dict[str, Any]
    response: dict[str, Any]
    status: int
    at: float
    token_kind: str

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))


@dataclass(frozen=True)
class Ack:
    """A Socket Mode acknowledgement: its optional response payload and seconds since the envelope went out."""

    envelope_id: str
    payload: dict[str, Any] | None
    latency_seconds: float


@dataclass
class Envelope:
    """An envelope the server sent over a socket, and when."""

    body: dict[str, Any]
    sent_at: float
    connection: int


class ApiError(Exception):
    """A Web API method's refusal: becomes `{"ok": false, "error": ..., **extra}`."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra

    def response(self) -> dict[str, Any]:
        return {"ok": False, "error": self.error, **self.extra}


@dataclass
class TsClock:
    """Slack-style message timestamps ("1763000000.000100"), strictly increasing across threads."""

    _last_us: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next(self) -> str:
        with self._lock:
            self._last_us = max(time.time_ns() // 1000, self._last_us + 1)
            seconds, micros = divmod(self._last_us, 1_000_000)
        return f"{seconds}.{micros:06d}"


def random_id(prefix: str, length: int = 10) -> str:
    """An upper-case Slack-looking id such as `Ev0A1B2C3D4E`."""
    return prefix + secrets.token_hex(length).upper()[:length]


@dataclass(frozen=True)
class StreamAppend:
    """One piece of a streamed message's text and when the server took it (the server's clock).

    `method` is the call that carried it: chat.startStream, chat.appendStream or chat.stopStream.
    """

    text: str
    at: float
    method: str


@dataclass
class Stream:
    """A message streamed with chat.startStream / appendStream / stopStream, as the server saw it."""

    channel: str
    ts: str
    thread_ts: str
    recipient_user_id: str | None
    recipient_team_id: str | None
    started_at: float
    appends: list[StreamAppend] = field(default_factory=list)
    stopped_at: float | None = None
    blocks: list[dict[str, Any]] | None = None
    stopped_by: str | None = None  # "app" (chat.stopStream), "user" or "slack" (streaming state expired)

    @property
    def text(self) -> str:
        """Everything streamed so far, in order."""
        return "".join(piece.text for piece in self.appends)

    @property
    def streaming(self) -> bool:
        return self.stopped_at is None

    @property
    def first_text_at(self) -> float | None:
        """When the first non-empty text arrived (None if none has): what a user first sees."""
        return next((piece.at for piece in self.appends if piece.text), None)


@dataclass(frozen=True)
class StatusUpdate:
    """One assistant.threads.setStatus in a thread (or the clearing a bot reply does), with its time.

    `status` "" is a clear; `cleared_by` is "reply" when a bot message in the thread cleared it.
    """

    channel: str
    thread_ts: str
    status: str
    loading_messages: tuple[str, ...]
    at: float
    cleared_by: str | None = None


@dataclass
class Upload:
    """A file announced by files.getUploadURLExternal, its bytes once POSTed, its share once completed."""

    id: str
    name: str
    length: int
    alt_txt: str | None
    snippet_type: str | None
    created: int
    ticket: str  # the upload URL's last segment
    content: bytes | None = None
    title: str | None = None
    completed: bool = False
    channel: str | None = None
    message_ts: str | None = None
    thread_ts: str | None = None
