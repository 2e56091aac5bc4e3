"""The EBR's charts: the 8-week revenue trend and the channel mix, as Vega-Lite specs.

Built only from the figures stored with the report (core.models.Headline: trend_revenue,
trend_days, benchmark_growth, channel_mix), which the run's queries produced; a report
stored before these fields existed, or one without data, has no charts. The specs carry
their data inline and are sized to read as Slack's ~360 px thumbnail and in a ~600 px email.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.charts import Chart
from core.format import money, pct
from core.models import NO_DATA, Headline, Report
from core.weeks import Week

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
# Okabe–Ito: told apart with every common colour-vision deficiency, and in greyscale
# (blue is dark, orange light).
BLUE, ORANGE, GREY = "#0072B2", "#E69F00", "#555555"
WIDTH, HEIGHT = 540, 220  # the plot area; twice this in pixels once rendered (bot.charts.SCALE)
# Large type: the image is shown at ~360 px in Slack's thumbnail, about 0.6 of its size here.
CONFIG: dict[str, Any] = {
    "font": "sans-serif",
    "title": {"fontSize": 18, "subtitleFontSize": 14, "anchor": "start", "subtitleColor": GREY, "offset": 12},
    "axis": {"labelFontSize": 14, "titleFontSize": 14, "grid": False, "domainColor": GREY},
    "legend": {"labelFontSize": 14, "orient": "top", "title": None, "labelLimit": 400},
    "view": {"stroke": None},
    "background": "white",
}
OUTLINES: tuple[dict[str, Any], ...] = ({"stroke": "white", "strokeWidth": 4, "strokeJoin": "round"}, {})
BASELINE = "baseline"
BASELINE_SPAN = "the 8 weeks before last week"


def ebr_charts(report: Report) -> list[Chart]:
    """The report's charts (none for a report without data or stored before charts)."""
    h = report.headline
    if report.status == NO_DATA or not isinstance(h, Headline):
        return []
    charts = [revenue_trend(report, h), channel_mix(report, h)]
    return [c for c in charts if c is not None]


def _day(d: dt.date) -> str:
    return f"{d:%b} {d.day}"


def week_labels(week: Week, h: Headline) -> list[str]:
    """The trend weeks by their Mondays ("Nov 9"); a week with part of its days of data is starred."""
    n = len(h.trend_revenue)
    days = h.trend_days if len(h.trend_days) == n else [7] * n
    return [_day(week.shift(i - n + 1).start) + ("*" if d < 7 else "") for i, d in enumerate(days)]


def benchmark_line(h: Headline) -> list[float] | None:
    """The first trend week's revenue compounded at the industry's weekly growth benchmark."""
    g = h.benchmark_growth
    if g is None or not h.trend_revenue or h.trend_revenue[0] <= 0:
        return None
    return [h.trend_revenue[0] * (1 + g) ** i for i in range(len(h.trend_revenue))]


def revenue_trend(report: Report, h: Headline) -> Chart | None:
    """Revenue by week with labelled points, against the benchmark's growth where it applies."""
    values = h.trend_revenue
    if len(values) < 2 or not any(values):
        return None
    labels = week_labels(report.week, h)
    bench = benchmark_line(h)
    revenue = "Revenue"
    rows = [
        {"week": w, "series": revenue, "value": v, "label": money(v)}
        for w, v in zip(labels, values, strict=True)
    ]
    notes = []
    if bench is not None:
        name = f"Benchmark growth {pct(h.benchmark_growth)}/week"
        rows += [
            {"week": w, "series": name, "value": v, "label": ""} for w, v in zip(labels, bench, strict=True)
        ]
        # Said in the subtitle rather than a legend (a legend costs a fifth of the render).
        notes.append(
            f"Dashed: {report.industry} benchmark growth, {pct(h.benchmark_growth)}/week from the "
            f"{labels[0]} week's revenue"
        )
    if any("*" in w for w in labels):
        notes.append("* partial week: only the days with data")
    title: dict[str, Any] = {"text": f"Revenue, last {len(values)} weeks"}
    if notes:
        title["subtitle"] = notes
    series = [revenue] + ([name] if bench is not None else [])
    spec = _trend_spec(title, rows, labels, series)
    alt = f"Revenue by week, {labels[0]} to {labels[-1]}: " + ", ".join(money(v) for v in values)
    if bench is not None:
        alt += f"; {report.industry} benchmark growth {pct(h.benchmark_growth)}/week"
    else:
        alt += "; no benchmark growth reference"
    return Chart("revenue-trend", f"Revenue, last {len(values)} weeks", alt + ".", spec)


