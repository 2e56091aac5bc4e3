"""'What matters this week' (issue 13): the verdict with its reasons and at most three talking
points for the next call, each resting on a figure the engine queried, from one function
(core.recommendations.what_matters), at the top of the report and in the parent message."""

from __future__ import annotations

import re

import pytest

from bot.channels.slack_dm.render import slack_parent
from bot.mrkdwn import mrkdwn
from core import ReportEngine
from core.kinds.ebr.analysis import analyse
from core.kinds.ebr.analytics import Benchmark, CustomerData
from core.kinds.ebr.recommendations import TALKING_POINTS, what_matters
from tests.conftest import REPORT_WEEK

FIGURE = re.compile(r"\$[\d,.]+|\d[\d,]*\.?\d*%|\d+\.\d+")


@pytest.fixture
def reports(engine: ReportEngine):  # type: ignore[no-untyped-def]
    week = engine.week(str(REPORT_WEEK))
    engine.generate(engine.targets(), week)
    snapshot = engine.kind.facts(engine.warehouse, week, [t.customer_id for t in engine.targets()])
    return [(engine.store.load(c, week), snapshot.customers[c]) for c in sorted(snapshot.customers)]


def test_every_report_opens_with_what_matters_from_the_one_function(reports) -> None:  # type: ignore[no-untyped-def]
    for report, data in reports:
        briefing = what_matters(analyse(data))
        assert report.headline is not None
        assert report.headline.talking_points == list(briefing.points)
        assert 1 <= len(briefing.points) <= TALKING_POINTS, report.customer_id
        text = report.full_report
        top = text.index("## What matters this week")
        assert top < text.index("## 1. ")
        assert briefing.verdict.split(": ", 1)[1] in text[top : text.index("## 1. ")]
        parent = slack_parent(report).text
        assert "*What matters this week*" in parent
        sections = "\n".join(s.content or "" for s in report.sections)
        for n, point in enumerate(briefing.points, 1):
            assert f"{n}. {point}" in text
            assert f"{n}. {mrkdwn(point)}" in parent
            figures = FIGURE.findall(point)
            assert figures, point  # tied to a figure...
            for figure in figures:  # ...that the report's own sections show (never invented)
                assert figure in sections, (report.customer_id, figure, point)


def test_a_channel_collapse_is_the_first_thing_to_raise(reports) -> None:  # type: ignore[no-untyped-def]
    report, data = next((r, d) for r, d in reports if r.customer_id == "CUST_34567")
    health = analyse(data).health
    sms = next(r for r in health.reasons if r.topic == "channel:sms")
    assert report.headline is not None
    first = report.headline.talking_points[0]
    assert first.startswith(sms.text) and "SMS" in first


def test_a_healthy_account_opens_with_its_figures_and_a_partial_week_has_no_points() -> None:
    d = CustomerData("CUST_1", "Test Co", "Retail", None, None)
    d.benchmarks["engagement_score"] = Benchmark(60.0, None)
    for k in range(-11, 1):
        d.week(k).add_engagement(1000, 200, 20, 63.0 * 7, 7)
        d.week(k).add_conversions(10, 1000.0 + 10 * (k + 11))
    points = what_matters(analyse(d)).points
    assert points[0].startswith("Where the account stands: revenue ▲ 0.9% WoW")
    d.short_weeks = {0: 3}
    assert what_matters(analyse(d)).points == ()
