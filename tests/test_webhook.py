"""The Slack incoming-webhook transport against a local webhook server: what is posted, which
failures are retried and how, long text, and the URL's secret path kept out of errors and logs;
SLACK_WEBHOOK_URL checked at settings load."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.mrkdwn import MESSAGE_TEXT_LIMIT
from bot.slack import webhook
from bot.slack.webhook import MAX_PARTS, MAX_RETRY_AFTER, PART_INTERVAL, post_webhook, redact_url
from core.errors import ConfigError, DeliveryError
from core.settings import load_settings
from tests.email_servers import free_port
from tests.webhook_server import WEBHOOK_PATH, Answer, WebhookServer

SECRET = WEBHOOK_PATH.rsplit("/", 1)[1]
PIECE = SECRET[:6]  # no piece of the secret either (a cut after redaction would leave one)


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[WebhookServer]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    with WebhookServer() as server:
        yield server


class Sleeps(list[float]):
    """A fake `sleep` that records the waits asked for."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _fails(url: str, text: str = "hello", **kwargs: object) -> tuple[str, Sleeps]:
    sleeps = Sleeps()
    with pytest.raises(DeliveryError) as raised:
        post_webhook(url, text, sleep=sleeps, **kwargs)  # type: ignore[arg-type]
    message = str(raised.value)
    assert "\n" not in message and PIECE not in message and "T0LOCAL01" not in message
    return message, sleeps


def test_a_message_is_posted_as_json_text(hook: WebhookServer) -> None:
    sleeps = Sleeps()
    text = (
        "📊 Weekly Coaching Report - Week of November 23, 2026\n• Jane Smith: 78/100 📉 (-2 from last week)"
    )
    post_webhook(hook.url, text, sleep=sleeps)
    [request] = hook.requests
    assert request.content_type == "application/json" and json.loads(request.body) == {"text": text}
    assert (hook.messages, request.answered, sleeps) == ([text], 200, [])


@pytest.mark.parametrize(
    ("status", "body", "why"),
    [
        (400, "invalid_payload", "Slack could not read the message"),
        (403, "action_prohibited", "does not allow this webhook"),
        (404, "no_service", "the webhook does not exist"),
        (410, "channel_is_archived", "the channel is archived"),
        (302, "", "a redirect, not a webhook"),
    ],
)
def test_slacks_refusals_are_permanent(hook: WebhookServer, status: int, body: str, why: str) -> None:
    hook.answer(Answer(status, body))
    message, sleeps = _fails(hook.url)
    assert message.startswith(f"Slack webhook {hook.base}/…: HTTP {status} {body}".rstrip())
    assert why in message and "not retried" in message
    assert (len(hook.requests), sleeps, hook.messages) == (1, [], [])


def test_a_wrong_url_is_slacks_own_no_service(hook: WebhookServer) -> None:
    message, _ = _fails(hook.base + "/services/T0LOCAL01/B0LOCAL01/revoked")
    assert "HTTP 404 no_service" in message and "revoked" not in message


def test_a_server_error_is_retried_after_a_jittered_backoff(hook: WebhookServer) -> None:
    hook.answer(Answer(500, "rollup_error"), Answer(503, "busy"))
    sleeps = Sleeps()
    post_webhook(hook.url, "hello", sleep=sleeps)
    assert [r.answered for r in hook.requests] == [500, 503, 200] and hook.messages == ["hello"]
    assert len(sleeps) == 2 and 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 2.0


def test_server_errors_give_up_after_the_retries(hook: WebhookServer) -> None:
    hook.answer(*[Answer(502, "bad gateway")] * 5)
    message, sleeps = _fails(hook.url, retries=2)
    assert "HTTP 502 bad gateway; gave up after 3 attempts" in message
    assert len(hook.requests) == 3 and len(sleeps) == 2 and hook.messages == []


def test_429_waits_as_long_as_retry_after_says_up_to_a_cap(hook: WebhookServer) -> None:
    hook.answer(
        Answer(429, "rate_limited", {"Retry-After": "2"}),
        Answer(429, "rate_limited", {"Retry-After": "3600"}),
        Answer(429, "rate_limited", {"Retry-After": "soon"}),  # unreadable: the backoff
    )
    sleeps = Sleeps()
    post_webhook(hook.url, "hello", sleep=sleeps)
    assert sleeps[:2] == [2.0, MAX_RETRY_AFTER] and 2.0 <= sleeps[2] <= 4.0
    assert hook.messages == ["hello"] and len(hook.requests) == 4


def test_an_answer_that_never_comes_times_out_and_is_not_retried(hook: WebhookServer) -> None:
    hook.answer(Answer(delay=10))
    began = time.monotonic()
    message, sleeps = _fails(hook.url, timeout=0.3)
    assert time.monotonic() - began < 3
    assert "no answer within 0.3 s (ReadTimeout); the message may have been posted" in message
    assert (len(hook.requests), sleeps) == (1, [])  # never twice


def test_a_connection_dropped_after_sending_is_not_retried(hook: WebhookServer) -> None:
    hook.answer(Answer(drop=True))
    message, sleeps = _fails(hook.url)
    assert "the message may have been posted" in message and (len(hook.requests), sleeps) == (1, [])


def test_a_refused_connection_is_retried_then_fails() -> None:
    url = f"http://127.0.0.1:{free_port()}{WEBHOOK_PATH}"
    message, sleeps = _fails(url, retries=2)
    assert message.startswith("Slack webhook http://127.0.0.1:") and "cannot connect" in message
    assert "gave up after 3 attempts" in message and len(sleeps) == 2


