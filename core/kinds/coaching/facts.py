"""A coaching run's facts: every rep's period in seven set-based statements (design §10).

A rep's period is their calls whose `started_at` falls in [week.start, week.end] and those
calls' coaching sessions; the previous period is `week.previous` (the same length just
before). Each statement serves every rep of the run at once (their ids bound as one JSON
array), and the rows are folded into one `RepFacts` per rep. The statements' text is kept so
that an answer can show the SQL its figures came from.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.warehouse import Warehouse
from core.warehouse.base import COACHING
from core.weeks import Week

# Dimensions in the order of the coaching_sessions columns, with how a report names them.
DIMENSIONS: tuple[tuple[str, str], ...] = (
    ("product_knowledge", "Product knowledge"),
    ("discovery", "Discovery"),
    ("objection_handling", "Objection handling"),
    ("engagement", "Engagement"),
)
DIMENSION_LABELS = dict(DIMENSIONS)
EXAMPLES_PER_OBJECTION = 2  # calls quoted per recurring objection

# The run's reps, bound as one JSON array of ids.
IN_RUN = "IN (SELECT f.value::VARCHAR FROM TABLE(FLATTEN(input => PARSE_JSON(?))) f)"
# A call's start within [start, end + 1 day): both bounds bound as dates.
IN_PERIOD = "c.started_at >= CAST(? AS TIMESTAMP_NTZ) AND c.started_at < CAST(? AS TIMESTAMP_NTZ)"
_AVERAGES = ", ".join(f"AVG(s.{d}) AS {d}" for d in ("overall_score", *(key for key, _ in DIMENSIONS)))

REPS_SQL = f"""
SELECT r.speaker_id AS rep_id, r.name, r.email, r.slack_user_id, r.manager_id, m.name AS manager_name,
       m.email AS manager_email
FROM {COACHING}.speakers r LEFT JOIN {COACHING}.speakers m ON m.speaker_id = r.manager_id
WHERE r.company_side AND r.speaker_id {IN_RUN}
"""

# Calls, sessions and average scores of the period ('current') and the one before ('previous').
SCORES_SQL = f"""
SELECT c.rep_id,
       CASE WHEN c.started_at >= CAST(? AS TIMESTAMP_NTZ) THEN 'current' ELSE 'previous' END AS period,
       COUNT(DISTINCT c.call_id) AS calls, COUNT(s.session_id) AS sessions, {_AVERAGES}
FROM {COACHING}.calls c LEFT JOIN {COACHING}.coaching_sessions s ON s.call_id = c.call_id
WHERE c.rep_id {IN_RUN} AND {IN_PERIOD}
GROUP BY 1, 2
"""

# The period's averages of each run rep's manager's team: every company-side rep with that
# manager (not only the run's), over all their sessions of the period (each session counts once).
TEAM_AVERAGES_SQL = f"""
SELECT r.manager_id, COUNT(DISTINCT c.rep_id) AS reps, COUNT(s.session_id) AS sessions, {_AVERAGES}
FROM {COACHING}.speakers r
JOIN {COACHING}.calls c ON c.rep_id = r.speaker_id
JOIN {COACHING}.coaching_sessions s ON s.call_id = c.call_id
WHERE r.company_side
  AND r.manager_id IN (SELECT manager_id FROM {COACHING}.speakers WHERE speaker_id {IN_RUN})
  AND {IN_PERIOD}
GROUP BY 1
"""

# The period's calls, each with its session's overall score (NULL: not scored).
CALLS_SQL = f"""
SELECT c.rep_id, c.call_id, c.title, c.customer_name, c.started_at, c.duration_seconds,
       AVG(s.overall_score) AS score
