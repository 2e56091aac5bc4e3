"""The account-health thresholds at their boundaries: just above, at and just below each one.

Each case builds a customer's weekly totals so that only the signal under test has data
(a change over a zero base is no signal), then reads the verdict of `account_health`.
"""

from __future__ import annotations

import pytest

from core.kinds.ebr.analytics import Benchmark, CustomerData
from core.kinds.ebr.compare import versus
from core.kinds.ebr.health import AT_RISK, HEALTHY, THRESHOLDS, WATCH, account_health

T = THRESHOLDS


def customer() -> CustomerData:
    return CustomerData("CUST_1", "Test Co", "Retail", None, None)


def weekly_revenue(values: dict[int, float], conversions: float = 1) -> CustomerData:
    d = customer()
    for offset, revenue in values.items():
        d.week(offset).add_conversions(conversions, revenue)
    return d


def just(threshold: float) -> list[tuple[float, str]]:
    """Changes just above (milder), at and just below (deeper) a threshold."""
    return [(threshold + 0.001, "above"), (threshold, "at"), (threshold - 0.001, "below")]


def expected(where: str, level: str, milder: str) -> str:
    return milder if where == "above" else level


@pytest.mark.parametrize(
    ("threshold", "level", "milder"),
    [(T.revenue_wow_watch, WATCH, HEALTHY), (T.revenue_wow_risk, AT_RISK, WATCH)],
)
def test_revenue_week_over_week(threshold: float, level: str, milder: str) -> None:
    for change, where in just(threshold):
        d = weekly_revenue({-1: 1000.0, 0: 1000.0 * (1 + change)})
        health = account_health(d)
        assert health.label == expected(where, level, milder), (change, health.line)
        assert health.reasons[0].text.endswith("WoW")


@pytest.mark.parametrize(
    ("threshold", "level", "milder"),
    [(T.revenue_4w_watch, WATCH, HEALTHY), (T.revenue_4w_risk, AT_RISK, WATCH)],
)
def test_revenue_last_four_weeks_against_the_four_before(threshold: float, level: str, milder: str) -> None:
    for change, where in just(threshold):
        weeks = {k: 1000.0 for k in range(-7, -3)} | {k: 1000.0 * (1 + change) for k in range(-3, 1)}
        health = account_health(weekly_revenue(weeks))
        assert health.label == expected(where, level, milder), (change, health.line)
        assert "over the last 4 weeks vs the 4 before" in health.line


@pytest.mark.parametrize(
    ("threshold", "level", "milder"),
    [(T.revenue_yoy_watch, WATCH, HEALTHY), (T.revenue_yoy_risk, AT_RISK, WATCH)],
)
def test_revenue_year_over_year(threshold: float, level: str, milder: str) -> None:
    for change, where in just(threshold):
        health = account_health(weekly_revenue({-52: 1000.0, 0: 1000.0 * (1 + change)}))
        assert health.label == expected(where, level, milder), (change, health.line)
        assert health.line.endswith("YoY")


@pytest.mark.parametrize(
    ("threshold", "level", "milder"),
    [(T.conversions_wow_watch, WATCH, HEALTHY), (T.conversions_wow_risk, AT_RISK, WATCH)],
)
def test_conversions_week_over_week(threshold: float, level: str, milder: str) -> None:
    for change, where in just(threshold):
        d = customer()
        d.week(-1).add_conversions(1000, 0)
        d.week(0).add_conversions(1000 * (1 + change), 0)
        health = account_health(d)
        assert health.label == expected(where, level, milder), (change, health.line)


def channel_customer(share_of_usual: float, channel_share: float) -> CustomerData:
    """A channel earning `share_of_usual` of its 8-week average, having held `channel_share`
    of the revenue over those weeks; the other channel steady."""
    d = customer()
    d.channels["sms"]["baseline"].add_conversions(80, 8000.0 * channel_share)
    d.channels["sms"]["current"].add_conversions(1, 1000.0 * channel_share * share_of_usual)
    d.channels["email"]["baseline"].add_conversions(80, 8000.0 * (1 - channel_share))
    d.channels["email"]["current"].add_conversions(10, 1000.0 * (1 - channel_share))
    d.week(0).add_conversions(11, 1000.0)  # the week has activity; no weekly history to compare
    return d


def test_a_channel_under_half_its_own_average_collapses() -> None:
    ratio = T.channel_collapse_ratio
    assert account_health(channel_customer(ratio + 0.001, 0.3)).label == HEALTHY
    assert account_health(channel_customer(ratio, 0.3)).label == HEALTHY  # half is not under half
    health = account_health(channel_customer(ratio - 0.001, 0.3))
    assert health.label == AT_RISK
    assert health.line == "At risk: SMS ▼ 50.1% vs its 8-week average"


def test_a_small_channel_collapsing_is_watch() -> None:
    share = T.channel_material_share
    assert account_health(channel_customer(0.2, share + 0.001)).label == AT_RISK
    assert account_health(channel_customer(0.2, share)).label == AT_RISK
    assert account_health(channel_customer(0.2, share - 0.001)).label == WATCH


