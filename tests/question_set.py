"""Natural follow-up questions and how to score an answer, shared by tests/test_question_set.py
and bench/questions.py.

Each case names the question, the dates it asks about (their label must appear in the answer:
an answer for other dates counts as answered for a different period) and the figures a
correct answer shows, computed here by SQL written independently of the product's code. A
case with `refuse` set must be refused honestly: no figure, and the refusal says why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from core.format import change, money, number, pct
from core.warehouse import Warehouse
from tests.test_followup import ACME, WEEK, T

D = dt.date
Figures = Callable[[Warehouse], list[str]]
REFUSALS = ("I can't answer for", "I answer questions in English only", "I can't answer that from the data")


@dataclass(frozen=True)
class Case:
    """A question, the period label a right answer names, and the figures it shows."""

    question: str
    period: str = ""
    figures: Figures = lambda wh: []
    refuse: bool = False
    texts: tuple[str, ...] = field(default=())


def _sum(
    wh: Warehouse, expression: str, table: str, start: dt.date, end: dt.date, extra: str = "", *params: object
) -> float | None:
    day = "conversion_date" if table == "conversions" else "activity_date"
    sql = f"SELECT {expression} FROM {T}{table} WHERE customer_id = ? AND {day} BETWEEN ? AND ? {extra}"
    value = wh.scalar(sql, [ACME, start, end, *params])
    return None if value is None else float(value)


def rev(start: dt.date, end: dt.date, extra: str = "", *params: object) -> Callable[[Warehouse], float]:
    return lambda wh: _sum(wh, "SUM(revenue)", "conversions", start, end, extra, *params) or 0.0


def conv(start: dt.date, end: dt.date, extra: str = "") -> Callable[[Warehouse], float]:
    return lambda wh: _sum(wh, "COUNT(*)", "conversions", start, end, extra) or 0.0


def eng(expression: str, start: dt.date, end: dt.date) -> Callable[[Warehouse], float]:
    return lambda wh: _sum(wh, expression, "historical_engagement", start, end) or 0.0


def label(start: dt.date, end: dt.date) -> str:
    if start == end:
        return f"{start:%b %d, %Y}"
    first = f"{start:%b %d, %Y}" if start.year != end.year else f"{start:%b %d}"
    return f"{first} – {end:%b %d, %Y}"


def shows(*parts: Callable[[Warehouse], str]) -> Figures:
    return lambda wh: [p(wh) for p in parts]


def m(f: Callable[[Warehouse], float]) -> Callable[[Warehouse], str]:
    return lambda wh: money(f(wh))


def n(f: Callable[[Warehouse], float]) -> Callable[[Warehouse], str]:
    return lambda wh: number(f(wh))


def p(f: Callable[[Warehouse], float]) -> Callable[[Warehouse], str]:
    return lambda wh: pct(f(wh))


def ratio(
    a: Callable[[Warehouse], float], b: Callable[[Warehouse], float], fmt: Callable[[float], str]
) -> Callable[[Warehouse], str]:
    return lambda wh: fmt(a(wh) / b(wh))


def moved(a: Callable[[Warehouse], float], b: Callable[[Warehouse], float]) -> Callable[[Warehouse], str]:
    return lambda wh: change(a(wh) / b(wh) - 1)


W0, W1 = (WEEK.start, WEEK.end), (WEEK.previous.start, WEEK.previous.end)
OCT, SEP, AUG = (
    (D(2026, 10, 1), D(2026, 10, 31)),
    (D(2026, 9, 1), D(2026, 9, 30)),
    (D(2026, 8, 1), D(2026, 8, 31)),
)
NOV = (D(2026, 11, 1), D(2026, 11, 15))
Q3, Q4 = (D(2026, 7, 1), D(2026, 9, 30)), (D(2026, 10, 1), D(2026, 11, 15))
L30, L14, L60 = (D(2026, 10, 17), WEEK.end), (D(2026, 11, 2), WEEK.end), (D(2026, 9, 17), WEEK.end)
L4, P4 = (WEEK.shift(-3).start, WEEK.end), (WEEK.shift(-7).start, WEEK.shift(-4).end)
L8, P8 = (WEEK.shift(-7).start, WEEK.end), (WEEK.shift(-15).start, WEEK.shift(-8).end)
OCT5 = (D(2026, 10, 5), D(2026, 10, 11))
OCT_H1, NOV_2_8 = (D(2026, 10, 1), D(2026, 10, 15)), (D(2026, 11, 2), D(2026, 11, 8))
YTD, Y2025 = (D(2026, 1, 1), WEEK.end), (D(2025, 1, 1), D(2025, 12, 31))
YEAR_AGO = (WEEK.year_ago.start, WEEK.year_ago.end)
SMS, EMAIL = "AND channel = 'sms'", "AND channel = 'email'"
BASE = (WEEK.shift(-9).start, WEEK.shift(-2).end)
OPENS, CLICKS, SENDS = "SUM(opens)", "SUM(clicks)", "SUM(sends)"


def sms_base(wh: Warehouse) -> float:
    return rev(*BASE, SMS)(wh) / 8


def _calendar() -> list[Case]:
    return [
        Case("How did we do in October?", label(*OCT), shows(m(rev(*OCT)), n(conv(*OCT)))),
        Case("revenue in October", label(*OCT), shows(m(rev(*OCT)))),
        Case("What was revenue in October 2026?", label(*OCT), shows(m(rev(*OCT)))),
        Case("October revenue", label(*OCT), shows(m(rev(*OCT)))),
        Case("revenue for the month of October", label(*OCT), shows(m(rev(*OCT)))),
        Case("conversions in September", label(*SEP), shows(n(conv(*SEP)))),
        Case("open rate in September", label(*SEP), shows(ratio(eng(OPENS, *SEP), eng(SENDS, *SEP), pct))),
        Case("how many sends in October?", label(*OCT), shows(n(eng(SENDS, *OCT)))),
        Case("click-through rate in October", label(*OCT), shows(ratio(eng(CLICKS, *OCT), eng(SENDS, *OCT), pct))),
        Case("average order value in October", label(*OCT), shows(ratio(rev(*OCT), conv(*OCT), money))),
        Case("revenue during August", label(*AUG), shows(m(rev(*AUG))), texts=("covers only Aug 03",)),
        Case("revenue last month", label(*OCT), shows(m(rev(*OCT)))),
        Case("How did we do last month?", label(*OCT), shows(m(rev(*OCT)), n(conv(*OCT)))),
        Case("conversions in the previous month", label(*OCT), shows(n(conv(*OCT)))),
        Case("revenue this month", label(*NOV), shows(m(rev(*NOV))), texts=("end of the report week",)),
        Case("month to date revenue", label(*NOV), shows(m(rev(*NOV)))),
        Case("revenue in Q3", label(*Q3), shows(m(rev(*Q3))), texts=("covers only Aug 03",)),
        Case("Q3 2026 conversions", label(*Q3), shows(n(conv(*Q3)))),
        Case("revenue last quarter", label(*Q3), shows(m(rev(*Q3)))),
        Case("what was revenue this quarter?", label(*Q4), shows(m(rev(*Q4)))),
        Case("revenue in the third quarter", label(*Q3), shows(m(rev(*Q3)))),
        Case("revenue over the last 30 days", label(*L30), shows(m(rev(*L30)))),
        Case("conversions in the past 14 days", label(*L14), shows(n(conv(*L14)))),
        Case("open rate over the last 60 days", label(*L60), shows(ratio(eng(OPENS, *L60), eng(SENDS, *L60), pct))),
        Case("revenue from Nov 1 to Nov 15", label(*NOV), shows(m(rev(*NOV)))),
        Case("revenue 2026-11-01..2026-11-15", label(*NOV), shows(m(rev(*NOV)))),
        Case("revenue between Oct 5 and Oct 11", label(*OCT5), shows(m(rev(*OCT5)))),
        Case("conversions from 2026-10-01 to 2026-10-15", label(*OCT_H1), shows(n(conv(*OCT_H1)))),
        Case("revenue on 2026-11-03", label(D(2026, 11, 3), D(2026, 11, 3)), shows(m(rev(D(2026, 11, 3), D(2026, 11, 3))))),
        Case("revenue since Oct 1", label(D(2026, 10, 1), WEEK.end), shows(m(rev(D(2026, 10, 1), WEEK.end)))),
        Case("revenue Nov 2-8", label(*NOV_2_8), shows(m(rev(*NOV_2_8)))),
        Case("revenue by channel in October", label(*OCT), shows(m(rev(*OCT, SMS)), m(rev(*OCT, EMAIL)))),
        Case("sms revenue in October", label(*OCT), shows(m(rev(*OCT, SMS)))),
        Case("email conversions last month", label(*OCT), shows(n(conv(*OCT, EMAIL)))),
        Case("revenue year to date", label(*YTD), shows(m(rev(*YTD)))),
        Case("revenue in 2025", label(*Y2025), shows(m(rev(*Y2025))), texts=("covers only Nov 03",)),
        Case("revenue per send in October", label(*OCT), shows(ratio(rev(*OCT), eng(SENDS, *OCT), money))),
        Case("revenue per conversion last month", label(*OCT), shows(ratio(rev(*OCT), conv(*OCT), money))),
        Case("Revenue for the week of Nov 2", label(*NOV_2_8), shows(m(rev(*NOV_2_8)))),
        Case("revenue in week 45", label(*NOV_2_8), shows(m(rev(*NOV_2_8)))),
        Case("revenue week of 2026-10-05", label(*OCT5), shows(m(rev(*OCT5)))),
        Case("conversions for the first half of November", label(*NOV), shows(n(conv(*NOV)))),
        Case("revenue in the last two months", label(D(2026, 9, 16), WEEK.end), shows(m(rev(D(2026, 9, 16), WEEK.end)))),
        Case("how were sales in september?", label(*SEP), shows(m(rev(*SEP)))),
        Case("how did push do last month", label(*OCT), shows(m(rev(*OCT, "AND channel = 'push'")))),
        Case("was october better than september?", label(*SEP), shows(m(rev(*OCT)), m(rev(*SEP)))),
        Case("may revenue", label(D(2026, 5, 1), D(2026, 5, 31)), texts=("No conversions rows",)),
        Case("revenue between 1 Nov and 15 Nov", label(*NOV), shows(m(rev(*NOV)))),
        Case("revenue on Nov 3", label(D(2026, 11, 3), D(2026, 11, 3)), shows(m(rev(D(2026, 11, 3), D(2026, 11, 3))))),
        Case("conversions on the 4th of November", label(D(2026, 11, 4), D(2026, 11, 4)), shows(n(conv(D(2026, 11, 4), D(2026, 11, 4))))),
        Case("revenue from October 5th to October 11th, 2026", label(*OCT5), shows(m(rev(*OCT5)))),
        Case("revenue in the previous year", label(*Y2025), shows(m(rev(*Y2025)))),
        Case("revenue over the last 12 months", label(D(2025, 11, 16), WEEK.end), shows(m(rev(D(2025, 11, 16), WEEK.end)))),
        Case("revenue 2025", label(*Y2025), shows(m(rev(*Y2025)))),
        Case("revenue over the last fortnight", label(*L14), shows(m(rev(*L14)))),
        Case("were conversions higher in October or September?", label(*SEP), shows(n(conv(*OCT)), n(conv(*SEP)))),
        Case("How many orders did we get from 2026-10-20 through 2026-10-26?", label(D(2026, 10, 20), D(2026, 10, 26)), shows(n(conv(D(2026, 10, 20), D(2026, 10, 26))))),
        Case("conversion rate in October", label(*OCT), shows(ratio(conv(*OCT), eng(SENDS, *OCT), pct))),
    ]  # fmt: skip


def _comparisons() -> list[Case]:
    week_vs = shows(m(rev(*W0)), m(rev(*W1)), moved(rev(*W0), rev(*W1)))
    return [
        Case("compare this week to the previous week", label(*W1), week_vs),
        Case("how does this week compare to last week?", label(*W1), week_vs),
        Case("week over week comparison", label(*W1), week_vs),
        Case("revenue this week vs last week", label(*W1), week_vs),
        Case("how does this compare to last month?", label(*OCT_H1), shows(m(rev(*NOV)), m(rev(*OCT_H1)))),
        Case("compare revenue to last month", label(*OCT_H1), shows(m(rev(*NOV)), m(rev(*OCT_H1)))),
        Case("how does this compare to last year?", label(*YEAR_AGO), shows(m(rev(*W0)), m(rev(*YEAR_AGO)))),
        Case("compare this week with the same week last year", label(*YEAR_AGO), shows(m(rev(*YEAR_AGO)))),
        Case("October vs September revenue", label(*SEP), shows(m(rev(*OCT)), m(rev(*SEP)), moved(rev(*OCT), rev(*SEP)))),
        Case("compare October to September", label(*SEP), shows(m(rev(*OCT)), m(rev(*SEP)))),
        Case("compare last month to the month before", label(*SEP), shows(m(rev(*OCT)), m(rev(*SEP)))),
        Case("compare the last 4 weeks to the 4 before", label(*P4), shows(m(rev(*L4)), m(rev(*P4)), moved(rev(*L4), rev(*P4)))),
        Case("why did revenue drop over the last 4 weeks?", label(*P4), shows(m(rev(*L4)), m(rev(*P4)))),
        Case("why did conversions fall in the last 8 weeks?", label(*P8), shows(n(conv(*L8)), n(conv(*P8)))),
        Case("why did revenue rise in October?", label(*SEP), shows(m(rev(*OCT)), m(rev(*SEP)))),
        Case("what drove the change in revenue last month?", label(*SEP), shows(m(rev(*OCT)), m(rev(*SEP)))),
        Case("Why did revenue drop?", WEEK.previous.label(), shows(m(rev(*W0)), m(rev(*W1)))),
    ]  # fmt: skip


def _filters_and_ratios() -> list[Case]:
    sms_now = rev(*W0, SMS)
    return [
        Case("What happened to SMS?", WEEK.label(), shows(m(sms_now), m(sms_base), moved(sms_now, sms_base))),
        Case("why did sms collapse?", WEEK.label(), shows(m(sms_now), moved(sms_now, sms_base))),
        Case("Why did SMS revenue drop?", WEEK.label(), shows(m(sms_now), m(sms_base))),
        Case("what happened to email?", WEEK.label(), shows(m(rev(*W0, EMAIL)))),
        Case("what about push?", WEEK.label(), shows(m(rev(*W0, "AND channel = 'push'")))),
        Case("How did the Spring Sale campaign do?", WEEK.label(), shows(m(rev(*W0, "AND campaign = ?", "Spring Sale")))),
        Case("how is the Winback campaign doing?", WEEK.label(), shows(m(rev(*W0, "AND campaign = ?", "Winback")))),
        Case("how did the welcome series campaign perform?", WEEK.label(), shows(m(rev(*W0, "AND campaign = ?", "Welcome Series")))),
        Case("results of the campaign called \"Winback\"", WEEK.label(), shows(m(rev(*W0, "AND campaign = ?", "Winback")))),
        Case("how did the Holiday Gift Guide campaign do?", "", texts=("no campaign named", "Spring Sale, Welcome Series, Winback")),
        Case("revenue per send", WEEK.label(), shows(ratio(rev(*W0), eng(SENDS, *W0), money))),
        Case("what's our revenue per conversion?", WEEK.label(), shows(ratio(rev(*W0), conv(*W0), money))),
        Case("conversion rate last week", WEEK.label(), shows(ratio(conv(*W0), eng(SENDS, *W0), pct))),
        Case("what was the conversion rate?", WEEK.label(), shows(ratio(conv(*W0), eng(SENDS, *W0), pct))),
        Case("revenue per send over the last 4 weeks", label(*L4), shows(ratio(rev(*L4), eng(SENDS, *L4), money))),
        Case("revenue per conversion in October", label(*OCT), shows(ratio(rev(*OCT), conv(*OCT), money))),
    ]  # fmt: skip


def _health_and_points() -> list[Case]:
    sms_drop = moved(rev(*W0, SMS), sms_base)
    ctr = ratio(eng(CLICKS, *W0), eng(SENDS, *W0), pct)
    week_revenue = m(rev(*W0))
    return [
        Case("is this account at risk of churning?", WEEK.label(), shows(sms_drop), texts=("At risk",)),
        Case("Why is health Watch?", WEEK.label(), shows(sms_drop), texts=("not Watch",)),
        Case("is the customer healthy?", WEEK.label(), shows(sms_drop)),
        Case("what's the churn risk?", WEEK.label(), shows(sms_drop)),
        Case("why is CTR below the benchmark?", WEEK.label(), shows(ctr), texts=("2.35%", "Gap to the benchmark")),
        Case("why is our click-through rate under the industry benchmark?", WEEK.label(), shows(ctr), texts=("2.35%",)),
        Case("summarise in 3 bullets", WEEK.label(), shows(week_revenue, sms_drop)),
        Case("talking points", WEEK.label(), shows(week_revenue)),
        Case("What should I tell the customer on Thursday's call?", WEEK.label(), shows(week_revenue)),
        Case("give me the key takeaways", WEEK.label(), shows(week_revenue)),
        Case("what should I tell the customer today?", WEEK.label(), shows(week_revenue)),
        Case("What was revenue last week?", WEEK.label(), shows(week_revenue, m(rev(*W1)))),
        Case("revenue over the last 4 weeks", label(*L4), shows(m(rev(*L4)))),
        Case("open rate by channel", WEEK.label(), shows(ratio(eng(OPENS, *W0), eng(SENDS, *W0), pct))),
    ]  # fmt: skip


def _refusals() -> list[Case]:
    questions = [
        "How did we do over the holidays?", "revenue during Black Friday", "what was revenue in the fiscal year?",
        "conversions in spring", "revenue in Q5", "revenue in October 2031", "what was revenue yesterday?",
        "revenue next month", "revenue over the summer", "revenue Feb 30 to Mar 2", "revenue in early October",
        "What did revenue look like at the start of the quarter?", "any dip around Halloween?",
        "conversions last weekend", "revenue 11/01-11/15", "revenue on Monday", "revenue in the last week of October", "revenue over the past 2 years", "revenue the first week of November",
        "¿Cuáles fueron los ingresos la semana pasada?", "Wie hoch war der Umsatz letzte Woche?",
        "Quel était le chiffre d'affaires la semaine dernière ?", "上周的收入是多少？",
        "Was this account at risk in October?", "why was health Watch last month?",
    ]  # fmt: skip
    return [Case(q, refuse=True) for q in questions]


CASES: list[Case] = [
    *_calendar(),
    *_comparisons(),
    *_filters_and_ratios(),
    *_health_and_points(),
    *_refusals(),
]


def score(case: Case, text: str, wh: Warehouse) -> str:
    """correct | refused | wrong_period | wrong, for one answer."""
    refused = text.startswith(REFUSALS) and "$" not in text
    if case.refuse:
        return "refused" if refused else "wrong"
    if refused:
        return "refused"
    if case.period and case.period not in text:
        return "wrong_period"
    expected = [*case.figures(wh), *case.texts]
    return "correct" if all(e in text for e in expected) else "wrong"
