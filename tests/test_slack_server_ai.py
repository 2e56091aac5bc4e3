"""The local Slack server's AI-app surface, proved against slack_sdk's own clients: streamed
messages, thread statuses, file uploads (files_upload_v2) and button clicks over Socket Mode."""

from __future__ import annotations

import struct
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.slack_server import SlackServer
from tests.test_slack_server import MICHAEL, SARAH, TS

TEAM = "T00000001"


@dataclass
class Clock:
    """The server's clock, moved by hand."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def server(clock: Clock) -> Iterator[SlackServer]:
    server = SlackServer(team_id=TEAM, clock=clock).start()
    server.add_user(SARAH, email="sarah.johnson@example.com", name="Sarah Johnson")
    server.add_user(MICHAEL, email="michael.chen@example.com", name="Michael Chen")
    yield server
    server.stop()


@pytest.fixture
def web(server: SlackServer) -> WebClient:
    return WebClient(token=server.bot_token, base_url=server.api_url)


def _error(call: object) -> dict:
    with pytest.raises(SlackApiError) as info:
        call()  # type: ignore[operator]
    return dict(info.value.response.data)  # type: ignore[arg-type]


def _question(server: SlackServer, web: WebClient, channel: str = SARAH) -> tuple[str, str]:
    """A message to reply to (a DM from Sarah, or a post in a channel): (channel, ts)."""
    posted = web.chat_postMessage(channel=channel, text="What moved revenue this week?")
    return posted["channel"], posted["ts"]


# streaming


def test_chat_stream_helper_streams_a_thread_reply_with_arrival_times(
    server: SlackServer, web: WebClient, clock: Clock
) -> None:
    channel, question = _question(server, web)
    streamer = web.chat_stream(channel=channel, thread_ts=question, buffer_size=5)
    streamer.append(markdown_text="Revenue ")
    clock.advance(0.25)
    streamer.append(markdown_text="rose 12%")
    clock.advance(0.25)
    feedback = [
        {
            "type": "context_actions",
            "elements": [
                {
                    "type": "feedback_buttons",
                    "action_id": "feedback",
                    "positive_button": {"text": {"type": "plain_text", "text": "👍"}, "value": "positive"},
                    "negative_button": {"text": {"type": "plain_text", "text": "👎"}, "value": "negative"},
                }
            ],
        }
    ]
    stopped = streamer.stop(markdown_text=" on renewals.", blocks=feedback)

    [stream] = server.streams(SARAH)
    assert stream.channel == channel and stream.thread_ts == question and TS.match(stream.ts)
    assert stream.text == "Revenue rose 12% on renewals." and not stream.streaming
    assert [(p.text, p.at, p.method) for p in stream.appends] == [
        ("Revenue ", 1000.0, "chat.startStream"),
        ("rose 12%", 1000.25, "chat.appendStream"),
        (" on renewals.", 1000.5, "chat.stopStream"),
    ]
    assert stream.first_text_at == 1000.0 and stream.stopped_at == 1000.5 and stream.blocks == feedback
    assert stopped["message"]["text"] == stream.text

    replies = web.conversations_replies(channel=channel, ts=question)["messages"]
    assert [m["ts"] for m in replies] == [question, stream.ts]
    assert replies[1]["text"] == stream.text and replies[1]["blocks"] == feedback
    assert replies[1]["thread_ts"] == question and replies[1]["bot_id"] == "BBOT0001"


def test_the_streamed_text_grows_in_the_thread_while_it_streams(server: SlackServer, web: WebClient) -> None:
    channel, question = _question(server, web)
    started = web.chat_startStream(channel=channel, thread_ts=question, markdown_text="")
    assert server.streams()[0].first_text_at is None
    web.chat_appendStream(channel=channel, ts=started["ts"], markdown_text="*Northwind* grew")
    [_, reply] = web.conversations_replies(channel=channel, ts=question)["messages"]
    assert reply["text"] == "*Northwind* grew" and server.streams()[0].streaming
    web.chat_appendStream(channel=channel, ts=started["ts"], markdown_text=" 15%.")
    assert server.messages(SARAH)[-1]["text"] == "*Northwind* grew 15%."


def test_streaming_errors_are_the_documented_ones(server: SlackServer, web: WebClient) -> None:
    channel, question = _question(server, web)
    assert _error(lambda: web.chat_startStream(channel="CNOPE", thread_ts=question))["error"] == (
        "missing_recipient_user_id"
    )
    no_team = lambda: web.chat_startStream(channel="C0REPORTS", thread_ts="1.2", recipient_user_id=SARAH)  # noqa: E731
    assert _error(no_team)["error"] == "missing_recipient_team_id"
    unknown = lambda: web.chat_startStream(  # noqa: E731
        channel="C0REPORTS", thread_ts="1.2", recipient_user_id="U0NOBODY", recipient_team_id=TEAM
    )
    assert _error(unknown)["error"] == "user_not_found"
    assert _error(lambda: web.chat_startStream(channel="D0NOBODY", thread_ts=question))["error"] == (
        "channel_not_found"
    )
    assert _error(lambda: web.api_call("chat.startStream", json={"channel": channel}))["error"] == (
        "invalid_arguments"
    )

    started = web.chat_startStream(channel=channel, thread_ts=question)
    too_long = "x" * 12_001
    append = lambda text: web.chat_appendStream(channel=channel, ts=started["ts"], markdown_text=text)  # noqa: E731
    assert _error(lambda: append(too_long))["error"] == "msg_too_long"
    assert append("x" * 12_000)["ok"]
    bad_chunks = lambda: web.chat_appendStream(channel=channel, ts=started["ts"], chunks=[{"type": "nope"}])  # noqa: E731
    assert _error(bad_chunks)["error"] == "invalid_chunks"
    assert _error(lambda: web.chat_appendStream(channel=channel, ts="1.000001", markdown_text="a"))[
        "error"
    ] == ("message_not_found")
    assert _error(lambda: web.chat_appendStream(channel=channel, ts=question, markdown_text="a"))[
        "error"
    ] == (
        "message_not_in_streaming_state"  # the app's own message, but an ordinary one
    )
    many = [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}] * 51
    assert _error(lambda: web.chat_stopStream(channel=channel, ts=started["ts"], blocks=many))["error"] == (
        "msg_blocks_too_many"
    )
    broken = [{"type": "section"}]
    error = _error(lambda: web.chat_stopStream(channel=channel, ts=started["ts"], blocks=broken))
    assert error["error"] == "invalid_blocks" and error["response_metadata"]["messages"]
    assert web.chat_stopStream(channel=channel, ts=started["ts"])["ok"]
    assert _error(lambda: append("more"))["error"] == "message_not_in_streaming_state"
    assert _error(lambda: web.chat_stopStream(channel=channel, ts=started["ts"]))["error"] == (
        "message_not_in_streaming_state"
    )
    assert len(server.streams()[0].text) == 12_000  # refused calls added nothing


def test_a_persons_message_is_not_the_apps_to_stream_into(server: SlackServer, web: WebClient) -> None:
    channel = server.dm_channel(SARAH)
    with server._cond:  # a message Sarah wrote, stored the way the Socket Mode side stores it
        theirs = server.workspace.post(channel, user=SARAH, text="hello")
    error = _error(lambda: web.chat_appendStream(channel=channel, ts=theirs["ts"], markdown_text="a"))
    assert error["error"] == "message_not_owned_by_app"


def test_streaming_in_a_channel_needs_the_recipient_and_membership(
    server: SlackServer, web: WebClient
) -> None:
    channel, question = _question(server, web, "C0REPORTS")
    started = web.chat_startStream(
        channel=channel,
        thread_ts=question,
        recipient_user_id=SARAH,
        recipient_team_id=TEAM,
        markdown_text="Hi",
    )
    assert server.streams("C0REPORTS")[0].recipient_user_id == SARAH and started["channel"] == "C0REPORTS"
    wrong_team = lambda: web.chat_startStream(  # noqa: E731
        channel=channel, thread_ts=question, recipient_user_id=SARAH, recipient_team_id="T0OTHER"
    )
    assert _error(wrong_team)["error"] == "team_not_found"
    server.leave_channel("C0REPORTS")
    refused = lambda: web.chat_appendStream(channel=channel, ts=started["ts"], markdown_text="a")  # noqa: E731
    assert _error(refused)["error"] == "not_in_channel"


def test_stream_methods_are_limited_at_their_documented_tiers(server: SlackServer, web: WebClient) -> None:
    limits = server.limit_as_documented("chat.startStream", "chat.appendStream")
    assert limits["chat.startStream"].per_workspace_per_minute == 20
    assert limits["chat.appendStream"].per_workspace_per_minute == 100
    channel, question = _question(server, web)
    no_retry = WebClient(token=server.bot_token, base_url=server.api_url, retry_handlers=[])
    started = no_retry.chat_startStream(channel=channel, thread_ts=question)
    for _ in range(100):
        no_retry.chat_appendStream(channel=channel, ts=started["ts"], markdown_text="a")
    with pytest.raises(SlackApiError) as info:
        no_retry.chat_appendStream(channel=channel, ts=started["ts"], markdown_text="a")
    assert info.value.response.status_code == 429 and int(info.value.response.headers["Retry-After"]) >= 1


# thread status


def test_set_status_history_clears_and_expires_on_the_servers_clock(
    server: SlackServer, web: WebClient, clock: Clock
) -> None:
    channel, question = _question(server, web)
    web.assistant_threads_setStatus(
        channel_id=channel,
        thread_ts=question,
        status="is thinking…",
        loading_messages=["Planning…", "Querying…"],
    )
    assert server.current_status(SARAH, question) == "is thinking…"
    clock.advance(119)
    assert server.current_status(channel, question) == "is thinking…"
    clock.advance(1)
    assert server.current_status(channel, question) is None  # two minutes: gone

    web.assistant_threads_setStatus(channel_id=channel, thread_ts=question, status="is querying…")
    clock.advance(1)
    web.assistant_threads_setStatus(channel_id=channel, thread_ts=question, status="")
    assert server.current_status(channel, question) is None
    history = server.status_history(channel, question)
    assert [(u.status, u.loading_messages, u.at) for u in history] == [
        ("is thinking…", ("Planning…", "Querying…"), 1000.0),
        ("is querying…", (), 1120.0),
        ("", (), 1121.0),
    ]


def test_a_reply_in_the_thread_clears_the_status(server: SlackServer, web: WebClient) -> None:
    channel, question = _question(server, web)
    web.assistant_threads_setStatus(channel_id=channel, thread_ts=question, status="is writing…")
    web.chat_startStream(channel=channel, thread_ts=question, markdown_text="Here")
    assert server.current_status(channel, question) is None
    assert server.status_history(channel, question)[-1].cleared_by == "reply"


def test_set_status_errors(server: SlackServer, web: WebClient) -> None:
    channel, question = _question(server, web)
    assert (
        _error(
            lambda: web.assistant_threads_setStatus(channel_id="D0NOBODY", thread_ts=question, status="x")
        )["error"]
        == "channel_not_found"
    )
    assert (
        _error(lambda: web.assistant_threads_setStatus(channel_id=channel, thread_ts="1.000001", status="x"))[
            "error"
        ]
        == "invalid_thread_ts"
    )
    eleven = [f"step {n}" for n in range(11)]
    too_many = lambda: web.assistant_threads_setStatus(  # noqa: E731
        channel_id=channel, thread_ts=question, status="x", loading_messages=eleven
    )
    assert _error(too_many)["error"] == "invalid_arguments"
    assert server.status_history(channel, question) == []


# files


def _png(width: int, height: int) -> bytes:
    """A real (tiny, grey) PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x80" * width for _ in range(height)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def test_files_upload_v2_shares_several_pngs_in_the_thread_as_one_message(
    server: SlackServer, web: WebClient
) -> None:
    channel, report = _question(server, web)
    trend, mix = _png(40, 20), _png(30, 30)
    done = web.files_upload_v2(
        file_uploads=[
            {
                "content": trend,
                "filename": "revenue-trend.png",
                "title": "Revenue, 8 weeks",
                "alt_txt": "Up 12%",
            },
            {"content": mix, "filename": "channel-mix.png", "title": "Channel mix", "alt_txt": "Email 40%"},
        ],
        channel=channel,
        thread_ts=report,
        initial_comment="Charts for this week",
    )
    assert [f["title"] for f in done["files"]] == ["Revenue, 8 weeks", "Channel mix"]

    replies = web.conversations_replies(channel=channel, ts=report)["messages"]
    assert len(replies) == 2
    shared = replies[1]
    assert shared["text"] == "Charts for this week" and shared["thread_ts"] == report and shared["upload"]
    assert [(f["name"], f["title"], f["alt_txt"], f["mimetype"], f["size"]) for f in shared["files"]] == [
        ("revenue-trend.png", "Revenue, 8 weeks", "Up 12%", "image/png", len(trend)),
        ("channel-mix.png", "Channel mix", "Email 40%", "image/png", len(mix)),
    ]
    assert (shared["files"][0]["original_w"], shared["files"][0]["original_h"]) == (40, 20)

    uploads = server.uploaded_files(SARAH)
    assert [u.content for u in uploads] == [trend, mix] and all(u.message_ts == shared["ts"] for u in uploads)
    assert server.file_bytes(uploads[0].id).startswith(b"\x89PNG\r\n\x1a\n")
    assert [c.method for c in server.calls][-6:] == ["files.getUploadURLExternal"] * 2 + ["upload"] * 2 + [
        "files.completeUploadExternal"
    ] + ["conversations.replies"]


