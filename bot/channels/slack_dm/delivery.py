"""Delivery of one report to one person, exactly once per (report, recipient).

The DM gets a parent message (headline figures) and each section as a reply in its thread.
The ledger row (core.deliveries) is claimed before anything is posted and updated as the
delivery progresses (pending -> sending -> posted -> delivered, or failed), and every posted
message carries Slack message metadata naming its report, recipient and part. So a delivery
interrupted anywhere (a crash between a post and its record included) resumes without
posting anything twice: a parent whose ts was never recorded is found in the DM's history
by its metadata, and a thread gets only the parts that `conversations.replies` lacks. A post
the interrupted attempt sent just before its process died can reach Slack late, after that
lookup: so what a lookup misses is looked up once more, once such a post can no longer land.

The report's charts go into the thread as one reply right after its first part: one
files_upload_v2 call, so one `files.completeUploadExternal` and one message for all of them.
A file share carries no message metadata; its files' names do (`<report id>-<chart>.png`,
bot.charts.files), and a resume finds the charts already shared by those names in the
replies' `files`, uploading only the ones missing.

Retries belong to `Poster`, the one layer that posts: it paces every post, an upload's
message included (bot.pacing),
waits out a 429's Retry-After, and retries server and connection errors with jittered
backoff, first checking whether the failed post landed after all. Its client is a twin of
the given one with no retry handlers, so slack_sdk never retries a post behind its back
(which would double-post after an ambiguous failure, or bypass the pacer).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError, SlackRequestError

from bot.channels.slack_dm.render import slack_parent, slack_thread
from bot.charts.files import ChartFile, chart_filename, chart_files, not_drawn, rendered
from bot.mrkdwn import SlackMessage
from bot.pacing import Pacer
from core import DeliveryRecord, DeliveryStore, Report
from core.charts import Chart
from core.deliveries import DELIVERED, POSTED, SENDING

log = logging.getLogger("weekly_report.bot.delivery")
# Message metadata marking a report's parent message and its thread replies.
REPORT_EVENT = "weekly_report"
PART_EVENT = "weekly_report_part"
RATE_LIMITED_RETRIES = 8  # 429s are "not now", never "maybe posted": safe to retry
SERVER_ERROR_RETRIES = 3  # 5xx and dropped connections: checked for a landed post first
BACKOFF_BASE = 0.5  # seconds; doubled per retry, with full jitter
# Added to Slack's 1 s per channel: a post reaches Slack some ms after the pacer lets it go, and
# not always equally late (threads, GIL, a busy host), so two posts 1.0 s apart here can arrive
# closer there (a 429, a lost second, a wasted workspace slot). Free when the workspace budget
# binds; a CSM with 10 customers gets 40 messages in 49 s instead of 39.
PACING_MARGIN = 0.25
# The pacer counts a post when it lets it go, Slack when it arrives, a few ms later and not
# always equally later: so the pacer's clock runs this much slow, stretching its 60 s window
# (to 60.3 s) just enough that a post let go at the window's edge never arrives inside it.
PACER_CLOCK_SLOWDOWN = 0.005
HISTORY_PAGES = 10  # pages of 200 messages searched for an unrecorded parent
CHARTS_AFTER_PART = 1  # the thread reply the charts follow

Found = Callable[[], dict[str, Any] | None]


@dataclass(frozen=True)
class Upload:
    """A file to share: its name (what a resume looks for), title, alt text and bytes."""

    filename: str
    title: str
    alt_txt: str
    content: bytes = field(repr=False)


@dataclass(frozen=True)
class Delivery:
    """Where a report went, and how that went."""

    report_id: str
    recipient: str
    user_id: str
    channel: str | None
    ts: str | None
    status: str
    error: str | None = None
    replies: tuple[str, ...] = ()
    posted: int = 0  # messages this call posted (0 for one delivered before)
    charts: tuple[str, ...] = ()  # file names of the chart images in the thread
    # Why the charts are not in the thread though the report is (e.g. missing_scope): the
    # text is the report, so an error no retry mends costs the pictures, not the delivery.
    charts_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == DELIVERED


def shared_pacer(interval: float | None = None) -> Pacer:
    """A pacer for every poster of a process to share (Slack's limits are per channel and workspace).

    `interval`: seconds between posts to one channel (settings.slack_post_interval); None is
    Slack's 1 s plus PACING_MARGIN.
    """
    return Pacer(interval=1.0 + PACING_MARGIN if interval is None else interval, clock=_slow_clock)


def _slow_clock() -> float:
    return time.monotonic() / (1 + PACER_CLOCK_SLOWDOWN)


class Poster:
    """Posts messages: paced, with 429s and transient errors retried here and nowhere else."""

    def __init__(
        self,
        client: WebClient,
        pacer: Pacer | None = None,
        sleep: Callable[[float], None] = time.sleep,
        backoff: float = BACKOFF_BASE,
    ) -> None:
        self.client = without_retries(client)
        self.pacer, self._sleep, self._backoff = pacer, sleep, backoff
        self._lock = threading.Lock()
        self.rate_limited = 0  # 429s seen
        self.transient = 0  # server and connection errors seen

    def post(
        self,
        channel: str,
        message: SlackMessage,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
        found: Found | None = None,
    ) -> dict[str, Any]:
        """Post `message`; `found()` looks for it when a failed attempt may have landed."""

        def attempt() -> dict[str, Any]:
            return dict(
                self.client.chat_postMessage(
                    channel=channel, text=message.text, blocks=message.blocks, thread_ts=thread_ts,
                    metadata=metadata, unfurl_links=False, unfurl_media=False,
                ).data  # type: ignore[arg-type]
            )  # fmt: skip

        return self._send(channel, attempt, found, (OSError,))

    def upload(
        self,
        channel: str,
        thread_ts: str | None,
        files: Sequence[Upload],
        found: Found | None = None,
    ) -> dict[str, Any]:
        """Share `files` in one message with slack_sdk's files_upload_v2 (a URL and an upload per
        file, then one files.completeUploadExternal, which posts the message): paced and retried
        as a post, since it is one; `found()` looks for it when a failed attempt may have landed.

        An attempt that fails before the completion posted nothing (Slack drops uploads never
        completed), so trying again with new uploads is safe once `found()` says it did not land.
        """

        def attempt() -> dict[str, Any]:
            sent = dict(
                self.client.files_upload_v2(
                    file_uploads=[
                        {"filename": f.filename, "content": f.content, "title": f.title, "alt_txt": f.alt_txt}
                        for f in files
                    ],
                    channel=channel,
                    thread_ts=thread_ts,
                ).data  # type: ignore[arg-type]
            )
            if self.pacer is not None:
                # The pacer counted this message when the upload began; it reaches the channel
                # only with the completion, the uploads later: the next post keeps a full
                # interval from there.
                self.pacer.back_off(self.pacer.interval, channel)
            return sent

        # SlackRequestError: files_upload_v2's upload of the bytes was refused (not 200)
        return self._send(channel, attempt, found, (OSError, SlackRequestError))

    def _send(
        self,
        channel: str,
        attempt: Callable[[], dict[str, Any]],
        found: Found | None,
        transient: tuple[type[Exception], ...],
    ) -> dict[str, Any]:
        limited = failed = 0
        while True:
            if self.pacer is not None:
                self.pacer.wait(channel)
            try:
                return attempt()
            except SlackApiError as exc:
                status = exc.response.status_code
                if status == 429 and limited < RATE_LIMITED_RETRIES:
                    limited += 1
                    self._rate_limited(channel, retry_after(exc))
                    continue
                if status < 500 or failed >= SERVER_ERROR_RETRIES:
                    raise
                error: Exception = exc
            except transient as exc:  # URLError, timeouts, resets: the post may have landed
                if failed >= SERVER_ERROR_RETRIES:
                    raise
                error = exc
            failed += 1
            with self._lock:
                self.transient += 1
            pause = random.uniform(0, self._backoff * 2**failed)
            log.info("posting to %s failed (%s); retrying in %.1fs", channel, why(error), pause)
            self._sleep(pause)
            landed = found() if found is not None else None
            if landed is not None:
                return landed

    @property
    def in_flight(self) -> float:
        """Seconds a post may take to land: the client's timeout (the most it waits for one)."""
        return float(self.client.timeout)

    def pause(self, seconds: float) -> None:
        self._sleep(seconds)

    def call(self, method: Callable[..., Any], **kwargs: Any) -> Any:
        """A read or idempotent call (not a post), with the same handling of 429s and 5xx."""
        for attempt in range(RATE_LIMITED_RETRIES + 1):
            try:
                return method(**kwargs)
            except SlackApiError as exc:
                status = exc.response.status_code
                if attempt == RATE_LIMITED_RETRIES or (status != 429 and status < 500):
                    raise
                if status == 429:
                    self._rate_limited(None, retry_after(exc))
                else:
                    self._sleep(random.uniform(0, self._backoff * 2 ** min(attempt, 4)))
            except OSError:
                if attempt >= SERVER_ERROR_RETRIES:
                    raise
                self._sleep(random.uniform(0, self._backoff * 2**attempt))
        raise AssertionError("unreachable")

    def _rate_limited(self, channel: str | None, seconds: float) -> None:
        with self._lock:
            self.rate_limited += 1
        if self.pacer is not None and channel is not None:
            self.pacer.back_off(seconds, channel)
        else:
            self._sleep(seconds)


