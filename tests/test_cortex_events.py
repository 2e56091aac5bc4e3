"""Server-sent events and the Cortex event shapes, from payload captures in tests/fixtures/cortex."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.agent.base import ResultTable
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


# -- SQL and result sets from every shape, the final response's status and warnings ----------


def event(name: str, payload: object) -> sse.Event:
    return sse.Event(name, json.dumps(payload))


REVENUE_SQL = (
    "SELECT week, SUM(revenue) AS revenue FROM conversions WHERE customer_id = 'CUST_12345' GROUP BY week"
)
REVENUE_ROWS = (("2026-11-02", "46270.10"), ("2026-11-09", "48210.55"))


@pytest.mark.parametrize("size", [3, 61, 1 << 20])
def test_sql_and_result_sets_from_every_event_shape(size: int, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        answer = assemble(events_of("execute_sql.sse", size))
    assert answer.sql == (
        REVENUE_SQL,  # response.tool_use input.sql (system_execute_sql)
        "SELECT COUNT(*) AS conversions FROM conversions WHERE customer_id = 'CUST_12345'",  # analyst delta
        "SELECT MAX(activity_date) FROM historical_engagement WHERE customer_id = 'CUST_12345'",  # final
    )
    assert answer.tables == (
        ResultTable(("WEEK", "REVENUE"), REVENUE_ROWS),  # tool result, and again as response.table
        ResultTable(("CONVERSIONS",), (("312",),)),  # analyst delta result_set
        ResultTable(("MAX(ACTIVITY_DATE)",), (("2026-11-15",),)),  # a table item of the final response
    )
    assert answer.warnings == (
        "399569: Tool `web_search` is not accessible to the current role; answering without it",
        "399570: The search service returned partial results",
    )
    assert (answer.text, answer.message_id, answer.elicitation) == (
        "Revenue rose to $48,210.55.",
        6002,
        False,
    )
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(logged) == 2 and "399569" in logged[0] and "399570" in logged[1]  # each once


def test_the_final_responses_tool_results_carry_sql_and_result_sets() -> None:
    rows = {"resultSetMetaData": {"rowType": [{"name": "CUSTOMER_ID"}, {"name": "REVENUE"}]},
            "data": [["CUST_12345", "10.5"]]}  # fmt: skip
    result = {"tool_use_id": "t1", "type": "cortex_analyst_text2sql", "status": "success",
              "content": [{"type": "json", "json": {"sql": "SELECT 3", "result_set": rows}}]}  # fmt: skip
    content = [{"type": "tool_result", "tool_result": result}, {"type": "text", "text": "Done."}]
    answer = assemble([event("response", {"role": "assistant", "content": content})])
    assert answer.sql == ("SELECT 3",)
    assert answer.tables == (ResultTable(("CUSTOMER_ID", "REVENUE"), (("CUST_12345", "10.5"),)),)


@pytest.mark.parametrize(
    "result_set",
    [
        {"result_set_metadata": {"row_type": [{"name": "A"}, {"name": "B"}]}, "data": [[1, 2]]},
        {"columns": ["A", "B"], "rows": [[1, 2]]},
        {"columns": [{"name": "A"}, {"name": "B"}], "data": [[1, 2]]},
        {"rows": [{"A": 1, "B": 2}]},
    ],
    ids=["snake_case", "columns-and-rows", "column-objects", "row-objects"],
)
def test_result_set_variants(result_set: dict[str, object]) -> None:
    table = {"content_index": 1, "tool_use_id": "t1", "result_set": result_set}
    answer = assemble(
        [event("response.table", table), event("response", {"content": [{"type": "text", "text": "x"}]})]
    )
    assert answer.tables == (ResultTable(("A", "B"), ((1, 2),)),)


def test_a_cancelled_turn_is_not_an_answer() -> None:
    with pytest.raises(AgentUnavailable, match="the Cortex agent cancelled the turn"):
        assemble(events_of("cancelled.sse"))


def test_a_clarifying_question_is_flagged() -> None:
    answer = assemble(events_of("elicitation.sse", 7))
    assert answer.elicitation is True and answer.message_id == 8002
    assert answer.text == "Which week do you mean: the last complete week, or the week in progress?"
    only_final = [
        event("response", {"content": [{"type": "text", "text": "Which?", "is_elicitation": True}]})
    ]
    assert assemble(only_final).elicitation is True
    assert assemble(events_of("full_stream.sse")).elicitation is False


def test_text_that_is_not_a_string_never_becomes_a_repr(caplog: pytest.LogCaptureFixture) -> None:
    events = [
        event("response.text.delta", {"content_index": 0, "text": "Revenue "}),
        event("response.text.delta", {"content_index": 0, "text": ["rose ", "4%"]}),
        event("response.text.delta", {"content_index": 0, "text": {"value": 12}}),  # ignored
        event("response.text.delta", {"content_index": 0, "text": 42}),  # ignored
        event("response.text.delta", {"content_index": 0, "text": {"text": "."}}),
        event("response", {"content": []}),
    ]
    with caplog.at_level(logging.DEBUG):
        assert assemble(events).text == "Revenue rose 4%."
    assert "not text" in caplog.text
    final = {"content": [{"type": "text", "text": {"text": "Conversions: 312.", "annotations": []}}]}
    assert assemble([event("response", final)]).text == "Conversions: 312."


def test_the_aggregated_text_wins_over_the_deltas() -> None:
    deltas = [
        event("response.text.delta", {"content_index": 0, "text": "Revenue rose"}),
        event("response.text.delta", {"content_index": 0, "text": "Revenue rose"}),  # duplicated
        event("response.text.delta", {"content_index": 1, "text": "Clicks "}),  # ...and one lost
    ]
    aggregated = [
        event("response.text", {"content_index": 0, "text": "Revenue rose 4%."}),
        event("response.text", {"content_index": 1, "text": "Clicks fell."}),
    ]
    assert assemble([*deltas, *aggregated, event("response", {"content": []})]).text == (
        "Revenue rose 4%.\n\nClicks fell."
    )
    final = event("response", {"content": [{"type": "text", "text": "Revenue rose 4.2%."}]})
    assert assemble([*deltas, *aggregated, final]).text == "Revenue rose 4.2%."  # Snowflake's final text


TOKEN = "pat-secret-7f3a9c"


def redact(text: str) -> str:
    return text.replace(TOKEN, "***")


def token_prefixes() -> list[str]:
    return [TOKEN[:n] for n in range(6, len(TOKEN) + 1)]


def test_warnings_and_long_errors_are_redacted_before_they_are_cut(caplog: pytest.LogCaptureFixture) -> None:
    warning = event("response.warning", {"code": "399569", "message": f"token {TOKEN} lacks a grant"})
    text = event("response.text", {"content_index": 0, "text": "ok"})
    final = event("response", {"content": [], "warnings": [{"message": "x" * 290 + TOKEN + " expired"}]})
    with caplog.at_level(logging.DEBUG):
        answer = assemble([warning, text, final], redact=redact)
        error = event("error", {"code": "399504", "message": "y" * 290 + TOKEN + " was refused"})
        with pytest.raises(AgentRequestError) as caught:
            assemble([error], redact=redact)
    assert answer.warnings[0] == "399569: token *** lacks a grant"
    for text_ in [*answer.warnings, caplog.text, str(caught.value)]:
        assert not any(prefix in text_ for prefix in token_prefixes()), text_
