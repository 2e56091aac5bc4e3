"""Follow-up questions a CSM asks in their own words: calendar periods, comparisons, filters,
ratios, health, talking points, other languages.

Same dataset as tests/test_followup.py (report week Nov 09 – Nov 15, 2026; daily rows for
15 weeks up to it and two weeks a year earlier). Every expected figure comes from SQL written
here over the exact dates the question names, not from the code under test.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.agent.local.followup import FollowupAnswerer
from core.format import change, money, number
from core.kinds.ebr.search import CaseStudyIndex
from core.warehouse.embedded import EmbeddedWarehouse
from tests.test_followup import ACME, CONTEXT, WEEK, T, followup_warehouse

D = dt.date


@pytest.fixture(scope="module")
def warehouse(
    followup_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EmbeddedWarehouse]:
    with followup_warehouse(followup_template, tmp_path_factory) as wh:
        yield wh


@pytest.fixture(scope="module")
def ask(warehouse: EmbeddedWarehouse):
    answerer = FollowupAnswerer(warehouse, CaseStudyIndex.load(warehouse))
    return lambda question, context=CONTEXT: answerer.answer(question, context)


def span_sum(
    wh, expression: str, table: str, start: dt.date, end: dt.date, extra: str = "", *params
) -> float:
    """An independent figure: `expression` over ACME's rows of `table` from `start` to `end`."""
    day = "conversion_date" if table == "conversions" else "activity_date"
    sql = f"SELECT {expression} FROM {T}{table} WHERE customer_id = ? AND {day} BETWEEN ? AND ? {extra}"
    return float(wh.scalar(sql, [ACME, start, end, *params]) or 0)


def revenue(wh, start: dt.date, end: dt.date) -> float:
    return span_sum(wh, "SUM(revenue)", "conversions", start, end)


def test_a_named_month_is_never_answered_for_the_report_week(ask, warehouse) -> None:
    text = ask("How did we do in October?").text
    assert WEEK.label() not in text
    assert money(revenue(warehouse, D(2026, 10, 1), D(2026, 10, 31))) in text
    assert "Oct 01 – Oct 31, 2026" in text


@pytest.mark.parametrize(
    "question",
    [
        "How did we do over the holidays?",
        "revenue during Black Friday",
        "what was revenue in the fiscal year?",
        "conversions in spring",
        "revenue in Q5",
        "revenue in October 2031",
    ],
)
def test_a_period_it_cannot_resolve_is_refused_with_what_it_understood(ask, question: str) -> None:
    reply = ask(question)
    assert reply.sql == []
    assert WEEK.label() not in reply.text and "$" not in reply.text
    assert reply.text.startswith("I can't answer for")
    assert "“" in reply.text  # the closest questions it can answer


def test_what_happened_to_sms_shows_its_collapse_against_its_own_8_week_average(ask, warehouse) -> None:
    text = ask("What happened to SMS?").text
    sms = "AND channel = 'sms'"
    now = span_sum(warehouse, "SUM(revenue)", "conversions", WEEK.start, WEEK.end, sms)
    baseline = (
        span_sum(warehouse, "SUM(revenue)", "conversions", WEEK.shift(-9).start, WEEK.shift(-2).end, sms) / 8
    )
    assert text.startswith(f"**sms revenue was {money(now)}** in the week of {WEEK.label()}")
    assert f"{change(now / baseline - 1)} vs its 8-week average of {money(baseline)}" in text


def test_a_named_campaign_is_matched_from_the_customers_own_campaigns(ask, warehouse) -> None:
    reply = ask("How did the Spring Sale campaign do?")
    spring = "AND campaign = ?"
    now = span_sum(warehouse, "SUM(revenue)", "conversions", WEEK.start, WEEK.end, spring, "Spring Sale")
    count = span_sum(warehouse, "COUNT(*)", "conversions", WEEK.start, WEEK.end, spring, "Spring Sale")
    assert reply.text.startswith(f"**Spring Sale earned {money(now)}** from {number(count)} conversions")
    assert all("Spring" not in s for s in reply.sql)  # the name is a bound parameter
    unknown = ask("how did the Holiday Gift Guide campaign do?").text
    assert unknown.startswith("Acme Outfitters has no campaign named “Holiday Gift Guide”")
    assert "Spring Sale" in unknown and "$" not in unknown


