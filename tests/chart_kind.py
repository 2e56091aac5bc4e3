"""An EBR kind with two charts per report, for the channels' chart tests.

The channels deliver whatever `ReportKind.charts(report)` returns; these tests need a kind
that returns some regardless of what the EBR's own charts are, built the way a kind builds
them: from the report's stored figures, with alt text that states them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from core.charts import Chart
from core.kinds import EBR, register, unregister
from core.kinds.ebr.kind import ExecutiveReview
from core.models import Headline, Report

CHART_NAMES = ("weekly-figures", "click-through")


class ChartedReview(ExecutiveReview):
    """The EBR, with a bar chart of the week's revenue and conversions and one of its click-through."""

    def charts(self, report: Report) -> Sequence[Chart]:
        h = report.headline
        if not isinstance(h, Headline):
            return ()
        figures = [{"figure": "Revenue ($k)", "value": round(h.revenue / 1000, 1)},
                   {"figure": "Conversions", "value": h.conversions}]  # fmt: skip
        ctr = [{"figure": "Click-through (%)", "value": round((h.click_through_rate or 0) * 100, 2)}]
        return (
            Chart(
                CHART_NAMES[0],
                f"{report.customer_name}: revenue and conversions",
                f"Bar chart: revenue ${h.revenue:,.0f}, {h.conversions:,.0f} conversions in the week.",
                bars(figures),
            ),
            Chart(
                CHART_NAMES[1],
                f"{report.customer_name}: click-through",
                f"Bar chart: click-through {ctr[0]['value']}% in the week.",
                bars(ctr),
            ),
        )


def bars(values: list[dict[str, Any]]) -> dict[str, Any]:
    """A horizontal bar chart of (figure, value) rows, from zero."""
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": 240,
        "height": 120,
        "data": {"values": values},
        "mark": "bar",
        "encoding": {
            "y": {"field": "figure", "type": "nominal", "title": None},
            "x": {"field": "value", "type": "quantitative", "scale": {"zero": True}},
        },
    }


@contextmanager
def charted_ebr() -> Iterator[ChartedReview]:
    """ChartedReview registered as the "ebr" kind for the block, the real EBR again after it."""
    kind = ChartedReview()
    unregister(EBR.name)
    register(kind)
    try:
        yield kind
    finally:
        unregister(EBR.name)
        register(EBR)