def without_retries(client: WebClient) -> WebClient:
    """A twin of `client` (same token and URL) whose calls slack_sdk never retries."""
    if not client.retry_handlers:
        return client
    return WebClient(token=client.token, base_url=client.base_url, timeout=client.timeout, retry_handlers=[])


def retry_after(exc: SlackApiError, default: float = 1.0) -> float:
    headers = {k.lower(): v for k, v in (exc.response.headers or {}).items()}
    value = headers.get("retry-after")
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(float(value), 0.0) if value is not None else default
    except ValueError:
        return default


def deliver(
    client: WebClient,
    deliveries: DeliveryStore,
    report: Report,
    user_id: str,
    recipient: str | None = None,
    *,
    poster: Poster | None = None,
    channel: str | None = None,
    charts: bool = False,
) -> Delivery:
    """DM `report` to `user_id`, recorded under `recipient` (default: the user id).

    A (report, recipient) already delivered is not posted again; an interrupted one is
    resumed (see the module docstring); one in progress elsewhere is left alone ("busy").
    With `charts` (settings.charts, WEEKLY_REPORT_CHARTS: the channels pass it), the report's
    charts (its kind's) are shared as images in one thread reply, after its first part.
    """
    poster = poster or Poster(client)
    key = recipient or user_id
    record = deliveries.claim(report.report_id, key)
    if record.status == DELIVERED:
        return Delivery(report.report_id, key, user_id, record.channel, record.message_ts, DELIVERED)
    if not deliveries.start_attempt(report.report_id, key, record):
        return Delivery(report.report_id, key, user_id, record.channel, record.message_ts, "busy")
    files = chart_files(report, charts)
    return _Sending(poster, deliveries, report, user_id, key, record, files).run(channel)