@pytest.mark.parametrize(
    "question",
    ["summarise in 3 bullets", "talking points?", "What should I tell the customer on Thursday's call?"],
)
def test_talking_points_are_three_points_each_with_a_figure(ask, question: str) -> None:
    text = ask(question).text
    points = [line for line in text.splitlines() if re.match(r"\d\. ", line)]
    assert len(points) == 3
    assert all(re.search(r"\d", p) for p in points)
    assert "Thursday" not in text or "week of" in text


@pytest.mark.parametrize(
    ("question", "expression", "table_sql"),
    [
        ("what was revenue per send last week?", "(SELECT SUM(revenue) FROM {T}conversions WHERE customer_id = ? "
         "AND conversion_date BETWEEN ? AND ?) / (SELECT SUM(sends) FROM {T}historical_engagement WHERE "
         "customer_id = ? AND activity_date BETWEEN ? AND ?)", True),
        ("revenue per conversion", "(SELECT SUM(revenue) / COUNT(*) FROM {T}conversions WHERE customer_id = ? "
         "AND conversion_date BETWEEN ? AND ?)", False),
    ],
)  # fmt: skip
def test_ratios_a_csm_uses(ask, warehouse, question: str, expression: str, table_sql: bool) -> None:
    params = [ACME, WEEK.start, WEEK.end] * (2 if table_sql else 1)
    expected = float(warehouse.scalar("SELECT " + expression.format(T=T), params))
    assert f"was {money(expected)}**" in ask(question).text


@pytest.mark.parametrize(
    "question",
    [
        "How did we do in October?", "compare October to September", "revenue 2026-11-01..2026-11-15",
        "How did the Spring Sale campaign do?", "why did revenue drop over the last 4 weeks?",
    ],
)  # fmt: skip
def test_periods_and_names_reach_sql_only_as_bound_parameters(ask, question: str) -> None:
    reply = ask(question)
    assert reply.sql
    for statement in reply.sql:
        assert ACME not in statement and "2026" not in statement and "Spring" not in statement
        assert "?" in statement


def test_every_rule_of_the_parser_is_reached() -> None:
    from core.agent.local.intent import RULES, parse

    kinds = {parse(q, ACME).kind for q in (
        "revenue for CUST_200", "¿Cuáles fueron los ingresos?", "recommendation 2", "case studies about churn",
        "how did the Winback campaign do?", "revenue over the holidays", "talking points", "what should we do?",
        "is this account at risk?", "why is CTR below the benchmark?", "compare this week to the previous week",
        "what happened to SMS?", "why did revenue drop?", "revenue in October", "revenue vs benchmark",
        "revenue by channel", "open rate", "how are we doing?", "hello", "was it at risk in October?",
    )}  # fmt: skip
    assert len(RULES) == 20
    assert kinds == {
        "other_customer", "other_language", "recommendation", "case_studies", "campaign", "unresolved_period",
        "talking_points", "health", "health_other_period", "benchmark", "compare", "channel", "why", "calendar", "breakdown", "metric",
        "unknown",
    }  # fmt: skip


def test_the_closest_questions_a_refusal_offers_are_answered(ask) -> None:
    offered = re.findall(r"“([^”]+)”", ask("revenue over the holidays").text)[1:]
    assert len(offered) == 5
    for question in offered:
        reply = ask(question)
        assert reply.sql and not reply.text.startswith("I can't"), question


@pytest.mark.parametrize(
    "question",
    ["Was this account at risk in October?", "why was health Watch last month?", "is it healthy in Q3?"],
)
def test_health_asked_for_another_period_is_not_answered_with_the_report_weeks_verdict(
    ask, question: str
) -> None:
    """The verdict is made for the report week: asked about another period, the analyst says
    so instead of giving the report week's verdict as if it were that period's."""
    reply = ask(question)
    assert reply.sql == []
    assert reply.text.startswith("I can't answer for")
    assert "report week" in reply.text and "“Is this account at risk?”" in reply.text
    assert not re.search(r"\b(?:Healthy|Watch|At risk):", reply.text)
