"""bot/slack/stream.py against the local Slack server through slack_sdk's WebClient: the
thread status kept alive and cleared, answers streamed within Slack's limits and split
cleanly, the fallback to post + update, a withheld answer taken back, and escaping."""

from __future__ import annotations

import time

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.slack.replies import LOOKING_INTO_IT
from bot.slack.stream import APPEND_LIMIT, StreamedReply, ThreadStatus, boundary
from core.agent.base import QUERYING
from tests.slack_server import SlackServer

SARAH = "U0SARAH01"
FEEDBACK = [{"type": "context", "elements": [{"type": "mrkdwn", "text": "the end"}]}]


@pytest.fixture
def thread(client: WebClient) -> tuple[str, str]:
    """A report's parent message in Sarah's DM: (channel, ts)."""
    sent = client.chat_postMessage(channel=SARAH, text="Weekly report: Northwind")
    return str(sent["channel"]), str(sent["ts"])


def reply(client: WebClient, thread: tuple[str, str], **kwargs: object) -> StreamedReply:
    status = ThreadStatus(client, *thread, refresh=60)
    return StreamedReply(client, *thread, status, user_id=SARAH, team_id="T00000001", **kwargs)  # type: ignore[arg-type]


def replies(slack: SlackServer, thread: tuple[str, str]) -> list[dict[str, object]]:
    return [m for m in slack.messages(thread[0]) if m.get("thread_ts") == thread[1] != m["ts"]]


def test_text_streams_as_it_is_heard_and_stop_carries_the_blocks(
    slack: SlackServer, client: WebClient, thread: tuple[str, str]
) -> None:
    now = [0.0]
    answer = reply(client, thread, clock=lambda: now[0], flush_seconds=1.0)
    answer.status(QUERYING)
    answer.text("Revenue by channel: ")  # the first text starts the stream at once
    [stream] = slack.streams(SARAH)
    assert stream.thread_ts == thread[1] and stream.text == "Revenue by channel: " and stream.streaming
    answer.text("email $58,686, ")  # within a second of the last call: kept back
    assert len(slack.streams(SARAH)[0].appends) == 1
    now[0] = 1.5
    answer.text("push $13,691.")  # a second later: appended with what was kept back
    assert [a.text for a in slack.streams(SARAH)[0].appends][1] == "email $58,686, push $13,691."
    answer.finish("Revenue by channel: email $58,686, push $13,691.\n\nThat is all.", FEEDBACK)

    [stream] = slack.streams(SARAH)
    assert stream.text == "Revenue by channel: email $58,686, push $13,691.\n\nThat is all."
    assert not stream.streaming and stream.blocks == FEEDBACK
    assert [c.method for c in slack.calls if c.method.startswith("chat.")][1:] == [
        "chat.startStream", "chat.appendStream", "chat.stopStream",
    ]  # fmt: skip
    assert stream.appends[-1].text == "\n\nThat is all."  # the rest came with the stop
    assert next(s.status for s in slack.status_history(*thread)) == "is thinking…"
    assert slack.current_status(*thread) is None and slack.status_history(*thread)[-1].status == ""
    assert not slack.calls_to("chat.update")


def test_an_answer_heard_in_one_go_is_streamed_at_the_end(
    slack: SlackServer, client: WebClient, thread: tuple[str, str]
) -> None:
    answer = reply(client, thread)
    answer.finish("**Revenue** was $36,895.", FEEDBACK)  # the local analyst: no text before the end
    [stream] = slack.streams(SARAH)
    assert stream.text == "**Revenue** was $36,895." and stream.blocks == FEEDBACK


def test_a_long_answer_is_cut_at_paragraphs_into_messages_within_the_limits(
    slack: SlackServer, client: WebClient, thread: tuple[str, str]
) -> None:
    paragraphs = [f"Paragraph {n}: " + "word " * 60 for n in range(12)]
    text = "\n\n".join(p.strip() for p in paragraphs)
    answer = reply(client, thread, message_limit=1000, flush_seconds=0)
    for start in range(0, len(text), 97):
        answer.text(text[start : start + 97])
    answer.finish(text, FEEDBACK)

    streams = slack.streams(SARAH)
    assert len(streams) == len(text) // 1000 + 1 and all(not s.streaming for s in streams)
    assert all(len(s.text) <= 1000 for s in streams)
    assert all(s.text.startswith("Paragraph") and s.text.endswith("word") for s in streams)  # clean cuts
    assert "\n\n".join(s.text for s in streams) == text
    assert [s.blocks for s in streams] == [None] * (len(streams) - 1) + [FEEDBACK]  # the buttons end the last


def test_no_call_carries_more_than_12000_characters(
    slack: SlackServer, client: WebClient, thread: tuple[str, str]
) -> None:
    text = ("x" * 99 + " ") * 300  # 30,000 characters
    answer = reply(client, thread, message_limit=APPEND_LIMIT)
    answer.text(text)  # one huge delta (the server refuses more than 12,000 in a call: msg_too_long)
    answer.finish(text)
    streams = slack.streams(SARAH)
    assert len(streams) == 3 and all(len(a.text) <= APPEND_LIMIT for s in streams for a in s.appends)
    assert " ".join(s.text for s in streams) == text


