"""The EBR's charts: their figures are the report's own (and the warehouse's), they render."""

from __future__ import annotations

import dataclasses
import json
import struct
from typing import Any

import pytest

from bot.charts import render_png
from core.format import money, pct
from core.kinds import get_kind
from core.models import NO_DATA, Headline, Report
from core.warehouse.base import ANALYTICS
from tests.email_fixtures import Demo


@pytest.fixture(scope="module")
def reports(email_demo: Demo) -> list[Report]:
    return [r for parcel in email_demo.parcels.values() for r in parcel.reports]


def by_name(report: Report) -> dict[str, Any]:
    return {c.name: c for c in get_kind("ebr").charts(report)}


def weekly_revenue(demo: Demo, report: Report) -> list[float]:
    """The 8 trend weeks' revenue straight from the conversions table."""
    out = []
    for k in range(-7, 1):
        week = report.week.shift(k)
        rows = demo.warehouse.query(
            f"SELECT COALESCE(SUM(revenue), 0) AS r FROM {ANALYTICS}.conversions "
            "WHERE customer_id = ? AND conversion_date BETWEEN ? AND ?",
            [report.customer_id, week.start, week.end],
        )
        out.append(float(rows[0]["r"]))
    return out


def test_every_demo_report_has_both_charts(reports: list[Report]) -> None:
    assert len(reports) == 9
    for r in reports:
        assert list(by_name(r)) == ["revenue-trend", "channel-mix"]


def test_the_trend_shows_the_warehouses_weekly_revenue_and_the_reports_own_figures(
    email_demo: Demo, reports: list[Report]
) -> None:
    for r in reports:
        chart = by_name(r)["revenue-trend"]
        shown = [v["value"] for v in chart.spec["data"]["values"] if v["series"] == "Revenue"]
        assert shown == pytest.approx(weekly_revenue(email_demo, r), abs=0.01)
        assert isinstance(r.headline, Headline) and shown[-1] == pytest.approx(r.headline.revenue)
        # The Business Value section writes the trend's first and last weeks.
        assert f"{money(shown[0])} → {money(shown[-1])}" in r.full_report
        assert chart.alt_text.startswith("Revenue by week, Sep 21 to Nov 9: ")
        assert ", ".join(money(v) for v in shown) in chart.alt_text


def test_the_benchmark_line_compounds_the_first_week_at_the_industrys_growth_benchmark(
    email_demo: Demo, reports: list[Report]
) -> None:
    rows = email_demo.warehouse.query(
        f"SELECT industry, benchmark_value FROM {ANALYTICS}.industry_benchmarks "
        "WHERE metric_name = 'weekly_revenue_growth'"
    )
    growth = {row["industry"]: float(row["benchmark_value"]) for row in rows}
    for r in reports:
        chart = by_name(r)["revenue-trend"]
        values = chart.spec["data"]["values"]
        revenue = [v["value"] for v in values if v["series"] == "Revenue"]
        bench = [v["value"] for v in values if v["series"].startswith("Benchmark growth")]
        g = growth[r.industry]
        assert bench == pytest.approx([revenue[0] * (1 + g) ** i for i in range(8)])
        assert f"{r.industry} benchmark growth {pct(g)}/week" in chart.alt_text


def test_the_channel_mix_is_the_sections_channel_figures_and_the_baseline_windows_shares(
    email_demo: Demo, reports: list[Report]
) -> None:
    for r in reports:
        chart = by_name(r)["channel-mix"]
        values = chart.spec["data"]["values"]
        base_start, base_end = r.week.shift(-9).start, r.week.shift(-2).end
        rows = email_demo.warehouse.query(
            f"SELECT channel, SUM(revenue) AS r FROM {ANALYTICS}.conversions "
            "WHERE customer_id = ? AND conversion_date BETWEEN ? AND ? GROUP BY 1",
            [r.customer_id, base_start, base_end],
        )
        baseline = {row["channel"]: float(row["r"]) for row in rows}
        for v in values:
            if v["period"] == "baseline":
                assert v["share"] == pytest.approx(baseline[v["channel"]] / sum(baseline.values()))
        for v in (v for v in values if v["period"] == "this week"):
            # The section's channel effectiveness row: "| email | $20,957 | 57% | ...".
            row = next(m for m in r.headline.channel_mix if m["channel"] == v["channel"])  # type: ignore[union-attr]
            assert f"| {v['channel']} | {money(row['revenue'])} | {pct(v['share'], 0)} |" in r.full_report
            assert f"{v['channel']} {pct(v['share'], 0)} ({money(row['revenue'])})" in chart.alt_text
        assert sum(v["share"] for v in values if v["period"] == "this week") == pytest.approx(1)


def test_bars_and_the_trend_start_at_zero_and_every_value_is_inline(reports: list[Report]) -> None:
    charts = by_name(reports[0])
    assert charts["revenue-trend"].spec["encoding"]["y"]["scale"]["zero"] is True
    assert charts["channel-mix"].spec["encoding"]["x"]["scale"]["zero"] is True
    for c in charts.values():
        text = json.dumps({k: v for k, v in c.spec.items() if k != "$schema"})
        assert '"url"' not in text and c.spec["data"]["values"]


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_the_charts_render_to_png_at_a_readable_size(reports: list[Report]) -> None:
    for chart in get_kind("ebr").charts(reports[0]):
        width, height = png_size(render_png(chart))
        # Twice a ~560 px wide chart: sharp at Slack's 360 px thumbnail and a 600 px email.
        assert 1000 <= width <= 1400 and 400 <= height <= 900, (chart.name, width, height)


