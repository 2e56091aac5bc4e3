"""From queried totals to findings: comparisons, health, channels, attribution, triggers.

Pure functions over `CustomerData`: every figure here is a queried sum or a ratio of
queried sums. Nothing is estimated that the data does not hold; where a comparison has no
data (no sends, no benchmark, no history) the value is None and the text says "n/a".
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from core.format import change, movement, relative_change, sparkline
from core.kinds.ebr.analytics import CustomerData, Totals
from core.kinds.ebr.compare import IN_LINE_TOLERANCE, versus
from core.kinds.ebr.health import THRESHOLDS, Health, account_health, window

SPARK_WEEKS = 8
CHANNEL_COLLAPSE_RATIO = THRESHOLDS.channel_collapse_ratio  # one threshold, see core.kinds.ebr.health
BENCHMARK_TOLERANCE = IN_LINE_TOLERANCE  # "in line" is defined once, in core.kinds.ebr.compare


@dataclass
class Metric:
    """One Performance metric, with its comparisons."""

    key: str
    label: str
    kind: str  # count | money | rate | score
    current: float | None
    previous: float | None
    year_ago: float | None
    benchmark_key: str | None = None
    benchmark: float | None = None
    benchmark_subject: float | None = None  # what is compared with the benchmark
    benchmark_label: str | None = None
    wow_note: str | None = None  # why there is no week-over-week change (a partial week)
    yoy_note: str | None = None  # why there is no year-over-year change (a partial week)

    def week_over_week(self) -> str:
        """The week-over-week move as written in the sections."""
        return self.wow_note or movement(
            self.current, self.previous, self.kind, "week over week", "the week before"
        )

    def year_over_year(self, span: str = "year over year") -> str:
        """The year-over-year move as written in the sections."""
        return self.yoy_note or movement(self.current, self.year_ago, self.kind, span, "a year earlier")

    @property
    def wow(self) -> float | None:
        return relative_change(self.current, self.previous)

    @property
    def yoy(self) -> float | None:
        return relative_change(self.current, self.year_ago)

    @property
    def vs_benchmark(self) -> str:
        """ "above", "in line", "below" or "no benchmark", as core.kinds.ebr.compare.versus judges it."""
        growth = self.benchmark_key == "weekly_revenue_growth"
        return versus(self.benchmark_subject, self.benchmark, growth=growth)


@dataclass
class ChannelRow:
    channel: str
    sends: float
    clicks: float
    click_through_rate: float | None
    conversions: float
    revenue: float
    revenue_share: float | None
    revenue_per_send: float | None
    wow: float | None
    baseline_revenue: float | None  # average week of the baseline window


@dataclass
class AttributionRow:
    model: str
    leader: str
    leader_share: float
    shares: dict[str, float]


@dataclass
class Analysis:
    """Findings for one customer and week; the input of every section template."""

    data: CustomerData
    metrics: dict[str, Metric]
    revenue_trend: list[float]
    sparkline: str
    four_week_growth: float | None
    average_weekly_growth: float | None
    health: Health
    channels: list[ChannelRow]
    attribution: list[AttributionRow]
    campaigns: list[tuple[str, float, float | None]] = field(default_factory=list)
    new_since: int | None = None  # a new customer: the offset of its first week with data

    @property
    def current(self) -> Totals:
        return self.data.week(0)

    @property
    def partial_note(self) -> str | None:
        """What the report says when the week or the week before is covered only in part."""
        d = self.data
        if not d.whole(0):
            return (
                f"This week has {d.days(0)} of 7 days of data: its figures cover those days only "
                "and are not compared with other weeks."
            )
        if not d.whole(-1):
            return (
                f"The week before has {d.days(-1)} of 7 days of data: no week-over-week change is "
                "shown against it."
            )
        return None

    def versus_benchmark(self, verdict: str) -> list[str]:
        """Labels of the metrics whose `vs_benchmark` is `verdict` ("above", "below", ...).

        Revenue is compared on this week's growth against a weekly growth benchmark; when the
        year-over-year change points the other way, the label says so.
        """
        return [self._compared(m, verdict) for m in self.metrics.values() if m.vs_benchmark == verdict]

    def _compared(self, m: Metric, verdict: str) -> str:
        if m.key != "revenue":
            return m.label
        yoy = m.yoy
        against = yoy is not None and ((verdict == "above" and yoy < 0) or (verdict == "below" and yoy > 0))
        return "Revenue growth this week" + (f" (while {change(yoy)} year over year)" if against else "")

    @property
    def benchmarked(self) -> bool:
        """Whether any metric could be compared with a benchmark this week."""
        return any(m.vs_benchmark != "no benchmark" for m in self.metrics.values())

    @property
    def excluded_values(self) -> int:
        """Source values (NULL or NaN engagement scores) left out of this week's figures."""
        return int(self.current.excluded)

    @property
    def attribution_leaders(self) -> list[str]:
        """The leading channel of each attribution model, each named once."""
        return list(dict.fromkeys(row.leader for row in self.attribution))