def test_warehouse_text_cannot_mention_or_link(
    slack: SlackServer, client: WebClient, thread: tuple[str, str]
) -> None:
    campaign = "<!channel> <@U0MICHAEL1> [click](https://evil.example) ![x](https://evil.example/i.png) & co"
    answer = reply(client, thread)
    answer.text(f"Top campaign: {campaign[:30]}")
    answer.text(campaign[30:])
    answer.finish(f"Top campaign: {campaign}")
    text = slack.streams(SARAH)[0].text
    assert text == (
        "Top campaign: &lt;!channel&gt; &lt;@U0MICHAEL1&gt; \\[click](https://evil.example) "
        "!\\[x](https://evil.example/i.png) &amp; co"
    )


def test_without_streaming_the_answer_is_posted_then_edited(
    slack: SlackServer, client: WebClient, thread: tuple[str, str]
) -> None:
    slack.fail("chat.startStream", status=200, error="unknown_method")
    answer = reply(client, thread)
    answer.text("Revenue was ")
    [placeholder] = replies(slack, thread)
    assert placeholder["text"] == LOOKING_INTO_IT and answer.unavailable
    answer.text("$36,895.")
    answer.finish("Revenue was $36,895.", FEEDBACK)
    [posted] = replies(slack, thread)
    assert posted["ts"] == placeholder["ts"] and posted["text"] == "Revenue was $36,895."
    assert posted["blocks"][-1] == FEEDBACK[0]
    assert len(slack.calls_to("chat.startStream")) == 1 and not slack.streams(SARAH)


def test_a_stream_failing_midway_still_delivers_the_answer(
    slack: SlackServer, client: WebClient, thread: tuple[str, str]
) -> None:
    slack.fail("chat.appendStream", status=200, error="message_not_in_streaming_state")
    answer = reply(client, thread, flush_seconds=0)
    answer.text("Revenue ")
    answer.text("was ")
    answer.finish("Revenue was $36,895.", FEEDBACK)
    [posted] = replies(slack, thread)  # the broken stream was taken back
    assert posted["text"] == "Revenue was $36,895." and posted["blocks"][-1] == FEEDBACK[0]


def test_a_withheld_answer_is_taken_back_and_the_refusal_said(
    slack: SlackServer, client: WebClient, thread: tuple[str, str]
) -> None:
    answer = reply(client, thread)
    answer.text("Northwind's revenue was $36,895, and Harbor Point's")
    assert len(replies(slack, thread)) == 1
    answer.withheld(":no_entry: I can only answer about CUST_12345; that answer was withheld.")
    [said] = replies(slack, thread)
    assert said["text"].startswith(":no_entry: I can only answer about CUST_12345")
    assert "Harbor Point" not in str(slack.messages(thread[0]))
    assert slack.current_status(*thread) is None


def test_a_failure_clears_the_status_and_says_what_happened(
    slack: SlackServer, client: WebClient, thread: tuple[str, str]
) -> None:
    answer = reply(client, thread)
    answer.status(QUERYING, "Running SQL")
    assert slack.current_status(*thread) == "is thinking…"
    assert slack.status_history(*thread)[-1].loading_messages == ("Running SQL",)
    answer.failed(":warning: The agent did not answer in time.")
    assert [m["text"] for m in replies(slack, thread)] == [":warning: The agent did not answer in time."]
    assert slack.current_status(*thread) is None


def test_the_status_is_set_again_before_slack_lets_it_expire(
    slack: SlackServer, client: WebClient, thread: tuple[str, str]
) -> None:
    status = ThreadStatus(client, *thread, refresh=0.05)
    status.show("Querying the warehouse…")
    # Waits for the refreshes rather than sleeping a fixed time: a loaded host may be slow.
    slack.wait_for(lambda: len(slack.status_history(*thread)) >= 3, timeout=10, what="two refreshes")
    status.clear()
    history = slack.status_history(*thread)
    sets = [s for s in history if s.status]
    assert len(sets) >= 3 and all(s.loading_messages == ("Querying the warehouse…",) for s in sets)
    assert history[-1].status == ""
    assert status._keeper is not None
    status._keeper.join(timeout=10)  # the keeper has ended: nothing can come after the clear
    assert not status._keeper.is_alive() and slack.status_history(*thread) == history


def test_a_status_slack_refuses_is_not_tried_again(
    slack: SlackServer, client: WebClient, thread: tuple[str, str]
) -> None:
    slack.fail("assistant.threads.setStatus", status=200, error="not_allowed")
    status = ThreadStatus(client, *thread, refresh=0.01)
    status.show("Planning…")
    time.sleep(0.1)
    status.show("Querying…")
    status.clear()
    assert len(slack.calls_to("assistant.threads.setStatus")) == 1


def test_cuts_fall_on_paragraphs_then_lines_then_words() -> None:
    assert boundary("aaa\n\nbbb\nccc ddd", 15) == 3
    assert boundary("aaa bbb\nccc ddd", 13) == 7
    assert boundary("aaa bbb ccc", 9) == 7
    assert boundary("x" * 20 + "&amp;y", 23) == 20  # never inside an entity