class _Sending:
    """One attempt at one delivery, resuming from what a previous attempt left."""

    def __init__(
        self,
        poster: Poster,
        deliveries: DeliveryStore,
        report: Report,
        user_id: str,
        key: str,
        before: DeliveryRecord,
        charts: Sequence[ChartFile] = (),
    ) -> None:
        self.poster, self.deliveries, self.report = poster, deliveries, report
        self.user_id, self.key, self.before, self.charts = user_id, key, before, charts
        # Anything but a row this claim created may have messages in Slack already: an attempt
        # counted, or one whose count was lost with the process that made it (a kill can take
        # the last writes with it). Looking them up costs one history read; posting again
        # would be a duplicate DM.
        self.resuming = before.attempts > 0 or not before.created
        # A row an attempt left midway (`sending`, or `posted` with replies to go): its process
        # may have died with one post on the way (an attempt posts one message at a time), and
        # Slack can store that post after our lookup: a request sent before a crash lands late.
        # So a lookup that misses something is repeated once that post can no longer land: the
        # client's timeout after this attempt began (the dead process sent it before then).
        self.in_doubt = before.status in (SENDING, POSTED)
        self.settled = time.monotonic() + poster.in_flight
        self.posted = 0

    def run(self, channel: str | None) -> Delivery:
        report, key = self.report, self.key
        ts = self.before.message_ts
        channel = self.before.channel or channel
        try:
            if ts is None or channel is None:
                channel = channel or open_dm(self.poster, self.user_id)
                parent = self._find_parent(channel) if self.resuming else None
                if parent is None and self._settle():
                    parent = self._find_parent(channel)
                if parent is None:
                    parent = self._post_parent(channel)
                    self.in_doubt = False  # a new thread: nothing of an earlier attempt can land in it
                channel, ts = str(parent.get("channel") or channel), str(parent["ts"])
                self.deliveries.posted(report.report_id, key, channel, ts)
        except (SlackClientError, OSError) as exc:
            return self._failed(None, None, f"parent message: {why(exc)}")
        sections = slack_thread(report)  # the sections, then the suggested questions (each a part)
        try:
            have = self._present(channel, ts) if self.resuming else _Thread()
            if self._lacks(have, len(sections)) and self._settle():
                have = self._present(channel, ts)
        except (SlackClientError, OSError) as exc:
            return self._failed(channel, ts, f"reading the thread: {why(exc)}")
        # The charts follow the first reply (an EBR's Performance vs Benchmarks, which they
        # illustrate); drawn meanwhile, they are ready by then.
        charts_after = min(CHARTS_AFTER_PART, len(sections))
        charts: tuple[str, ...] = ()
        charts_error: str | None = None
        replies: list[str] = []
        for n, message in enumerate(sections, start=1):
            if n in have.parts:
                replies.append(have.parts[n])
            else:
                try:
                    replies.append(str(self._post_part(channel, ts, message, n, len(sections))["ts"]))
                except (SlackClientError, OSError) as exc:
                    return self._failed(channel, ts, f"thread reply {n} of {len(sections)}: {why(exc)}")
            if n == charts_after:
                try:
                    charts, charts_error = self._share_charts(channel, ts, have)
                except (SlackClientError, OSError) as exc:
                    return self._failed(channel, ts, f"chart images: {why(exc)}")
        if charts_after == 0:
            try:
                charts, charts_error = self._share_charts(channel, ts, have)
            except (SlackClientError, OSError) as exc:
                return self._failed(channel, ts, f"chart images: {why(exc)}")
        self.deliveries.delivered(report.report_id, key)
        log.info(
            "delivered %s to %s (%s, %d thread replies)",
            report.report_id,
            self.user_id,
            channel,
            len(replies),
        )
        return Delivery(
            report.report_id,
            key,
            self.user_id,
            channel,
            ts,
            DELIVERED,
            replies=tuple(replies),
            posted=self.posted,
            charts=charts,
            charts_error=charts_error,
        )

    def _share_charts(self, channel: str, ts: str, have: _Thread) -> tuple[tuple[str, ...], str | None]:
        """The charts the thread lacks, uploaded in one reply; the file names now in the thread,
        and the error that kept them out if no retry can mend it (a scope, a revoked file
        permission) or that some could not be drawn. Transient failures raise: the delivery fails
        and its resume uploads them."""
        missing = [f for f in self.charts if f.filename not in have.files]
        images = rendered(missing)
        if images:
            try:
                names = upload_images(
                    self.poster, channel, ts, images, lambda: self._present(channel, ts).files
                )
            except SlackApiError as exc:
                if exc.response.status_code == 429 or exc.response.status_code >= 500:
                    raise
                log.warning(
                    "the charts of %s for %s were not uploaded (%s); the report goes without them",
                    self.report.report_id, self.user_id, why(exc),
                )  # fmt: skip
                return tuple(f.filename for f in self.charts if f.filename in have.files), why(exc)
            self.posted += 1
            have.files.update(dict.fromkeys(names, ""))
        return tuple(f.filename for f in self.charts if f.filename in have.files), not_drawn(missing, images)

    def _lacks(self, have: _Thread, parts: int) -> bool:
        """Whether the thread misses a part or a chart of this delivery."""
        return len(have.parts) < parts or any(f.filename not in have.files for f in self.charts)

    def _settle(self) -> bool:
        """Once, for a delivery an earlier attempt left midway: wait until that attempt's last
        post has landed or never will, and say to look again (True)."""
        if not self.in_doubt:
            return False
        self.in_doubt = False
        pause = self.settled - time.monotonic()
        if pause > 0:
            log.info(
                "%s for %s: waiting %.1fs for a post of the interrupted attempt to land before looking again",
                self.report.report_id, self.key, pause,
            )  # fmt: skip
            self.poster.pause(pause)
        return True

    def _post_parent(self, channel: str) -> dict[str, Any]:
        metadata = {"event_type": REPORT_EVENT, "event_payload": self._payload()}
        return self._post(
            channel, slack_parent(self.report), None, metadata, lambda: self._find_parent(channel)
        )

    def _post_part(self, channel: str, ts: str, message: SlackMessage, n: int, total: int) -> dict[str, Any]:
        metadata = {"event_type": PART_EVENT, "event_payload": self._payload() | {"part": n, "of": total}}

        def found() -> dict[str, Any] | None:
            landed = self._present(channel, ts).parts.get(n)
            return {"channel": channel, "ts": landed} if landed else None

        return self._post(channel, message, ts, metadata, found)

    def _post(
        self,
        channel: str,
        message: SlackMessage,
        thread_ts: str | None,
        metadata: dict[str, Any],
        found: Found,
    ) -> dict[str, Any]:
        sent = self.poster.post(channel, message, thread_ts, metadata, found)
        self.posted += 1
        return sent

    def _payload(self) -> dict[str, Any]:
        r = self.report
        return {
            "report_id": r.report_id,
            "customer_id": r.customer_id,
            "week_start": str(r.week),
            "recipient": self.key,
        }

    def _find_parent(self, channel: str) -> dict[str, Any] | None:
        """This delivery's parent message in the DM, posted by an attempt that did not record it."""
        found = find_in_history(self.poster, channel, REPORT_EVENT, self.report.report_id, self.key)
        if found is not None:
            log.info(
                "found the unrecorded parent of %s for %s (ts %s)",
                self.report.report_id,
                self.key,
                found["ts"],
            )
        return found

    def _present(self, channel: str, ts: str) -> _Thread:
        """The thread replies this delivery already has: its parts (by metadata) and the chart
        files (by name: a file share carries no metadata)."""
        present = _Thread()
        names = {f.filename for f in self.charts}
        for m in thread_messages(self.poster, channel, ts, include_all_metadata=True):
            if m.get("ts") == ts:
                continue
            if _is_ours(m, PART_EVENT, self.report.report_id, self.key):
                present.parts.setdefault(int(m["metadata"]["event_payload"]["part"]), str(m["ts"]))
            for f in m.get("files") or ():
                if f.get("name") in names:
                    present.files.setdefault(str(f["name"]), str(m["ts"]))
        return present

    def _failed(self, channel: str | None, ts: str | None, error: str) -> Delivery:
        self.deliveries.failed(self.report.report_id, self.key, error)
        log.warning("delivering %s to %s failed: %s", self.report.report_id, self.user_id, error)
        return Delivery(
            self.report.report_id, self.key, self.user_id, channel, ts, "failed", error, posted=self.posted
        )


