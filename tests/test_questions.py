"""Follow-up questions a CSM asks in their own words: calendar periods, comparisons, filters,
ratios, health, talking points, other languages.

Same dataset as tests/test_followup.py (report week Nov 09 – Nov 15, 2026; daily rows for
15 weeks up to it and two weeks a year earlier). Every expected figure comes from SQL written
here over the exact dates the question names, not from the code under test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from core.agent.local.followup import FollowupAnswerer
from core.format import money
from core.search import CaseStudyIndex
from core.warehouse.embedded import EmbeddedWarehouse
from tests.test_followup import ACME, CONTEXT, WEEK, T, load

D = dt.date


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedWarehouse]:
    with EmbeddedWarehouse(tmp_path_factory.mktemp("questions")) as wh:
        load(wh)
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
