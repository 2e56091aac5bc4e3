"""Recommendations with judgement: new campaigns, projections, capped impacts, no duplicates, case studies.

The data is built by hand (queried sums as `CustomerData` holds them), so each rule's trigger
and each bound is checked at its own figures, not only through the demo stories.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from core.agent.local.recommendation_detail import arithmetic
from core.demo.case_studies import case_study_table
from core.format import money
from core.kinds.ebr.analysis import analyse
from core.kinds.ebr.analytics import Benchmark, CustomerData, Totals
from core.kinds.ebr.recommendations import MAX_IMPACT_SHARE, Recommendation, recommend
from core.kinds.ebr.search import CaseStudy, CaseStudyIndex


def _week(revenue: float, sends: float = 100_000, clicks: float = 3_000) -> Totals:
    return Totals(
        sends=sends, opens=sends * 0.25, clicks=clicks, score_sum=65.0 * 10, score_n=10,
        conversions=revenue / 100, revenue=revenue,
    )  # fmt: skip


def _customer(
    trend: list[float],
    campaigns: dict[str, tuple[float, float | None]],
    industry: str = "Food & Beverage",
    customer_id: str = "CUST_1",
    current: Totals | None = None,
    ctr_benchmark: float = 0.03,
) -> CustomerData:
    """Eight weekly revenues (oldest first, the last is the report week) and campaigns
    as name -> (revenue this week, revenue last week or None when it did not run)."""
    data = CustomerData(customer_id, "Test Co", industry, None, None)
    data.benchmarks = {"click_through_rate": Benchmark(ctr_benchmark, None)}
    for offset, revenue in zip(range(-7, 1), trend, strict=True):
        data.weekly[offset] = _week(revenue)
    if current is not None:
        data.weekly[0] = current
    for name, (now, before) in campaigns.items():
        data.campaigns["current"][name] = Totals(conversions=now / 100, revenue=now)
        if before is not None:
            data.campaigns["previous"][name] = Totals(conversions=before / 100, revenue=before)
    return data


def _text(rec: Recommendation) -> str:
    return " ".join((rec.title, rec.finding, rec.action, rec.impact))


SPIKE = "Limited-Edition Tasting Box"


def _launch_week() -> list[Recommendation]:
    # Flat at $60,000 a week, then a week of $80,000 of which $30,000 is a campaign that
    # did not run last week.
    data = _customer(
        [60_000.0] * 7 + [80_000.0],
        {SPIKE: (30_000, None), "Weekly Newsletter": (25_000, 24_000), "Loyalty Rewards": (25_000, 24_500)},
    )
    return recommend(analyse(data), None)


def test_a_campaign_without_previous_weeks_is_new_not_momentum() -> None:
    recs = _launch_week()
    about_spike = [r for r in recs if SPIKE in _text(r)]
    assert about_spike, [r.key for r in recs]
    for rec in about_spike:
        assert "new" in _text(rec).lower()
        assert not re.search(r"\b(extend|double down|momentum|replicate)\b", _text(rec), re.IGNORECASE)


def test_one_spike_week_is_not_growth_to_project() -> None:
    recs = _launch_week()
    assert "growth_expansion" not in [r.key for r in recs]
    assert not any("project" in r.impact for r in recs)


def test_sustained_growth_projects_from_the_last_four_weeks_average() -> None:
    trend = [50_000.0, 51_000, 52_000, 53_000, 56_000, 58_000, 60_000, 62_000]
    recs = recommend(analyse(_customer(trend, {"Weekly Newsletter": (30_000, 29_000)})), None)
    growth = next(r for r in recs if r.key == "growth_expansion")
    average = sum(trend[-4:]) / 4
    assert money(4 * average) in growth.impact
    assert "average of the last 4 weeks" in growth.impact
    assert money(62_000 * sum(1.0306**k for k in range(1, 5))) not in growth.impact


def _impact_figures(rec: Recommendation) -> list[float]:
    return [float(v.replace(",", "")) for v in re.findall(r"about \$([\d,]+(?:\.\d+)?) a week", rec.impact)]


def test_impact_is_capped_by_a_stated_share_of_weekly_revenue() -> None:
    # Click-through of 0.1% against a 3% benchmark on a million sends at $69 a click would
    # "add" about $2 million a week to a customer earning $69,079.
    current = _week(69_079, sends=1_000_000, clicks=1_000)
    data = _customer([69_079.0] * 8, {"Weekly Newsletter": (40_000, 39_000)}, current=current)
    recs = recommend(analyse(data), None)
    ctr = next(r for r in recs if r.key == "ctr_gap")
    bound = MAX_IMPACT_SHARE * 69_079
    assert _impact_figures(ctr) == [pytest.approx(round(bound), abs=1)]
    assert f"{MAX_IMPACT_SHARE:.0%}" in ctr.impact and money(69_079) in ctr.impact
    for rec in recs:
        assert all(v <= bound + 1 for v in _impact_figures(rec)), rec.impact
    lines = arithmetic(ctr, analyse(data))
    assert money(bound) in lines[-1]


def test_no_two_recommendations_about_the_same_campaign() -> None:
    # An established campaign tripling in a week: a spike and the best campaign at once.
    data = _customer(
        [60_000.0] * 7 + [70_000.0],
        {"Holiday Gift Guide": (30_000, 10_000), "Weekly Newsletter": (20_000, 25_000)},
    )
    recs = recommend(analyse(data), None)
    named = Counter(n for r in recs for n in set(re.findall(r"'([^']+)'", r.title + " " + r.finding)))
    assert named, [r.key for r in recs]
    assert max(named.values()) == len([r for r in recs if "Holiday Gift Guide" in r.title]) == 1
    assert next(r for r in recs if "Holiday Gift Guide" in r.title).key == "campaign_spike"  # the stronger


@pytest.fixture(scope="module")
def index() -> CaseStudyIndex:
    rows = case_study_table().to_pylist()
    return CaseStudyIndex(
        CaseStudy(r["case_study_id"], r["title"], r["industry"], r["challenge"], r["solution"], r["results"])
        for r in rows
    )


def test_same_industry_study_preferred_when_it_matches_the_topic(index: CaseStudyIndex) -> None:
    current = _week(69_079, sends=1_000_000, clicks=10_000)
    data = _customer([69_079.0] * 8, {}, industry="Manufacturing", current=current)
    ctr = next(r for r in recommend(analyse(data), index) if r.key == "ctr_gap")
    assert ctr.case_study is not None
    assert ctr.case_study.study.industry == "Manufacturing", ctr.case_study.study.title


def test_a_portfolio_is_not_shown_the_same_study_everywhere(index: CaseStudyIndex) -> None:
    # Nine accounts of one CSM whose industry has no study on the topic.
    shown: Counter[str] = Counter()
    for n in range(9):
        data = _customer([60_000.0] * 8, {}, "Energy", f"CUST_{n}", _week(60_000, clicks=1_000))
        for rec in recommend(analyse(data), index):
            if rec.case_study:
                shown[rec.case_study.study.case_study_id] += 1
    assert shown and max(shown.values()) < 9, shown
    again = _customer([60_000.0] * 8, {}, "Energy", "CUST_3", _week(60_000, clicks=1_000))
    first = [r.case_study for r in recommend(analyse(again), index)]
    assert [r.case_study for r in recommend(analyse(again), index)] == first  # deterministic
