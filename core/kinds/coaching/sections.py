"""The coaching review's sections, and the text the local analyst writes for each.

Sections are data: a prompt template (`templates/coaching/prompts/<key>.j2`, for Cortex), a
text template (`templates/coaching/sections/<key>.md.j2`, for the local analyst) and one
entry below. Every figure a text template shows is a field of the rep's facts (their SQL),
or the verdict's rounding of one; the SQL shown with a section is the statements it read.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from core.errors import AgentRequestError
from core.kinds.base import Section
from core.kinds.coaching.facts import ONE_LINE, RepFacts
from core.kinds.coaching.focus import FocusArea, clock, day, focus_areas
from core.kinds.coaching.headline import CoachingHeadline, coaching_headline
from core.kinds.coaching.verdict import Verdict, period_word, points, signed, verdict
from core.templating import exists, render
from core.weeks import Week

KIND = "coaching"
SECTIONS: tuple[Section, ...] = (
    Section("summary", "Summary", kind=KIND),
    Section("scores", "Scores by Dimension", kind=KIND),
    Section("objections", "Recurring Objections", kind=KIND),
    Section("calls", "Calls This Week", kind=KIND),
    Section("focus", "Focus Areas", kind=KIND),
)
# The statements (core.kinds.coaching.facts.STATEMENTS) each section's figures come from.
SECTION_SQL = {
    "summary": ("reps", "scores"),
    "scores": ("scores", "team"),
    "objections": ("objections", "examples"),
    "calls": ("calls",),
    "focus": ("scores", "team", "objections", "examples", "weakest"),
}


@dataclass(frozen=True)
class Review:
    """What the sections, the headline and the prompts read of one rep's period: derived once."""

    rep: RepFacts
    verdict: Verdict
    focus: tuple[FocusArea, ...]
    headline: CoachingHeadline


def review(rep: RepFacts) -> Review:
    """The rep's review (the verdict, the focus areas, the headline), computed once per facts."""
    found = rep.derived.get("review")
    if found is None:
        v = verdict(rep)
        found = Review(rep, v, tuple(focus_areas(rep, v)), coaching_headline(rep, v))
        rep.derived["review"] = found
    return found


def minutes(seconds: int | None) -> str:
    """A call's duration in whole minutes, rounded half up ("32 min")."""
    return "length unknown" if seconds is None else f"{points(seconds / 60)} min"


# Helpers the text templates format with.
HELPERS: dict[str, Any] = {
    "clock": clock,
    "minutes": minutes,
    "day": day,
    "pts": points,
    "signed": signed,
}


def section_text(key: str, rep: RepFacts) -> str:
    """The local analyst's text of one section, from `templates/coaching/sections/<key>.md.j2`."""
    template = Section(key, "", KIND).text_template
    if not exists(template):
        raise AgentRequestError(f"the local analyst has no template for coaching section '{key}'")
    found = review(rep)
    return render(
        template, r=rep, v=found.verdict, focus=found.focus, h=found.headline,
        week=rep.week, period=_label(rep.week), last=period_word(rep), **HELPERS,
    )  # fmt: skip


@lru_cache(maxsize=64)
def _label(week: Week) -> str:
    return week.label()  # once per period, not once per rep (strftime is slow)


def section_sql(key: str) -> list[str]:
    """The statements one section's figures came from, one line each."""
    return [ONE_LINE[name] for name in SECTION_SQL.get(key, tuple(ONE_LINE))]
