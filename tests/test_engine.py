"""Report generation on the embedded warehouse with the local analyst and the demo data."""

from __future__ import annotations

import itertools

import pytest

from core import ReportEngine
from core.agent.local.analyst import LocalAnalyst
from core.agent.local.threads import IdSequence
from core.agent.testing import ScriptedAgent
from core.errors import AgentUnavailable, NotAuthorized
from core.format import change, money, number, pct
from core.warehouse.base import ANALYTICS
from core.weeks import Week
from tests.conftest import REPORT_WEEK

WEEK = Week(REPORT_WEEK)
CUSTOMERS = ["CUST_12345", "CUST_23456", "CUST_34567", "CUST_45678", "CUST_56789",
             "CUST_67890", "CUST_78901", "CUST_89012", "CUST_90123"]  # fmt: skip


def generate_all(engine: ReportEngine, refresh: bool = False):
    return engine.generate(engine.targets(), engine.week(None), refresh=refresh)


def test_default_week_is_the_last_complete_one(engine: ReportEngine) -> None:
    assert engine.week(None) == WEEK


def test_generate_all_stores_nine_complete_reports_with_three_sections(engine: ReportEngine) -> None:
    summary = generate_all(engine)
    assert (summary.status, summary.reports_generated, summary.reports_failed) == ("completed", 9, 0)
    rows = engine.warehouse.query(
        "SELECT r.customer_id, r.status, COUNT(s.section_key) AS sections, MIN(s.status) AS section_status "
        "FROM weekly_reports r JOIN report_sections s ON s.report_id = r.report_id "
        "WHERE r.report_week_start = ? GROUP BY 1, 2 ORDER BY 1",
        [WEEK.start],
    )
    assert [r["customer_id"] for r in rows] == CUSTOMERS
    assert all(
        r["status"] == "complete" and r["sections"] == 3 and r["section_status"] == "complete" for r in rows
    )


def test_second_run_writes_no_duplicates_and_refresh_replaces_in_place(engine: ReportEngine) -> None:
    generate_all(engine)
    first = {
        r["customer_id"]: r["agent_thread_id"] for r in engine.warehouse.query("SELECT * FROM weekly_reports")
    }
    again = generate_all(engine)
    assert (again.reports_generated, again.reports_reused) == (0, 9)
    refreshed = generate_all(engine, refresh=True)
    assert refreshed.reports_generated == 9
    counts = engine.warehouse.query(
        "SELECT (SELECT COUNT(*) FROM weekly_reports) AS reports, (SELECT COUNT(*) FROM report_sections) AS sections"
    )[0]
    assert (counts["reports"], counts["sections"]) == (9, 27)
    after = {
        r["customer_id"]: r["agent_thread_id"] for r in engine.warehouse.query("SELECT * FROM weekly_reports")
    }
    assert all(after[c] != first[c] for c in CUSTOMERS)


def independent_week(engine: ReportEngine, customer_id: str, week: Week) -> dict[str, float]:
    """The Performance figures straight from the source tables, written independently."""
    conv = engine.warehouse.query(
        "SELECT COUNT(*) AS n, SUM(revenue) AS revenue FROM conversions "
        "WHERE customer_id = ? AND conversion_date >= ? AND conversion_date <= ?",
        [customer_id, week.start, week.end],
    )[0]
    eng = engine.warehouse.query(
        "SELECT SUM(opens) / SUM(sends) AS open_rate, SUM(clicks) / SUM(sends) AS ctr, AVG(engagement_score) AS score "
        "FROM historical_engagement WHERE customer_id = ? AND activity_date >= ? AND activity_date <= ?",
        [customer_id, week.start, week.end],
    )[0]
    revenue = float(conv["revenue"])
    return {
        "conversions": float(conv["n"]), "revenue": revenue, "avg": revenue / float(conv["n"]),
        "open_rate": float(eng["open_rate"]), "ctr": float(eng["ctr"]), "score": float(eng["score"]),
    }  # fmt: skip


@pytest.mark.parametrize("customer_id", CUSTOMERS)
def test_performance_section_figures_match_independent_sql(engine: ReportEngine, customer_id: str) -> None:
    generate_all(engine)
    report = engine.store.load(customer_id, WEEK)
    text = report.sections[0].content or ""
    now, before, year = (
        independent_week(engine, customer_id, w) for w in (WEEK, WEEK.previous, WEEK.year_ago)
    )
    expected = [
        f"**Conversions:** {number(now['conversions'])}:", f"**Revenue:** {money(now['revenue'])}:",
        f"**Average conversion value:** {money(now['avg'])}:", f"**Open rate:** {pct(now['open_rate'])}:",
        f"**Click-through rate:** {pct(now['ctr'])}:", f"**Engagement score:** {number(now['score'], 1)}:",
        f"{change(now['revenue'] / before['revenue'] - 1)} week over week (from {money(before['revenue'])})",
        f"{change(now['revenue'] / year['revenue'] - 1)} year over year (from {money(year['revenue'])})",
        f"{change(now['ctr'] / before['ctr'] - 1)} week over week (from {pct(before['ctr'])})",
    ]  # fmt: skip
    for fragment in expected:
        assert fragment in text, fragment
    benchmark = engine.warehouse.scalar(
        "SELECT b.benchmark_value FROM industry_benchmarks b JOIN customers c ON c.industry = b.industry "
        "WHERE c.customer_id = ? AND b.metric_name = 'click_through_rate'",
        [customer_id],
    )
    assert f"benchmark {pct(float(benchmark))}" in text
    assert report.headline is not None
    assert report.headline.revenue == pytest.approx(now["revenue"])
    assert report.headline.click_through_rate == pytest.approx(now["ctr"])


