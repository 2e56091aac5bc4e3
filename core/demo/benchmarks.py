"""Industry benchmarks of the demo dataset: one value and spread per industry and metric.

Rates are fractions, as `sql/setup.sql` says; `click_through_rate` and `conversion_rate`
are per send, `engagement_score` is 0..100, `avg_conversion_value` is in dollars.
"""

from __future__ import annotations

import pyarrow as pa

BENCHMARK_METRICS = (
    "open_rate",
    "click_through_rate",
    "engagement_score",
    "avg_conversion_value",
    "conversion_rate",
    "weekly_revenue_growth",
)

# industry: (value, spread) per metric, in the order of BENCHMARK_METRICS.
_TABLE: dict[str, tuple[tuple[float, float], ...]] = {
    "Retail": (
        (0.182, 0.034),
        (0.0235, 0.0060),
        (61.0, 8.0),
        (86.0, 24.0),
        (0.0021, 0.0007),
        (0.0045, 0.006),
    ),
    "Financial Services": (
        (0.224, 0.038),
        (0.0290, 0.0070),
        (58.0, 7.5),
        (410.0, 130.0),
        (0.0011, 0.0004),
        (0.0030, 0.004),
    ),
    "Technology": (
        (0.208, 0.036),
        (0.0265, 0.0065),
        (63.0, 8.0),
        (640.0, 210.0),
        (0.0009, 0.0003),
        (0.0060, 0.008),
    ),
    "Healthcare": (
        (0.236, 0.040),
        (0.0250, 0.0060),
        (60.0, 7.0),
        (235.0, 70.0),
        (0.0012, 0.0004),
        (0.0035, 0.004),
    ),
    "Travel & Hospitality": (
        (0.199, 0.035),
        (0.0215, 0.0055),
        (64.0, 8.5),
        (385.0, 120.0),
        (0.0014, 0.0005),
        (0.0050, 0.009),
    ),
    "Media & Entertainment": (
        (0.219, 0.037),
        (0.0305, 0.0075),
        (66.0, 8.0),
        (34.0, 9.0),
        (0.0032, 0.0010),
        (0.0040, 0.006),
    ),
    "Manufacturing": (
        (0.211, 0.033),
        (0.0225, 0.0055),
        (55.0, 7.0),
        (1850.0, 560.0),
        (0.0006, 0.0002),
        (0.0020, 0.003),
    ),
    "Education": (
        (0.257, 0.041),
        (0.0280, 0.0065),
        (62.0, 7.5),
        (290.0, 90.0),
        (0.0013, 0.0004),
        (0.0035, 0.005),
    ),
    "Food & Beverage": (
        (0.195, 0.034),
        (0.0240, 0.0060),
        (59.0, 8.0),
        (44.0, 12.0),
        (0.0028, 0.0009),
        (0.0040, 0.006),
    ),
}

INDUSTRIES = tuple(_TABLE)


def benchmark(industry: str, metric: str) -> float:
    """The benchmark value of `metric` for `industry`."""
    return _TABLE[industry][BENCHMARK_METRICS.index(metric)][0]


def benchmark_table() -> pa.Table:
    """Every benchmark as an Arrow table with the columns of `industry_benchmarks`."""
    rows = [
        (industry, metric, value, spread)
        for industry, values in _TABLE.items()
        for metric, (value, spread) in zip(BENCHMARK_METRICS, values, strict=True)
    ]
    columns = ("industry", "metric_name", "benchmark_value", "spread")
    return pa.table({name: [row[i] for row in rows] for i, name in enumerate(columns)})