FROM {COACHING}.calls c LEFT JOIN {COACHING}.coaching_sessions s ON s.call_id = c.call_id
WHERE c.rep_id {IN_RUN} AND {IN_PERIOD}
GROUP BY 1, 2, 3, 4, 5, 6
"""

# How many of the period's sessions raised each objection.
OBJECTIONS_SQL = f"""
SELECT c.rep_id, o.value::VARCHAR AS label, COUNT(DISTINCT s.session_id) AS sessions
FROM {COACHING}.calls c
JOIN {COACHING}.coaching_sessions s ON s.call_id = c.call_id,
LATERAL FLATTEN(input => s.objections) o
WHERE c.rep_id {IN_RUN} AND {IN_PERIOD} AND o.value::VARCHAR IS NOT NULL
GROUP BY 1, 2
"""

# Each objection's first two calls of the period, with every highlight of them about it: the
# customer's words and the rep's answer (speaker, seconds into the call, the quote).
EXAMPLES_SQL = f"""
WITH sessions AS (
    -- The run's sessions of the period first: FLATTEN then reads only these.
    SELECT c.rep_id, c.call_id, c.title, c.customer_name, c.started_at, s.highlights
    FROM {COACHING}.calls c JOIN {COACHING}.coaching_sessions s ON s.call_id = c.call_id
    WHERE c.rep_id {IN_RUN} AND {IN_PERIOD}
),
said AS (
    SELECT s.rep_id, s.call_id, s.title, s.customer_name, s.started_at,
           h.value:objection::VARCHAR AS label, h.value:speaker_id::VARCHAR AS speaker_id,
           h.value:speaker::VARCHAR AS speaker, h.value:offset_seconds::INTEGER AS offset_seconds,
           h.value:quote::VARCHAR AS quote
    FROM sessions s, LATERAL FLATTEN(input => s.highlights) h
    WHERE h.value:objection::VARCHAR IS NOT NULL
),
ranked AS (
    SELECT said.*, DENSE_RANK() OVER (PARTITION BY rep_id, label ORDER BY started_at, call_id) AS nth
    FROM said
)
SELECT rep_id, label, call_id, title, customer_name, started_at, speaker_id, speaker, offset_seconds, quote
FROM ranked WHERE nth <= {EXAMPLES_PER_OBJECTION}
ORDER BY rep_id, label, started_at, call_id, offset_seconds
"""

_BY_DIMENSION = "\n    UNION ALL\n    ".join(
    f"SELECT rep_id, call_id, title, customer_name, started_at, '{d}' AS dimension, {d} AS score, "
    f"cited, MIN({d}) OVER (PARTITION BY rep_id) AS lowest "
    f"FROM scored WHERE {d} IS NOT NULL"
    for d, _ in DIMENSIONS
)

# Per rep and dimension, the period's lowest-scored call on it that has a highlight (else the
# lowest of all), with every highlight of that call (speaker, seconds in, words, the objection
# it is about) as the moments it may cite, and the period's lowest score on the dimension (a
# review says whether the cited call is it); one row with NULL highlight columns when it has none. Objection handling only counts the calls
# whose session lists an objection: a call that raised none says nothing about handling one.
# Greetings and openers are never highlights, so they are never cited (core.kinds.coaching.focus).
WEAKEST_SQL = f"""
WITH scored AS (
    SELECT c.rep_id, c.call_id, c.title, c.customer_name, c.started_at, s.highlights,
           s.product_knowledge, s.discovery, s.engagement,
           CASE WHEN ARRAY_SIZE(s.objections) > 0 THEN s.objection_handling END AS objection_handling,
           COALESCE(ARRAY_SIZE(s.highlights), 0) > 0 AS cited
    FROM {COACHING}.calls c JOIN {COACHING}.coaching_sessions s ON s.call_id = c.call_id
    WHERE c.rep_id {IN_RUN} AND {IN_PERIOD}
),
by_dimension AS (
    {_BY_DIMENSION}
),
weakest AS (
    SELECT * FROM by_dimension
    QUALIFY ROW_NUMBER() OVER (
        PARTITION BY rep_id, dimension ORDER BY cited DESC, score, started_at, call_id
    ) = 1
),
moments AS (
    -- Only the weakest calls' highlights are flattened.
    SELECT w.rep_id, w.dimension, h.value:speaker_id::VARCHAR AS speaker_id,
           h.value:speaker::VARCHAR AS speaker, h.value:offset_seconds::INTEGER AS offset_seconds,
           h.value:quote::VARCHAR AS quote, h.value:objection::VARCHAR AS label
    FROM weakest w JOIN scored s ON s.call_id = w.call_id, LATERAL FLATTEN(input => s.highlights) h
)
SELECT w.rep_id, w.dimension, w.call_id, w.title, w.customer_name, w.started_at, w.score, w.lowest,
       m.speaker_id, m.speaker, m.offset_seconds, m.quote, m.label
FROM weakest w LEFT JOIN moments m ON m.rep_id = w.rep_id AND m.dimension = w.dimension
ORDER BY w.rep_id, w.dimension, m.offset_seconds
"""

STATEMENTS: dict[str, str] = {
    "reps": REPS_SQL,
    "scores": SCORES_SQL,
    "team": TEAM_AVERAGES_SQL,
    "calls": CALLS_SQL,
    "objections": OBJECTIONS_SQL,
    "examples": EXAMPLES_SQL,
    "weakest": WEAKEST_SQL,
}
# Each statement on one line, as answers show the SQL their figures came from.
ONE_LINE: dict[str, str] = {name: " ".join(sql.split()) for name, sql in STATEMENTS.items()}


@dataclass(slots=True)
class Scores:
    """One period's calls, sessions and average scores (None: no session scored it)."""

    calls: int = 0
    sessions: int = 0
    overall: float | None = None
    dimensions: dict[str, float | None] = field(default_factory=dict)

    @classmethod
    def of(cls, calls: Any, sessions: Any, overall: Any, *dimensions: Any) -> Scores:
        return cls(
            int(calls or 0),
            int(sessions or 0),
            _float(overall),
            {key: _float(v) for (key, _), v in zip(DIMENSIONS, dimensions, strict=True)},
        )


