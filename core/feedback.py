"""What people thought of the answers: the feedback buttons' clicks, counted.

Store.record_feedback keeps the latest click per follow-up (`followups.feedback`); these are
the read side for `weekly-report runs` and `weekly-report feedback`. Every count is a query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from core.warehouse import Warehouse
from core.warehouse.base import ANALYTICS as T

_JOIN = f"FROM {T}.followups f JOIN {T}.weekly_reports r ON r.report_id = f.report_id"
# An answer is an exchange whose answer was shown (status 'answered'; rows stored before the
# status column existed were all answers). A refused one (the guard withheld the answer) is
# counted apart: it has no feedback buttons, so it is neither rated nor "no feedback".
_ANSWERED = "COALESCE(f.status, 'answered') = 'answered'"
COUNTS_SQL = (
    "SELECT COALESCE(r.report_kind, 'ebr') AS kind, r.report_week_start AS week_start, "
    f"COUNT_IF({_ANSWERED}) AS answers, COUNT_IF(f.status = 'refused') AS refused, "
    f"COUNT_IF({_ANSWERED} AND f.feedback = 'positive') AS positive, "
    f"COUNT_IF({_ANSWERED} AND f.feedback = 'negative') AS negative "
    f"{_JOIN} WHERE (? IS NULL OR r.report_week_start = ?) "
    "GROUP BY 1, 2 ORDER BY 2 DESC, 1"
)
NEGATIVE_SQL = (
    "SELECT COALESCE(r.report_kind, 'ebr') AS kind, r.report_week_start AS week_start, f.report_id, "
    f"f.question, f.feedback_by, f.feedback_at {_JOIN} "
    f"WHERE f.feedback = 'negative' AND {_ANSWERED} AND (? IS NULL OR r.report_week_start = ?) "
    "ORDER BY f.feedback_at DESC, f.report_id"
)


@dataclass(frozen=True)
class FeedbackCount:
    """Follow-ups answered on one kind's reports of one week, how many of those got each click,
    and how many questions were refused (their answers withheld) besides."""

    kind: str
    week_start: dt.date
    answers: int
    positive: int
    negative: int
    refused: int = 0


@dataclass(frozen=True)
class NegativeFeedback:
    """A question whose answer got a thumbs-down (the latest click)."""

    kind: str
    week_start: dt.date
    report_id: str
    question: str
    by: str | None
    at: dt.datetime | None


def feedback_counts(warehouse: Warehouse, week_start: dt.date | None = None) -> list[FeedbackCount]:
    """Counts per (kind, report week), newest week first; only `week_start`'s week when given."""
    rows = warehouse.query(COUNTS_SQL, [week_start, week_start])
    return [
        FeedbackCount(
            str(r["kind"]),
            _day(r["week_start"]),
            int(r["answers"]),
            int(r["positive"]),
            int(r["negative"]),
            int(r["refused"]),
        )
        for r in rows
    ]


def negative_feedback(warehouse: Warehouse, week_start: dt.date | None = None) -> list[NegativeFeedback]:
    """The questions whose answers were voted down, latest click first."""
    rows = warehouse.query(NEGATIVE_SQL, [week_start, week_start])
    return [
        NegativeFeedback(
            str(r["kind"]),
            _day(r["week_start"]),
            str(r["report_id"]),
            str(r["question"]),
            r["feedback_by"],
            r["feedback_at"],
        )
        for r in rows
    ]


def by_week(counts: Sequence[FeedbackCount]) -> dict[dt.date, tuple[int, int]]:
    """(positive, negative) per report week, all kinds together (what `runs` shows per run)."""
    weeks: dict[dt.date, tuple[int, int]] = {}
    for c in counts:
        up, down = weeks.get(c.week_start, (0, 0))
        weeks[c.week_start] = (up + c.positive, down + c.negative)
    return weeks


def _day(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
