"""A follow-up answer as Slack shows it while it is made.

`ThreadStatus` keeps `assistant.threads.setStatus` ("is thinking…" with what the agent is
doing) on the thread while the agent works: Slack clears a status after about two minutes,
so it is set again every `refresh` seconds until cleared ("") on the answer or a failure.

`StreamedReply` is the engine's AnswerListener for one answer: the first text starts a
thread reply with `chat.startStream`, later text goes out with `chat.appendStream` at most
once per `flush_seconds` (appendStream is Tier 4 for the whole workspace), and `finish`
sends what is left with `chat.stopStream`, carrying the answer's final blocks (feedback
buttons, "How I got this", the sources). Only the answer's text is streamed, never one
message per tool call. Each call carries at most 12,000 characters; past what one message
holds the reply is cut at a paragraph, line or word and goes on in a second streamed message.

Where Slack says streaming is not available (an app or workspace without it), the answer is
posted and edited as before streaming existed: a placeholder, then the answer in its place.
An answer the guard withholds after some of it was streamed is taken back: the streamed
messages are deleted and the refusal is said instead.

Calls that make a message (startStream, appendStream, the placeholder and the posts) go through
a twin of the client that never retries: a retried 500 whose first attempt landed would leave
the answer twice. When a `chat.startStream` fails ambiguously (a server or connection error,
after which Slack may have made the stream), the bot's message that it made is looked up in the
thread, stopped and deleted before the answer falls back to posting, so that exactly one answer
stands and a withheld answer leaves no text behind.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.channels.slack_dm.delivery import without_retries
from bot.mrkdwn import markdown
from bot.slack.replies import LOOKING_INTO_IT, answer_messages
from core.agent.base import PLANNING, QUERYING, SEARCHING, WRITING

log = logging.getLogger("weekly_report.bot.stream")

STATUS_REFRESH = 90.0  # seconds: Slack clears a thread status after about two minutes
STATUS_MAX_AGE = 900.0  # seconds: a status is not kept alive longer than any turn may last
STATUS = "is thinking…"
STATUS_WORDS = {
    PLANNING: "Reading the report and planning…",
    QUERYING: "Querying the warehouse…",
    SEARCHING: "Searching the case studies…",
    WRITING: "Writing the answer…",
}
APPEND_LIMIT = 12_000  # characters of markdown_text per startStream / appendStream / stopStream call
MESSAGE_LIMIT = 12_000  # characters one streamed message holds (a markdown block's limit)
FLUSH_SECONDS = 1.0  # at most one appendStream per second per answer
MAX_BLOCKS = 50
CLOCK_SKEW = 60.0  # seconds: how far Slack's clock may be behind ours when looking for a lost stream
# What Slack answers when this app, token or workspace cannot stream (or set a status) at all:
# the answer is then posted and edited instead, and the bot stops trying (`unsupported`).
UNSUPPORTED = frozenset(
    {
        "unknown_method",
        "not_allowed",
        "not_allowed_token_type",
        "feature_not_enabled",
        "missing_scope",
        "not_implemented",
    }
)
# What Slack answers when only this channel cannot take a stream or a status: this answer is
# posted and edited instead, and later answers (other channels) try again.
UNAVAILABLE_HERE = frozenset({"method_not_supported_for_channel_type"})
UNAVAILABLE = UNSUPPORTED | UNAVAILABLE_HERE


def slack_error(exc: Exception) -> str:
    """The Web API's error code of a failed call ("" when it is not one)."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or "")
    return ""