def test_the_secret_path_is_never_logged_nor_raised(
    hook: WebhookServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # urllib3's debug lines print the request path
    hook.answer(*[Answer(503, f"busy at {hook.url}")] * 4)  # a body that names the URL
    message, _ = _fails(hook.url)
    assert message.endswith("HTTP 503 busy at …; gave up after 4 attempts")
    # The URL where a cut at 100 characters would fall inside the secret: scrubbed first.
    hook.answer(Answer(400, "x" * (100 - len(hook.url) + 12) + hook.url))
    messages = [message, _fails(hook.url)[0]]
    post_webhook(hook.url, "hello", sleep=Sleeps())
    refused = f"http://127.0.0.1:{free_port()}{WEBHOOK_PATH}"
    messages.append(_fails(refused, retries=1)[0])
    hook.answer(Answer(delay=5))
    messages.append(_fails(hook.url, timeout=0.2)[0])
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert any("urllib3" in r.name for r in caplog.records)  # the debug lines were captured, scrubbed
    assert '"POST … HTTP/1.1" 503' in caplog.text and "retrying in" in caplog.text
    for text in [*messages, logged]:
        assert PIECE not in text and "B0LOCAL01" not in text
    assert redact_url("https://hooks.slack.com/services/T000/B000/XXXX") == "https://hooks.slack.com/…"
    assert (
        redact_url("https://user:pw@hooks.slack.com:8443/services/x?token=y")
        == "https://hooks.slack.com:8443/…"
    )


def test_long_text_is_split_at_lines_into_messages(hook: WebhookServer) -> None:
    lines = [
        f"• Rep {i:04d}: {50 + i % 50}/100 📈 (+{i % 7} from last week) ({i % 9 + 1} calls)"
        for i in range(200)
    ]
    sleeps = Sleeps()
    post_webhook(hook.url, "\n".join(lines), sleep=sleeps)
    assert len(hook.messages) == 3 and all(len(m) <= MESSAGE_TEXT_LIMIT for m in hook.messages)
    assert "\n".join(hook.messages).split("\n") == lines  # every line once, in order, none cut
    assert sleeps == [PART_INTERVAL] * 2


def test_text_too_long_for_slack_is_cut_with_a_note(hook: WebhookServer) -> None:
    lines = [f"• Rep {i:05d}: 78/100 ➡️ (0 from last week) (6 calls)" for i in range(2000)]
    post_webhook(hook.url, "\n".join(lines), sleep=Sleeps())
    assert len(hook.messages) == MAX_PARTS and sum(len(m) for m in hook.messages) < 40_000
    shown = "\n".join(hook.messages).split("\n")
    assert shown[:-1] == lines[: len(shown) - 1]
    assert shown[-1] == f"… and {len(lines) - len(shown) + 1} more line(s), left out: too long for Slack"


def test_a_failing_part_says_how_many_were_posted(hook: WebhookServer) -> None:
    hook.answer(None, Answer(410, "channel_is_archived"))
    message, _ = _fails(hook.url, "\n".join(["x" * 100] * 60))
    assert "HTTP 410 channel_is_archived" in message and message.endswith("(part 2 of 2; 1 posted)")
    assert len(hook.messages) == 1 and len(hook.requests) == 2


def test_an_empty_message_is_not_posted(hook: WebhookServer) -> None:
    message, _ = _fails(hook.url, " \n ")
    assert "the message is empty" in message and hook.requests == []


# --- SLACK_WEBHOOK_URL at settings load ---------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.slack.com/services/T000/B000/XXXX",
        "http://127.0.0.1:8080/services/T000/B000/XXXX",
        "http://localhost/hook",
    ],
)
def test_a_webhook_url_is_https_or_local(tmp_path: Path, url: str) -> None:
    assert load_settings({"SLACK_WEBHOOK_URL": url}, tmp_path / "none.toml").slack_webhook_url == url


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.slack.com/services/T000/B000/s3cretXYZ",  # plain http off this machine
        "hooks.slack.com/services/T000/B000/s3cretXYZ",
        "ftp://hooks.slack.com/services/T000/B000/s3cretXYZ",
        "https://hooks.slack.com",
        "https:///services/T000/B000/s3cretXYZ",
        "https://hooks.slack.com:port/services/T000/B000/s3cretXYZ",
        "https://hooks.slack.com/services/T000/B000/s3cretXYZ with spaces",
    ],
)
def test_a_bad_webhook_url_is_refused_without_showing_it(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({"SLACK_WEBHOOK_URL": url}, tmp_path / "none.toml")
    message = str(raised.value)
    assert message.startswith("SLACK_WEBHOOK_URL must be an https:// URL") and "\n" not in message
    assert "s3cretXYZ" not in message and "T000" not in message


def test_a_log_line_is_scrubbed_whole_when_several_webhooks_share_pieces(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Webhooks of one workspace share their team segment. Scrubbed URL by URL, the first
    could cut a piece out of another's path before that path was matched whole, leaving the
    rest of its secret in the line (seen when other tests had posted to other webhooks)."""
    ours = f"http://127.0.0.1:1{WEBHOOK_PATH}"
    others = [f"http://127.0.0.1:{port}/services/T0LOCAL01/B0OTHER{port}/x{port}" for port in range(2, 40)]
    for url in [ours, *others]:
        webhook._LOG_SCRUB.remember(url)
    caplog.set_level(logging.DEBUG)
    logging.getLogger("urllib3.connectionpool").debug(
        '%s://%s:%s "%s %s %s" %s %s', "http", "127.0.0.1", 1, "POST", WEBHOOK_PATH, "HTTP/1.1", 200, 2
    )
    assert '"POST … HTTP/1.1" 200' in caplog.text
    assert PIECE not in caplog.text and "B0LOCAL01" not in caplog.text
