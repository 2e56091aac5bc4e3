"""Three focus areas for a rep's next calls, from the verdict's weakest dimensions and
recurring objections, each citing a moment of one of the period's calls (from the facts' SQL).

The order alternates: the weakest dimension, the most recurring objection, the next weakest
dimension, the next objection, ...; three are kept. A dimension cites a highlight of its
lowest-scored call of the period (objection handling: of the lowest-scored call that raised
an objection, that objection's words and the rep's answer); an objection its first call that
raised it, with the customer's words and the rep's answer. Only highlights are cited, never a
call's greeting or opener, and no moment twice in one review: an area whose every candidate
is taken by an earlier area cites none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import zip_longest

from core.kinds.coaching.facts import Example, Moment, RepFacts
from core.kinds.coaching.verdict import DimensionScore, Verdict, points

FOCUS_AREAS = 3

# What to practise, by dimension and by objection: advice, not figures.
DIMENSION_TIPS = {
    "product_knowledge": "tie each feature you show to a need the customer named on the call",
    "discovery": "ask two open questions about how they work today before you present anything",
    "objection_handling": "acknowledge the concern, ask what is behind it, then answer with a customer example",
    "engagement": "check in with a question every few minutes and let the customer do most of the talking",
}
OBJECTION_TIPS = {
    "pricing": "lead with the value a team their size gets before the price, and ask what they compare it with",
    "budget": "ask when their budget is set and offer a phased start that fits it",
    "timing": "ask what would have to be true to start sooner, and agree a date to revisit",
    "competitor": "ask what they like about the alternative, then show the difference that matters to them",
    "authority": "ask who else decides and what they need to see, and invite them to the next call",
    "integration": "offer a sandbox with their own data and name the connector they need",
}
DEFAULT_OBJECTION_TIP = "prepare a short answer and a question back before the next call that raises it"


def clock(seconds: int) -> str:
    """Seconds into a call as mm:ss (h:mm:ss from an hour)."""
    minutes, secs = divmod(max(seconds, 0), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def day(when: dt.datetime | dt.date) -> str:
    """A call's date as the report writes it: "Mon Nov 9"."""
    return _day(when.date() if isinstance(when, dt.datetime) else when)


@lru_cache(maxsize=4096)
def _day(date: dt.date) -> str:
    # strftime is slow here (tens of microseconds), and a run's calls fall on a few days.
    return f"{date:%a %b} {date.day}"


@dataclass(frozen=True)
class FocusArea:
    """One thing to work on: a dimension or an objection, its figure, and a moment to look at."""

    kind: str  # "dimension" | "objection"
    key: str  # the dimension's key or the objection's label
    title: str  # "Discovery", "The pricing objection"
    figure: str  # "47/100 (team 70)", "raised in 3 of 5 sessions"
    moment: Moment | None  # what the customer said
    answer: Moment | None  # what the rep said back (an objection's)
    call_points: int | None  # the cited call's score on the dimension
    tip: str
    call_is_lowest: bool = True  # the cited call is the period's lowest on the dimension

    @property
    def cites(self) -> str:
        """The cited moment in one line: call title, customer, date, mm:ss."""
        m = self.moment
        return (
            f'"{m.title}" with {m.customer}, {day(m.started_at)}, {clock(m.offset_seconds)} into the call'
            if m
            else ""
        )


def focus_areas(rep: RepFacts, v: Verdict) -> list[FocusArea]:
    """Up to three focus areas (fewer only when the period has fewer scored dimensions)."""
    dimensions = [_dimension(rep, d) for d in v.weakest]
    objections = [_objection(rep, label, count) for label, count in v.recurring]
    areas = [a for pair in zip_longest(dimensions, objections) for a in pair if a is not None]
    used: set[tuple[str, int]] = set()
    return [_cite(area, candidates, used) for area, candidates in areas[:FOCUS_AREAS]]


def _cite(area: FocusArea, candidates: Sequence[Example], used: set[tuple[str, int]]) -> FocusArea:
    """The area citing its first candidate moment no earlier area cites (none if all are)."""
    for example in candidates:
        said = [m for m in (example.raised, example.answer) if m is not None]
        if any((m.call_id, m.offset_seconds) in used for m in said):
            continue
        used.update((m.call_id, m.offset_seconds) for m in said)
        return replace(area, moment=example.raised, answer=example.answer)
    return area


def _dimension(rep: RepFacts, d: DimensionScore) -> tuple[FocusArea, Sequence[Example]]:
    team = f" (team {d.team_points})" if d.team_points is not None else ""
    weakest = rep.weakest.get(d.key)
    candidates: Sequence[Example] = weakest.moments if weakest else ()
    if d.key != "objection_handling":
        # Only objection handling is about the rep's answer; the others cite the customer's words.
        candidates = [Example(e.raised) for e in candidates]
    area = FocusArea(
        "dimension", d.key, d.label, f"{d.points}/100{team}", None, None,
        points(weakest.score) if weakest else None, DIMENSION_TIPS.get(d.key, ""),
        weakest.lowest if weakest else True,
    )  # fmt: skip
    return area, candidates


def _objection(rep: RepFacts, label: str, count: int) -> tuple[FocusArea, Sequence[Example]]:
    found = rep.objection(label)
    sessions = rep.current.sessions
    area = FocusArea(
        "objection", label, f"The {label} objection", f"raised in {count} of {sessions} sessions",
        None, None, None, OBJECTION_TIPS.get(label, DEFAULT_OBJECTION_TIP),
    )  # fmt: skip
    return area, found.examples if found else ()
