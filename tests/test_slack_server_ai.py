"""The local Slack server's AI-app surface, proved against slack_sdk's own clients: streamed
messages, thread statuses, file uploads (files_upload_v2) and button clicks over Socket Mode."""

from __future__ import annotations

import struct
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from slack_bolt import App
from slack_bolt.adapter.socket_mode.builtin import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from tests.slack_server import SlackServer
from tests.test_slack_server import MICHAEL, SARAH, TS, _close, _connect

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
    assert _error(lambda: web.chat_postMessage(channel=channel, text="hi"))["error"] == "not_in_channel"


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


# blocks and clicks

FEEDBACK = {
    "type": "context_actions",
    "block_id": "answer-feedback",
    "elements": [
        {
            "type": "feedback_buttons",
            "action_id": "feedback",
            "positive_button": {"text": {"type": "plain_text", "text": "👍"}, "value": "fu-1:positive"},
            "negative_button": {"text": {"type": "plain_text", "text": "👎"}, "value": "fu-1:negative"},
        }
    ],
}
ASK = {
    "type": "actions",
    "block_id": "suggested",
    "elements": [
        {
            "type": "button",
            "action_id": "ask",
            "text": {"type": "plain_text", "text": "Why?"},
            "value": "Why?",
        }
    ],
}


def _table(rows: int, cells: int) -> dict:
    return {"type": "table", "rows": [[{"type": "raw_text", "text": "x"}] * cells for _ in range(rows)]}


def test_ai_blocks_are_accepted_within_their_limits_and_refused_beyond(web: WebClient) -> None:
    rich = {
        "type": "rich_text",
        "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": "a"}]}],
    }
    good = [
        {"type": "markdown", "text": "**Revenue** rose"},
        {"type": "table", "rows": [[{"type": "raw_text", "text": "Email"}, rich]] + _table(99, 2)["rows"]},
        ASK,
        FEEDBACK,
    ]
    assert web.chat_postMessage(channel=SARAH, text="answer", blocks=good)["ok"]
    assert web.chat_postMessage(channel=SARAH, text="wide", blocks=[_table(1, 20)])["ok"]

    long_button = dict(
        ASK, elements=[dict(ASK["elements"][0], text={"type": "plain_text", "text": "w" * 76})]
    )
    one_sided = {
        "type": "context_actions",
        "elements": [
            {"type": "feedback_buttons", "positive_button": FEEDBACK["elements"][0]["positive_button"]}
        ],
    }
    wrong_element = {"type": "context_actions", "elements": [ASK["elements"][0]]}
    bad = {
        "rows": [_table(101, 1)],
        "cells": [_table(1, 21)],
        "cell type": [{"type": "table", "rows": [[{"type": "mrkdwn", "text": "x"}]]}],
        "two tables": [_table(1, 1), _table(1, 1)],
        "markdown": [{"type": "markdown", "text": "m" * 12_001}],
        "empty markdown": [{"type": "markdown", "text": ""}],
        "button text": [long_button],
        "feedback": [one_sided],
        "context_actions element": [wrong_element],
        "six context actions": [dict(FEEDBACK, elements=FEEDBACK["elements"] * 6)],
    }
    for name, blocks in bad.items():
        error = _error(lambda blocks=blocks: web.chat_postMessage(channel=SARAH, text="x", blocks=blocks))
        assert error["error"] == "invalid_blocks", name
        assert "json-pointer:/blocks" in error["response_metadata"]["messages"][0], name


def test_clicks_arrive_as_block_actions_over_socket_mode_to_bolt(server: SlackServer, web: WebClient) -> None:
    app = App(client=web)
    clicked: list[tuple[dict, dict]] = []

    @app.action("ask")
    @app.action("feedback")
    def on_click(ack: object, body: dict, action: dict) -> None:
        ack()  # type: ignore[operator]
        clicked.append((body, action))

    handler = SocketModeHandler(app, app_token=server.app_token)
    handler.connect()
    try:
        server.wait_connected()
        channel, question = _question(server, web)
        answer = web.chat_postMessage(
            channel=channel, thread_ts=question, text="answer", blocks=[ASK, FEEDBACK]
        )

        ask = server.click(SARAH, SARAH, answer["ts"], "ask")
        assert server.wait_ack(ask).payload is None
        vote = server.click(SARAH, channel, answer["ts"], "feedback", value="fu-1:negative")
        server.wait_ack(vote)
        server.wait_for(lambda: len(clicked) == 2, what="both clicks reaching the listener")
    finally:
        handler.client.auto_reconnect_enabled = False
        server.drop_connections()
        server.wait_for(lambda: not handler.client.is_connected(), what="the client seeing the close")
        handler.close()

    envelope = server.envelope(ask)
    assert envelope["type"] == "interactive" and envelope["accepts_response_payload"] is False
    (body, action), (vote_body, vote_action) = clicked
    assert body["type"] == "block_actions" and body["user"]["id"] == SARAH and body["team"]["id"] == TEAM
    assert body["channel"]["id"] == channel and body["api_app_id"] == "A0WEEKLY01"
    assert body["container"] == {
        "type": "message", "message_ts": answer["ts"], "channel_id": channel,
        "is_ephemeral": False, "thread_ts": question,
    }  # fmt: skip
    assert body["message"]["ts"] == answer["ts"] and body["message"]["blocks"] == [ASK, FEEDBACK]
    assert body["response_url"].startswith(server.api_url.removesuffix("api/"))
    assert (action["type"], action["action_id"], action["block_id"], action["value"]) == (
        "button", "ask", "suggested", "Why?",
    )  # fmt: skip
    assert (vote_action["type"], vote_action["block_id"], vote_action["value"]) == (
        "feedback_buttons", "answer-feedback", "fu-1:negative",
    )  # fmt: skip
    assert vote_action["text"]["text"] == "👎" and vote_body["message"]["thread_ts"] == question


