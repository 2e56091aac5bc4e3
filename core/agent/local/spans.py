"""Figures over an exact date range: one grouped query per table, dates bound as parameters.

Where figures.py groups by week offset from the report week, these queries read one
customer's rows from a first to a last day (both included) and group them by channel, and
conversions by campaign too; each group also returns the first and last day it has rows
for, so an answer can say when the data covers only part of the period it asked for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from core.agent.local.figures import CONVERSIONS, ENGAGEMENT, WeekTotals, collapse
from core.agent.local.periods import DateSpan
from core.kinds.ebr.analytics import CONVERSION_SUMS, ENGAGEMENT_SUMS
from core.warehouse import Warehouse
from core.warehouse.base import ANALYTICS

SPAN_SQL = {
    ENGAGEMENT: f"""
SELECT channel, {ENGAGEMENT_SUMS},
       MIN(activity_date) AS first_day, MAX(activity_date) AS last_day
FROM {ANALYTICS}.historical_engagement
WHERE customer_id = ? AND activity_date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
GROUP BY 1
""",
    CONVERSIONS: f"""
SELECT channel, COALESCE(campaign, '(none)') AS campaign, {CONVERSION_SUMS},
       MIN(conversion_date) AS first_day, MAX(conversion_date) AS last_day
FROM {ANALYTICS}.conversions
WHERE customer_id = ? AND conversion_date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
GROUP BY 1, 2
""",
}

CAMPAIGNS_SQL = f"""
SELECT campaign, MIN(conversion_date) AS first_day, MAX(conversion_date) AS last_day
FROM {ANALYTICS}.conversions
WHERE customer_id = ? AND campaign IS NOT NULL AND conversion_date <= CAST(? AS DATE)
GROUP BY 1
"""


@dataclass
class SpanFigures:
    """The sums of one date span, the days its rows cover, and the SQL that read them."""

    span: DateSpan
    sums: WeekTotals = field(default_factory=WeekTotals)
    first_day: dt.date | None = None
    last_day: dt.date | None = None
    sql: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)

    def coverage(self) -> str:
        """A sentence when the rows cover only part of the span (or none of it); "" otherwise."""
        if self.first_day is None or self.last_day is None:
            return f"no rows were recorded from {self.span.label()}"
        if self.first_day > self.span.start or self.last_day < self.span.end:
            covered = DateSpan(self.first_day, self.last_day, "").label()
            return f"the data covers only {covered} of {self.span.label()}"
        return ""

    def _days(self, row: dict) -> None:
        first, last = _date(row.get("first_day")), _date(row.get("last_day"))
        if first and (self.first_day is None or first < self.first_day):
            self.first_day = first
        if last and (self.last_day is None or last > self.last_day):
            self.last_day = last


def fetch_span(warehouse: Warehouse, customer_id: str, span: DateSpan, tables: Iterable[str]) -> SpanFigures:
    """Read the `tables` for one customer from `span.start` to `span.end`."""
    result = SpanFigures(span)
    for table in dict.fromkeys(tables):
        for row in warehouse.query(SPAN_SQL[table], [customer_id, span.start, span.end]):
            result.sums.total.add(row)
            result.sums.channels[row["channel"]].add(row)
            if "campaign" in row:
                result.sums.campaigns[row["campaign"]].add(row)
            result._days(row)
        result.sql.append(collapse(SPAN_SQL[table]))
        result.tables.append(table)
    return result


def campaign_names(
    warehouse: Warehouse, customer_id: str, last: dt.date
) -> dict[str, tuple[dt.date, dt.date]]:
    """The customer's campaigns up to `last`, each with the first and last day it converted."""
    rows = warehouse.query(CAMPAIGNS_SQL, [customer_id, last])
    return {str(r["campaign"]): (_date(r["first_day"]) or last, _date(r["last_day"]) or last) for r in rows}


def _date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        return dt.date.fromisoformat(value[:10])
    return None