def engagement_customer(score: float, benchmark: float) -> CustomerData:
    d = customer()
    d.benchmarks["engagement_score"] = Benchmark(benchmark, None)
    d.week(0).add_engagement(100, 20, 2, score, 1)
    return d


def test_engagement_below_the_benchmark_is_watch_never_at_risk_alone() -> None:
    # "in line" is within 5 % of the benchmark (core.kinds.ebr.compare), the same in every section
    assert account_health(engagement_customer(95.1, 100)).label == HEALTHY
    assert account_health(engagement_customer(95.0, 100)).label == HEALTHY
    assert account_health(engagement_customer(94.9, 100)).label == WATCH
    health = account_health(engagement_customer(40.0, 100))
    assert health.line == "Watch: engagement score 40.0 vs the benchmark 100.0 (▼ 60.0%)"


def test_a_score_of_62_8_against_63_is_in_line_everywhere() -> None:
    assert versus(62.8, 63.0) == "in line"
    assert account_health(engagement_customer(62.8, 63.0)).label == HEALTHY


def test_engagement_score_over_four_weeks() -> None:
    for change, where in just(T.engagement_4w_watch):
        d = customer()
        for k in range(-7, -3):
            d.week(k).add_engagement(100, 20, 2, 60.0, 1)
        for k in range(-3, 1):
            d.week(k).add_engagement(100, 20, 2, 60.0 * (1 + change), 1)
        health = account_health(d)
        assert health.label == expected(where, WATCH, HEALTHY), (change, health.line)


@pytest.mark.parametrize("rate", ["open_rate", "click_through_rate"])
def test_open_and_click_through_rates_far_under_their_benchmarks(rate: str) -> None:
    for change, where in just(T.rate_gap_watch):
        d = customer()
        d.benchmarks[rate] = Benchmark(0.2, None)
        value = 10_000 * 0.2 * (1 + change)
        opens, clicks = (value, 0) if rate == "open_rate" else (0, value)
        d.week(0).add_engagement(10_000, opens, clicks, 0, 0)
        health = account_health(d)
        assert health.label == expected(where, WATCH, HEALTHY), (rate, change, health.line)


def test_three_watch_reasons_together_are_at_risk() -> None:
    d = weekly_revenue({-52: 1000.0, -1: 1000.0, 0: 880.0})  # ▼12 % WoW and YoY: two Watch
    assert account_health(d).label == WATCH
    d.benchmarks["engagement_score"] = Benchmark(60.0, None)
    d.week(0).add_engagement(100, 20, 2, 50.0, 1)  # a third
    health = account_health(d)
    assert health.label == AT_RISK
    assert len(health.top) == T.watch_reasons_for_risk


def four_week_fall_with_last_year(last_year: float) -> CustomerData:
    weeks = {k: 1000.0 for k in range(-7, -3)} | {k: 850.0 for k in range(-3, 1)}  # ▼15 %: At risk
    weeks |= {k: 1000.0 for k in range(-59, -55)} | {k: 1000.0 * (1 + last_year) for k in range(-55, -51)}
    return weekly_revenue(weeks)


def test_a_seasonal_dip_counts_one_level_lower_and_says_so() -> None:
    share = T.seasonal_share
    health = account_health(four_week_fall_with_last_year(-0.15 * share))
    assert health.label == WATCH
    assert "(the same weeks last year: ▼ 7.5%, seasonal)" in health.line
    assert account_health(four_week_fall_with_last_year(-0.15 * share + 0.001)).label == AT_RISK
    assert account_health(four_week_fall_with_last_year(0.05)).label == AT_RISK


def test_a_week_with_no_activity_is_watch_and_says_why() -> None:
    assert account_health(customer()).line == "Watch: no activity recorded this week"


def test_changes_over_a_zero_or_negative_week_are_no_signal() -> None:
    assert account_health(weekly_revenue({-1: -200.0, 0: 500.0}, conversions=5)).label == HEALTHY
    assert account_health(weekly_revenue({-1: 0.0, 0: 500.0}, conversions=5)).label == HEALTHY


def test_reasons_are_ordered_by_severity_and_shown_three_at_most() -> None:
    d = weekly_revenue({-52: 2000.0, -1: 1000.0, 0: 600.0}, conversions=1)  # ▼40 % WoW, ▼70 % YoY
    d.benchmarks["engagement_score"] = Benchmark(60.0, None)
    d.benchmarks["open_rate"] = Benchmark(0.3, None)
    d.week(0).add_engagement(100, 10, 2, 40.0, 1)  # open rate 10 % vs 30 %, score 40 vs 60
    health = account_health(d)
    assert [r.level for r in health.reasons] == sorted((r.level for r in health.reasons), reverse=True)
    assert health.top == [
        "revenue ▼ 70.0% YoY",
        "revenue ▼ 40.0% WoW",
        "open rate 10.00% vs the benchmark 30.00% (▼ 66.7%)",
    ]
