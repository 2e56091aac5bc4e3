"""Set-based metric queries: a handful of statements serve every customer of a run.

Each query groups by customer over the windows a report needs (the report week, the week
before, the same week a year earlier, a 12-week trend and an 8-week channel baseline), and
the results are folded into one `CustomerData` per customer. (The year-ago window is 8 weeks
ending with the same week a year earlier, for the seasonality of the health verdict.) The SQL text of every query
is kept in the snapshot so answers can show the statements their figures came from.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.warehouse import Warehouse
from core.warehouse.base import ANALYTICS
from core.weeks import Week

TREND_WEEKS = 12  # weeks of weekly totals kept (the sparkline shows the last 8)
# Weeks queried around the same week a year earlier: it and the 7 before it, so the health
# verdict can tell a seasonal move (last year's week over week and 4 weeks vs the 4 before).
YEAR_AGO_WEEKS = 8
BASELINE_WEEKS = 8  # weeks before the previous week that form the channel baseline

IN_SCOPE = "customer_id IN (SELECT f.value::VARCHAR FROM TABLE(FLATTEN(input => PARSE_JSON(?))) f)"

# The engagement score is a FLOAT: a NaN in it would make every sum NaN. NULLIF turns it into
# NULL (NaN = NaN is TRUE in Snowflake and DuckDB), so NULL and NaN scores are left out of the
# score and counted in `excluded` (the weekly query), never printed.
SCORE = "NULLIF(engagement_score, 'NaN'::FLOAT)"

# The metric sums and the week offset, written once for a run's facts (below) and for the
# local analyst's follow-up answers (core/agent/local): a metric is a `Totals` attribute
# derived from these sums, whichever query read them.
ENGAGEMENT_SUMS = f"""SUM(sends) AS sends, SUM(opens) AS opens, SUM(clicks) AS clicks,
       SUM({SCORE}) AS score_sum, COUNT({SCORE}) AS score_n"""
CONVERSION_SUMS = "COUNT(*) AS conversions, SUM(revenue) AS revenue"
# Weeks from the report week's Monday (the parameter): 0 the report week, -1 the one before.
WEEK_OFFSET = "FLOOR(DATEDIFF('day', CAST(? AS DATE), {d}) / 7) AS week_offset"

CUSTOMERS_SQL = f"""
SELECT customer_id, customer_name, industry, segment, region
FROM {ANALYTICS}.customers
WHERE {IN_SCOPE}
"""

# The days the source data covers, across all customers: a week outside it is partial (the
# data may start on a Saturday), and a partial week is neither judged nor compared as whole.
COVERAGE_SQL = f"""
SELECT MIN(activity_date) AS first_day, MAX(activity_date) AS last_day
FROM {ANALYTICS}.historical_engagement
"""

BENCHMARKS_SQL = f"""
SELECT industry, metric_name, benchmark_value, spread
FROM {ANALYTICS}.industry_benchmarks
"""

# Weekly totals: week_offset 0 is the report week, -1 the one before, -52 a year earlier
# (-59 .. -52: the year-ago week and the 7 before it).
WEEKLY_ENGAGEMENT_SQL = f"""
SELECT customer_id,
       {WEEK_OFFSET.format(d="activity_date")},
       {ENGAGEMENT_SUMS},
       COUNT(*) - COUNT({SCORE}) AS excluded
FROM {ANALYTICS}.historical_engagement
WHERE {IN_SCOPE}
  AND (activity_date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
       OR activity_date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE))
GROUP BY 1, 2
"""

WEEKLY_CONVERSIONS_SQL = f"""
SELECT customer_id,
       {WEEK_OFFSET.format(d="conversion_date")},
       {CONVERSION_SUMS}
FROM {ANALYTICS}.conversions
WHERE {IN_SCOPE}
  AND (conversion_date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
       OR conversion_date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE))
GROUP BY 1, 2
"""

_PERIOD = """CASE WHEN {d} BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) THEN 'current'
            WHEN {d} BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) THEN 'previous'
            ELSE 'baseline' END"""

CHANNEL_ENGAGEMENT_SQL = f"""
SELECT customer_id, channel, {_PERIOD.format(d="activity_date")} AS period,
       {ENGAGEMENT_SUMS}
FROM {ANALYTICS}.historical_engagement
WHERE {IN_SCOPE} AND activity_date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
GROUP BY 1, 2, 3
"""

CHANNEL_CONVERSIONS_SQL = f"""
SELECT customer_id, channel, {_PERIOD.format(d="conversion_date")} AS period,
       {CONVERSION_SUMS}
FROM {ANALYTICS}.conversions
WHERE {IN_SCOPE} AND conversion_date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
GROUP BY 1, 2, 3
"""

CAMPAIGNS_SQL = f"""
SELECT customer_id, campaign,
       CASE WHEN conversion_date >= CAST(? AS DATE) THEN 'current' ELSE 'previous' END AS period,
       {CONVERSION_SUMS}