def test_the_final_blocks_survive_an_answer_whose_text_ends_at_a_message_cut(
    slack: SlackServer, client: WebClient, thread: tuple[str, str]
) -> None:
    answer = reply(client, thread, message_limit=100, flush_seconds=0)
    text = "a" * 60 + "\n" + "b" * 38 + "\n\n"  # 101 characters: over the limit by its last blank line
    answer.text(text)
    answer.finish(text, FEEDBACK)
    [stream] = slack.streams(SARAH)
    assert stream.text == "a" * 60 + "\n" + "b" * 38 and stream.blocks == FEEDBACK and not stream.streaming


def test_the_final_blocks_end_the_last_message_of_an_answer_cut_in_several(
    slack: SlackServer, client: WebClient, thread: tuple[str, str]
) -> None:
    answer = reply(client, thread, message_limit=100, flush_seconds=0)
    text = ("word " * 19 + "\n\n") * 3  # paragraphs of 97 characters
    for i in range(0, len(text), 7):
        answer.text(text[i : i + 7])
    answer.finish(text, FEEDBACK)
    streams = slack.streams(SARAH)
    assert len(streams) == 3 and not any(s.streaming for s in streams)
    assert [s.blocks for s in streams] == [None, None, FEEDBACK]
    assert [s.text.strip() for s in streams] == [("word " * 19).strip()] * 3


def test_a_withheld_answer_whose_stream_start_was_lost_leaves_no_text(
    slack: SlackServer, client: WebClient, thread: tuple[str, str]
) -> None:
    slack.fail("chat.startStream", status=500, times=1, after=True)  # made, but its answer lost
    answer = reply(client, thread, flush_seconds=0)
    answer.text("Northwind's revenue was $36,895, ")
    answer.withheld(":no_entry: withheld.")
    [stream] = slack.streams(SARAH)
    assert not stream.streaming  # found, stopped and deleted
    assert [m["text"] for m in replies(slack, thread)] == [":no_entry: withheld."]


def test_a_lost_stream_start_leaves_one_answer_even_with_the_bots_retry_handlers(
    slack: SlackServer, thread: tuple[str, str]
) -> None:
    retrying = WebClient(
        token=slack.bot_token, base_url=slack.api_url, retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2), RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )  # fmt: skip  # as bot/slack/app.py's web_client
    slack.fail("chat.startStream", status=500, times=1, after=True)
    answer = reply(retrying, thread, flush_seconds=0)
    answer.text("Revenue was $36,895.")
    answer.finish("Revenue was $36,895.", FEEDBACK)
    assert len(slack.calls_to("chat.startStream")) == 1  # not retried behind the reply's back
    assert not any(s.streaming for s in slack.streams(SARAH))
    [said] = replies(slack, thread)  # the answer once, with its blocks
    assert said["text"] == "Revenue was $36,895." and said["blocks"][-1] == FEEDBACK[0]


def test_a_placeholder_is_not_posted_twice_by_a_retried_server_error(
    slack: SlackServer, thread: tuple[str, str]
) -> None:
    retrying = WebClient(
        token=slack.bot_token,
        base_url=slack.api_url,
        retry_handlers=[ServerErrorRetryHandler(max_retry_count=2)],
    )
    slack.fail("chat.postMessage", status=500, times=1, after=True)  # posted, its answer lost
    answer = reply(retrying, thread, streaming=False)
    [placeholder] = replies(slack, thread)
    assert placeholder["text"] == LOOKING_INTO_IT and answer.placeholder == placeholder["ts"]
    answer.finish("Revenue was $36,895.", FEEDBACK)  # the placeholder it found is edited
    assert [m["text"] for m in replies(slack, thread)] == ["Revenue was $36,895."]


def test_a_placeholder_refused_by_slack_is_an_error(
    slack: SlackServer, client: WebClient, thread: tuple[str, str]
) -> None:
    slack.fail("chat.postMessage", status=200, error="channel_not_found", times=1)
    with pytest.raises(SlackApiError):
        reply(client, thread, streaming=False)
    assert not replies(slack, thread)


@pytest.mark.parametrize(
    ("error", "everywhere"),
    [("method_not_supported_for_channel_type", False), ("not_allowed_token_type", True)],
)
def test_only_an_error_about_the_app_or_workspace_says_streaming_is_unsupported_everywhere(
    slack: SlackServer, client: WebClient, thread: tuple[str, str], error: str, everywhere: bool
) -> None:
    slack.fail("chat.startStream", status=200, error=error, times=1)
    slack.fail("assistant.threads.setStatus", status=200, error=error, times=1)
    answer = reply(client, thread, flush_seconds=0)
    answer.status(QUERYING)
    answer.text("Revenue was $36,895.")
    answer.finish("Revenue was $36,895.", FEEDBACK)
    assert answer.unavailable and answer.unsupported is everywhere  # posted and edited either way
    assert answer._status.unavailable and answer._status.unsupported is everywhere
    assert [m["text"] for m in replies(slack, thread)] == ["Revenue was $36,895."]
