"""The console's in-process Slack (bot/console_api.py) driven by slack_sdk's own WebClient:
streamed answers printed as they arrive, one status line, chart uploads saved to its folder."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.console_api import DM_CHANNEL, USER_ID, ConsoleSlack


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def out() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def slack(out: io.StringIO, tmp_path: Path) -> Iterator[ConsoleSlack]:
    with ConsoleSlack(
        "sarah.johnson@example.com", "Sarah Johnson", out, charts_dir=tmp_path / "charts"
    ) as slack:
        yield slack


@pytest.fixture
def web(slack: ConsoleSlack) -> WebClient:
    return WebClient(token=slack.token, base_url=slack.api_url)


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x80" * width for _ in range(height)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def test_streamed_text_is_printed_as_it_arrives_and_buttons_as_text(
    slack: ConsoleSlack, web: WebClient, out: io.StringIO
) -> None:
    question = web.chat_postMessage(channel=USER_ID, text="What moved revenue?")["ts"]
    web.assistant_threads_setStatus(
        channel_id=DM_CHANNEL, thread_ts=question, status="is thinking…", loading_messages=["Planning…"]
    )
    web.assistant_threads_setStatus(channel_id=DM_CHANNEL, thread_ts=question, status="is thinking…")
    started = web.chat_startStream(channel=DM_CHANNEL, thread_ts=question, markdown_text="Revenue ")
    before = out.getvalue()
    assert before.endswith("    Revenue ")  # already on screen, before the answer is complete
    web.chat_appendStream(channel=DM_CHANNEL, ts=started["ts"], markdown_text="rose 12%\non renewals.")
    assert out.getvalue().endswith("Revenue rose 12%\n    on renewals.")
    blocks = [
        {"type": "actions", "elements": [{"type": "button", "action_id": "sql", "text": {"type": "plain_text", "text": "How I got this"}}]},
        {
            "type": "context_actions",
            "elements": [
                {
                    "type": "feedback_buttons",
                    "action_id": "feedback",
                    "positive_button": {"text": {"type": "plain_text", "text": "👍"}, "value": "up"},
                    "negative_button": {"text": {"type": "plain_text", "text": "👎"}, "value": "down"},
                }
            ],
        },
    ]  # fmt: skip
    stopped = web.chat_stopStream(channel=DM_CHANNEL, ts=started["ts"], blocks=blocks)
    assert stopped["message"]["text"] == "Revenue rose 12%\non renewals."

    printed = out.getvalue()
    assert printed.count("⋯ weekly-report is thinking… (Planning…)") == 1  # one status line, not one per call
    assert "[How I got this]  (buttons: not clickable in the console)" in printed
    assert "[👍] [👎]  (feedback: not clickable in the console)" in printed
    with pytest.raises(SlackApiError) as error:
        web.chat_appendStream(channel=DM_CHANNEL, ts=started["ts"], markdown_text="x")
    assert error.value.response["error"] == "message_not_in_streaming_state"


def test_chat_stream_helper_chunks_are_printed(slack: ConsoleSlack, web: WebClient, out: io.StringIO) -> None:
    question = web.chat_postMessage(channel=USER_ID, text="Why?")["ts"]
    streamer = web.chat_stream(channel=DM_CHANNEL, thread_ts=question, buffer_size=4)
    streamer.append(markdown_text="Because ")
    streamer.append(markdown_text="email doubled.")
    streamer.stop()
    assert "    Because email doubled.\n" in out.getvalue()


def test_uploaded_charts_are_saved_to_the_folder_and_named(
    slack: ConsoleSlack, web: WebClient, out: io.StringIO, tmp_path: Path
) -> None:
    assert slack.charts_notice() == f"Charts are saved to {tmp_path / 'charts'}"
    assert not (tmp_path / "charts").exists()  # nothing is created until a chart arrives
    report = web.chat_postMessage(channel=USER_ID, text="Weekly report")["ts"]
    trend = _png(20, 10)
    for _ in range(2):
        web.files_upload_v2(
            file_uploads=[
                {
                    "content": trend,
                    "filename": "trend.png",
                    "title": "Revenue, 8 weeks",
                    "alt_txt": "Up 12% to $1.2M",
                },
                {"content": b"a,b\n", "filename": "mix.csv", "title": "Mix"},
            ],
            channel=DM_CHANNEL,
            thread_ts=report,
        )
    saved = sorted(p.name for p in (tmp_path / "charts").iterdir())
    assert saved == ["mix-2.csv", "mix.csv", "trend-2.png", "trend.png"]
    assert (tmp_path / "charts" / "trend.png").read_bytes() == trend
    printed = out.getvalue()
    assert f"[image: Revenue, 8 weeks — Up 12% to $1.2M] {tmp_path / 'charts' / 'trend.png'}" in printed
    assert f"[file: Mix] {tmp_path / 'charts' / 'mix.csv'}" in printed


def test_upload_refusals(slack: ConsoleSlack, web: WebClient) -> None:
    with pytest.raises(SlackApiError) as info:
        web.files_getUploadURLExternal(filename="a.png", length=0)
    assert info.value.response["error"] == "missing_argument"
    announced = web.files_getUploadURLExternal(filename="a.png", length=5)
    with pytest.raises(SlackApiError) as info:
        web.files_completeUploadExternal(files=[{"id": announced["file_id"]}], channel_id=DM_CHANNEL)
    assert info.value.response["error"] == "file_not_found"  # its bytes never arrived


def test_markdown_and_table_blocks_read_as_text(
    slack: ConsoleSlack, web: WebClient, out: io.StringIO
) -> None:
    rich = {
        "type": "rich_text",
        "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": "Email"}]}],
    }
    blocks = [
        {"type": "markdown", "text": "**Channel effectiveness**"},
        {
            "type": "table",
            "rows": [
                [{"type": "raw_text", "text": "Channel"}, {"type": "raw_text", "text": "Revenue"}],
                [rich, {"type": "raw_text", "text": "$1.2M"}],
            ],
        },
    ]  # fmt: skip
    web.chat_postMessage(channel=USER_ID, text="fallback", blocks=blocks)
    printed = out.getvalue()
    assert "  **Channel effectiveness**\n" in printed
    assert "  Channel  Revenue\n" in printed and "  Email    $1.2M\n" in printed


def test_markdown_text_posts_and_updates_are_shown(
    slack: ConsoleSlack, web: WebClient, out: io.StringIO
) -> None:
    posted = web.chat_postMessage(channel=USER_ID, markdown_text="**Revenue** rose")
    web.chat_update(channel=DM_CHANNEL, ts=posted["ts"], markdown_text="**Revenue** rose 12%")
    assert "  **Revenue** rose\n" in out.getvalue() and "**Revenue** rose 12%\n" in out.getvalue()
