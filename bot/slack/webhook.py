"""Slack incoming webhooks: a plain HTTP POST of `{"text": ...}` to SLACK_WEBHOOK_URL.

Slack answers 200 with the body `ok`. Its refusals are permanent, so they are not retried:
400 `invalid_payload`, 403 `action_prohibited`, 404 `no_service` / `channel_not_found`,
410 `channel_is_archived` (any other 4xx, or a redirect, likewise). 429 is retried after
its `Retry-After` (capped at MAX_RETRY_AFTER), 5xx and failures to connect after a
jittered backoff, up to `retries` times; then it fails. An answer that never came (a read
timeout, a connection dropped once the request was sent) is not retried: the message may
have been posted, and a webhook has no way to ask, so it is not risked twice.

The URL's path (`/services/T…/B…/secret`) is the credential: it never appears in an error,
a log line or anything stored. Errors name the URL as `redact_url` shows it, exception and
response texts are scrubbed of it before they are cut short, and urllib3's own debug lines
(which print the path) are scrubbed by a filter on its loggers.

Text longer than a Slack message should be (under 4,000 characters; Slack truncates past
40,000) is split at paragraph, line, then word boundaries into up to MAX_PARTS messages,
posted in order, PART_INTERVAL apart (incoming webhooks take about one message a second);
past that the last part says how many lines were left out.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

import requests
from urllib3.exceptions import ConnectTimeoutError

from bot.mrkdwn import MESSAGE_TEXT_LIMIT, split_text
from core.errors import DeliveryError

log = logging.getLogger("weekly_report.bot.slack.webhook")

MAX_PARTS = 10  # 10 x 3,900 characters: under the 40,000 Slack truncates at
NOTE_ROOM = 80  # kept free in each part for the note on lines left out
PART_INTERVAL = 1.0  # seconds between the parts of one long text
MAX_RETRY_AFTER = 30.0  # seconds: the longest Retry-After honoured as given
BACKOFF_BASE = 1.0  # seconds; doubled per retry, half of it jittered
BACKOFF_CAP = 8.0
PERMANENT = {
    400: "Slack could not read the message",
    403: "the workspace does not allow this webhook to post",
    404: "the webhook does not exist (removed, or the URL is wrong)",
    410: "the channel is archived",
}
REASON_LIMIT = 300


def post_webhook(
    url: str,
    text: str,
    *,
    timeout: float = 10,
    retries: int = 3,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Post `text` to the incoming webhook at `url`, split into messages if it is long.

    Raises DeliveryError (one line, the URL redacted) when Slack refuses it, when it still
    fails after `retries` retries, or when no answer came within `timeout` seconds.
    """
    where = redact_url(url)
    _LOG_SCRUB.remember(url)
    parts = message_parts(text)
    if not parts:
        raise DeliveryError(f"Slack webhook {where}: the message is empty; nothing was posted")
    with requests.Session() as session:
        for number, part in enumerate(parts, 1):
            if number > 1:
                sleep(PART_INTERVAL)
            try:
                _post(session, url, part, timeout, retries, sleep)
            except _Failed as failed:
                which = f" (part {number} of {len(parts)}; {number - 1} posted)" if len(parts) > 1 else ""
                reason = _scrub(failed.reason, url)[:REASON_LIMIT]
                raise DeliveryError(f"Slack webhook {where}: {reason}{which}") from None
    log.info("posted %d message(s) to the Slack webhook %s", len(parts), where)


def message_parts(text: str) -> list[str]:
    """`text` as the messages it is posted in: each under MESSAGE_TEXT_LIMIT characters, at
    most MAX_PARTS of them; the last says how many lines were left out, if any were."""
    parts = split_text(text, MESSAGE_TEXT_LIMIT)
    if len(parts) <= MAX_PARTS:
        return parts
    parts = split_text(text, MESSAGE_TEXT_LIMIT - NOTE_ROOM)  # room for the note in every part
    left_out = sum(p.count("\n") + 1 for p in parts[MAX_PARTS:])
    kept = parts[:MAX_PARTS]
    kept[-1] += f"\n… and {left_out} more line(s), left out: too long for Slack"
    return kept


def redact_url(url: str) -> str:
    """The webhook URL as errors and logs may show it: scheme and host, the path hidden."""
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(a malformed URL)"
    if not parts.hostname:
        return "(a malformed URL)"
    return f"{parts.scheme}://{parts.hostname}{port}/…"