@dataclass(frozen=True, slots=True)
class Call:
    """One call of the period, with its session's overall score (None: not scored)."""

    call_id: str
    title: str
    customer: str
    started_at: dt.datetime
    duration_seconds: int | None
    score: float | None


@dataclass(frozen=True, slots=True)
class Moment:
    """Something said on a call: which call, when (seconds in), who, and the words."""

    call_id: str
    title: str
    customer: str
    started_at: dt.datetime
    offset_seconds: int
    speaker: str
    quote: str


@dataclass(frozen=True, slots=True)
class Example:
    """One call that raised an objection: the customer's words, and the rep's answer if any."""

    raised: Moment
    answer: Moment | None = None


@dataclass(slots=True)
class Objection:
    """An objection raised in the period: in how many sessions, and up to two calls' words."""

    label: str
    sessions: int
    examples: list[Example] = field(default_factory=list)


@dataclass(slots=True)
class Weakest:
    """A dimension's lowest-scored call of the period (objection handling's: of those that
    raised an objection), and the moments of it that may be cited: the customer's words of
    each highlight, in call order, with the rep's answer when the highlight is an objection's
    and the rep answered it."""

    dimension: str
    score: float
    call_id: str
    title: str
    customer: str
    started_at: dt.datetime
    moments: tuple[Example, ...] = ()
    # Whether it is the period's lowest-scored call on the dimension: a lower one without a
    # highlighted moment (nothing to cite) is passed over for the lowest one with one.
    lowest: bool = True


@dataclass(slots=True, eq=False)
class RepFacts:
    """Everything a rep's review needs for one period, as queried."""

    rep_id: str
    name: str
    email: str | None
    slack_user_id: str | None
    manager_id: str | None
    manager_name: str | None
    manager_email: str | None
    week: Week
    current: Scores = field(default_factory=Scores)
    previous: Scores = field(default_factory=Scores)
    team: Scores | None = None  # the manager's team in the period (None: no manager, or no sessions)
    calls: list[Call] = field(default_factory=list)
    objections: list[Objection] = field(default_factory=list)  # most sessions first
    weakest: dict[str, Weakest] = field(default_factory=dict)  # by dimension key
    # What is derived from these facts once (the verdict, the focus areas): the headline,
    # the prompts and five sections all read them.
    derived: dict[str, Any] = field(default_factory=dict, repr=False)

    def objection(self, label: str) -> Objection | None:
        return next((o for o in self.objections if o.label == label), None)


@dataclass
class CoachingFacts:
    """The queried facts of one run: one period, many reps (the `Facts` of core.kinds.base)."""

    week: Week
    reps: dict[str, RepFacts]

    @property
    def sql(self) -> list[str]:
        """Every statement the facts came from, one line each."""
        return list(ONE_LINE.values())

    def get(self, rep_id: str) -> RepFacts | None:
        return self.reps.get(rep_id)


def load_facts(warehouse: Warehouse, week: Week, rep_ids: Sequence[str]) -> CoachingFacts:
    """Query the period's facts of these reps (company-side speakers; others are left out)."""
    run = json.dumps(sorted(set(rep_ids)))
    period = [week.start, week.end + dt.timedelta(days=1)]
    reps = _reps(warehouse, week, run)
    both = [week.start, run, week.previous.start, period[1]]
    for rep, period_name, *figures in _rows(warehouse, reps, SCORES_SQL, both):
        setattr(rep, period_name, Scores.of(*figures))
    teams: dict[str, Scores] = {}
    _, rows = warehouse.fetch(TEAM_AVERAGES_SQL, [run, *period])
    for manager_id, _reps_in_team, sessions, overall, *dims in rows:
        teams[manager_id] = Scores.of(0, sessions, overall, *dims)
    for rep in reps.values():
        rep.team = teams.get(rep.manager_id) if rep.manager_id else None
    for rep, call_id, title, customer, started, duration, score in _rows(
        warehouse, reps, CALLS_SQL, [run, *period]
    ):
        rep.calls.append(Call(call_id, title or "", customer or "", started, _int(duration), _float(score)))
    for rep, label, sessions in _rows(warehouse, reps, OBJECTIONS_SQL, [run, *period]):
        rep.objections.append(Objection(str(label), int(sessions)))
    _attach_examples(warehouse, reps, [run, *period])
    _attach_weakest(warehouse, reps, [run, *period])
    for rep in reps.values():
        rep.calls.sort(key=lambda c: (c.started_at, c.call_id))
        rep.objections.sort(key=lambda o: (-o.sessions, o.label))
    return CoachingFacts(week, reps)


