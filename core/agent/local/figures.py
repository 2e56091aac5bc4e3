"""The figures of follow-up answers: a fixed list of metrics over two grouped queries.

Each query reads one customer's rows in up to two date ranges and groups them by week
offset from the report week (0 is the report week, -1 the week before, -52 a year earlier)
and by channel, and for conversions by campaign too. The sums land in `Totals`, and a
metric is an attribute of `Totals`: which metric is asked never changes the SQL text.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

from core.format import money, number, pct
from core.kinds.ebr.analytics import CONVERSION_SUMS, ENGAGEMENT_SUMS, WEEK_OFFSET, Totals
from core.warehouse import Warehouse
from core.warehouse.base import ANALYTICS
from core.weeks import Week

ENGAGEMENT = "historical_engagement"
CONVERSIONS = "conversions"

_IN_RANGES = (
    "({d} BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) OR {d} BETWEEN CAST(? AS DATE) AND CAST(? AS DATE))"
)

SQL = {
    ENGAGEMENT: f"""
SELECT {WEEK_OFFSET.format(d="activity_date")}, channel,
       {ENGAGEMENT_SUMS}
FROM {ANALYTICS}.historical_engagement
WHERE customer_id = ? AND {_IN_RANGES.format(d="activity_date")}
GROUP BY 1, 2
""",
    CONVERSIONS: f"""
SELECT {WEEK_OFFSET.format(d="conversion_date")}, channel, COALESCE(campaign, '(none)') AS campaign,
       {CONVERSION_SUMS}