def test_upload_errors_are_the_documented_ones(server: SlackServer, web: WebClient) -> None:
    get_url = web.files_getUploadURLExternal
    assert _error(lambda: get_url(filename="a.png", length=0))["error"] == "missing_argument"
    assert (
        _error(lambda: get_url(filename="a.png", length=10, alt_txt="x" * 1001))["error"]
        == "alt_txt_too_large"
    )
    assert _error(lambda: get_url(filename="a.txt", length=10, snippet_type="cobol85"))["error"] == (
        "unknown_snippet_type"
    )
    assert _error(lambda: web.api_call("files.getUploadURLExternal", params={"length": 3}))["error"] == (
        "invalid_arguments"
    )

    ticket = get_url(filename="a.png", length=10)
    complete = web.files_completeUploadExternal
    # announced but its bytes never arrived: nothing to share
    assert (
        _error(lambda: complete(files=[{"id": ticket["file_id"]}], channel_id=SARAH))["error"]
        == "file_not_found"
    )
    assert _error(lambda: complete(files=[{"id": "F0NOPE"}]))["error"] == "file_not_found"

    with pytest.raises(urllib.error.HTTPError) as short:
        urllib.request.urlopen(urllib.request.Request(ticket["upload_url"], data=b"123", method="POST"))
    assert short.value.code == 400
    with urllib.request.urlopen(urllib.request.Request(ticket["upload_url"], data=b"0123456789")) as answer:
        assert answer.read() == b"OK - 10"

    assert _error(lambda: complete(files=[{"id": ticket["file_id"]}], channel_id="D0NOBODY"))["error"] == (
        "channel_not_found"
    )
    server.leave_channel("C0REPORTS")
    assert _error(lambda: complete(files=[{"id": ticket["file_id"]}], channel_id="C0REPORTS"))["error"] == (
        "not_in_channel"
    )
    assert complete(files=[{"id": ticket["file_id"], "title": "A"}])["files"] == [
        {"id": ticket["file_id"], "title": "A"}
    ]  # no channel: completed, kept private
    again = lambda: complete(files=[{"id": ticket["file_id"]}], channel_id=SARAH)  # noqa: E731
    assert _error(again)["error"] == "file_not_found"
    assert server.messages() == []


def test_upload_methods_are_limited_at_tier_4(server: SlackServer, web: WebClient) -> None:
    server.limit_as_documented("files.getUploadURLExternal")
    no_retry = WebClient(token=server.bot_token, base_url=server.api_url, retry_handlers=[])
    for _ in range(100):
        no_retry.files_getUploadURLExternal(filename="a.png", length=1)
    with pytest.raises(SlackApiError) as info:
        no_retry.files_getUploadURLExternal(filename="a.png", length=1)
    assert info.value.response.status_code == 429 and info.value.response.headers["Retry-After"]
