"""Calendar periods in a question: named months, quarters, "last month", "last 30 days",
explicit dates and ranges, and the phrases that name a period this analyst cannot resolve.

`find_calendar` reads a question into a `Calendar` (what was asked, symbolically);
`resolve` turns it into the exact `DateSpan` for a report week. Every date is a `datetime.date`
built here and bound as a query parameter: no text of the question reaches SQL. A period is
never silently replaced by another: an unresolvable one is named in `Calendar.problem`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

MAX_DAYS = 400  # longest span a question may ask for (about 13 months of daily rows)

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS |= {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
_MONTHS["sept"] = 9
_MONTH = r"(january|february|march|april|june|july|august|september|october|november|december" \
    r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec|may)"  # fmt: skip
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?\b"
_YEAR = r"(?:,?\s+(\d{4}))?"
_ISO = r"(\d{4}-\d{2}-\d{2})"
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "nine": 9, "twelve": 12}
_N = r"(\d{1,2}|one|two|three|four|five|six|nine|twelve)"
_ORD_QUARTER = {"first": 1, "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4}


@dataclass(frozen=True)
class DateSpan:
    """Days from `start` to `end`, both included, and how the question named them."""

    start: dt.date
    end: dt.date
    name: str

    def label(self) -> str:
        """ "Oct 01 – Oct 31, 2026"; a single day is "Oct 01, 2026"."""
        if self.start == self.end:
            return f"{self.start:%b %d, %Y}"
        start = f"{self.start:%b %d, %Y}" if self.start.year != self.end.year else f"{self.start:%b %d}"
        return f"{start} – {self.end:%b %d, %Y}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def clipped(self, last: dt.date) -> DateSpan:
        """The span ending no later than `last`."""
        return DateSpan(self.start, min(self.end, last), self.name)

    def before(self, name: str = "") -> DateSpan:
        """The span of the same length just before this one."""
        end = self.start - dt.timedelta(days=1)
        return DateSpan(end - dt.timedelta(days=self.days - 1), end, name or f"the {self.days} days before")


@dataclass(frozen=True)
class Calendar:
    """A calendar period as asked: `kind` names a resolver, `args` its fixed-type arguments.
    `problem` is the phrase of a period that cannot be resolved, `text` what the question said."""

    kind: str = ""
    args: tuple[int, ...] = ()
    text: str = ""
    problem: str = ""


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _iso(token: str) -> tuple[int, int, int]:
    year, month, day = (int(p) for p in token.split("-"))
    return year, month, day


def _month(token: str | None) -> int:
    return _MONTHS[(token or "").lower()]


def _year(token: str | None) -> int:
    return int(token) if token else 0


def _count(token: str) -> int:
    return int(token) if token.isdigit() else _WORDS[token.lower()]


def _unclear(match: re.Match[str]) -> Calendar:
    return Calendar(problem=match[0].strip())


# Each row: a pattern and how its match becomes a Calendar (most specific first).
_READERS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], Calendar]], ...] = (
    (
        _rx(rf"\b{_ISO}\s*(?:\.\.|to|through|until|and|-|–)\s*{_ISO}\b"),
        lambda m: Calendar("range", (*_iso(m[1]), *_iso(m[2]))),
    ),
    (
        _rx(rf"\b{_MONTH}\s+{_DAY}{_YEAR}\s*(?:to|through|until|and|-|–)\s*(?:{_MONTH}\s+)?{_DAY}{_YEAR}"),
        lambda m: Calendar(
            "range",
            (
                _year(m[3] or m[6]),
                _month(m[1]),
                int(m[2]),
                _year(m[6] or m[3]),
                _month(m[4] or m[1]),
                int(m[5]),
            ),
        ),
    ),
    (
        _rx(rf"\bweek\s+(?:of|starting|beginning|commencing)\s+(?:{_ISO}|{_MONTH}\s+{_DAY}{_YEAR})"),
        lambda m: Calendar("week_of", _iso(m[1]) if m[1] else (_year(m[4]), _month(m[2]), int(m[3]))),
    ),
    (
        _rx(r"\b(?:iso\s+|calendar\s+)?week\s+(?:number\s+|no\.?\s*|#\s*)?(\d{1,2})(?:\s+of\s+(\d{4}))?\b"),
        lambda m: Calendar("iso_week", (int(m[1]), _year(m[2]))),
    ),
    (
        _rx(rf"\b(first|second)\s+half\s+of\s+{_MONTH}(?:\s+(\d{{4}}))?"),
        lambda m: Calendar("half_month", (1 if m[1].lower() == "first" else 2, _month(m[2]), _year(m[3]))),
    ),
    (
        _rx(
            rf"\b{_DAY}\s+(?:of\s+)?(?:{_MONTH}\s+)?(?:to|through|until|and|-|–)\s*{_DAY}\s+(?:of\s+)?{_MONTH}{_YEAR}"
        ),
        lambda m: Calendar(
            "range", (_year(m[5]), _month(m[2] or m[4]), int(m[1]), _year(m[5]), _month(m[4]), int(m[3]))
        ),
    ),
    (
        _rx(
            r"\b(?:in|during|for)\s+(?:the\s+)?(?:previous|prior)\s+(?:calendar\s+)?year\b|\blast\s+calendar\s+year\b"
        ),
        lambda m: Calendar("last_year", ()),
    ),
    # A part of a month no rule reads ("early October", "the first week of November"): refused.
    (
        _rx(
            rf"\b(?:(?:first|second|third|fourth|last|final)\s+(?:\w+\s+)?(?:weeks?|days?|fortnight)\s+of"
            rf"|early|late|mid|end\s+of|beginning\s+of|start\s+of)[\s-]+(?:the\s+)?{_MONTH}\b"
        ),
        _unclear,
    ),
    (_rx(rf"\b(?:on|for)?\s*{_ISO}\b"), lambda m: Calendar("range", (*_iso(m[1]), *_iso(m[1])))),
    (
        _rx(rf"\bsince\s+{_MONTH}\s+{_DAY}{_YEAR}"),
        lambda m: Calendar("since", (_year(m[3]), _month(m[1]), int(m[2]))),
    ),
    (
        _rx(rf"\b(?:on\s+)?{_MONTH}\s+{_DAY}{_YEAR}"),
        lambda m: Calendar("range", (_year(m[3]), _month(m[1]), int(m[2])) * 2),
    ),
    (
        _rx(rf"\b(?:on\s+)?{_DAY}\s+(?:of\s+)?{_MONTH}{_YEAR}"),
        lambda m: Calendar("range", (_year(m[3]), _month(m[2]), int(m[1])) * 2),
    ),
    (_rx(r"\b(?:last|past|previous|prior)\s+(?:two\s+weeks|fortnight)\b"), lambda m: Calendar("days", (14,))),
    (
        _rx(r"\b(?:last|past|previous|prior|trailing)\s+(\d{1,3})\s+days\b"),
        lambda m: Calendar("days", (int(m[1]),)),
    ),
    (
        _rx(rf"\b(?:last|past|previous|prior|trailing)\s+{_N}\s+months\b"),
        lambda m: Calendar("months", (_count(m[1]),)),
    ),
    (
        _rx(r"\b(?:this|current)\s+month\b|\bmonth[\s-]+to[\s-]+date\b|\bmtd\b"),
        lambda m: Calendar("month", (0,)),
    ),
    (_rx(r"\b(?:last|previous|prior)\s+(?:calendar\s+)?month\b"), lambda m: Calendar("month", (-1,))),
    (
        _rx(r"\b(?:this|current)\s+quarter\b|\bquarter[\s-]+to[\s-]+date\b|\bqtd\b"),
        lambda m: Calendar("quarter", (0,)),
    ),
    (_rx(r"\b(?:last|previous|prior)\s+(?:calendar\s+)?quarter\b"), lambda m: Calendar("quarter", (-1,))),
    (_rx(r"\bq([1-4])(?:\s+(\d{4}))?\b"), lambda m: Calendar("named_quarter", (int(m[1]), _year(m[2])))),
    (
        _rx(r"\b(first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter(?:\s+(?:of\s+)?(\d{4}))?\b"),
        lambda m: Calendar("named_quarter", (_ORD_QUARTER[m[1].lower()], _year(m[2]))),
    ),
    (
        _rx(r"\b(?:this|current)\s+year\b|\byear[\s-]+to[\s-]+date\b|\bytd\b"),
        lambda m: Calendar("year", (0,)),
    ),
    (
        _rx(
            r"\b(?:in|during|for|of|over|across|throughout)\s+(?:the\s+month\s+of\s+)?"
            + _MONTH
            + r"\b(?:\s+(\d{4}))?"
        ),
        lambda m: Calendar("named_month", (_month(m[1]), _year(m[2]))),
    ),
    (
        _rx(r"\b" + _MONTH.replace("|may", "") + r"\b(?:\s+(\d{4}))?"),
        lambda m: Calendar("named_month", (_month(m[1]), _year(m[2]))),
    ),
    (
        _rx(r"\bmay\b(?=\s+(?:\d{4}|revenue|sales|conversions|numbers|results|performance)\b)"),
        lambda m: Calendar("named_month", (5, 0)),
    ),
    (_rx(r"\b(?:in|during|for|of)?\s*(20\d\d)\b"), lambda m: Calendar("named_year", (int(m[1]),))),
)

# Periods a CSM names that no calendar rule here resolves: refused, never answered for another.
_UNRESOLVED = _rx(
    r"\b(?:the\s+)?(?:holiday(?:s|\s+season)?|black\s+friday|cyber\s+monday|christmas|xmas|thanksgiving"
    r"|easter|halloween|valentine'?s?(?:\s+day)?|new\s+year'?s?(?:\s+(?:day|eve))?|labou?r\s+day|memorial\s+day"
    r"|(?:start|beginning|end|middle)\s+of\s+(?:the\s+)?(?:week|month|quarter|year)|prime\s+day|back[\s-]+to[\s-]+school|fiscal(?:\s+year)?|fy\s*\d*|h[12]|half[\s-]+year"
    r"|spring|summer|autumn|winter|peak\s+season|(?:this|last|off)\s+season|yesterday|today|tomorrow"
    r"|next\s+(?:week|month|quarter|year)|q[05-9]|last\s+weekend|this\s+weekend|since\s+launch"
    r"|since\s+(?:the\s+)?(?:start|beginning)|all[\s-]+time|ever|weekends?"
    r"|(?:\d+|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|several|few)\s+(?:months|quarters|years)"
    r"|(?:last|past|previous)\s+(?:couple\s+of\s+)?(?:months|quarters|years))\b"
    r"|\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b"  # 11/01: month or day first? Not guessed.
    r"|\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?\b(?!['’])"
)


def find_calendar(text: str) -> Calendar:
    """The calendar period a question names; an empty Calendar when it names none."""
    for pattern, read in _READERS:
        if match := pattern.search(text):
            try:
                found = read(match)
            except (KeyError, ValueError, IndexError):
                return Calendar(text=match[0].strip(), problem=match[0].strip())
            return Calendar(found.kind, found.args, match[0].strip())
    if match := _UNRESOLVED.search(text):
        return Calendar(text=match[0].strip(), problem=match[0].strip())
    return Calendar()


def find_calendars(text: str) -> list[Calendar]:
    """Every calendar period a question names, in the order it names them ("October vs
    September" gives two); each matched phrase is blanked so it is read once."""
    found: list[tuple[int, Calendar]] = []
    for pattern, read in _READERS:
        for match in pattern.finditer(text):
            try:
                got = read(match)
            except (KeyError, ValueError, IndexError):
                got = Calendar(problem=match[0].strip())
            found.append((match.start(), Calendar(got.kind, got.args, match[0].strip(), got.problem)))
        text = pattern.sub(lambda m: " " * len(m[0]), text)
    for match in _UNRESOLVED.finditer(text):
        found.append((match.start(), Calendar(text=match[0].strip(), problem=match[0].strip())))
    return [c for _, c in sorted(found, key=lambda pair: pair[0])]


def resolve(period: Calendar, anchor: dt.date) -> DateSpan | None:
    """The exact dates of `period` for data up to `anchor` (the report week's Sunday); None
    when they cannot be built (an impossible date, a range ending before it starts)."""
    try:
        span = _RESOLVERS[period.kind](period.args, anchor)
    except (KeyError, ValueError, OverflowError):
        return None
    if span.end < span.start or span.days > MAX_DAYS:
        return None
    return span


def _month_span(year: int, month: int) -> DateSpan:
    last = calendar.monthrange(year, month)[1]
    return DateSpan(
        dt.date(year, month, 1), dt.date(year, month, last), f"{calendar.month_name[month]} {year}"
    )


def _shift_month(year: int, month: int, by: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + by
    return index // 12, index % 12 + 1


def _quarter_span(year: int, quarter: int) -> DateSpan:
    first = dt.date(year, 3 * quarter - 2, 1)
    end_year, end_month = _shift_month(year, 3 * quarter, 0)
    last = dt.date(end_year, end_month, calendar.monthrange(end_year, end_month)[1])
    return DateSpan(first, last, f"Q{quarter} {year}")


def _latest_year(month: int, year: int, anchor: dt.date) -> int:
    """The year given, or the latest year whose `month` has started by `anchor`."""
    if year:
        return year
    return anchor.year if month <= anchor.month else anchor.year - 1


def _range(args: tuple[int, ...], anchor: dt.date) -> DateSpan:
    y1, m1, d1, y2, m2, d2 = args
    y1 = y1 or _latest_year(m1, 0, anchor)
    y2 = y2 or (y1 if (m2, d2) >= (m1, d1) else y1 + 1)
    start, end = dt.date(y1, m1, d1), dt.date(y2, m2, d2)
    return DateSpan(start, end, "")


def _since(args: tuple[int, ...], anchor: dt.date) -> DateSpan:
    year, month, day = args
    start = dt.date(year or _latest_year(month, 0, anchor), month, day)
    return DateSpan(start, anchor, f"since {start:%b %d, %Y}")


def _days(args: tuple[int, ...], anchor: dt.date) -> DateSpan:
    return DateSpan(anchor - dt.timedelta(days=args[0] - 1), anchor, f"the last {args[0]} days")


def _week_of(args: tuple[int, ...], anchor: dt.date) -> DateSpan:
    year, month, day = args
    date = dt.date(year or _latest_year(month, 0, anchor), month, day)
    monday = date - dt.timedelta(days=date.weekday())
    return DateSpan(monday, monday + dt.timedelta(days=6), f"the week of {monday:%b %d}")


def _iso_week(args: tuple[int, ...], anchor: dt.date) -> DateSpan:
    week, year = args
    monday = dt.date.fromisocalendar(year or anchor.isocalendar()[0], week, 1)
    if not year and monday > anchor:
        monday = dt.date.fromisocalendar(anchor.isocalendar()[0] - 1, week, 1)
    return DateSpan(monday, monday + dt.timedelta(days=6), f"week {week} of {monday.isocalendar()[0]}")


def _half_month(args: tuple[int, ...], anchor: dt.date) -> DateSpan:
    half, month, year = args
    whole = _month_span(_latest_year(month, year, anchor), month)
    if half == 1:
        return DateSpan(whole.start, whole.start.replace(day=15), f"the first half of {whole.name}")
    return DateSpan(whole.start.replace(day=16), whole.end, f"the second half of {whole.name}")


def _months(args: tuple[int, ...], anchor: dt.date) -> DateSpan:
    year, month = _shift_month(anchor.year, anchor.month, -args[0])
    day = min(anchor.day, calendar.monthrange(year, month)[1])
    start = dt.date(year, month, day) + dt.timedelta(days=1)
    return DateSpan(start, anchor, f"the last {args[0]} months")


def _relative_month(args: tuple[int, ...], anchor: dt.date) -> DateSpan:
    return _month_span(*_shift_month(anchor.year, anchor.month, args[0]))


def _relative_quarter(args: tuple[int, ...], anchor: dt.date) -> DateSpan:
    index = anchor.year * 4 + (anchor.month - 1) // 3 + args[0]
    return _quarter_span(index // 4, index % 4 + 1)


def _named_quarter(args: tuple[int, ...], anchor: dt.date) -> DateSpan:
    quarter, year = args
    return _quarter_span(year or _latest_year(3 * quarter - 2, 0, anchor), quarter)


def _named_month(args: tuple[int, ...], anchor: dt.date) -> DateSpan:
    month, year = args
    return _month_span(_latest_year(month, year, anchor), month)


def _year_to_date(args: tuple[int, ...], anchor: dt.date) -> DateSpan:
    return DateSpan(dt.date(anchor.year, 1, 1), dt.date(anchor.year, 12, 31), f"{anchor.year}")


def _last_year(args: tuple[int, ...], anchor: dt.date) -> DateSpan:
    return _named_year((anchor.year - 1,), anchor)


def _named_year(args: tuple[int, ...], anchor: dt.date) -> DateSpan:
    return DateSpan(dt.date(args[0], 1, 1), dt.date(args[0], 12, 31), f"{args[0]}")


_RESOLVERS: dict[str, Callable[[tuple[int, ...], dt.date], DateSpan]] = {
    "range": _range,
    "week_of": _week_of,
    "iso_week": _iso_week,
    "half_month": _half_month,
    "months": _months,
    "since": _since,
    "days": _days,
    "month": _relative_month,
    "quarter": _relative_quarter,
    "named_quarter": _named_quarter,
    "named_month": _named_month,
    "year": _year_to_date,
    "named_year": _named_year,
    "last_year": _last_year,
}
