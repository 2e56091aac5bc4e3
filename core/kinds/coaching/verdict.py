"""The coaching review's one verdict function (design §11): where a rep's period stands.

Every surface that judges a rep's period (the report, its headline, the email, the Slack
parent, the team summary, the section prompts) takes it from `verdict(rep)`; none judges
again. Scores are shown in whole points, rounded half up (`points`); the trend is this
period's points minus the previous period's, None ("new") when the previous period has no
sessions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from core.kinds.coaching.facts import DIMENSION_LABELS, DIMENSIONS, RepFacts, Scores

UP, DOWN, FLAT, NEW, UNSCORED = "up", "down", "flat", "new", "unscored"
LABELS = {
    UP: "Improving",
    DOWN: "Declining",
    FLAT: "Steady",
    NEW: "New",
    UNSCORED: "Not scored",
}
RECURRING = 2  # an objection raised in this many of the period's sessions recurs


def points(value: float | None) -> int | None:
    """A score in whole points, rounded half up (72.5 -> 73), as every surface shows it."""
    return None if value is None else math.floor(value + 0.5)


def trend(current: int | None, previous: int | None) -> int | None:
    """The move in whole points; None when either side has no score."""
    return None if current is None or previous is None else current - previous


def signed(value: int) -> str:
    """+3, -2, 0: a trend as the report writes it."""
    return f"+{value}" if value > 0 else str(value)


@dataclass(frozen=True)
class DimensionScore:
    """One dimension of the period, in whole points, with its trend and the team's points."""

    key: str
    label: str
    points: int | None
    previous_points: int | None
    trend: int | None
    team_points: int | None


@dataclass(frozen=True)
class Verdict:
    """Where the rep's period stands: its direction, a label, and the reasons, each with its figure."""

    direction: str  # up | down | flat | new | unscored
    label: str
    reasons: tuple[str, ...]
    score_points: int | None
    previous_points: int | None
    trend: int | None
    dimensions: tuple[DimensionScore, ...]
    recurring: tuple[tuple[str, int], ...]  # (objection, sessions), most sessions first

    @property
    def line(self) -> str:
        """The verdict with its reasons in one line, as every surface shows it."""
        return f"{self.label}: {'; '.join(self.reasons)}" if self.reasons else self.label

    @property
    def weakest(self) -> tuple[DimensionScore, ...]:
        """The scored dimensions, lowest points first (ties in the sessions' column order)."""
        scored = [d for d in self.dimensions if d.points is not None]
        return tuple(sorted(scored, key=lambda d: d.points if d.points is not None else 0))


def period_word(rep: RepFacts) -> str:
    """How the report names the previous period: "last week" for a week, else its length."""
    return "last week" if rep.week.days == 7 else f"the previous {rep.week.days} days"


def dimension_scores(current: Scores, previous: Scores, team: Scores | None) -> tuple[DimensionScore, ...]:
    result = []
    for key, label in DIMENSIONS:
        now = points(current.dimensions.get(key))
        before = points(previous.dimensions.get(key)) if previous.sessions else None
        mates = points(team.dimensions.get(key)) if team is not None else None
        result.append(DimensionScore(key, label, now, before, trend(now, before), mates))
    return tuple(result)


def verdict(rep: RepFacts) -> Verdict:
    """The verdict on a rep's period, from their facts (the kind's only judgement)."""
    now = points(rep.current.overall) if rep.current.sessions else None
    before = points(rep.previous.overall) if rep.previous.sessions else None
    moved = trend(now, before)
    if now is None:
        direction = UNSCORED
    elif before is None:
        direction = NEW
    else:
        direction = UP if moved and moved > 0 else DOWN if moved and moved < 0 else FLAT
    dimensions = dimension_scores(rep.current, rep.previous, rep.team)
    recurring = tuple((o.label, o.sessions) for o in rep.objections if o.sessions >= RECURRING)
    found = Verdict(direction, LABELS[direction], (), now, before, moved, dimensions, recurring)
    return replace(found, reasons=_reasons(rep, found))


def _reasons(rep: RepFacts, v: Verdict) -> tuple[str, ...]:
    """Why: the overall score and its move, the biggest dimension move, the weakest dimension
    against the team, the most recurring objection; each with its figure."""
    sessions = rep.current.sessions
    if v.direction == UNSCORED:
        calls = rep.current.calls
        if sessions:  # sessions without an overall score
            return (f"{sessions} coaching session{'s' if sessions != 1 else ''}, none with an overall score",)
        return (f"{calls} call{'s' if calls != 1 else ''}, none with a coaching session",)
    reasons = [f"overall {v.score_points}/100 over {sessions} session{'s' if sessions != 1 else ''}"]
    if v.trend is not None:
        reasons[0] += f", {signed(v.trend)} from {v.previous_points} {period_word(rep)}"
    else:
        reasons[0] += f", no sessions {period_word(rep)}"
    moves = [d for d in v.dimensions if d.trend]
    if moves:
        biggest = max(moves, key=lambda d: abs(d.trend or 0))
        reasons.append(f"{biggest.label.lower()} {signed(biggest.trend or 0)} to {biggest.points}")
    if v.weakest:
        low = v.weakest[0]
        team = f" (team {low.team_points})" if low.team_points is not None else ""
        reasons.append(f"weakest: {low.label.lower()} {low.points}/100{team}")
    if v.recurring:
        label, count = v.recurring[0]
        reasons.append(f"{label} objection in {count} of {sessions} sessions")
    return tuple(reasons)


def dimension_label(key: str) -> str:
    return DIMENSION_LABELS.get(key, key.replace("_", " ").capitalize())