FROM {ANALYTICS}.conversions
WHERE customer_id = ? AND {_IN_RANGES.format(d="conversion_date")}
GROUP BY 1, 2, 3
""",
}

BENCHMARKS_SQL = f"""
SELECT metric_name, benchmark_value, spread
FROM {ANALYTICS}.industry_benchmarks
WHERE industry = ?
"""


@dataclass(frozen=True)
class MetricSpec:
    """A metric a question may name. `key` is a `Totals` attribute; a ratio metric names its
    numerator and denominator fields; `benchmark` is the `industry_benchmarks` metric the
    question "vs the benchmark" compares it on."""

    key: str
    label: str
    kind: str  # count | money | rate | score
    tables: tuple[str, ...]
    benchmark: str | None = None
    ratio: tuple[str, str] | None = None

    @property
    def additive(self) -> bool:
        return self.ratio is None


METRICS: dict[str, MetricSpec] = {
    m.key: m
    for m in (
        MetricSpec("revenue", "Revenue", "money", (CONVERSIONS,), "weekly_revenue_growth"),
        MetricSpec("conversions", "Conversions", "count", (CONVERSIONS,), "conversion_rate"),
        MetricSpec(
            "avg_conversion_value", "Average conversion value", "money", (CONVERSIONS,),
            "avg_conversion_value", ("revenue", "conversions"),
        ),
        MetricSpec(
            "conversion_rate", "Conversion rate", "rate", (ENGAGEMENT, CONVERSIONS),
            "conversion_rate", ("conversions", "sends"),
        ),
        MetricSpec("open_rate", "Open rate", "rate", (ENGAGEMENT,), "open_rate", ("opens", "sends")),
        MetricSpec(
            "click_through_rate", "Click-through rate", "rate", (ENGAGEMENT,),
            "click_through_rate", ("clicks", "sends"),
        ),
        MetricSpec(
            "engagement_score", "Engagement score", "score", (ENGAGEMENT,),
            "engagement_score", ("score_sum", "score_n"),
        ),
        MetricSpec(
            "revenue_per_send", "Revenue per send", "money", (ENGAGEMENT, CONVERSIONS), None, ("revenue", "sends"),
        ),
        MetricSpec("sends", "Sends", "count", (ENGAGEMENT,)),
        MetricSpec("opens", "Opens", "count", (ENGAGEMENT,), "open_rate"),
        MetricSpec("clicks", "Clicks", "count", (ENGAGEMENT,), "click_through_rate"),
    )
}  # fmt: skip

DENOMINATOR_LABELS = {"sends": "sends", "conversions": "conversions", "score_n": "daily scores"}


@dataclass
class WeekTotals:
    """One week's (or several weeks') sums: overall, by channel and by campaign."""

    total: Totals = field(default_factory=Totals)
    channels: dict[str, Totals] = field(default_factory=lambda: defaultdict(Totals))
    campaigns: dict[str, Totals] = field(default_factory=lambda: defaultdict(Totals))

    def add(self, other: WeekTotals) -> None:
        self.total.add(asdict(other.total))
        for mine, theirs in ((self.channels, other.channels), (self.campaigns, other.campaigns)):
            for name, totals in theirs.items():
                mine[name].add(asdict(totals))

    def by(self, dimension: str) -> dict[str, Totals]:
        return self.campaigns if dimension == "campaign" else self.channels


class Window:
    """Weekly sums keyed by week offset from the report week, and the SQL that read them."""

    def __init__(self, week: Week) -> None:
        self.week = week
        self.weeks: dict[int, WeekTotals] = defaultdict(WeekTotals)
        self.sql: list[str] = []
        self.tables: list[str] = []

    def at(self, offset: int) -> WeekTotals:
        return self.weeks[offset]

    def over(self, offsets: Iterable[int]) -> WeekTotals:
        """The sums of several weeks together."""
        combined = WeekTotals()
        for offset in offsets:
            combined.add(self.weeks[offset])
        return combined


def fetch(
    warehouse: Warehouse,
    customer_id: str,
    week: Week,
    tables: Iterable[str],
    ranges: Sequence[tuple[int, int]],
) -> Window:
    """Read the `tables` for one customer over one or two (first, last) week-offset ranges."""
    window = Window(week)
    first, second = ranges[0], ranges[-1]
    dates = [*_dates(week, first), *_dates(week, second)]
    for table in dict.fromkeys(tables):
        for row in warehouse.query(SQL[table], [week.start, customer_id, *dates]):
            slot = window.weeks[int(row["week_offset"])]
            slot.total.add(row)
            slot.channels[row["channel"]].add(row)
            if "campaign" in row:
                slot.campaigns[row["campaign"]].add(row)
        window.sql.append(collapse(SQL[table]))
        window.tables.append(table)
    return window


def _dates(week: Week, offsets: tuple[int, int]) -> tuple[dt.date, dt.date]:
    return week.shift(offsets[0]).start, week.shift(offsets[1]).end


def benchmarks(warehouse: Warehouse, industry: str) -> dict[str, tuple[float, float | None]]:
    """metric_name -> (benchmark value, spread) for the industry."""
    rows = warehouse.query(BENCHMARKS_SQL, [industry])
    return {
        r["metric_name"]: (float(r["benchmark_value"]), None if r["spread"] is None else float(r["spread"]))
        for r in rows
    }


def value(totals: Totals, spec: MetricSpec) -> float | None:
    """The metric over these sums; None for a ratio with nothing to divide by."""
    result = getattr(totals, spec.key)
    return None if result is None else float(result)


def has_data(totals: Totals, spec: MetricSpec) -> bool:
    """Whether the sums hold any row of the tables the metric reads."""
    engagement = totals.sends > 0 or totals.score_n > 0
    conversions = totals.conversions > 0
    return any(engagement if t == ENGAGEMENT else conversions for t in spec.tables)


def basis(totals: Totals, spec: MetricSpec) -> str:
    """What a ratio was computed from, e.g. "1,234 opens of 5,678 sends"."""
    if spec.ratio is None:
        return ""
    numerator, denominator = spec.ratio
    if spec.key == "engagement_score":
        return f"average of {number(totals.score_n)} daily channel scores"
    if numerator == "revenue":
        return f"{money(totals.revenue)} over {number(getattr(totals, denominator))} {denominator}"
    return f"{number(getattr(totals, numerator))} {numerator} of {number(getattr(totals, denominator))} {denominator}"


def fmt(figure: float | None, kind: str) -> str:
    """A figure in its metric's format."""
    if kind == "money":
        return money(figure)
    if kind == "rate":
        return pct(figure)
    return number(figure, 1 if kind == "score" else 0)


def signed(delta: float, kind: str) -> str:
    """A difference with its sign: "+$1,234", "-0.42 pts", "+12"."""
    sign = "-" if delta < 0 else "+"
    size = abs(delta)
    if kind == "money":
        return sign + money(size)
    if kind == "rate":
        return f"{sign}{number(size * 100, 2)} pts"
    return sign + number(size, 1 if kind == "score" else 0)


def collapse(sql: str) -> str:
    """SQL text on one line, as answers carry it."""
    return " ".join(sql.split())