class _Failed(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


def _post(
    session: requests.Session,
    url: str,
    text: str,
    timeout: float,
    retries: int,
    sleep: Callable[[float], None],
) -> None:
    """One message, with its retries; raises _Failed with the reason (not yet scrubbed)."""
    for attempt in range(max(retries, 0) + 1):
        try:
            response = session.post(url, json={"text": text}, timeout=timeout, allow_redirects=False)
        except requests.RequestException as exc:
            if not _before_sending(exc):
                raise _Failed(
                    f"no answer within {timeout:g} s ({type(exc).__name__}); the message may have been "
                    "posted, so it is not sent again"
                ) from None
            failure, wait = f"cannot connect ({_cause(exc)})", _backoff(attempt)
        else:
            status = response.status_code
            if 200 <= status < 300:
                return
            failure = f"HTTP {status} {_body(response, url)}".rstrip()
            if status == 429:
                wait = _retry_after(response, attempt)
            elif status >= 500:
                wait = _backoff(attempt)
            else:
                why = PERMANENT.get(status, "a redirect, not a webhook" if status < 400 else "refused")
                raise _Failed(f"{failure}: {why}; not retried")
        if attempt >= retries:
            raise _Failed(f"{failure}; gave up after {retries + 1} attempts")
        log.warning(
            "Slack webhook %s: %s; retrying in %.1f s",
            redact_url(url),
            _scrub(failure, url)[:REASON_LIMIT],
            wait,
        )
        sleep(wait)


def _before_sending(exc: requests.RequestException) -> bool:
    """Whether the request failed before anything reached the server (so it was not posted)."""
    if isinstance(
        exc, requests.ConnectTimeout | requests.exceptions.SSLError | requests.exceptions.ProxyError
    ):
        return True
    if not isinstance(exc, requests.ConnectionError):
        return False
    cause = exc.args[0] if exc.args else None
    # urllib3's NewConnectionError (refused, unreachable, unknown host) is a ConnectTimeoutError.
    return isinstance(getattr(cause, "reason", cause), ConnectTimeoutError)


def _cause(exc: requests.RequestException) -> str:
    cause = exc.args[0] if exc.args else None
    reason = getattr(cause, "reason", None)
    return type(reason).__name__ if reason is not None else type(exc).__name__


def _body(response: requests.Response, url: str) -> str:
    """The start of Slack's answer (`no_service`, `invalid_payload`, ...), on one line,
    scrubbed of the URL before it is cut (a cut could leave part of the secret unmatched)."""
    return " ".join(_scrub(response.text, url).split())[:100]


def _retry_after(response: requests.Response, attempt: int) -> float:
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return _backoff(attempt)
    if not seconds >= 0:  # NaN or negative
        return _backoff(attempt)
    return min(seconds, MAX_RETRY_AFTER)


def _backoff(attempt: int) -> float:
    step = min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)
    return step / 2 + random.uniform(0, step / 2)


def _secrets(url: str) -> list[str]:
    """What of `url` must not be shown: the URL, its path and query, and each path segment
    (as written and decoded), longest first so the whole goes before its pieces."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url] if url else []
    found = {url, parts.path, parts.query, f"{parts.path}?{parts.query}"}
    for segment in parts.path.split("/"):
        found.update({segment, unquote(segment)})
    return sorted(
        (s for s in found if len(s) >= 4 and s not in ("services", "/services")), key=len, reverse=True
    )


def _scrub(text: str, url: str) -> str:
    for secret in _secrets(url):
        text = text.replace(secret, "…")
    return text


class _UrllibScrub(logging.Filter):
    """Hides the webhook URLs posted to in this process from urllib3's debug lines, which
    print the request path (`"POST /services/T…/B…/secret HTTP/1.1" 200`)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: set[str] = set()

    def remember(self, url: str) -> None:
        self.urls.add(url)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.urls:
            return True
        message = original = record.getMessage()
        # Every URL's pieces together, longest first: webhooks of one workspace share their
        # team segment, and one URL's pieces cut out first would keep another's path from
        # being matched whole, leaving the rest of it in the line.
        for secret in sorted({s for url in self.urls for s in _secrets(url)}, key=len, reverse=True):
            message = message.replace(secret, "…")
        if message != original:
            record.msg, record.args = message, None
        return True


_LOG_SCRUB = _UrllibScrub()
for _name in ("urllib3.connectionpool", "urllib3.util.retry", "urllib3.connection"):
    logging.getLogger(_name).addFilter(_LOG_SCRUB)
