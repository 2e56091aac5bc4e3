"""Account health on the demo stories: the verdict and its reasons against independent SQL.

The boundaries of every threshold are tested in tests/test_health_rules.py; here the named
demo customers' verdicts are checked against figures computed by SQL written for the test.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.channels.slack_dm.render import slack_parent
from bot.mrkdwn import mrkdwn
from bot.slack.home import _customer_line
from bot.slack.rollup import rollup_messages
from core import Assignment, ReportEngine, Requester
from core.agent.local.intent import parse
from core.format import change
from core.kinds.ebr.analysis import Analysis, analyse
from core.kinds.ebr.analytics import Analytics
from core.rollup import collect_rollup, latest_reports
from core.warehouse.embedded import EmbeddedWarehouse
from core.weeks import Week
from tests.conftest import REPORT_WEEK

W = Week(REPORT_WEEK)
DEMO = ["CUST_12345", "CUST_23456", "CUST_34567", "CUST_45678", "CUST_56789"]
DEMO += ["CUST_67890", "CUST_78901", "CUST_89012", "CUST_90123"]


@pytest.fixture(scope="module")
def wh(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedWarehouse]:
    home = tmp_path_factory.mktemp("health") / "home"
    shutil.copytree(demo_template, home)
    with EmbeddedWarehouse(home) as warehouse:
        yield warehouse


@pytest.fixture(scope="module")
def analyses(wh: EmbeddedWarehouse) -> dict[str, Analysis]:
    snapshot = Analytics(wh).snapshot(W, DEMO)
    return {c: analyse(snapshot.customers[c]) for c in DEMO}


def revenue(wh: EmbeddedWarehouse, customer: str, first: Week, last: Week, channel: str = "") -> float:
    sql = "SELECT SUM(revenue) FROM conversions WHERE customer_id = ? AND conversion_date BETWEEN ? AND ?"
    params: list[object] = [customer, first.start, last.end]
    if channel:
        sql += " AND channel = ?"
        params.append(channel)
    return float(wh.scalar(sql, params) or 0)


def test_brightline_with_its_sms_collapse_and_falling_revenue_is_not_healthy(
    wh: EmbeddedWarehouse, analyses: dict[str, Analysis]
) -> None:
    health = analyses["CUST_34567"].health
    sms_now = revenue(wh, "CUST_34567", W, W, "sms")
    sms_usual = revenue(wh, "CUST_34567", W.shift(-9), W.shift(-2), "sms") / 8
    recent = revenue(wh, "CUST_34567", W.shift(-3), W)
    before = revenue(wh, "CUST_34567", W.shift(-7), W.shift(-4))
    assert health.label == "At risk"
    assert f"SMS {change(sms_now / sms_usual - 1)} vs its 8-week average" in health.line
    assert f"revenue {change(recent / before - 1)} over the last 4 weeks vs the 4 before" in health.line
    assert health.line.startswith("At risk: ")


def test_meridian_is_at_risk_for_its_revenue_not_merely_its_engagement(
    wh: EmbeddedWarehouse, analyses: dict[str, Analysis]
) -> None:
    health = analyses["CUST_45678"].health
    yoy = revenue(wh, "CUST_45678", W, W) / revenue(wh, "CUST_45678", W.shift(-52), W.shift(-52)) - 1
    assert yoy < -0.25
    assert health.label == "At risk"
    assert health.top[0] == f"revenue {change(yoy)} YoY"


def test_ironridge_growing_with_a_low_engagement_score_is_watch_not_at_risk(
    wh: EmbeddedWarehouse, analyses: dict[str, Analysis]
) -> None:
    health = analyses["CUST_78901"].health
    score = float(
        wh.scalar(
            "SELECT AVG(engagement_score) FROM historical_engagement WHERE customer_id = ? "
            "AND activity_date BETWEEN ? AND ?",
            ["CUST_78901", W.start, W.end],
        )
    )
    bench = float(
        wh.scalar(
            "SELECT benchmark_value FROM industry_benchmarks WHERE industry = 'Manufacturing' "
            "AND metric_name = 'engagement_score'"
        )
    )
    assert revenue(wh, "CUST_78901", W, W) > revenue(wh, "CUST_78901", W.previous, W.previous)
    assert health.label == "Watch"
    assert health.line == (
        f"Watch: engagement score {score:.1f} vs the benchmark {bench:.1f} ({change(score / bench - 1)})"
    )


def test_the_same_verdict_everywhere(engine: ReportEngine, analyses: dict[str, Analysis]) -> None:
    """Parent message, report, Business Value section, rollup, App Home and follow-ups all show
    the one verdict of core.kinds.ebr.health with its reasons."""
    engine.generate(engine.targets(), W)
    team = collect_rollup(engine.warehouse, W)
    rollup = "\n".join(m.text for m in rollup_messages(team, W))
    latest = latest_reports(engine.warehouse, DEMO, W, 4)
    admin = Requester(email="boss@example.com", is_admin=True)
    for customer_id in DEMO:
        health = analyses[customer_id].health
        report = engine.store.load(customer_id, W)
        assert report.headline is not None
        assert (report.headline.health, report.headline.health_reasons) == (health.label, health.because)
        assert json.loads(json.dumps(report.metadata, allow_nan=False))["headline"]["health"] == health.label
        parent = slack_parent(report).text.splitlines()
        assert f"• *Account health:* *{health.label}*: {mrkdwn(health.because)}" in parent
        assert f"**Account health: {health.label}**: {health.because}" in report.full_report.splitlines()
        [value] = [s for s in report.sections if s.key == "business_value"]
        assert f"**Account health: {health.label}**: {health.because}." in (value.content or "")
        assert "Engagement health" not in (value.content or "")
        assert f"({customer_id}) · " in rollup and mrkdwn(health.line) in rollup
        home = _customer_line(
            Assignment("CSM001", "S", "s@x", None, None, customer_id, "C"), latest[customer_id]
        )
        assert f"Account health: *{health.line}*" in home
        answer = engine.ask(admin, customer_id, "Is this account at risk of churning?").answer.text
        assert f"is {health.label}** (week of {W.label()}): {health.because}." in answer


def test_why_is_health_watch_answers_with_the_verdict_and_its_reasons(
    engine: ReportEngine, analyses: dict[str, Analysis]
) -> None:
    engine.generate(engine.targets(customer_id="CUST_78901"), W)
    engine.generate(engine.targets(customer_id="CUST_45678"), W)
    admin = Requester(email="boss@example.com", is_admin=True)
    watch = engine.ask(admin, "CUST_78901", "Why is health Watch?").answer.text
    ironridge = analyses["CUST_78901"].health
    assert watch.startswith(f"**Ironridge Components is Watch** (week of {W.label()}): {ironridge.because}.")
    assert f"- Watch: {ironridge.top[0]}" in watch
    assert "Revenue by channel" not in watch and "_Source: SQL over conversions" in watch
    meridian = engine.ask(admin, "CUST_45678", "why is health Watch?").answer.text
    assert meridian.startswith("**Meridian Health Partners is At risk, not Watch**")
    assert f"- At risk: {analyses['CUST_45678'].health.top[0]}" in meridian


@pytest.mark.parametrize(
    ("question", "claimed"),
    [
        ("Is this account at risk?", ""),
        ("Is this customer at risk of churning?", ""),
        ("what's the churn risk?", ""),
        ("Is the account healthy?", ""),
        ("How is the account health?", ""),
        ("why is health Watch?", "watch"),
        ("Why is this account at risk?", "at risk"),
    ],
)
def test_health_questions_are_understood(question: str, claimed: str) -> None:
    intent = parse(question, "CUST_1")
    assert (intent.kind, intent.topic) == ("health", claimed)


@pytest.mark.parametrize(
    "question", ["Any case studies about churn?", "How did Meridian Health Partners do last week?"]
)
def test_other_questions_naming_health_or_churn_keep_their_kind(question: str) -> None:
    assert parse(question, "CUST_1").kind != "health"