FROM {ANALYTICS}.conversions
WHERE {IN_SCOPE} AND conversion_date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
GROUP BY 1, 2, 3
"""

ATTRIBUTION_SQL = f"""
SELECT a.customer_id, a.attribution_model, a.touchpoint_channel,
       SUM(a.credit) AS credit, SUM(a.credit * c.revenue) AS revenue
FROM {ANALYTICS}.attributions a
JOIN {ANALYTICS}.conversions c ON c.conversion_id = a.conversion_id
WHERE a.customer_id IN (SELECT f.value::VARCHAR FROM TABLE(FLATTEN(input => PARSE_JSON(?))) f)
  AND c.conversion_date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
GROUP BY 1, 2, 3
"""


SUMS = ("sends", "opens", "clicks", "score_sum", "score_n", "conversions", "revenue")


@dataclass(slots=True)  # hundreds of thousands of these in a large run
class Totals:
    """Sums over a customer's rows in one window; rates are derived, never stored."""

    sends: float = 0.0
    opens: float = 0.0
    clicks: float = 0.0
    score_sum: float = 0.0
    score_n: float = 0.0
    conversions: float = 0.0
    revenue: float = 0.0
    excluded: float = 0.0  # source values left out: NULL or NaN engagement scores

    @property
    def empty(self) -> bool:
        """No rows at all in this window: no sends, conversions or scores."""
        return not (self.sends or self.conversions or self.score_n or self.revenue)

    @property
    def open_rate(self) -> float | None:
        return self.opens / self.sends if self.sends else None

    @property
    def click_through_rate(self) -> float | None:
        return self.clicks / self.sends if self.sends else None

    @property
    def engagement_score(self) -> float | None:
        return self.score_sum / self.score_n if self.score_n else None

    @property
    def avg_conversion_value(self) -> float | None:
        return self.revenue / self.conversions if self.conversions else None

    @property
    def revenue_per_send(self) -> float | None:
        return self.revenue / self.sends if self.sends else None

    @property
    def conversion_rate(self) -> float | None:
        return self.conversions / self.sends if self.sends else None

    def add_engagement(
        self, sends: Any, opens: Any, clicks: Any, score_sum: Any, score_n: Any, excluded: Any = 0
    ) -> None:
        """Add queried sums (numbers, Decimals or NULL) of engagement rows."""
        self.sends += float(sends or 0)
        self.opens += float(opens or 0)
        self.clicks += float(clicks or 0)
        self.score_sum += float(score_sum or 0)
        self.score_n += float(score_n or 0)
        self.excluded += float(excluded or 0)

    def add_conversions(self, conversions: Any, revenue: Any) -> None:
        """Add a queried count and revenue sum (numbers, Decimals or NULL) of conversions."""
        self.conversions += float(conversions or 0)
        self.revenue += float(revenue or 0)

    def add_totals(self, other: Totals) -> None:
        """Add another window's sums to these."""
        for name in SUMS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def add(self, row: dict[str, Any]) -> None:
        for name in ("sends", "opens", "clicks", "score_sum", "score_n", "conversions", "revenue"):
            if row.get(name) is not None:
                setattr(self, name, getattr(self, name) + float(row[name]))


@dataclass
class Benchmark:
    value: float
    spread: float | None


@dataclass
class CustomerData:
    """Everything the report needs about one customer for one week, as queried."""

    customer_id: str
    name: str
    industry: str
    segment: str | None
    region: str | None
    benchmarks: dict[str, Benchmark] = field(default_factory=dict)
    weekly: dict[int, Totals] = field(default_factory=lambda: defaultdict(Totals))
    channels: dict[str, dict[str, Totals]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(Totals))
    )
    campaigns: dict[str, dict[str, Totals]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(Totals))
    )
    # model -> channel -> (credit, attributed revenue) for the report week
    attribution: dict[str, dict[str, tuple[float, float]]] = field(default_factory=lambda: defaultdict(dict))
    # week offset -> days of it the source data covers, for the queried weeks it covers only
    # in part (one dict shared by every customer of a snapshot; see COVERAGE_SQL)
    short_weeks: dict[int, int] = field(default_factory=dict)

    def week(self, offset: int) -> Totals:
        return self.weekly[offset]

    def whole(self, *offsets: int) -> bool:
        """Whether the data covers every day of these weeks (a partial one is not compared)."""
        return not any(o in self.short_weeks for o in offsets)

    def days(self, offset: int) -> int:
        """The days of the week at `offset` the data covers (7 for a whole week)."""
        return self.short_weeks.get(offset, 7)


@dataclass
class Snapshot:
    """The queried data of one run: one week, many customers."""

    week: Week
    customers: dict[str, CustomerData]
    sql: list[str]

    def get(self, customer_id: str) -> CustomerData | None:
        return self.customers.get(customer_id)


