"""Cortex `response.chart`: a Vega-Lite spec string becomes an Answer chart, only when inline."""

from __future__ import annotations

import datetime as dt
import json
import logging
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.charts import render_png
from bot.charts.files import ChartFile, _Renderer, chart_words, rendered
from core import ReportEngine, Requester, Settings
from core.agent.base import Answer, AskContext
from core.agent.cortex import RetryPolicy, build_cortex_agent
from core.agent.cortex.events import assemble
from core.agent.cortex.sse import Event
from core.charts import MAX_SPEC_CHARS, MAX_VIEW_PIXELS, Chart, agent_chart
from core.errors import AnswerWithheld, ChartNotRendered
from core.guard import Scope, Subjects, check, check_drawn
from core.kinds.ebr.scope import EBR_SCOPE
from core.weeks import Week
from tests import chart_draw
from tests import test_cortex_guard as guard_tests
from tests.cortex_scripts import BENIGN, ME, OTHER_NAME
from tests.cortex_server import CortexServer, Fault, _events

SPEC: dict[str, Any] = {
    "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
    "title": "Revenue by channel",
    "description": "Last week, CUST_12345",
    "data": {"values": [{"channel": "email", "revenue": 20957.1}, {"channel": "sms", "revenue": 6943}]},
    "mark": "bar",
    "encoding": {
        "x": {"field": "channel", "type": "nominal"},
        "y": {"field": "revenue", "type": "quantitative"},
    },
}


def turn(*charts: object, final: bool = True) -> list[Event]:
    """A turn's events with `response.chart` events, the final response repeating them."""
    items: list[dict[str, Any]] = [{"type": "text", "text": "Email leads."}]
    events = [Event("response.text.delta", json.dumps({"content_index": 0, "text": "Email leads."}))]
    for i, spec in enumerate(charts):
        text = spec if isinstance(spec, str) else json.dumps(spec)
        events.append(Event("response.chart", json.dumps({"content_index": i + 1, "chart_spec": text})))
        items.append({"type": "chart", "chart": {"chart_spec": text}})
    response = {"role": "assistant", "content": items if final else items[:1]}
    return [*events, Event("response", json.dumps(response))]


def test_a_chart_becomes_one_answer_chart_with_its_numbers_in_the_alt_text() -> None:
    answer = assemble(turn(SPEC))
    (chart,) = answer.charts  # the final response's copy is not a second chart
    assert (chart.name, chart.title) == ("agent-chart-1", "Revenue by channel")
    assert chart.alt_text == "Revenue by channel (Last week, CUST_12345): email, 20,957.1; sms, 6,943"
    assert chart.spec == SPEC
    png = render_png(chart)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_chart_only_in_the_final_response_counts_too_and_many_rows_are_cut_short() -> None:
    rows = [{"week": f"W{i}", "revenue": i * 1000} for i in range(40)]
    spec = {**SPEC, "title": {"text": "Weekly revenue"}, "data": {"values": rows}}
    response = {"role": "assistant", "content": [{"type": "text", "text": "ok"},
                                                  {"type": "chart", "chart": {"chart_spec": json.dumps(spec)}}]}  # fmt: skip
    (chart,) = assemble([Event("response", json.dumps(response))]).charts
    assert chart.alt_text.startswith("Weekly revenue (Last week, CUST_12345): W0, 0; W1, 1,000;")
    assert chart.alt_text.endswith("W7, 7,000 (+32 more rows)")