def test_stories_show_in_the_reports(engine: ReportEngine) -> None:
    generate_all(engine)
    recs = {c: engine.store.load(c, WEEK).sections[2].content or "" for c in CUSTOMERS}
    assert "Recover the sms channel" in recs["CUST_34567"]
    assert "Lift click-through to the industry benchmark" in recs["CUST_23456"]
    assert "multi-touch attribution" in recs["CUST_90123"]
    assert "Turn sustained growth into an expansion conversation" in recs["CUST_12345"]
    for text in recs.values():
        assert 3 <= text.count("_Expected impact:_") <= 5
        assert "_Case study:_" in text


def test_sections_chain_on_one_thread_like_cortex(engine: ReportEngine) -> None:
    engine.generate(engine.targets("CSM001", "CUST_12345"), WEEK)
    report = engine.store.load("CUST_12345", WEEK)
    messages = engine.warehouse.query(
        "SELECT message_id, parent_message_id, role FROM agent_messages WHERE thread_id = ? ORDER BY message_id",
        [report.agent_thread_id],
    )
    assert [m["role"] for m in messages] == ["user", "assistant"] * 3
    assert int(messages[0]["parent_message_id"]) == 0
    for previous, current in itertools.pairwise(messages):
        assert current["parent_message_id"] == previous["message_id"]
    assert report.last_message_id == int(messages[-1]["message_id"])
    assert [s.agent_message_id for s in report.sections] == [int(m["message_id"]) for m in messages[1::2]]


def test_message_ids_increase_within_a_millisecond_and_past_its_sequence() -> None:
    """Ids order messages: 3,000 in one frozen millisecond (past the 1,024 a millisecond
    holds) still increase, and so do ids after the clock steps back."""
    now = [1_763_000_000.0]
    ids = IdSequence(clock=lambda: now[0])
    issued = [ids.next() for _ in range(3_000)]
    now[0] -= 5.0
    issued += [ids.next() for _ in range(10)]
    assert all(a < b for a, b in itertools.pairwise(issued))
    assert issued[-1] < 2**63


def test_message_ids_of_two_processes_differ() -> None:
    now = 1_763_000_000.0
    first, second = IdSequence(clock=lambda: now), IdSequence(clock=lambda: now)
    while second._process == first._process:
        second.new_process()
    assert {first.next() for _ in range(2_000)}.isdisjoint(second.next() for _ in range(2_000))


def test_a_failed_section_yields_a_stored_partial_report_naming_it(engine: ReportEngine) -> None:
    # The local analyst, except that one section's turn always fails.
    failing = AgentUnavailable("the agent did not answer (HTTP 503 after 4 attempts)")
    engine.agent = ScriptedAgent({"business_value": failing}, otherwise=LocalAnalyst(engine.warehouse))
    summary = engine.generate(engine.targets("CSM001", "CUST_12345"), WEEK)
    assert (summary.reports_generated, summary.reports_partial) == (1, 1)
    report = engine.store.load("CUST_12345", WEEK)
    assert report.status == "partial"
    assert [s.status for s in report.sections] == ["complete", "failed", "complete"]
    assert "HTTP 503" in (report.sections[1].error or "")
    assert "Business Value Analysis could not be generated" in report.full_report
    # the next run regenerates a partial report
    engine.agent = LocalAnalyst(engine.warehouse)
    assert engine.generate(engine.targets("CSM001", "CUST_12345"), WEEK).reports_generated == 1
    assert engine.store.load("CUST_12345", WEEK).status == "complete"


def test_targets_enforce_assignment(engine: ReportEngine) -> None:
    with pytest.raises(NotAuthorized, match="CUST_45678 is not assigned to CSM001"):
        engine.targets("CSM001", "CUST_45678")
    assert [t.customer_id for t in engine.targets("CSM002")] == ["CUST_45678", "CUST_56789"]


def test_runs_are_recorded_with_their_summary(engine: ReportEngine) -> None:
    summary = generate_all(engine)
    runs = engine.store.runs()
    assert runs[0]["run_id"] == summary.run_id
    assert (runs[0]["status"], runs[0]["reports_generated"], runs[0]["reports_failed"]) == ("completed", 9, 0)


def test_a_save_that_died_before_its_sections_is_regenerated_not_reused(engine: ReportEngine) -> None:
    """A save MERGEs the report row first and writes its sections after: a process killed in
    between leaves a complete row with no sections of its generation. The next run must not
    reuse (and deliver) it as complete."""
    generate_all(engine)
    engine.warehouse.execute("DELETE FROM report_sections WHERE report_id = 'CUST_12345-20261109'")
    again = generate_all(engine)
    assert (again.reports_generated, again.reports_reused) == (1, 8)
    report = engine.store.load("CUST_12345", WEEK)
    assert report.status == "complete" and [s.status for s in report.sections] == ["complete"] * 3


def test_words_shown_with_an_answer_that_name_another_customer_are_left_out(engine: ReportEngine) -> None:
    titles = [
        "Winning back lapsed buyers",
        "How Northwind Outfitters doubled its click-through",  # CUST_12345's own name
        "Why CUST_23456 moved to SMS",  # another customer's id
    ]
    assert engine.naming_no_other("CUST_12345", titles) == titles[:2]
    other = engine.warehouse.scalar(
        f"SELECT customer_name FROM {ANALYTICS}.customers WHERE customer_id = 'CUST_23456'"
    )
    assert engine.naming_no_other("CUST_12345", [f"The {other} story"]) == []