def analyse(data: CustomerData) -> Analysis:
    """Derive every finding the report shows from one customer's queried data.

    The same data object analysed again soon after (the agent's sections, then the engine's
    headline) gets the analysis already made: it is a pure function of the data.
    """
    with _recent_lock:
        hit = _recent.get(id(data))
        if hit is not None and hit[0] is data:
            return hit[1]
    analysis = _analyse(data)
    with _recent_lock:
        _recent[id(data)] = (data, analysis)
        while len(_recent) > RECENT_ANALYSES:
            _recent.popitem(last=False)
    return analysis


RECENT_ANALYSES = 64  # a few per worker thread; bounded so a large run does not keep them all
_recent: OrderedDict[int, tuple[CustomerData, Analysis]] = OrderedDict()
_recent_lock = threading.Lock()


def _analyse(data: CustomerData) -> Analysis:
    trend = [data.week(offset).revenue for offset in range(1 - SPARK_WEEKS, 1)]
    return Analysis(
        data=data,
        metrics=_metrics(data),
        revenue_trend=trend,
        sparkline=sparkline(trend),
        four_week_growth=_four_week_growth(data, "revenue"),
        average_weekly_growth=_average_weekly_growth(trend)
        if data.whole(*range(1 - SPARK_WEEKS, 1))
        else None,
        health=account_health(data),
        channels=_channels(data),
        attribution=_attribution(data),
        campaigns=_campaigns(data),
        new_since=_new_since(data),
    )


def _metrics(d: CustomerData) -> dict[str, Metric]:
    wow_note = _not_compared(d, -1, "week over week", "the week before")
    yoy_note = _not_compared(d, -52, "year over year", "the week a year earlier")
    cur = d.week(0)
    prev = None if wow_note else _or_none(d.week(-1))
    ago = None if yoy_note else _or_none(d.week(-52))

    def bench(key: str) -> float | None:
        b = d.benchmarks.get(key)
        return b.value if b else None

    def of(week: Totals | None, key: str) -> float | None:
        return None if week is None else getattr(week, key)

    def rate_metric(key: str, label: str, kind: str) -> Metric:
        value = getattr(cur, key)
        return Metric(key, label, kind, value, of(prev, key), of(ago, key), key, bench(key), value)

    metrics = [
        Metric(
            "conversions", "Conversions", "count", cur.conversions, of(prev, "conversions"),
            of(ago, "conversions"), "conversion_rate", bench("conversion_rate"), cur.conversion_rate,
            "conversion rate",
        ),
        Metric(
            "revenue", "Revenue", "money", cur.revenue, of(prev, "revenue"), of(ago, "revenue"),
            "weekly_revenue_growth", bench("weekly_revenue_growth"),
            relative_change(cur.revenue, of(prev, "revenue")), "this week's growth",
        ),
        rate_metric("avg_conversion_value", "Average conversion value", "money"),
        rate_metric("open_rate", "Open rate", "rate"),
        rate_metric("click_through_rate", "Click-through rate", "rate"),
        rate_metric("engagement_score", "Engagement score", "score"),
    ]  # fmt: skip
    for m in metrics:
        m.wow_note, m.yoy_note = wow_note, yoy_note
    return {m.key: m for m in metrics}


