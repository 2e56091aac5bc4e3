"""Honest comparisons in the report sections: "in line" means one thing in every section, a
benchmark claim needs a benchmark, revenue growth is compared like for like with its year-over-
year context, and unusual values (a negative or zero base, NULL or NaN, no history) read right."""

from __future__ import annotations

import datetime as dt
import json
import math
import re

from bot.channels.slack_dm.render import slack_parent
from core import ReportEngine
from core.kinds.ebr.analysis import analyse
from core.kinds.ebr.analytics import Benchmark, CustomerData
from core.models import Headline, Report
from core.templating import render
from core.weeks import Week
from tests.conftest import REPORT_WEEK

W = Week(REPORT_WEEK)


def customer(industry: str = "Technology") -> CustomerData:
    return CustomerData("CUST_1", "Test Co", industry, None, None)


def sections(d: CustomerData) -> tuple[str, str]:
    """The Performance and Business Value sections as the local analyst writes them."""
    a = analyse(d)
    perf = render("ebr/sections/performance.md.j2", a=a, recs=[], week=W, c=d)
    value = render("ebr/sections/business_value.md.j2", a=a, recs=[], week=W, c=d)
    return perf, value


def steady(d: CustomerData, weeks: range = range(-11, 1), revenue: float = 1000.0) -> CustomerData:
    for k in weeks:
        d.week(k).add_engagement(1000, 200, 20, 63.0 * 7, 7)
        d.week(k).add_conversions(10, revenue)
    return d


def test_in_line_means_the_same_in_both_sections() -> None:
    d = steady(customer())
    d.benchmarks["engagement_score"] = Benchmark(63.0, None)
    d.week(0).score_sum = 62.8 * 7  # 62.8 vs 63.0: within 5 %
    perf, value = sections(d)
    score_line = next(line for line in perf.splitlines() if line.startswith("- **Engagement score:**"))
    assert score_line.endswith("(in line).")
    assert "benchmark 63.0 (in line)" in value
    assert "below the industry benchmark" not in value and "below the benchmark" not in value
    assert "**Account health: Healthy**" in value


def test_no_benchmark_for_the_industry_makes_no_benchmark_claim() -> None:
    perf, value = sections(steady(customer("Aerospace")))
    assert "in line" not in perf and "in line" not in value
    assert "There is no Aerospace benchmark on file, so no metric is compared with one." in perf


def test_revenue_growth_above_its_benchmark_states_the_year_over_year_fall() -> None:
    d = steady(customer(), range(-11, 0))
    steady(d, range(0, 1), revenue=1100.0)  # ▲10 % on the week before
    d.week(-52).add_conversions(10, 1400.0)  # ▼21.4 % on a year earlier
    d.benchmarks["weekly_revenue_growth"] = Benchmark(0.004, None)
    perf, _ = sections(d)
    line = next(line for line in perf.splitlines() if line.startswith("- **Revenue:**"))
    assert "this week's growth ▲ 10.0% vs the Technology average of 0.4% a week (above)" in line
    assert "Above benchmark: Revenue growth this week (while ▼ 21.4% year over year)." in perf


def test_a_rise_from_a_negative_week_shows_the_absolute_change() -> None:
    d = steady(customer(), range(-11, -1))
    d.week(-1).add_conversions(2, -500.0)  # refunds outweighed sales
    d.week(0).add_conversions(10, 561.0)
    perf, value = sections(d)
    line = next(line for line in perf.splitlines() if line.startswith("- **Revenue:**"))
    assert "▲ $1,061 week over week (from -$500; no percentage on a negative base)" in line
    assert "%" not in line.split("year over year")[0].split("week over week")[0]
    assert "212" not in perf + value and "▼ 2" not in line


def test_a_new_customer_says_new_not_from_zero() -> None:
    d = steady(customer(), range(-1, 1), revenue=37_569.0)
    perf, value = sections(d)
    assert "$0.00 →" not in value
    assert "new: data since the week of" in value
    line = next(line for line in perf.splitlines() if line.startswith("- **Revenue:**"))
    assert "new: no data a year earlier" in line and "(from $0.00)" not in line


def test_nan_scores_are_excluded_counted_and_never_printed(engine: ReportEngine) -> None:
    day = dt.date.fromordinal(W.start.toordinal() + 2)
    engine.warehouse.insert_rows(
        "historical_engagement",
        ["customer_id", "activity_date", "channel", "sends", "opens", "clicks", "engagement_score"],
        [("CUST_12345", day, "email", 0, 0, 0, math.nan), ("CUST_12345", day, "sms", 0, 0, 0, None)],
    )
    engine.generate(engine.targets(customer_id="CUST_12345"), W)
    report = engine.store.load("CUST_12345", W)
    parent = slack_parent(report).text
    assert not re.search(r"\bnan\b", parent) and "nan%" not in parent
    assert not re.search(r"\bnan\b", report.full_report)  # (the note says "NULL or NaN")
    json.dumps(report.metadata, allow_nan=False)
    assert report.headline is not None and report.headline.excluded_values == 2
    assert "2 source values (NULL or NaN) were left out of this week's figures." in parent
    score = engine.warehouse.scalar(
        "SELECT AVG(engagement_score) FROM historical_engagement WHERE customer_id = 'CUST_12345' "
        "AND activity_date BETWEEN ? AND ? AND NOT (engagement_score = 'NaN'::FLOAT)",
        [W.start, W.end],
    )
    assert report.headline.engagement_score is not None
    assert abs(report.headline.engagement_score - float(score)) < 1e-9


def test_the_parent_message_shows_a_rise_from_a_negative_week_as_an_amount() -> None:
    headline = Headline(
        561.0,
        None,
        10,
        None,
        0.02,
        None,
        60.0,
        None,
        "▁▂",
        "Watch",
        "revenue ▼ 12.0% YoY",
        revenue_previous=-500.0,
    )
    report = Report(
        "CUST_1-20261109", "CSM001", "CUST_1", "Test Co", "Retail", W, "complete", [], headline, "1", 7,
        dt.datetime(2026, 11, 16),
    )  # fmt: skip
    lines = slack_parent(report).text.splitlines()
    assert "• *Revenue:* $561 ▲ $1,061 (from -$500; no percentage on a negative base)" in lines
    assert "• *Account health:* *Watch*: revenue ▼ 12.0% YoY" in lines