def test_a_click_must_name_a_button_the_message_has(server: SlackServer, web: WebClient) -> None:
    answer = web.chat_postMessage(channel=SARAH, text="answer", blocks=[ASK, FEEDBACK])
    with pytest.raises(LookupError):
        server.click(SARAH, SARAH, answer["ts"], "nope")
    with pytest.raises(LookupError):
        server.click(SARAH, SARAH, answer["ts"], "feedback", value="fu-1:maybe")
    with pytest.raises(LookupError):
        server.click(SARAH, SARAH, answer["ts"], "ask", value="something else")
    assert server.envelopes == []


def test_a_stream_ended_by_slack_or_by_the_person_refuses_more_text(
    server: SlackServer, web: WebClient
) -> None:
    channel, question = _question(server, web)
    expired = web.chat_startStream(channel=channel, thread_ts=question, markdown_text="Part one")["ts"]
    stopped = web.chat_startStream(channel=channel, thread_ts=question, markdown_text="Other")["ts"]
    server.end_stream(SARAH, expired)
    server.end_stream(channel, stopped, by="user")
    append = lambda ts: web.chat_appendStream(channel=channel, ts=ts, markdown_text=" two")  # noqa: E731
    assert _error(lambda: append(expired))["error"] == "message_not_in_streaming_state"
    assert _error(lambda: append(stopped))["error"] == "stopped_by_user"
    # the fallback a bot takes: the message is still its own to update
    assert web.chat_update(channel=channel, ts=expired, text="Part one two")["ok"]
    assert [s.stopped_by for s in server.streams()] == ["slack", "user"]


def test_a_clicks_response_url_replaces_or_deletes_the_message(server: SlackServer, web: WebClient) -> None:
    app = _connect(server)
    try:
        first = web.chat_postMessage(channel=SARAH, text="answer", blocks=[ASK])
        second = web.chat_postMessage(channel=SARAH, text="answer", blocks=[ASK, FEEDBACK])
        clicks = [
            server.click(SARAH, SARAH, first["ts"], "ask"),
            server.click(SARAH, SARAH, second["ts"], "feedback", value="fu-1:positive"),
        ]
        for envelope_id in clicks:
            server.wait_ack(envelope_id)
    finally:
        _close(server, app)
    replace, delete = (WebhookClient(app.request(e).payload["response_url"]) for e in clicks)
    assert replace.send(text="Thanks!", replace_original=True).status_code == 200
    assert delete.send(text="", delete_original=True).status_code == 200
    [kept] = server.messages(SARAH)
    assert (
        kept["ts"] == first["ts"] and kept["text"] == "Thanks!" and kept["blocks"] is None and kept["edited"]
    )
    assert delete.send(text="", delete_original=True).status_code == 404  # already gone


def test_bolts_say_stream_answers_a_mention_in_a_channel_thread(server: SlackServer, web: WebClient) -> None:
    app = App(client=web)

    @app.event("app_mention")
    def answer(say_stream: Any) -> None:
        streamer = say_stream(buffer_size=1)
        streamer.append(markdown_text="Revenue rose ")
        streamer.append(markdown_text="12%.")
        streamer.stop()

    handler = SocketModeHandler(app, app_token=server.app_token)
    handler.connect()
    try:
        server.wait_connected()
        question = server.send_app_mention(SARAH, "C0REPORTS", "what moved revenue?")
        server.wait_ack(question)
        server.wait_for(lambda: server.streams() and not server.streams()[0].streaming, what="the stream")
    finally:
        handler.client.auto_reconnect_enabled = False
        server.drop_connections()
        server.wait_for(lambda: not handler.client.is_connected(), what="the client seeing the close")
        handler.close()
    [stream] = server.streams("C0REPORTS")
    mention = server.messages("C0REPORTS")[0]
    assert stream.text == "Revenue rose 12%." and stream.thread_ts == mention["ts"]
    assert (stream.recipient_user_id, stream.recipient_team_id) == (SARAH, TEAM)


def test_a_fault_after_the_work_loses_only_the_answer(server: SlackServer, web: WebClient) -> None:
    channel, report = _question(server, web)
    server.fail("files.completeUploadExternal", status=500, times=1, after=True)
    with pytest.raises(SlackApiError) as lost:
        web.files_upload_v2(content=_png(4, 4), filename="trend.png", channel=channel, thread_ts=report)
    assert lost.value.response.status_code == 500
    [_, shared] = web.conversations_replies(channel=channel, ts=report)["messages"]
    assert [f["name"] for f in shared["files"]] == [
        "trend.png"
    ]  # it landed: a resume must not upload it again
    assert server.calls_to("files.completeUploadExternal")[0].status == 500


def test_post_and_update_take_markdown_text_alone(server: SlackServer, web: WebClient) -> None:
    channel, question = _question(server, web)
    posted = web.chat_postMessage(channel=channel, thread_ts=question, markdown_text="**Revenue** rose")
    updated = web.chat_update(channel=channel, ts=posted["ts"], markdown_text="**Revenue** rose 12%")
    assert updated["text"] == "**Revenue** rose 12%" and server.messages(SARAH)[-1]["text"] == updated["text"]
    conflict = lambda: web.chat_postMessage(channel=channel, text="x", markdown_text="y")  # noqa: E731
    assert _error(conflict)["error"] == "markdown_text_conflict"
    too_long = lambda: web.chat_update(channel=channel, ts=posted["ts"], markdown_text="m" * 12_001)  # noqa: E731
    assert _error(too_long)["error"] == "msg_too_long"