@dataclass
class _Thread:
    """What a report's thread holds of its delivery."""

    parts: dict[int, str] = field(default_factory=dict)  # part number -> ts
    files: dict[str, str] = field(default_factory=dict)  # chart file name -> ts of its message


def share_charts(
    poster: Poster, channel: str, thread_ts: str, charts: Sequence[Chart], stem: str
) -> str | None:
    """`charts` (a follow-up answer's, from the Cortex agent) as images in one reply in the
    thread, named `<stem>-<chart>.png`; None when all are shared, else why not (the upload's
    error, or how many could not be drawn).

    An answer has no ledger row: a failed attempt that may have landed is looked for in the
    thread by those names before it is tried again, so it is not shared twice. A chart the
    renderer gave up on is left out, and said so like an upload that failed.
    """
    files = [ChartFile(c, chart_filename(stem, c.name or f"chart-{n}")) for n, c in enumerate(charts, 1)]
    images = rendered(files)
    if not images:
        return not_drawn(files, images)

    def in_thread() -> set[str]:
        return {
            str(f.get("name"))
            for m in thread_messages(poster, channel, thread_ts)
            for f in m.get("files") or ()
        }

    try:
        upload_images(poster, channel, thread_ts, images, in_thread)
    except (SlackClientError, OSError) as exc:
        log.warning("the charts of an answer in %s could not be shared (%s)", channel, why(exc))
        return why(exc)
    return not_drawn(files, images)