class Analytics:
    """Runs the set-based metric queries."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse

    def snapshot(self, week: Week, customer_ids: Sequence[str]) -> Snapshot:
        """Query every metric the report needs for these customers, in nine statements."""
        scope = json.dumps(sorted(set(customer_ids)))
        customers = self.profiles(customer_ids)
        self._attach_benchmarks(customers.values())
        trend_start, year_ago = week.shift(1 - TREND_WEEKS), week.year_ago
        year_ago_start = year_ago.shift(1 - YEAR_AGO_WEEKS)
        short = self.short_weeks(week, [*range(1 - TREND_WEEKS, 1), *range(-51 - YEAR_AGO_WEEKS, -51)])
        for data in customers.values():
            data.short_weeks = short
        weekly_params = [week.start, scope, trend_start.start, week.end, year_ago_start.start, year_ago.end]
        # Hundreds of thousands of rows: read as tuples in the SELECT's column order, and
        # added field by field, rather than as one dict per row.
        for c, offset, *sums in self._rows(customers, WEEKLY_ENGAGEMENT_SQL, weekly_params):
            c.weekly[int(offset)].add_engagement(*sums)
        for c, offset, *sums in self._rows(customers, WEEKLY_CONVERSIONS_SQL, weekly_params):
            c.weekly[int(offset)].add_conversions(*sums)
        baseline_start = week.shift(-1 - BASELINE_WEEKS)
        period_params = [week.start, week.end, week.previous.start, week.previous.end, scope]
        window = [baseline_start.start, week.end]
        for c, channel, period, *sums in self._rows(
            customers, CHANNEL_ENGAGEMENT_SQL, [*period_params, *window]
        ):
            c.channels[channel][period].add_engagement(*sums)
        for c, channel, period, *sums in self._rows(
            customers, CHANNEL_CONVERSIONS_SQL, [*period_params, *window]
        ):
            c.channels[channel][period].add_conversions(*sums)
        campaign_params = [week.start, scope, week.previous.start, week.end]
        for c, campaign, period, *sums in self._rows(customers, CAMPAIGNS_SQL, campaign_params):
            c.campaigns[period][campaign or "(none)"].add_conversions(*sums)
        for c, model, channel, credit, revenue in self._rows(
            customers, ATTRIBUTION_SQL, [scope, week.start, week.end]
        ):
            c.attribution[model][channel] = (float(credit), float(revenue or 0))
        sql = [
            CUSTOMERS_SQL,
            COVERAGE_SQL,
            BENCHMARKS_SQL,
            WEEKLY_ENGAGEMENT_SQL,
            WEEKLY_CONVERSIONS_SQL,
            CHANNEL_ENGAGEMENT_SQL,
            CHANNEL_CONVERSIONS_SQL,
            CAMPAIGNS_SQL,
            ATTRIBUTION_SQL,
        ]
        return Snapshot(week, customers, [" ".join(s.split()) for s in sql])

    def short_weeks(self, week: Week, offsets: Iterable[int]) -> dict[int, int]:
        """offset -> days covered, for the weeks at `offsets` from `week` that the source data
        covers only in part (a week it does not reach at all is simply empty, not partial)."""
        row = self.warehouse.query(COVERAGE_SQL)[0]
        first, last = row["first_day"], row["last_day"]
        if first is None:
            return {}
        short = {}
        for offset in offsets:
            w = week.shift(offset)
            days = (min(w.end, last) - max(w.start, first)).days + 1
            if 0 < days < 7:
                short[offset] = days
        return short

    def profiles(self, customer_ids: Sequence[str]) -> dict[str, CustomerData]:
        """The customers' names, industries, segments and regions, without any metrics."""
        scope = json.dumps(sorted(set(customer_ids)))
        return {
            r["customer_id"]: CustomerData(
                r["customer_id"], r["customer_name"], r["industry"], r["segment"], r["region"]
            )
            for r in self.warehouse.query(CUSTOMERS_SQL, [scope])
        }

    def _attach_benchmarks(self, customers: Iterable[CustomerData]) -> None:
        by_industry: dict[str, dict[str, Benchmark]] = defaultdict(dict)
        for row in self.warehouse.query(BENCHMARKS_SQL):
            spread = float(row["spread"]) if row["spread"] is not None else None
            by_industry[row["industry"]][row["metric_name"]] = Benchmark(
                float(row["benchmark_value"]), spread
            )
        for data in customers:
            data.benchmarks = by_industry.get(data.industry, {})

    def _rows(
        self, customers: dict[str, CustomerData], sql: str, params: Sequence[Any]
    ) -> Iterator[tuple[Any, ...]]:
        """The query's rows with the customer id (the first column) replaced by its data."""
        _, rows = self.warehouse.fetch(sql, params)
        for customer_id, *rest in rows:
            if (data := customers.get(customer_id)) is not None:
                yield (data, *rest)