def _not_compared(d: CustomerData, other: int, span: str, name: str) -> str | None:
    """Why this week is not compared with the week at `other`: one of them is partial."""
    if not d.whole(0):
        return f"not compared {span} (this week has {d.days(0)} of 7 days of data)"
    if not d.whole(other):
        return f"not compared {span} ({name} has {d.days(other)} of 7 days of data)"
    return None


def _or_none(week: Totals) -> Totals | None:
    """A comparison week, or None when it has no rows (the customer is new to it)."""
    return None if week.empty else week


def _new_since(d: CustomerData) -> int | None:
    """The offset of the first trend week with data, when the weeks before it have none."""
    active = [k for k in range(1 - SPARK_WEEKS, 1) if not d.week(k).empty]
    return active[0] if active and active[0] > 1 - SPARK_WEEKS else None


def _four_week_growth(d: CustomerData, attribute: str) -> float | None:
    """The last four weeks against the four before them (None when one of them is partial)."""
    if not d.whole(*range(-7, 1)):
        return None
    return relative_change(getattr(window(d, -3, 0), attribute), getattr(window(d, -7, -4), attribute))


def _average_weekly_growth(trend: list[float]) -> float | None:
    """Compound weekly growth from the first to the last week of the trend."""
    if len(trend) < 2 or trend[0] <= 0 or trend[-1] <= 0:
        return None
    return float((trend[-1] / trend[0]) ** (1 / (len(trend) - 1)) - 1)


def _channels(d: CustomerData) -> list[ChannelRow]:
    total_revenue = sum(p["current"].revenue for p in d.channels.values())
    rows = []
    for channel, periods in d.channels.items():
        cur, prev, base = periods["current"], periods["previous"], periods["baseline"]
        base_revenue = base.revenue / 8 if base.revenue or base.sends else None
        rows.append(
            ChannelRow(
                channel=channel,
                sends=cur.sends,
                clicks=cur.clicks,
                click_through_rate=cur.click_through_rate,
                conversions=cur.conversions,
                revenue=cur.revenue,
                revenue_share=cur.revenue / total_revenue if total_revenue else None,
                revenue_per_send=cur.revenue / cur.sends if cur.sends else None,
                wow=relative_change(cur.revenue, prev.revenue) if d.whole(0, -1) else None,
                baseline_revenue=base_revenue,
            )
        )
    return sorted(rows, key=lambda r: (-r.revenue, r.channel))


def _attribution(d: CustomerData) -> list[AttributionRow]:
    rows = []
    for model in sorted(d.attribution):
        credits = {channel: credit for channel, (credit, _) in d.attribution[model].items()}
        total = sum(credits.values())
        if not total:
            continue
        shares = {c: v / total for c, v in sorted(credits.items(), key=lambda kv: -kv[1])}
        leader = next(iter(shares))
        rows.append(AttributionRow(model, leader, shares[leader], shares))
    return rows


def _campaigns(d: CustomerData) -> list[tuple[str, float, float | None]]:
    """(campaign, revenue this week, change vs last week), largest first."""
    current, previous = d.campaigns.get("current", {}), d.campaigns.get("previous", {})
    whole = d.whole(0, -1)  # no change against a partial week
    rows = [
        (
            name,
            t.revenue,
            relative_change(t.revenue, previous[name].revenue if name in previous and whole else None),
        )
        for name, t in current.items()
    ]
    return sorted(rows, key=lambda r: (-r[1], r[0]))
