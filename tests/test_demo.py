"""The demo dataset: its shape, its invariants and the story each named customer tells."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.demo import (
    ATTRIBUTION_MODELS,
    BENCHMARK_METRICS,
    CHANNELS,
    DEMO_CSMS,
    DemoSummary,
    load_demo,
)
from core.kinds.ebr.analysis import analyse
from core.kinds.ebr.analytics import Analytics
from core.kinds.ebr.recommendations import impact_bound, recommend
from core.kinds.ebr.search import CaseStudyIndex
from core.warehouse.embedded import EmbeddedWarehouse
from core.weeks import Week, last_complete_week

AS_OF = dt.date(2026, 11, 18)
W = last_complete_week(AS_OF)
REQUIRED_INDUSTRIES = {
    "Retail",
    "Financial Services",
    "Technology",
    "Healthcare",
    "Travel & Hospitality",
    "Media & Entertainment",
    "Manufacturing",
    "Education",
}


@pytest.fixture(scope="module")
def demo(
    empty_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[EmbeddedWarehouse, DemoSummary, list[str]]]:
    # The demo loaded into an empty warehouse (setup.sql's schema, made once per run).
    home = tmp_path_factory.mktemp("demo") / "home"
    shutil.copytree(empty_template, home)
    warehouse = EmbeddedWarehouse(home)
    messages: list[str] = []
    summary = load_demo(warehouse, AS_OF, progress=messages.append)
    yield warehouse, summary, messages
    warehouse.close()


@pytest.fixture(scope="module")
def wh(demo: tuple[EmbeddedWarehouse, DemoSummary, list[str]]) -> EmbeddedWarehouse:
    return demo[0]


def one(wh: EmbeddedWarehouse, sql: str, *params: object) -> float:
    value = wh.scalar(sql, params)
    return float(value or 0)


def revenue(wh: EmbeddedWarehouse, customer: str, week: Week, channel: str | None = None) -> float:
    sql = "SELECT SUM(revenue) FROM conversions WHERE customer_id = ? AND conversion_date BETWEEN ? AND ?"
    params: list[object] = [customer, week.start, week.end]
    if channel:
        sql += " AND channel = ?"
        params.append(channel)
    return one(wh, sql, *params)


def engagement(wh: EmbeddedWarehouse, customer: str, week: Week) -> dict[str, float]:
    rows = wh.query(
        "SELECT SUM(opens) / SUM(sends) AS open_rate, SUM(clicks) / SUM(sends) AS ctr, "
        "AVG(engagement_score) AS score, SUM(sends) AS sends "
        "FROM historical_engagement WHERE customer_id = ? AND activity_date BETWEEN ? AND ?",
        [customer, week.start, week.end],
    )
    return {key: float(value) for key, value in rows[0].items()}


def benchmark(wh: EmbeddedWarehouse, customer: str, metric: str) -> float:
    return one(
        wh,
        "SELECT b.benchmark_value FROM industry_benchmarks b JOIN customers c ON c.industry = b.industry "
        "WHERE c.customer_id = ? AND b.metric_name = ?",
        customer,
        metric,
    )


# The dataset as a whole


def test_summary_counts_match_the_tables(
    wh: EmbeddedWarehouse, demo: tuple[EmbeddedWarehouse, DemoSummary, list[str]]
) -> None:
    summary = demo[1]
    assert (summary.customers, summary.csms) == (9, 4)
    assert summary.conversions == one(wh, "SELECT COUNT(*) FROM conversions") > 9 * 730 * 10
    assert summary.attributions == one(wh, "SELECT COUNT(*) FROM attributions")
    assert summary.engagement_rows == 9 * 730 * len(CHANNELS)
    assert (summary.first_date, summary.last_date) == (
        AS_OF - dt.timedelta(days=730),
        AS_OF - dt.timedelta(days=1),
    )
    assert "9 customers" in summary.describe() and "4 CSMs" in summary.describe()


def test_progress_is_reported(demo: tuple[EmbeddedWarehouse, DemoSummary, list[str]]) -> None:
    messages = demo[2]
    assert "customers and CSMs" in messages
    assert {"engagement 1/1", "conversions 1/1", "attributions 1/1"} <= set(messages)


def test_csms_and_assignments_follow_the_design(wh: EmbeddedWarehouse) -> None:
    rows = wh.query(
        "SELECT csm_id, csm_name, csm_email, region, slack_user_id, timezone, customer_id "
        "FROM csm_assignments ORDER BY csm_id, customer_id"
    )
    expected = [
        (c.csm_id, c.name, c.email, c.region, c.timezone, cid) for c in DEMO_CSMS for cid in c.customer_ids
    ]
    assert [
        (r["csm_id"], r["csm_name"], r["csm_email"], r["region"], r["timezone"], r["customer_id"])
        for r in rows
    ] == (expected)
    assert all(r["slack_user_id"] is None for r in rows)
    assert expected[0][:4] == ("CSM001", "Sarah Johnson", "sarah.johnson@example.com", "North America")
    assert {r["timezone"] for r in rows} == {
        "America/Los_Angeles",
        "Asia/Singapore",
        "Europe/Madrid",
        "America/Sao_Paulo",
    }


def test_customers_have_names_industries_segments_and_regions(wh: EmbeddedWarehouse) -> None:
    rows = wh.query("SELECT * FROM customers ORDER BY customer_id")
    assert [r["customer_id"] for r in rows] == [cid for c in DEMO_CSMS for cid in c.customer_ids]
    assert all(r["customer_name"] and r["region"] for r in rows)
    assert {r["segment"] for r in rows} == {"Enterprise", "Mid-Market", "SMB"}
    industries = {r["customer_id"]: r["industry"] for r in rows}
    assert industries["CUST_12345"] == "Retail" and industries["CUST_90123"] == "Education"


def test_benchmarks_cover_every_industry_and_metric(wh: EmbeddedWarehouse) -> None:
    rows = wh.query("SELECT industry, metric_name, benchmark_value, spread FROM industry_benchmarks")
    industries = {r["industry"] for r in rows}
    assert industries >= REQUIRED_INDUSTRIES
    assert len(rows) == len(industries) * len(BENCHMARK_METRICS)
    assert {r["metric_name"] for r in rows} == set(BENCHMARK_METRICS)
    for r in rows:
        assert r["spread"] > 0
        if r["metric_name"] in ("open_rate", "click_through_rate", "conversion_rate"):
            assert 0 < r["benchmark_value"] < 0.5
        if r["metric_name"] == "engagement_score":
            assert 40 < r["benchmark_value"] < 80


def test_case_studies_are_real_paragraphs(wh: EmbeddedWarehouse) -> None:
    rows = wh.query("SELECT * FROM case_studies ORDER BY case_study_id")
    assert len(rows) >= 24
    assert [r["case_study_id"] for r in rows] == [f"CS-{n:03d}" for n in range(1, len(rows) + 1)]
    assert len({r["title"] for r in rows}) == len(rows)
    assert len({r["industry"] for r in rows}) >= 8
    for r in rows:
        for part in ("challenge", "solution", "results"):
            assert len(r[part]) > 150 and r[part].count(". ") >= 1, (r["case_study_id"], part)
        assert re.search(r"\d+(\.\d+)?%", r["results"]), r["case_study_id"]
        assert r["content"] == "\n\n".join((r["challenge"], r["solution"], r["results"]))


@pytest.mark.parametrize(
    "topic",
    [
        "click-through",
        "subject line",
        "send-time",
        "re-engag",
        "business review",
        "opt-out",
        "deliverab|delivery",
        "budget",
        "attribution",
        "expansion",
        "season",
        "spike",
    ],
)
def test_case_studies_cover_the_recommendation_topics(wh: EmbeddedWarehouse, topic: str) -> None:
    contents = [
        r["text"].lower() for r in wh.query("SELECT title || ' ' || content AS text FROM case_studies")
    ]
    assert any(re.search(topic, text) for text in contents)


def test_every_day_of_two_years_is_covered(wh: EmbeddedWarehouse) -> None:
    rows = wh.query(
        "SELECT customer_id, MIN(activity_date) AS first, MAX(activity_date) AS last, "
        "COUNT(DISTINCT activity_date) AS days, COUNT(*) AS n FROM historical_engagement GROUP BY customer_id"
    )
    assert len(rows) == 9
    for r in rows:
        assert (r["first"], r["last"]) == (AS_OF - dt.timedelta(days=730), AS_OF - dt.timedelta(days=1))
        assert (r["days"], r["n"]) == (730, 730 * len(CHANNELS))
    first, last = wh.fetch("SELECT MIN(conversion_date), MAX(conversion_date) FROM conversions")[1][0]
    assert (first, last) == (AS_OF - dt.timedelta(days=730), AS_OF - dt.timedelta(days=1))


def test_engagement_rows_are_consistent(wh: EmbeddedWarehouse) -> None:
    bad = one(
        wh,
        "SELECT COUNT(*) FROM historical_engagement WHERE opens > sends OR clicks > opens OR sends < 0 "
        "OR engagement_score < 0 OR engagement_score > 100 OR engagement_score IS NULL",
    )
    assert bad == 0
    channels = {r["channel"] for r in wh.query("SELECT DISTINCT channel FROM historical_engagement")}
    assert channels == set(CHANNELS)


def test_conversions_are_unique_positive_and_named(wh: EmbeddedWarehouse) -> None:
    row = wh.query(
        "SELECT COUNT(*) AS n, COUNT(DISTINCT conversion_id) AS ids, MIN(revenue) AS low, "
        "COUNT(DISTINCT channel) AS channels FROM conversions"
    )[0]
    assert row["n"] == row["ids"] and row["low"] > 0 and row["channels"] == len(CHANNELS)
    per_week = wh.query(
        "SELECT customer_id, COUNT(DISTINCT campaign) AS campaigns, SUM(revenue) / COUNT(*) AS aov "
        "FROM conversions WHERE conversion_date BETWEEN ? AND ? GROUP BY customer_id",
        [W.start, W.end],
    )
    assert all(2 <= r["campaigns"] <= 6 for r in per_week)


def test_revenue_per_conversion_is_close_to_the_industry_benchmark(wh: EmbeddedWarehouse) -> None:
    rows = wh.query(
        "SELECT c.customer_id, SUM(c.revenue) / COUNT(*) AS aov, MAX(b.benchmark_value) AS bench "
        "FROM conversions c JOIN customers k ON k.customer_id = c.customer_id "
        "JOIN industry_benchmarks b ON b.industry = k.industry AND b.metric_name = 'avg_conversion_value' "
        "GROUP BY c.customer_id"
    )
    for r in rows:
        assert 0.8 < r["aov"] / r["bench"] < 1.25, r


def test_attribution_credits_sum_to_one_under_every_model(wh: EmbeddedWarehouse) -> None:
    models = {r["attribution_model"] for r in wh.query("SELECT DISTINCT attribution_model FROM attributions")}
    assert models == set(ATTRIBUTION_MODELS)
    assert (
        one(
            wh,
            "SELECT COUNT(*) FROM (SELECT conversion_id, attribution_model, SUM(credit) AS total "
            "FROM attributions GROUP BY conversion_id, attribution_model) WHERE ABS(total - 1) > 1e-9",
        )
        == 0
    )
    assert one(
        wh,
        "SELECT COUNT(*) FROM (SELECT conversion_id, COUNT(DISTINCT attribution_model) AS m FROM attributions "
        "GROUP BY conversion_id) WHERE m = 3",
    ) == one(wh, "SELECT COUNT(*) FROM conversions")
    touches = wh.query(
        "SELECT MIN(n) AS low, MAX(n) AS high FROM (SELECT conversion_id, COUNT(*) AS n FROM attributions "
        "WHERE attribution_model = 'linear' GROUP BY conversion_id)"
    )[0]
    assert (touches["low"], touches["high"]) == (2, 3)
    channels = {r["c"] for r in wh.query("SELECT DISTINCT touchpoint_channel AS c FROM attributions")}
    assert channels == set(CHANNELS)


# The nine stories, each seen in week W against earlier weeks


def test_cust_12345_grows_steadily_and_beats_its_benchmarks(wh: EmbeddedWarehouse) -> None:
    assert revenue(wh, "CUST_12345", W) > 1.3 * revenue(wh, "CUST_12345", W.year_ago)
    assert revenue(wh, "CUST_12345", W) > 1.08 * revenue(wh, "CUST_12345", W.shift(-11))
    week = engagement(wh, "CUST_12345", W)
    assert week["score"] > benchmark(wh, "CUST_12345", "engagement_score")
    assert week["ctr"] > benchmark(wh, "CUST_12345", "click_through_rate")


def test_cust_23456_click_through_is_half_the_benchmark_while_opens_are_fine(wh: EmbeddedWarehouse) -> None:
    week = engagement(wh, "CUST_23456", W)
    assert week["ctr"] < 0.6 * benchmark(wh, "CUST_23456", "click_through_rate")
    assert week["open_rate"] > 0.9 * benchmark(wh, "CUST_23456", "open_rate")


def test_cust_34567_sms_collapses_in_the_last_two_weeks(wh: EmbeddedWarehouse) -> None:
    earlier = [W.shift(-k) for k in range(3, 11)]
    for channel, low, high in (("sms", 0.0, 0.3), ("email", 0.8, 1.25)):
        usual = sum(revenue(wh, "CUST_34567", week, channel) for week in earlier) / len(earlier)
        for week in (W, W.previous):
            assert low * usual <= revenue(wh, "CUST_34567", week, channel) < high * usual, (channel, week)
    sends = "SELECT SUM(sends) FROM historical_engagement WHERE customer_id = ? AND channel = ? AND activity_date >= ?"
    assert one(wh, sends, "CUST_34567", "sms", W.start) < 0.3 * one(wh, sends, "CUST_34567", "email", W.start)


def test_cust_45678_declines_into_churn_risk(wh: EmbeddedWarehouse) -> None:
    assert revenue(wh, "CUST_45678", W) < 0.8 * revenue(wh, "CUST_45678", W.shift(-11))
    bench = benchmark(wh, "CUST_45678", "engagement_score")
    assert engagement(wh, "CUST_45678", W)["score"] < bench - 4
    assert engagement(wh, "CUST_45678", W.shift(-11))["score"] > engagement(wh, "CUST_45678", W)["score"] + 5


def test_cust_56789_is_healthy_and_seasonal(wh: EmbeddedWarehouse) -> None:
    week = engagement(wh, "CUST_56789", W)
    assert week["open_rate"] > benchmark(wh, "CUST_56789", "open_rate")
    assert week["ctr"] > benchmark(wh, "CUST_56789", "click_through_rate")
    assert week["score"] > benchmark(wh, "CUST_56789", "engagement_score")
    monthly = [
        float(r["r"])
        for r in wh.query(
            "SELECT SUM(revenue) AS r FROM conversions WHERE customer_id = 'CUST_56789' "
            "AND conversion_date BETWEEN ? AND ? GROUP BY DATE_TRUNC('month', conversion_date)",
            [dt.date(2025, 11, 1), dt.date(2026, 10, 31)],
        )
    ]
    assert max(monthly) > 1.5 * min(monthly)


def test_cust_67890_opens_poorly_but_converts_well(wh: EmbeddedWarehouse) -> None:
    week = engagement(wh, "CUST_67890", W)
    assert week["open_rate"] < 0.7 * benchmark(wh, "CUST_67890", "open_rate")
    conversions = one(
        wh,
        "SELECT COUNT(*) FROM conversions WHERE customer_id = 'CUST_67890' AND conversion_date BETWEEN ? AND ?",
        W.start,
        W.end,
    )
    assert conversions / week["sends"] > benchmark(wh, "CUST_67890", "conversion_rate")


def test_cust_78901_is_small_stable_and_below_benchmark(wh: EmbeddedWarehouse) -> None:
    counts = {
        r["customer_id"]: r["n"]
        for r in wh.query(
            "SELECT customer_id, COUNT(*) AS n FROM conversions WHERE conversion_date BETWEEN ? AND ? "
            "GROUP BY customer_id",
            [W.start, W.end],
        )
    }
    assert min(counts, key=counts.__getitem__) == "CUST_78901"
    assert 0.8 < revenue(wh, "CUST_78901", W) / revenue(wh, "CUST_78901", W.shift(-11)) < 1.25
    assert engagement(wh, "CUST_78901", W)["score"] < benchmark(wh, "CUST_78901", "engagement_score") - 5


def test_cust_89012_spikes_on_one_campaign(wh: EmbeddedWarehouse) -> None:
    this_week, last_week = revenue(wh, "CUST_89012", W), revenue(wh, "CUST_89012", W.previous)
    assert this_week > 1.3 * last_week
    by_campaign = (
        "SELECT campaign, SUM(revenue) AS r FROM conversions WHERE customer_id = 'CUST_89012' "
        "AND conversion_date BETWEEN ? AND ? GROUP BY campaign"
    )
    now = {r["campaign"]: float(r["r"]) for r in wh.query(by_campaign, [W.start, W.end])}
    before = {r["campaign"]: float(r["r"]) for r in wh.query(by_campaign, [W.previous.start, W.previous.end])}
    new = [c for c in now if c not in before]
    assert len(new) == 1 and now[new[0]] > 0.7 * (this_week - last_week)
    assert now[new[0]] == max(now.values())


def test_cust_90123_attribution_models_disagree(wh: EmbeddedWarehouse) -> None:
    def top(model: str) -> str:
        rows = wh.query(
            "SELECT a.touchpoint_channel AS channel, SUM(a.credit) AS credit FROM attributions a "
            "JOIN conversions c ON c.conversion_id = a.conversion_id "
            "WHERE a.customer_id = 'CUST_90123' AND a.attribution_model = ? AND c.conversion_date BETWEEN ? AND ? "
            "GROUP BY a.touchpoint_channel ORDER BY credit DESC",
            [model, W.shift(-3).start, W.end],
        )
        return str(rows[0]["channel"])

    assert (top("first_touch"), top("last_touch")) == ("social", "email")


# Loading: determinism, reloads, scaling


CHECKSUMS = {
    "customers": "BITXOR_AGG(HASH(customer_id, customer_name, industry, segment, region))",
    "csm_assignments": "BITXOR_AGG(HASH(csm_id, csm_name, csm_email, region, timezone, customer_id))",
    "conversions": "BITXOR_AGG(HASH(conversion_id, customer_id, conversion_date, channel, campaign, revenue))",
    "attributions": "BITXOR_AGG(HASH(conversion_id, touchpoint_channel, attribution_model, credit))",
    "historical_engagement": "BITXOR_AGG(HASH(customer_id, activity_date, channel, sends, opens, clicks, "
    "engagement_score))",
    "industry_benchmarks": "BITXOR_AGG(HASH(industry, metric_name, benchmark_value, spread))",
    "case_studies": "BITXOR_AGG(HASH(case_study_id, title, industry, content))",
}


def checksums(wh: EmbeddedWarehouse) -> dict[str, tuple[object, ...]]:
    return {
        table: wh.fetch(f"SELECT COUNT(*), {expression} FROM {table}")[1][0]
        for table, expression in CHECKSUMS.items()
    }


def test_same_as_of_gives_identical_data_and_a_reload_replaces_everything(
    wh: EmbeddedWarehouse, empty_home: Path
) -> None:
    with EmbeddedWarehouse(empty_home) as other:
        load_demo(other, AS_OF + dt.timedelta(days=7))
        other.execute(
            "INSERT INTO weekly_reports (report_id, customer_id, report_week_start, report_week_end, "
            "generation_timestamp, status) VALUES ('r1', 'CUST_12345', '2026-11-09', '2026-11-15', "
            "'2026-11-16 08:00:00', 'complete')"
        )
        limit = other.native.execute("SELECT current_setting('memory_limit')").fetchone()
        load_demo(other, AS_OF)
        assert checksums(other) == checksums(wh)
        assert other.scalar("SELECT COUNT(*) FROM weekly_reports") == 0
        assert other.native.execute("SELECT current_setting('memory_limit')").fetchone() == limit


def test_customers_scale_with_a_csm_for_each(empty_home: Path) -> None:
    with EmbeddedWarehouse(empty_home) as wh:
        summary = load_demo(wh, AS_OF, customers=30)
        assert (summary.customers, summary.csms) == (30, 4 + 5)
        rows = wh.query(
            "SELECT c.customer_id, COUNT(a.csm_id) AS csms, MIN(a.csm_email) AS email FROM customers c "
            "LEFT JOIN csm_assignments a ON a.customer_id = c.customer_id GROUP BY c.customer_id"
        )
        assert len(rows) == 30 and all(r["csms"] == 1 for r in rows)
        assert {r["email"] for r in rows if r["customer_id"] == "CUST_100000"} == {"csm005@example.com"}
        assert wh.scalar("SELECT COUNT(DISTINCT customer_id) FROM historical_engagement") == 30
        daily = wh.scalar(
            "SELECT COUNT(*) / 730 FROM conversions WHERE customer_id = 'CUST_100000'",
        )
        assert 0.5 < float(daily) < 4


def test_fewer_than_nine_customers_is_refused(wh: EmbeddedWarehouse) -> None:
    with pytest.raises(ValueError, match="at least 9"):
        load_demo(wh, AS_OF, customers=5)
    assert wh.scalar("SELECT COUNT(*) FROM customers") == 9


def test_recommendations_over_the_demo_portfolio_show_judgement(wh: EmbeddedWarehouse) -> None:
    """The nine stories' recommendations: no study in every report, no duplicate subject,
    no impact above the bound, and the spike campaign called new rather than extended."""
    ids = [r["customer_id"] for r in wh.query("SELECT customer_id FROM customers ORDER BY customer_id")]
    snapshot = Analytics(wh).snapshot(W, ids)
    index = CaseStudyIndex.load(wh)
    studies: Counter[str] = Counter()
    for customer in ids:
        analysis = analyse(snapshot.customers[customer])
        recs = recommend(analysis, index)
        studies.update(r.case_study.study.case_study_id for r in recs if r.case_study)
        subjects = [s for r in recs for s in r.subjects]
        assert len(subjects) == len(set(subjects)), (customer, subjects)
        bound = impact_bound(analysis)
        for r in recs:
            figures = re.findall(r"about \$([\d,]+) a week", r.impact)
            assert all(float(f.replace(",", "")) <= bound + 1 for f in figures), (customer, r.impact)
            assert not re.search(
                r"(Extend|Double down on|Replicate what made) '(Limited|Flash)", r.title + r.action
            )
    assert studies and max(studies.values()) < len(ids), studies


def test_the_seasonal_resort_gets_a_seasonal_plan_not_a_churn_review(wh: EmbeddedWarehouse) -> None:
    """CUST_56789's 4-week fall happened in the same weeks last year too: the verdict says so,
    and the recommendation plans for the season with the resort-peak study, not churn with telehealth."""
    analysis = analyse(Analytics(wh).snapshot(W, ["CUST_56789"]).customers["CUST_56789"])
    assert "seasonal" in analysis.health.line
    recs = recommend(analysis, CaseStudyIndex.load(wh))
    titles = [r.title for r in recs]
    assert not any("churn" in t.lower() for t in titles), titles
    seasonal = next(r for r in recs if r.key == "seasonal_dip")
    assert "the same weeks last year" in seasonal.finding
    assert seasonal.case_study is not None
    assert (
        seasonal.case_study.study.title
        == "Riding a resort group's summer peak without starving the shoulder season"
    )