UNSAFE = {
    "data url": {**SPEC, "data": {"url": "https://example.com/revenue.csv"}},
    "layer data url": {**SPEC, "data": None, "layer": [{"data": {"url": "data/x.json"}, "mark": "bar"}]},
    "image url": {**SPEC, "mark": "image", "encoding": {"url": {"value": "http://169.254.169.254/"}}},
    "lookup url": {**SPEC, "transform": [{"lookup": "a", "from": {"data": {"url": "x.csv"}, "key": "a"}}]},
    "nested $schema": {**SPEC, "layer": [{"$schema": "https://evil.example/x.json"}]},
    "no inline data": {**SPEC, "data": {"name": "table"}},
    "too large": {**SPEC, "data": {"values": [{"channel": "x" * 100, "revenue": 1}] * 1000}},
    "not json": "{this is not json",
    # data generators and row-multiplying transforms: unbounded drawing time and memory
    "sequence in a layer": {
        **SPEC,
        "layer": [{"data": {"sequence": {"start": 0, "stop": 10**7, "as": "x"}}, "mark": "point"}],
    },
    "graticule": {**SPEC, "layer": [{"data": {"graticule": {"step": [0.01, 0.01]}}, "mark": "geoshape"}]},
    "sphere": {**SPEC, "layer": [{"data": {"sphere": True}, "mark": "geoshape"}]},
    "sequence in a lookup": {
        **SPEC,
        "transform": [
            {"lookup": "channel", "from": {"data": {"sequence": {"start": 0, "stop": 10**7}}, "key": "data"}}
        ],
    },
    "sequence expression": {**SPEC, "transform": [{"calculate": "length(sequence(0, 1e9))", "as": "n"}]},
    "impute key sequence": {
        **SPEC,
        "transform": [{"impute": "revenue", "key": "channel", "keyvals": {"start": 0, "stop": 10**8}}],
    },
    "density": {**SPEC, "transform": [{"density": "revenue", "steps": 10**8}]},
    "quantile": {**SPEC, "transform": [{"quantile": "revenue", "step": 1e-9}]},
    "too many rows": {
        **SPEC,
        "layer": [
            {"data": {"values": [{"a": i} for i in range(3000)]}, "mark": "point"},
            {"data": {"values": [{"a": i} for i in range(3000)]}, "mark": "point"},
        ],
    },
    "not an object": "[1, 2, 3]",
}


