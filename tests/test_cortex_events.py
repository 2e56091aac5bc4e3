"""Server-sent events and the Cortex event shapes, from payload captures in tests/fixtures/cortex."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.agent.cortex import sse
from core.agent.cortex.events import AnswerBuilder, assemble
from core.errors import AgentRequestError, AgentUnavailable

FIXTURES = Path(__file__).parent / "fixtures" / "cortex"
FULL_TEXT = "Revenue was $48,210.55, up 4.2% week over week and above the Retail benchmark."
WIN_BACK = "Retail: win-back emails lift conversions 18%"


def chunks(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def events_of(name: str, size: int = 1 << 20) -> list[sse.Event]:
    return list(sse.parse(chunks((FIXTURES / name).read_bytes(), size)))


# -- the SSE parser ------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 2, 3, 5, 64, 1 << 20])
def test_fields_comments_multiline_data_and_every_line_ending(size: int) -> None:
    stream = (
        ": a comment\r\n"
        'event: first\r\ndata: {"a":\r\ndata:  1}\r\n\r\n'  # CRLF, two data lines
        "event:second\rdata:x\r\r"  # CR only, no space after the colon
        "data: plain\nid: 42\nretry: 100\nunknown: field\n\n"  # LF, unnamed -> "message"
        "event: empty\n\n"  # no data: not dispatched
        "data: caf\xe9 \u2603\n\n"  # multi-byte UTF-8 split across chunks
        "data: [DONE]\n\n"
        "event: cut\ndata: never finished"  # no blank line at the end: discarded
    ).encode()
    got = [(e.name, e.data, e.id) for e in sse.parse(chunks(stream, size))]
    assert got == [
        ("first", '{"a":\n 1}', None),
        ("second", "x", None),
        ("message", "plain", "42"),
        ("message", "café ☃", "42"),
        ("message", "[DONE]", "42"),
    ]
    assert json.loads(got[0][1]) == {"a": 1}
    assert [e.is_done for e in sse.parse(chunks(stream, size))] == [False, False, False, False, True]


# -- assembling answers from every documented shape -------------------------------------------


@pytest.mark.parametrize("size", [1, 7, 61, 1 << 20])
def test_full_stream_text_is_the_deltas_not_doubled(size: int, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        answer = assemble(events_of("full_stream.sse", size))
    assert answer.text == FULL_TEXT  # deltas only: response.text and the final response add nothing
    assert answer.message_id == 1002
    assert answer.sql == ("SELECT SUM(revenue) FROM conversions WHERE customer_id = 'CUST_12345'",)
    assert answer.sources == (WIN_BACK, "Retail: send-time optimisation")
    assert "web_search` is not accessible" in caplog.text


def test_nested_metadata_crlf_and_done() -> None:
    answer = assemble(events_of("nested_metadata.sse", 5))
    assert (answer.text, answer.message_id) == ("Engagement fell 3 points.", 2004)


def test_aggregated_text_blocks_without_deltas_and_unknown_events() -> None:
    answer = assemble(events_of("text_without_deltas.sse", 3))
    assert answer.text == "First block.\n\nSecond block."  # not repeated from `response`
    assert answer.message_id == 3006  # a string id is accepted
    assert answer.sql == ("SELECT 1",)


def test_non_streamed_response_object() -> None:
    data = (FIXTURES / "non_streaming_response.json").read_text()
    answer = assemble([sse.Event("response", data)])
    assert (answer.text, answer.message_id) == ("Conversions: 312.", 5002)
    assert (answer.sql, answer.sources) == (("SELECT 2",), ("B2B SaaS onboarding",))


def test_error_event_is_one_clear_line() -> None:
    with pytest.raises(AgentRequestError) as caught:
        assemble(events_of("error.sse"))
    message = str(caught.value)
    assert "Error during execution" in message and "399504" in message
    assert "61987ff6-6d56-4695-83c0-1e7cfed818c7" in message and "\n" not in message


def test_retryable_error_codes_are_unavailable_and_secrets_are_redacted() -> None:
    event = sse.Event("error", json.dumps({"code": "503", "message": "token s3cr3t\nexpired"}))
    with pytest.raises(AgentUnavailable) as caught:
        assemble([event], redact=lambda text: text.replace("s3cr3t", "***"))
    assert str(caught.value) == "the Cortex agent failed: token *** expired (code 503)"


def test_a_stream_cut_before_response_is_an_error() -> None:
    events = events_of("truncated.sse")
    assert [e.name for e in events] == ["response.status", "response.text.delta", "metadata"]
    with pytest.raises(AgentUnavailable, match="ended before its final response event"):
        assemble(events)


def test_done_without_response_keeps_the_text_but_not_nothing() -> None:
    delta = sse.Event("response.text.delta", '{"content_index": 0, "text": "Hi."}')
    meta = sse.Event("metadata", '{"role": "assistant", "message_id": 9}')
    done = sse.Event("message", "[DONE]")
    assert assemble([delta, meta, done]).message_id == 9
    assert assemble([delta, done]).message_id is None  # the turn did not persist
    with pytest.raises(AgentUnavailable):
        assemble([done])


def test_a_finished_turn_without_text_is_refused() -> None:
    response = sse.Event("response", '{"role": "assistant", "content": []}')
    with pytest.raises(AgentRequestError, match="without any answer text"):
        assemble([response])


def test_malformed_known_event() -> None:
    builder = AnswerBuilder()
    with pytest.raises(AgentUnavailable, match=r"malformed 'response.text.delta' event"):
        builder.feed(sse.Event("response.text.delta", "{not json"))


def test_response_metadata_wins_over_metadata_events() -> None:
    events = [
        sse.Event("response.text.delta", '{"content_index": 0, "text": "ok"}'),
        sse.Event("metadata", '{"role": "assistant", "message_id": 5}'),
        sse.Event(
            "response", '{"role": "assistant", "content": [], "metadata": {"assistant_message_id": 6}}'
        ),
    ]
    assert assemble(events).message_id == 6