def upload_images(
    poster: Poster,
    channel: str,
    thread_ts: str,
    images: Sequence[tuple[ChartFile, bytes]],
    in_thread: Callable[[], Collection[str]],
) -> set[str]:
    """Share rendered charts in one thread reply; `in_thread()` names the chart files the thread
    holds, so that a failed attempt that landed after all is found, not repeated. Returns the
    file names shared."""
    uploads = [Upload(f.filename, f.title, f.alt_text, png) for f, png in images]
    names = {u.filename for u in uploads}

    def found() -> dict[str, Any] | None:
        return {"channel": channel, "files": sorted(names)} if names <= set(in_thread()) else None

    poster.upload(channel, thread_ts, uploads, found)
    return names


def thread_messages(poster: Poster, channel: str, ts: str, **options: Any) -> Iterator[dict[str, Any]]:
    """Every message of the thread at `ts` (the parent too), page by page."""
    cursor = None
    while True:
        page = poster.call(
            poster.client.conversations_replies, channel=channel, ts=ts, limit=200, cursor=cursor, **options
        )
        yield from page.get("messages") or []
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return


def find_in_history(
    poster: Poster, channel: str, event_type: str, report_id: str, key: str
) -> dict[str, Any] | None:
    """The top-level message in `channel` whose metadata names (event_type, report_id, key)."""
    cursor = None
    for _ in range(HISTORY_PAGES):
        page = poster.call(
            poster.client.conversations_history,
            channel=channel, include_all_metadata=True, limit=200, cursor=cursor,
        )  # fmt: skip
        for m in page.get("messages") or []:
            if _is_ours(m, event_type, report_id, key):
                return {"channel": channel, "ts": m["ts"]}
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return None
    return None