@pytest.mark.parametrize("name", UNSAFE)
def test_a_spec_that_could_fetch_or_is_too_large_is_refused_and_the_answer_stands(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    spec = UNSAFE[name]
    if name == "too large":
        assert len(json.dumps(spec)) > MAX_SPEC_CHARS
    if name == "too many rows":
        assert len(json.dumps(spec)) < MAX_SPEC_CHARS
    with caplog.at_level(logging.WARNING, logger="core.agent.cortex.events"):
        answer = assemble(turn(spec, SPEC))
    assert answer.text == "Email leads."
    assert [c.title for c in answer.charts] == ["Revenue by channel"]  # the safe one stays
    assert "chart left out" in caplog.text


# -- through the local Cortex server over HTTP ---------------------------------------------------


def with_chart(prompt: str, thread_id: int, user_id: int, assistant_id: int) -> Iterator[tuple[str, Any]]:
    """The server's normal turn, with a chart before its final response (and in it)."""
    for name, data in _events(prompt, thread_id, user_id, assistant_id, "normal"):
        if name == "response":
            yield "response.chart", {"content_index": 6, "chart_spec": json.dumps(SPEC)}
            data = {
                **data,
                "content": [*data["content"], {"type": "chart", "chart": {"chart_spec": json.dumps(SPEC)}}],
            }
        yield name, data


def test_an_agents_chart_reaches_the_answer_over_http() -> None:
    with CortexServer() as server:
        server.faults.append(Fault(script=with_chart))
        settings = Settings(
            agent="cortex", cortex_base_url=server.url, cortex_token=server.token,
            snowflake_connections_file=Path("/nonexistent/connections.toml"),
        )  # fmt: skip
        agent = build_cortex_agent(settings, retry=RetryPolicy(base=0.02, cap=0.1))
        context = AskContext("CUST_12345", "Acme Retail", "Retail", Week(dt.date(2026, 11, 9)), None)
        answer = agent.ask(agent.start_thread(), 0, "How did channels do for CUST_12345?", context)
    assert [c.name for c in answer.charts] == ["agent-chart-1"]
    assert "email, 20,957.1" in answer.charts[0].alt_text


# -- the guard reads a chart's data like a result set ----------------------------------------------

SCOPE = Scope(
    EBR_SCOPE,
    "CUST_12345",
    Subjects({"CUST_12345": "Acme Retail", "CUST_45678": "Meridian"}, EBR_SCOPE.id_pattern),
)


def chart_of(rows: list[dict[str, Any]], title: str = "Revenue") -> Chart:
    return Chart("agent-chart-1", title, title, {**SPEC, "data": {"values": rows}})


def test_a_chart_showing_another_customer_withholds_the_answer() -> None:
    mine = chart_of([{"customer_id": "CUST_12345", "revenue": 1}])
    assert check(Answer("ok", 1, charts=(mine,)), SCOPE).ok
    for other in (
        chart_of([{"customer_id": "CUST_45678", "revenue": 1}]),
        chart_of([{"customer": "Meridian", "revenue": 1}]),
        chart_of([{"channel": "email", "revenue": 1}], title="Acme Retail vs Meridian"),
    ):
        assert check(Answer("ok", 1, charts=(other,)), SCOPE).rule == "chart_other_subject"


# -- through the engine: the guard sees the chart ---------------------------------------------------

server, engine = guard_tests.server, guard_tests.engine  # the local Cortex server and a Cortex engine


def charted(rows: list[dict[str, Any]]) -> Any:
    """A benign scripted turn (SQL filtered on the customer) that also sends a chart of `rows`."""
    return benign_with({**SPEC, "data": {"values": rows}})


def benign_with(spec: dict[str, Any]) -> Any:
    """A benign scripted turn (SQL filtered on the customer) that also sends `spec` as a chart."""
    text = json.dumps(spec)

    def script(prompt: str, thread_id: int, user_id: int, assistant_id: int) -> Iterator[tuple[str, Any]]:
        for name, data in BENIGN["in_one_id"](prompt, thread_id, user_id, assistant_id):
            if name == "response":
                yield "response.chart", {"content_index": 4, "chart_spec": text}
            yield name, data

    return script


@pytest.fixture
def drawing(engine: ReportEngine) -> ReportEngine:
    """The Cortex engine reading what answers' charts show as the bot does: drawn by its renderer."""
    engine.chart_words = chart_words
    return engine


def test_a_chart_of_the_customer_reaches_the_follow_up_and_one_of_another_is_withheld(
    drawing: ReportEngine, server: CortexServer
) -> None:
    engine = drawing
    server.faults.append(
        Fault(prompt="by channel", script=charted([{"channel": "email", "revenue": 1.0}]), times=1)
    )
    result = engine.ask(Requester(email=guard_tests.SARAH_EMAIL), ME, "Chart my revenue by channel")
    assert [c.title for c in result.answer.charts] == ["Revenue by channel"]
    leak = charted([{"customer": OTHER_NAME, "revenue": 48210.0}])
    server.faults.append(Fault(prompt="Compare", script=leak, times=1))
    with pytest.raises(AnswerWithheld) as withheld:
        engine.ask(Requester(email=guard_tests.SARAH_EMAIL), ME, "Compare my revenue with others")
    assert withheld.value.rule == "chart_other_subject"


def spelled(name: str) -> dict[str, Any]:
    """A chart of the customer's own rows whose text mark shows `name` spelled by an expression
    in halves: no string of the spec holds it."""
    half = len(name) // 2
    bars = {k: v for k, v in SPEC.items() if k != "mark"}
    return {**bars, "layer": [{"mark": "bar"}, {
        "transform": [{"calculate": f"'{name[:half]}' + '{name[half:]}'", "as": "who"}],
        "mark": {"type": "text", "dy": -8}, "encoding": {"text": {"field": "who"}}}]}  # fmt: skip


def test_a_name_an_expression_spells_is_read_on_the_drawn_chart_and_withholds_the_answer(
    drawing: ReportEngine, server: CortexServer
) -> None:
    spec = spelled(OTHER_NAME)
    chart, why = agent_chart(json.dumps(spec), 1)
    assert chart is not None, why
    other = Scope(
        EBR_SCOPE, ME, Subjects({ME: "Acme Retail", "CUST_45678": OTHER_NAME}, EBR_SCOPE.id_pattern)
    )
    assert check(Answer("ok", 1, charts=(chart,)), other).ok  # the spec alone does not say it
    assert OTHER_NAME in chart_words(chart)  # the drawing does

    server.faults.append(Fault(prompt="Who", script=benign_with(spec), times=1))
    with pytest.raises(AnswerWithheld) as withheld:
        drawing.ask(Requester(email=guard_tests.SARAH_EMAIL), ME, "Who buys by channel?")
    assert withheld.value.rule == "chart_other_subject"
    [row] = guard_tests.followups(drawing)
    assert row["status"] != "answered" and OTHER_NAME not in str(row)


def test_an_answers_charts_are_left_out_when_they_cannot_be_drawn_or_read(
    engine: ReportEngine, server: CortexServer
) -> None:
    """Without a way to draw them (the CLI's engine), or when the renderer cannot, the guard
    cannot read what they would show: the answer stands without them."""
    for words in (None, lambda chart: None):
        engine.chart_words = words
        server.faults.append(
            Fault(prompt="by channel", script=charted([{"channel": "email", "revenue": 1.0}]), times=1)
        )
        result = engine.ask(Requester(email=guard_tests.SARAH_EMAIL), ME, "Chart my revenue by channel")
        assert result.answer.text and result.answer.charts == ()


def test_a_report_sections_charts_are_not_drawn(engine: ReportEngine, server: CortexServer) -> None:
    """A section shows no agent chart: generation draws none (it would only slow the run)."""
    drawn: list[str] = []
    engine.chart_words = lambda chart: drawn.append(chart.name) or ()
    server.faults.append(Fault(script=with_chart))  # every turn sends a chart
    summary = engine.generate(engine.targets("CSM001", ME), engine.week(), refresh=True)
    assert summary.reports[ME].status == "complete" and drawn == []


def test_the_words_drawn_are_read_each_and_together() -> None:
    chart = chart_of([{"channel": "email", "revenue": 1}])
    for words, ok in (
        (("Revenue", "email", "$1"), True),
        (("Revenue", "CUST_45678"), False),
        (("Revenue by", "Meridian"), False),
        (("Acme Retail", "Revenue"), True),
    ):
        verdict, shown = check_drawn([chart], SCOPE, lambda _c, w=words: w)
        assert verdict.ok is ok and shown == ((chart,) if ok else ())


# -- the guard reads every string and every data row of a spec, wherever it is -----------------

BAR = {
    "mark": "bar",
    "encoding": {
        "x": {"field": "channel", "type": "nominal"},
        "y": {"field": "revenue", "type": "quantitative"},
    },
}
MINE = {"values": [{"channel": "email", "revenue": 1}]}
ELSEWHERE: dict[str, dict[str, Any]] = {
    "second layer's data": {"title": "Revenue", "layer": [
        {**BAR, "data": MINE},
        {"data": {"values": [{"customer_id": "CUST_45678", "customer": "Meridian", "revenue": 9}]},
         "mark": "text", "encoding": {"text": {"field": "customer"}}}]},
    "datasets' second entry": {"title": "Revenue", "datasets": {"a": MINE["values"],
        "b": [{"customer_id": "CUST_45678", "revenue": 9}]}, "data": {"name": "b"}, **BAR},
    "subtitle": {"title": {"text": "Revenue", "subtitle": "compared with Meridian"}, "data": MINE, **BAR},
    "axis title": {"title": "Revenue", "data": MINE, "mark": "bar", "encoding": {
        "x": {"field": "channel", "type": "nominal", "title": "Meridian channels"},
        "y": {"field": "revenue", "type": "quantitative"}}},
    "text mark's literal": {"title": "Revenue", "data": MINE, "layer": [BAR,
        {"mark": {"type": "text", "text": "Meridian: $9,000"}}]},
    "label expression": {"title": "Revenue", "data": MINE, "mark": "bar", "encoding": {
        "x": {"field": "channel", "type": "nominal", "axis": {"labelExpr": "'Meridian ' + datum.label"}},
        "y": {"field": "revenue", "type": "quantitative"}}},
    "a nested view's description": {"title": "Revenue", "vconcat": [
        {**BAR, "data": MINE, "description": "next to CUST_45678"}]},
    "a column named after them": {"title": "Revenue", "data": {"values": [{"channel": "email", "Meridian": 9}]},
        **BAR},
}  # fmt: skip


@pytest.mark.parametrize("where", ELSEWHERE)
def test_another_customer_anywhere_in_a_spec_withholds_the_answer(where: str) -> None:
    chart, why = agent_chart(json.dumps(ELSEWHERE[where]), 1)
    assert chart is not None, why  # a spec that renders: only the guard can keep it out
    assert check(Answer("ok", 1, charts=(chart,)), SCOPE).rule == "chart_other_subject"


def test_the_same_places_naming_only_the_customer_pass() -> None:
    spec = {"title": {"text": "Revenue", "subtitle": "Acme Retail, CUST_12345"}, "datasets": {
        "b": [{"customer_id": "CUST_12345", "customer": "Acme Retail", "revenue": 9}]}, "layer": [
        {**BAR, "data": MINE}, {"data": {"name": "b"}, "mark": {"type": "text", "text": "Acme Retail"}}]}  # fmt: skip
    chart, why = agent_chart(json.dumps(spec), 1)
    assert chart is not None, why
    assert check(Answer("ok", 1, charts=(chart,)), SCOPE).ok


def test_an_oversized_chart_is_drawn_at_most_max_view_pixels_a_side() -> None:
    spec = {
        "title": "Revenue",
        "data": MINE,
        "vconcat": [{**BAR, "width": 3000, "height": 5000}, {**BAR, "width": 2000}],
    }
    chart, why = agent_chart(json.dumps(spec), 1)
    assert chart is not None, why
    assert [(v.get("width"), v.get("height")) for v in chart.spec["vconcat"]] == [
        (MAX_VIEW_PIXELS, MAX_VIEW_PIXELS), (MAX_VIEW_PIXELS, None)]  # fmt: skip
    png = render_png(chart, scale=1)
    width, height = struct.unpack(">II", png[16:24])
    assert width <= MAX_VIEW_PIXELS + 200 and height <= MAX_VIEW_PIXELS + 300 + 300  # the second view's 300


# -- the renderer gives up on a chart: never in the bot's process, never forever ------------------


def test_a_render_slower_than_the_timeout_is_given_up_and_the_renderer_recovers() -> None:
    renderer = _Renderer(processes=1, timeout=0.05)  # a cold child alone takes a second to start
    chart = Chart("agent-chart-1", "Revenue", "Revenue", SPEC)
    started = time.monotonic()
    with pytest.raises(ChartNotRendered, match=r"within 0\.05 s"):
        renderer.drawing(chart)
    assert time.monotonic() - started < 5  # the waiting stopped; the child was ended
    renderer.timeout = 60.0
    try:
        assert renderer.drawing(chart).png[:4] == b"\x89PNG"  # a new child draws the next one
    finally:
        renderer.close()


def test_a_chart_whose_child_dies_is_left_out_not_drawn_in_the_bots_process() -> None:
    renderer = _Renderer(processes=1, timeout=60.0, draw=chart_draw.die_on_poison)
    poison = Chart("poison", "Revenue", "Revenue", SPEC)  # drawn here, it would end pytest itself
    fine = Chart("agent-chart-1", "Revenue", "Revenue", {**SPEC, "title": "Fine"})
    try:
        with pytest.raises(ChartNotRendered, match="died"):
            renderer.drawing(poison)
        assert renderer.drawing(fine).png[:4] == b"\x89PNG"
    finally:
        renderer.close()


def test_a_row_or_a_title_that_says_sequence_is_words_not_a_generator() -> None:
    rows = [{"sequence": 1, "sphere": "blue", "graticule": "x", "step": "sequence(1)"}]
    spec = {**SPEC, "title": {"text": "Email sequence (welcome)", "subtitle": ["by sequence (step)"]}}
    chart, why = agent_chart(json.dumps({**spec, "data": {"values": rows}}), 1)
    assert chart is not None, why


def test_a_drawing_too_large_to_rasterise_is_refused_before_its_pixels() -> None:
    wide = {"title": "Revenue", "data": MINE, "hconcat": [{**BAR, "width": MAX_VIEW_PIXELS}] * 3}
    chart, why = agent_chart(json.dumps(wide), 1)
    assert chart is not None, why
    with pytest.raises(ValueError, match="at most 2,400 a side"):
        render_png(chart)
    assert rendered([ChartFile(chart, "wide.png")]) == []  # left out, the rest goes on
