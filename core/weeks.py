"""Report periods: Monday to Sunday weeks, the most recent complete one unless one is asked
for, and (for kinds that take one) an inclusive date range of up to 31 days."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core.errors import InvalidWeek

MAX_RANGE_DAYS = 31


@dataclass(frozen=True, order=True)
class Week:
    """A report period: `days` days from `start`, inclusive; a Monday-to-Sunday week by default.

    `Week(start)` is the EBR's week. A longer or shorter period (`Week(start, days)`) is a
    range a kind such as the coaching review was asked for; its previous period is the same
    number of days just before it.
    """

    start: dt.date
    days: int = 7

    def __post_init__(self) -> None:
        if self.days < 1:
            raise ValueError(f"a period has at least one day, not {self.days}")

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=self.days - 1)

    def shift(self, periods: int) -> Week:
        """The period `periods` lengths later (earlier when negative), of the same length."""
        return Week(self.start + dt.timedelta(days=periods * self.days), self.days)

    @property
    def previous(self) -> Week:
        return self.shift(-1)

    @property
    def year_ago(self) -> Week:
        """The same period one year earlier (52 weeks, so weekdays line up)."""
        return Week(self.start - dt.timedelta(weeks=52), self.days)

    @property
    def period_id(self) -> str:
        """The period as ids and ledger keys name it: the start as YYYYMMDD, followed by
        -YYYYMMDD of the end unless the period is 7 days (so a week's ids are as they were)."""
        end = "" if self.days == 7 else f"-{self.end:%Y%m%d}"
        return f"{self.start:%Y%m%d}{end}"

    def label(self) -> str:
        return f"{self.start:%b %d} – {self.end:%b %d, %Y}"

    def __str__(self) -> str:
        return self.start.isoformat()


def period_of(start: dt.date | dt.datetime, end: dt.date | dt.datetime | None) -> Week:
    """The period a stored row's start and end (inclusive) name: a Week of that many days.

    An EBR's end is always its start + 6, so its rows read as `Week(start)`; a row without
    an end reads as the week from its start.
    """
    first = _day(start)
    return Week(first) if end is None else Week(first, (_day(end) - first).days + 1)


def _day(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def week_containing(day: dt.date) -> Week:
    return Week(day - dt.timedelta(days=day.weekday()))


def last_complete_week(today: dt.date) -> Week:
    """The most recent Monday–Sunday week that has fully ended before `today`."""
    return week_containing(today).previous


def parse_week(text: str | None, today: dt.date) -> Week:
    """The week containing the date `text` (YYYY-MM-DD); the last complete week when None.

    Raises InvalidWeek for a malformed date or a week that has not ended yet.
    """
    if text is None:
        return last_complete_week(today)
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidWeek(f"'{text[:40]}' is not a date; use YYYY-MM-DD, e.g. 2026-11-09") from None
    week = week_containing(day)
    if week.end >= today:
        raise InvalidWeek(
            f"the week of {week.start} has not ended yet; the latest complete week starts "
            f"{last_complete_week(today).start}"
        )
    return week


def parse_range(
    start_text: str | None, end_text: str | None, today: dt.date, max_days: int = MAX_RANGE_DAYS
) -> Week:
    """The inclusive range from `start_text` to `end_text` (YYYY-MM-DD each) as a Week.

    Both None: the last complete Monday–Sunday week. Only the start: that day and the six
    after it; only the end: the six days before it and that day. Raises InvalidWeek (one
    line) for a malformed date, an end before the start, more than `max_days` days, or a
    range that has not ended before `today`.
    """
    if start_text is None and end_text is None:
        return last_complete_week(today)
    start = _date(start_text, "start") if start_text is not None else None
    end = _date(end_text, "end") if end_text is not None else None
    if start is None:
        assert end is not None
        start = end - dt.timedelta(days=6)
    if end is None:
        end = start + dt.timedelta(days=6)
    if end < start:
        raise InvalidWeek(
            f"the range ends on {end}, before it starts on {start}; give the earlier date first"
        )
    days = (end - start).days + 1
    if days > max_days:
        raise InvalidWeek(f"the range {start} to {end} is {days} days long; the limit is {max_days} days")
    if end >= today:
        raise InvalidWeek(
            f"the range {start} to {end} has not ended yet; it must end by {today - dt.timedelta(days=1)}"
        )
    return Week(start, days)


def _date(text: str, which: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        shown = " ".join(text.split())[:40]  # one line, however the text was broken
        raise InvalidWeek(
            f"the {which} date '{shown}' is not a date; use YYYY-MM-DD, e.g. 2026-11-09"
        ) from None
