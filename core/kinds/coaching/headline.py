"""A coaching review's headline: the figures and the verdict every surface shows first.

Stored as the report's metadata["headline"] (`as_dict`) and rebuilt from it by the kind's
`stored_headline` (`CoachingHeadline.from_dict`), so a stored review reads as it was built.
The EBR's headline (core.models.Headline) is a different type; generic code only calls
`as_dict()` on a report's headline and leaves the rest to the kind's templates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from core.kinds.coaching.facts import RepFacts
from core.kinds.coaching.verdict import Verdict, verdict


@dataclass
class CoachingHeadline:
    """A rep's period in figures (whole points, rounded half up) and the kind's verdict on it."""

    rep_id: str
    rep_name: str
    manager_id: str | None
    manager_name: str | None
    calls: int
    sessions: int
    score: float | None  # the average overall_score of the period's sessions
    score_points: int | None  # shown as "78/100"
    previous_points: int | None
    trend: int | None  # score_points - previous_points; None: "new" (or not scored)
    direction: str  # up | down | flat | new | unscored (core.kinds.coaching.verdict)
    # {key, label, points, trend, team_points} per dimension, in the sessions' column order
    dimensions: list[dict[str, Any]] = field(default_factory=list)
    objections: list[dict[str, Any]] = field(default_factory=list)  # {label, count}, most first
    verdict: str = ""
    verdict_reasons: list[str] = field(default_factory=list)  # each with its figure

    @property
    def verdict_line(self) -> str:
        """The verdict with its reasons in one line, as every surface shows it."""
        return f"{self.verdict}: {'; '.join(self.verdict_reasons)}" if self.verdict_reasons else self.verdict

    @property
    def score_text(self) -> str:
        """ "78/100", or "not scored"."""
        return f"{self.score_points}/100" if self.score_points is not None else "not scored"

    def as_dict(self) -> dict[str, Any]:
        """The fields for the report's JSON metadata: a non-finite number is stored as None."""
        # Field by field (dataclasses.asdict deep-copies: a tenth of a large run's time).
        return {name: _stored(getattr(self, name)) for name in _FIELDS}

    @classmethod
    def from_dict(cls, stored: Mapping[str, Any]) -> CoachingHeadline:
        """The headline from stored metadata (fields added later take their defaults)."""
        return cls(**{k: v for k, v in stored.items() if k in _FIELDS})


_FIELDS = tuple(f.name for f in fields(CoachingHeadline))


def _stored(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list):
        return [dict(v) if isinstance(v, dict) else v for v in value]
    return value


def coaching_headline(rep: RepFacts, found: Verdict | None = None) -> CoachingHeadline:
    """The headline of a rep's period from their facts and the kind's verdict on them."""
    v = found if found is not None else verdict(rep)
    return CoachingHeadline(
        rep_id=rep.rep_id, rep_name=rep.name, manager_id=rep.manager_id, manager_name=rep.manager_name,
        calls=rep.current.calls, sessions=rep.current.sessions,
        score=rep.current.overall if rep.current.sessions else None,
        score_points=v.score_points, previous_points=v.previous_points, trend=v.trend,
        direction=v.direction,
        dimensions=[
            {"key": d.key, "label": d.label, "points": d.points, "trend": d.trend, "team_points": d.team_points}
            for d in v.dimensions
        ],
        objections=[{"label": o.label, "count": o.sessions} for o in rep.objections],
        verdict=v.label, verdict_reasons=list(v.reasons),
    )  # fmt: skip