class ThreadStatus:
    """The thread's "is thinking…" status, kept alive until cleared."""

    def __init__(
        self,
        client: WebClient,
        channel: str,
        thread_ts: str,
        refresh: float = STATUS_REFRESH,
        enabled: bool = True,
    ) -> None:
        self.client, self.channel, self.thread_ts, self.refresh = client, channel, thread_ts, refresh
        self.unavailable = not enabled  # Slack refused setStatus as not available here
        self.unsupported = False  # ... because this app or workspace cannot set one anywhere
        self._words: str | None = None
        self._lock = threading.Lock()  # held across each call, so a refresh never lands after clear()
        self._stopped = threading.Event()
        self._keeper: threading.Thread | None = None

    def show(self, words: str) -> None:
        """Show `words` as the loading message, now and every `refresh` seconds until cleared."""
        with self._lock:
            if self._stopped.is_set():
                return
            self._words = words
            self._set(STATUS, [words])
            if self._keeper is None and not self.unavailable:
                self._keeper = threading.Thread(target=self._keep, name="thread-status", daemon=True)
                self._keeper.start()

    def clear(self) -> None:
        """Take the status away (the answer or the failure is in the thread now)."""
        self._stopped.set()
        with self._lock:
            if self._words is not None:
                self._words = None
                self._set("", None)

    def _keep(self) -> None:
        # Bounded, so that a status whose answer never ended (a bug) does not live forever.
        for _ in range(max(int(STATUS_MAX_AGE // max(self.refresh, 0.001)), 1)):
            if self._stopped.wait(self.refresh):
                return
            with self._lock:
                if self._words is None or self._stopped.is_set():
                    return
                self._set(STATUS, [self._words])

    def _set(self, status: str, loading: list[str] | None) -> None:
        if self.unavailable:
            return
        try:
            self.client.assistant_threads_setStatus(
                channel_id=self.channel, thread_ts=self.thread_ts, status=status, loading_messages=loading
            )
        except (SlackClientError, OSError) as exc:
            # A status is a courtesy: the answer goes on without it.
            self.unavailable = slack_error(exc) in UNAVAILABLE
            self.unsupported = slack_error(exc) in UNSUPPORTED
            log.info("assistant.threads.setStatus failed (%s)", slack_error(exc) or type(exc).__name__)


class StreamedReply:
    """One answer in one thread: an AnswerListener that streams it, then `finish`, `withheld`
    or `failed` once the engine is done. Calls come from the worker answering the question."""

    def __init__(
        self,
        client: WebClient,
        channel: str,
        thread_ts: str,
        status: ThreadStatus,
        *,
        user_id: str | None = None,
        team_id: str | None = None,
        streaming: bool = True,
        flush_seconds: float = FLUSH_SECONDS,
        message_limit: int = MESSAGE_LIMIT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # Calls that make a message are never retried behind our back (see the module's doc);
        # idempotent ones (stop, update, delete, look-ups) keep the client's retries.
        self.client, self._retrying = without_retries(client), client
        self.channel, self.thread_ts, self._status = channel, thread_ts, status
        self.user_id, self.team_id = user_id, team_id
        self.flush_seconds, self.message_limit, self._clock = flush_seconds, message_limit, clock
        self.unavailable = not streaming  # post + update instead of streaming
        self.unsupported = False  # Slack said this app or workspace cannot stream anywhere
        self.heard = ""  # the answer's text heard so far, as the agent wrote it
        self.messages: list[str] = []  # ts of each message this answer put in the thread
        self.placeholder: str | None = None
        self._pending = ""  # escaped text not sent yet
        self._current: str | None = None  # ts of the message streaming now
        self._sent = 0  # characters in the current message
        self._last = 0.0
        self._broken = False
        self._lock = threading.Lock()
        if self.unavailable:
            self._post_placeholder()

    # -- AnswerListener ---------------------------------------------------------------------

    def status(self, phase: str, message: str = "") -> None:
        self._status.show(message or STATUS_WORDS.get(phase, STATUS_WORDS[PLANNING]))

    def text(self, delta: str) -> None:
        with self._lock:
            self.heard += delta
            if self.unavailable or self._broken:
                return
            self._pending += markdown(delta)
            due = self._current is None or self._clock() - self._last >= self.flush_seconds
            if not due and self._sent + len(self._pending) <= self.message_limit:
                return
            try:
                self._send()
            except (SlackClientError, OSError) as exc:
                self._stream_failed(exc)

    # -- the end ----------------------------------------------------------------------------

    def finish(self, text: str, blocks: Sequence[dict[str, Any]] = ()) -> None:
        """The whole answer is `text`: send what was not streamed, then stop with `blocks`."""
        with self._lock:
            try:
                if not self.unavailable and not self._broken:
                    try:
                        self._finish_stream(text, list(blocks))
                        return
                    except (SlackClientError, OSError) as exc:
                        self._stream_failed(exc)
                self._take_back()
                self._post(text, list(blocks))
            finally:
                self._status.clear()

    def withheld(self, line: str) -> None:
        """The guard withheld the answer: whatever was streamed goes, the refusal is said (as
        for any failure)."""
        self.failed(line)

    def failed(self, line: str) -> None:
        """The answer failed: the status goes and `line` says what happened in its place (a
        half answer streamed before the failure goes too: it was never stored as an answer,
        and its end may have changed what its start said)."""
        with self._lock:
            try:
                self._take_back()
                self._say(line)
            finally:
                self._status.clear()

    # -- streaming ----------------------------------------------------------------------------

    def _finish_stream(self, text: str, blocks: list[dict[str, Any]]) -> None:
        if not text.startswith(self.heard):  # the agent's final text is not what it streamed
            self._take_back()
            self._pending, self.heard = "", ""
        self._pending += markdown(text[len(self.heard) :]) if text.strip() else ""
        self.heard = text
        if not self.heard.strip() and not self.messages:
            self._pending = "(the agent returned an empty answer)"
        self._stop(blocks, self._send(final=True))

    def _send(self, final: bool = False) -> str:
        """Stream the pending text: in the current message while it has room, then in new ones.
        `final`: the last piece is returned for chat.stopStream to carry, when a stream is open."""
        while True:
            room = self.message_limit - self._sent
            if len(self._pending) <= room:
                piece, self._pending = self._pending, ""
                if final and self._current is not None and len(piece) <= APPEND_LIMIT:
                    return piece
                if not final and self._sent + len(piece) > self.message_limit * 3 // 4:
                    # Near the end of a message, text waits for its paragraph to end, so
                    # that a cut into the next message falls between paragraphs.
                    at = piece.rfind("\n\n")
                    piece, self._pending = (piece[:at], piece[at:]) if at >= 0 else ("", piece)
                if piece:
                    self._stream(piece)
                return ""
            cut = boundary(self._pending, room, whole=self._current is not None)
            piece, rest = self._pending[:cut].rstrip(), self._pending[cut:]
            self._stream(piece)
            if not rest.strip():
                # Only white space after the cut: the message does not end here. Were it
                # ended, the answer's last message would be closed before stopStream could
                # carry the final blocks to it.
                self._pending = "" if final else rest
                return ""
            self._pending = rest.lstrip()
            self._stop([])

    def _stream(self, piece: str) -> None:
        for start in range(0, max(len(piece), 1), APPEND_LIMIT):
            chunk = piece[start : start + APPEND_LIMIT]
            if self._current is None:
                self._current = self._start(chunk)
                self.messages.append(self._current)
            elif chunk:
                self.client.chat_appendStream(channel=self.channel, ts=self._current, markdown_text=chunk)
            self._sent += len(chunk)
        self._last = self._clock()

    def _start(self, chunk: str) -> str:
        """chat.startStream with `chunk`; the new message's ts. After an ambiguous failure the
        message Slack may have made anyway is found, recorded and stopped (to be deleted)."""
        since = time.time()
        try:
            started = self.client.chat_startStream(
                channel=self.channel, thread_ts=self.thread_ts, markdown_text=chunk,
                recipient_user_id=self.user_id, recipient_team_id=self.team_id,
            )  # fmt: skip
        except (SlackClientError, OSError) as exc:
            if ambiguous(exc):
                for ts in self._made_since(since, chunk):
                    self.messages.append(ts)
                    self._current = ts
                    self._stop_quietly()
            raise
        return str(started["ts"])

    def _made_since(self, since: float, chunk: str) -> list[str]:
        """The bot's messages in the thread made since `since` with `chunk` as their text (what
        a startStream whose answer was lost left behind); none when the thread cannot be read."""
        try:
            me = self._retrying.auth_test().get("bot_id")
            found = self._retrying.conversations_replies(
                channel=self.channel, ts=self.thread_ts, oldest=f"{since - CLOCK_SKEW:.6f}", limit=200
            )
        except (SlackClientError, OSError) as exc:
            log.warning("could not look for a stream that may have started (%s)", describe(exc))
            return []
        known = {*self.messages, self.placeholder, self.thread_ts}
        return [
            str(m["ts"])
            for m in found.get("messages") or []
            if m.get("bot_id") == me and m.get("ts") not in known and float(m["ts"]) >= since - CLOCK_SKEW
            and " ".join(str(m.get("text") or "").split()) == " ".join(chunk.split())
        ]  # fmt: skip

    def _stop(self, blocks: list[dict[str, Any]], text: str = "") -> None:
        if self._current is None:
            return
        ts, self._current, self._sent = self._current, None, 0
        self.client.chat_stopStream(
            channel=self.channel, ts=ts, markdown_text=text or None, blocks=blocks[:MAX_BLOCKS] or None
        )

    def _stream_failed(self, exc: Exception) -> None:
        error = slack_error(exc)
        if error in UNAVAILABLE and not self.messages:
            log.info("streaming is not available here (%s): posting the answer instead", error)
            self.unavailable, self.unsupported = True, error in UNSUPPORTED
            self._post_placeholder()
        else:
            log.warning("streaming an answer failed (%s): posting it instead", error or type(exc).__name__)
            self._broken = True
            self._stop_quietly()

    def _stop_quietly(self) -> None:
        try:
            self._stop([])
        except (SlackClientError, OSError) as exc:
            log.info("could not stop a stream (%s)", slack_error(exc) or type(exc).__name__)
            self._current = None

    def _take_back(self) -> None:
        """Delete what this answer streamed (the placeholder stays, to be edited)."""
        self._stop_quietly()
        for ts in self.messages:
            try:
                self._retrying.chat_delete(channel=self.channel, ts=ts)
            except (SlackClientError, OSError) as exc:
                log.warning(
                    "could not delete a streamed message (%s)", slack_error(exc) or type(exc).__name__
                )
        self.messages = []
        self._pending, self._sent = "", 0

    # -- posting (no streaming) ---------------------------------------------------------------

    def _post_placeholder(self) -> None:
        if self.placeholder is not None:
            return
        since = time.time()
        try:
            self.placeholder = self._post_message(LOOKING_INTO_IT, None)
        except (SlackClientError, OSError) as exc:
            # Not retried (it would be posted twice): one that landed anyway is the placeholder.
            found = self._made_since(since, LOOKING_INTO_IT) if ambiguous(exc) else []
            if not found:
                raise
            self.placeholder = found[-1]

    def _post(self, text: str, blocks: list[dict[str, Any]]) -> None:
        """The answer as mrkdwn messages, the placeholder edited into the first; `blocks` end the last."""
        messages = answer_messages(text)
        last = messages[-1]
        extra = blocks if len(last.blocks) + len(blocks) <= MAX_BLOCKS else []
        for n, message in enumerate(messages):
            shown = message.blocks + (extra if n == len(messages) - 1 else [])
            if n == 0 and self.placeholder is not None:
                self._retrying.chat_update(
                    channel=self.channel, ts=self.placeholder, text=message.text, blocks=shown
                )
            else:
                self._post_message(message.text, shown)

    def _say(self, line: str) -> None:
        if self.placeholder is not None:
            self._retrying.chat_update(channel=self.channel, ts=self.placeholder, text=line, blocks=[])
        else:
            self._post_message(line, None)

    def _post_message(self, text: str, blocks: list[dict[str, Any]] | None) -> str | None:
        sent = self.client.chat_postMessage(
            channel=self.channel, thread_ts=self.thread_ts, text=text, blocks=blocks
        )
        return sent.get("ts")


def ambiguous(exc: Exception) -> bool:
    """Whether a failed call may have done its work anyway: a server error or a lost connection
    (a refusal such as `invalid_arguments` answers for a call that did nothing)."""
    if isinstance(exc, SlackApiError):
        return exc.response.status_code >= 500
    return isinstance(exc, OSError)


def describe(exc: Exception) -> str:
    return slack_error(exc) or type(exc).__name__


def boundary(text: str, room: int, whole: bool = False) -> int:
    """Where to cut `text` to fit `room` characters: the last paragraph, line or word break
    within it, else `room` itself (moved back before an HTML entity it would split).
    `whole`: the text continues a message, so a paragraph break at 0 (end it as it is) counts."""
    window = text[:room]
    if whole and window.startswith("\n\n") and window.rfind("\n\n") == 0:
        return 0
    for separator in ("\n\n", "\n", " "):
        at = window.rfind(separator)
        if at > 0:
            return at
    amp = window.rfind("&", max(room - 5, 0))
    return amp if amp > 0 and ";" not in window[amp:] else room