def post_once(
    poster: Poster, deliveries: DeliveryStore, key: str, channel: str, message: SlackMessage, event_type: str
) -> bool:
    """Post `message` to `channel` once ever under the ledger key (key, channel); True if posted now.

    Used for the rollup and alerts: an attempt that may have posted is checked in the
    channel's history (by metadata) before posting again.
    """
    record = deliveries.claim(key, channel)
    if record.status == DELIVERED or not deliveries.start_attempt(key, channel, record):
        return False
    if record.message_ts is not None:  # posted, then interrupted before it was marked delivered
        deliveries.delivered(key, channel)
        return False
    metadata = {"event_type": event_type, "event_payload": {"report_id": key, "recipient": channel}}

    def found() -> dict[str, Any] | None:
        return find_in_history(poster, channel, event_type, key, channel)

    landed = found() if record.attempts > 0 and record.message_ts is None else None
    try:
        sent = landed or poster.post(channel, message, metadata=metadata, found=found)
    except (SlackClientError, OSError) as exc:
        deliveries.failed(key, channel, why(exc))
        raise
    deliveries.delivered(key, channel, str(sent.get("channel") or channel), str(sent["ts"]))
    return landed is None


def _is_ours(message: dict[str, Any], event_type: str, report_id: str, key: str) -> bool:
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    return (
        metadata.get("event_type") == event_type
        and payload.get("report_id") == report_id
        and payload.get("recipient") in (key, None)
    )


def open_dm(poster: Poster, user_id: str) -> str:
    """The DM channel with `user_id`; the user id itself (which also posts to the DM) if that fails."""
    try:
        return str(poster.call(poster.client.conversations_open, users=user_id)["channel"]["id"])
    except SlackApiError as exc:
        log.warning("conversations.open for %s failed (%s); posting to the user id", user_id, why(exc))
        return user_id


def why(exc: Exception) -> str:
    """A Slack failure in a few words: the API's error code, never request details or tokens."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