def _trend_spec(
    title: dict[str, Any], rows: list[dict[str, Any]], labels: list[str], series: list[str]
) -> dict[str, Any]:
    """The trend's Vega-Lite: a solid revenue line with labelled points, a dashed reference."""
    color = {
        "field": "series", "type": "nominal", "sort": series,
        "scale": {"domain": series, "range": [BLUE, ORANGE]}, "legend": None,
    }  # fmt: skip
    x = {"field": "week", "type": "ordinal", "sort": labels, "title": None, "axis": {"labelAngle": 0}}
    # The value axis starts at zero: a line's height is then proportional to the revenue, so
    # a 15 % rise looks like 15 % and a fall never like a crash to nothing; the point labels
    # give the exact figures the zoomed-in view would have shown.
    y = {
        "field": "value", "type": "quantitative", "title": None, "scale": {"zero": True},
        "axis": {"tickCount": 4, "labelExpr": "datum.value ? format(datum.value, '$~s') : '$0'"},
    }  # fmt: skip
    revenue = series[0]
    return {
        "$schema": SCHEMA,
        "title": title,
        "width": WIDTH, "height": HEIGHT, "config": CONFIG,
        "data": {"values": rows},
        "encoding": {"x": x, "y": y, "color": color},
        "layer": [
            {"mark": {"type": "line", "strokeWidth": 3}, "encoding": {
                "strokeDash": {"field": "series", "type": "nominal", "sort": series, "legend": None,
                               "scale": {"domain": series, "range": [[1, 0], [6, 4]]}}}},
            {"transform": [{"filter": {"field": "series", "equal": revenue}}],
             "mark": {"type": "point", "filled": True, "size": 60}},
            *(_labels(revenue, outline) for outline in OUTLINES),
        ],
    }  # fmt: skip


def _labels(series: str, outline: dict[str, Any]) -> dict[str, Any]:
    """The revenue points' labels; drawn twice, a white outline of them under them, so they
    stay readable where the line crosses them."""
    mark: dict[str, Any] = {"type": "text", "dy": -14, "fontSize": 13, "fontWeight": "bold"}
    return {
        "transform": [{"filter": {"field": "series", "equal": series}}],
        "mark": {**mark, **outline},
        "encoding": {"text": {"field": "label"}, "color": {"value": "#222222"}},
    }


def channel_mix(report: Report, h: Headline) -> Chart | None:
    """Each channel's share of revenue this week beside its share in the baseline window."""
    rows = [r for r in h.channel_mix if r.get("share") is not None]
    if not rows:
        return None
    this_week = "this week"
    periods = [this_week] + ([BASELINE] if any(r.get("baseline_share") is not None for r in rows) else [])
    channels = [str(r["channel"]) for r in rows]
    values = [
        {"channel": r["channel"], "period": p, "share": share, "label": pct(share, 0)}
        for r in rows
        for p, share in ((this_week, r["share"]), (BASELINE, r.get("baseline_share")))
        if share is not None
    ]
    period = {"field": "period", "type": "nominal", "sort": periods}
    days = h.trend_days[-1] if h.trend_days else 7
    week = this_week + (f" ({days} of 7 days of data)" if days < 7 else "")
    spec = {
        "$schema": SCHEMA,
        "title": {"text": "Share of revenue by channel", "subtitle": f"{week} vs its baseline, {BASELINE_SPAN}"},
        "width": WIDTH, "height": {"step": 17}, "config": CONFIG,
        "data": {"values": values},
        "encoding": {
            "y": {"field": "channel", "type": "nominal", "sort": channels, "title": None},
            "yOffset": period,
            # Bars start at zero so their lengths compare as shares do.
            "x": {"field": "share", "type": "quantitative", "title": None, "scale": {"zero": True},
                  "axis": {"format": ".0%", "tickCount": 5}},
            "color": {**period, "scale": {"domain": periods, "range": [BLUE, ORANGE]}},
        },
        "layer": [
            {"mark": {"type": "bar", "height": {"band": 1}}},
            {"mark": {"type": "text", "align": "left", "dx": 4, "fontSize": 14},
             "encoding": {"text": {"field": "label"}, "color": {"value": "#222222"}}},
        ],
    }  # fmt: skip
    parts = []
    for r in rows:
        base = r.get("baseline_share")
        parts.append(
            f"{r['channel']} {pct(r['share'], 0)} ({money(r['revenue'])})"
            + (f" vs {pct(base, 0)}" if base is not None else "")
        )
    against = f" vs its baseline ({BASELINE_SPAN})" if len(periods) > 1 else ""
    alt = f"Share of revenue by channel, {week}{against}: " + "; ".join(parts) + "."
    return Chart("channel-mix", "Share of revenue by channel", alt, spec)