def test_no_charts_without_data_or_for_a_report_stored_before_charts(reports: list[Report]) -> None:
    report = reports[0]
    stored = report.headline.as_dict()  # type: ignore[union-attr]
    before = {
        k: v
        for k, v in stored.items()
        if k not in ("trend_revenue", "trend_days", "benchmark_growth", "channel_mix")
    }
    old = dataclasses.replace(report, headline=get_kind("ebr").stored_headline(before))
    assert get_kind("ebr").charts(old) == []
    empty = dataclasses.replace(report, status=NO_DATA, headline=None)
    assert get_kind("ebr").charts(empty) == []
    # Stored and loaded back, the figures give the same charts.
    again = dataclasses.replace(
        report, headline=get_kind("ebr").stored_headline(json.loads(json.dumps(stored)))
    )
    assert [c.alt_text for c in get_kind("ebr").charts(again)] == [
        c.alt_text for c in by_name(report).values()
    ]


def test_a_compiled_spec_reused_with_another_reports_data_renders_as_vega_lite_would(
    reports: list[Report],
) -> None:
    import vl_convert

    from bot import charts as renderer

    mixes = [by_name(r)["channel-mix"] for r in reports]
    first, second = next(
        (a, b) for a in mixes for b in mixes
        if a is not b and a.spec["encoding"]["y"]["sort"] == b.spec["encoding"]["y"]["sort"]
    )  # fmt: skip
    renderer.render_png(first)
    kept = len(renderer._compiled)
    png = renderer.render_png(second)
    assert len(renderer._compiled) == kept  # the first one's compiled Vega, with the second's data
    assert png == bytes(vl_convert.vegalite_to_png(second.spec, scale=renderer.SCALE))
    assert png != renderer.render_png(first)


def test_a_partial_week_is_starred_and_without_a_benchmark_there_is_no_reference(
    reports: list[Report],
) -> None:
    report = reports[0]
    h = dataclasses.replace(report.headline, trend_days=[7] * 7 + [3], benchmark_growth=None)  # type: ignore[type-var]
    chart = by_name(dataclasses.replace(report, headline=h))["revenue-trend"]
    weeks = [v["week"] for v in chart.spec["data"]["values"]]
    assert weeks == ["Sep 21", "Sep 28", "Oct 5", "Oct 12", "Oct 19", "Oct 26", "Nov 2", "Nov 9*"]
    assert chart.spec["title"]["subtitle"] == ["* partial week: only the days with data"]
    assert chart.alt_text.endswith("; no benchmark growth reference.")
    assert " to Nov 9*: " in chart.alt_text
    flat = dataclasses.replace(h, trend_revenue=[0.0] * 8, channel_mix=[])
    assert by_name(dataclasses.replace(report, headline=flat)) == {}


def customer(revenue: list[float], short: dict[int, int] | None = None) -> Any:
    from core.kinds.ebr.analytics import Benchmark, CustomerData

    data = CustomerData("CUST_1", "Test Co", "Retail", None, None)
    data.benchmarks = {"weekly_revenue_growth": Benchmark(0.01, 0.005)}
    for offset, value in zip(range(-7, 1), revenue, strict=True):
        if value:
            data.week(offset).add_conversions(10, value)
            data.week(offset).add_engagement(1000, 200, 20, 600, 10)
    data.short_weeks = short or {}
    return data


def test_the_benchmark_reference_only_for_a_whole_trend_of_an_active_customer() -> None:
    from core.kinds.ebr.analysis import analyse
    from core.kinds.ebr.kind import chart_figures

    def figures(data: Any) -> dict[str, Any]:
        return chart_figures(data, analyse(data))

    whole = figures(customer([100.0] * 8))
    assert whole["benchmark_growth"] == 0.01 and whole["trend_revenue"] == [100.0] * 8
    assert whole["trend_days"] == [7] * 8
    partial = figures(customer([100.0] * 8, {-3: 4}))
    assert partial["benchmark_growth"] is None and partial["trend_days"][4] == 4
    assert figures(customer([0, 0, 0, 100.0, 100.0, 100.0, 100.0, 100.0]))["benchmark_growth"] is None


def test_a_partial_weeks_channel_mix_says_how_many_days_it_covers(reports: list[Report]) -> None:
    report = reports[0]
    h = dataclasses.replace(report.headline, trend_days=[7] * 7 + [4])  # type: ignore[type-var]
    chart = by_name(dataclasses.replace(report, headline=h))["channel-mix"]
    assert chart.spec["title"]["subtitle"].startswith("this week (4 of 7 days of data) vs its baseline")
    assert chart.alt_text.startswith(
        "Share of revenue by channel, this week (4 of 7 days of data) vs its baseline"
    )
    assert by_name(report)["channel-mix"].spec["title"]["subtitle"].startswith("this week vs its baseline")