def _reps(warehouse: Warehouse, week: Week, run: str) -> dict[str, RepFacts]:
    _, rows = warehouse.fetch(REPS_SQL, [run])
    return {
        str(rep_id): RepFacts(str(rep_id), name, email, slack, manager_id, manager_name, manager_email, week)
        for rep_id, name, email, slack, manager_id, manager_name, manager_email in rows
    }


def _attach_examples(warehouse: Warehouse, reps: dict[str, RepFacts], params: list[Any]) -> None:
    """Each objection's examples: per call, the customer's first words on it and the rep's answer."""
    calls: dict[tuple[str, str, str], list[Moment]] = defaultdict(list)  # (rep, label, call) -> said
    spoke_for_rep: set[tuple[str, str, str, int]] = set()
    for rep, label, call_id, title, customer, started, speaker_id, speaker, offset, quote in _rows(
        warehouse, reps, EXAMPLES_SQL, params
    ):
        if offset is None or not quote:
            continue  # a highlight without its moment or words cannot be cited
        moment = Moment(call_id, title or "", customer or "", started, int(offset), speaker or "", quote)
        calls[rep.rep_id, label, call_id].append(moment)
        if speaker_id == rep.rep_id:
            spoke_for_rep.add((rep.rep_id, label, call_id, int(offset)))
    for (rep_id, label, call_id), said in calls.items():
        objection = reps[rep_id].objection(label)
        if objection is None:
            continue
        customer = [m for m in said if (rep_id, label, call_id, m.offset_seconds) not in spoke_for_rep]
        answers = [m for m in said if (rep_id, label, call_id, m.offset_seconds) in spoke_for_rep]
        if not customer:
            continue
        raised = customer[0]
        answer = next((a for a in answers if a.offset_seconds > raised.offset_seconds), None)
        objection.examples.append(Example(raised, answer))
    for rep in reps.values():
        for objection in rep.objections:
            objection.examples.sort(key=lambda e: (e.raised.started_at, e.raised.call_id))


def _attach_weakest(warehouse: Warehouse, reps: dict[str, RepFacts], params: list[Any]) -> None:
    """Each dimension's weakest call and its citable moments (see Weakest)."""
    said: dict[tuple[str, str], list[tuple[Moment, str | None, bool]]] = defaultdict(list)
    for rep, dimension, call_id, title, customer, started, score, lowest, *highlight in _rows(
        warehouse, reps, WEAKEST_SQL, params
    ):
        speaker_id, speaker, offset, quote, label = highlight
        if dimension not in rep.weakest:
            rep.weakest[dimension] = Weakest(
                dimension, float(score), call_id, title or "", customer or "", started,
                lowest=float(score) <= float(lowest),
            )  # fmt: skip
        if offset is None or not quote:
            continue  # no highlight, or one without its moment or words: nothing to cite
        if dimension == "objection_handling" and label is None:
            continue  # objection handling cites an objection's words, not any highlight
        moment = Moment(call_id, title or "", customer or "", started, int(offset), speaker or "", quote)
        said[rep.rep_id, dimension].append((moment, label, speaker_id == rep.rep_id))
    for (rep_id, dimension), lines in said.items():
        weakest = reps[rep_id].weakest[dimension]
        weakest.moments = tuple(_exchanges(lines))


def _exchanges(lines: list[tuple[Moment, str | None, bool]]) -> Iterator[Example]:
    """The customer's highlighted words, each with the rep's later answer about the same objection."""
    for moment, label, by_rep in lines:
        if by_rep:
            continue
        answer = next(
            (
                m
                for m, other, rep_said in lines
                if rep_said
                and label is not None
                and other == label
                and m.offset_seconds > moment.offset_seconds
            ),
            None,
        )
        yield Example(moment, answer)


def _rows(
    warehouse: Warehouse, reps: dict[str, RepFacts], sql: str, params: Sequence[Any]
) -> Iterator[tuple[Any, ...]]:
    """The query's rows with the rep id (the first column) replaced by the rep's facts."""
    _, rows = warehouse.fetch(sql, params)
    for rep_id, *rest in rows:
        if (rep := reps.get(rep_id)) is not None:
            yield (rep, *rest)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)
