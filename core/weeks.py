"""Report weeks: Monday to Sunday, the most recent complete one unless one is asked for."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core.errors import InvalidWeek


@dataclass(frozen=True, order=True)
class Week:
    """A Monday-to-Sunday week."""

    start: dt.date

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=6)

    def shift(self, weeks: int) -> Week:
        return Week(self.start + dt.timedelta(weeks=weeks))

    @property
    def previous(self) -> Week:
        return self.shift(-1)

    @property
    def year_ago(self) -> Week:
        """The same week one year earlier (52 weeks, so weekdays line up)."""
        return self.shift(-52)

    def label(self) -> str:
        return f"{self.start:%b %d} – {self.end:%b %d, %Y}"

    def __str__(self) -> str:
        return self.start.isoformat()


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
