"""Weeks the data covers only in part, and customers without data for the week (issue 13).

The demo data can start on a Saturday: its first week has 2 days. That week is stored
partial (never `complete`) and the week after it is not compared with it as if it were whole.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from bot.channels.slack_dm.render import slack_parent, slack_sections
from bot.slack.rollup import rollup_messages
from core import ReportEngine, Requester
from core.errors import ReportNotFound
from core.kinds.ebr.analysis import analyse
from core.kinds.ebr.analytics import CustomerData
from core.kinds.ebr.health import HEALTHY, account_health
from core.models import NO_DATA, PARTIAL
from core.rollup import collect_rollup, totals
from core.templating import render
from core.weeks import Week
from tests.conftest import REPORT_WEEK

FIRST_DAY = "2024-11-23"  # a Saturday: the demo rows before it are deleted
FIRST_WEEK, SECOND_WEEK = "2024-11-18", "2024-11-25"


@pytest.fixture
def saturday_start(engine: ReportEngine) -> ReportEngine:
    """The demo data starting on a Saturday, as a real load can."""
    for table, column in (("historical_engagement", "activity_date"), ("conversions", "conversion_date")):
        engine.warehouse.execute(
            f"DELETE FROM CUSTOMER_SUCCESS_DATA.ANALYTICS.{table} WHERE {column} < CAST(? AS DATE)",
            [FIRST_DAY],
        )
    return engine


def _generate(engine: ReportEngine, week_text: str, customer_id: str = "CUST_12345"):  # type: ignore[no-untyped-def]
    week = engine.week(week_text)
    summary = engine.generate(engine.targets(customer_id=customer_id), week)
    return summary, engine.store.load(customer_id, week)


def test_a_week_with_two_days_of_data_is_stored_partial(saturday_start: ReportEngine) -> None:
    summary, report = _generate(saturday_start, FIRST_WEEK)
    assert report.status == PARTIAL
    assert report.metadata["partial_data"] == {"days": 2, "of": 7}
    assert "2 of 7 days of data" in report.full_report
    assert summary.failures == ["CUST_12345: partial, the week has 2 of 7 days of data"]
    assert "2 of 7 days of data" in slack_parent(report).text


def test_the_week_after_a_partial_week_is_not_compared_with_it(saturday_start: ReportEngine) -> None:
    _, report = _generate(saturday_start, SECOND_WEEK)
    assert report.headline is not None
    assert report.headline.revenue_wow is None and report.headline.conversions_wow is None
    text, parent = report.full_report, slack_parent(report).text
    # Before the fix: "▲ 289.4% WoW" on revenue, "▲ 369.3% on last week" for a campaign.
    assert not re.search(r"▲ \d{3}", text), text
    assert not re.search(r"▲ \d{3}", parent), parent
    assert "the week before has 2 of 7 days of data" in text.lower()
    assert "2 of 7 days of data" in parent
    titles = re.findall(r"^\*\*\d\. (.+)\*\*$", text, flags=re.MULTILINE)
    campaigns = [re.search(r"'(.+?)'", t).group(1) for t in titles if "'" in t]  # type: ignore[union-attr]
    assert len(campaigns) == len(set(campaigns)), titles


def test_a_partial_previous_week_gives_no_growth_signal() -> None:
    d = CustomerData("CUST_1", "Test Co", "Retail", None, None)
    d.week(-1).add_conversions(5, 300.0)  # 2 days of a week
    d.week(0).add_conversions(20, 1000.0)
    d.short_weeks = {-1: 2}
    a = analyse(d)
    assert a.metrics["revenue"].wow is None
    health = account_health(d)
    assert health.label == HEALTHY
    assert health.top == ["no week-over-week comparison: the week before has 2 of 7 days of data"]
    perf = render("ebr/sections/performance.md.j2", a=a, recs=[], week=Week(REPORT_WEEK), c=d)
    assert "not compared week over week (the week before has 2 of 7 days of data)" in perf


@pytest.fixture
def silent_week(engine: ReportEngine) -> ReportEngine:
    """CUST_78901 recorded nothing in the report week (a broken load, a paused account)."""
    for table, column in (("historical_engagement", "activity_date"), ("conversions", "conversion_date")):
        engine.warehouse.execute(
            f"DELETE FROM CUSTOMER_SUCCESS_DATA.ANALYTICS.{table} WHERE customer_id = 'CUST_78901' "
            f"AND {column} BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)",
            [REPORT_WEEK, REPORT_WEEK + dt.timedelta(days=6)],
        )
    return engine


def test_no_data_for_the_week_is_its_own_status_with_a_short_message(silent_week: ReportEngine) -> None:
    engine = silent_week
    week = engine.week(str(REPORT_WEEK))
    summary = engine.generate(engine.targets("CSM003"), week)
    report = engine.store.load("CUST_78901", week)
    assert report.status == NO_DATA
    assert summary.reports_no_data == 1 and summary.reports_generated == 1 and not summary.failures
    for text in (report.full_report, slack_parent(report).text):
        assert "No data this week" in text and "$0" not in text
        assert len(text) < 600, text
    assert slack_sections(report) == []  # the CSM is told once, in the parent message
    assert engine.store.statuses(["CUST_78901"], week) == {"CUST_78901": NO_DATA}
    team = collect_rollup(engine.warehouse, week)
    assert totals(team)["no_data"] == 1
    assert "_no data this week_" in "\n".join(m.text for m in rollup_messages(team, week))
    with pytest.raises(ReportNotFound, match="no data"):
        engine.ask(Requester(csm_id="CSM003"), "CUST_78901", "What was revenue?")


def test_a_refresh_that_finds_no_data_keeps_the_complete_report_and_says_why(engine: ReportEngine) -> None:
    week = engine.week(str(REPORT_WEEK))
    engine.generate(engine.targets(customer_id="CUST_78901"), week)
    for table, column in (("historical_engagement", "activity_date"), ("conversions", "conversion_date")):
        engine.warehouse.execute(
            f"DELETE FROM CUSTOMER_SUCCESS_DATA.ANALYTICS.{table} WHERE customer_id = 'CUST_78901' "
            f"AND {column} BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)",
            [week.start, week.end],
        )
    summary = engine.generate(engine.targets(customer_id="CUST_78901"), week, refresh=True)
    assert summary.reports_kept == 1
    assert summary.kept[0].endswith(
        "the refresh was no_data: no engagement or conversions were recorded in the week"
    )
    assert engine.store.statuses(["CUST_78901"], week) == {"CUST_78901": "complete"}
