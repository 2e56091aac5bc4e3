"""Follow-up questions on a coaching review, answered by the local analyst from SQL.

`followup_intent.parse` reads the question; each kind of question has one answer function
here. Every statement of its own reads only the coaching tables and restricts each of them to
the thread's rep on its own rep_id (calls, coaching_sessions, transcripts), the rep's id bound
with `?` like every other value, so each also passes the guard's COACHING_SCOPE for that rep.
"What should I focus on?" is answered with the focus areas the review writes, from the kind's
facts of the period (which read the team's averages too, as the review does).
A question about another rep or the team is refused in one line (a rep sees only their own);
one not understood gets a one-line list of what can be asked. Every figure is read from the
rows these statements return; none is guessed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any

from core.agent.base import AskContext
from core.kinds.base import LocalAnswer
from core.kinds.coaching.facts import RepFacts, load_facts
from core.kinds.coaching.focus import clock, day
from core.kinds.coaching.followup_intent import (
    DIMENSIONS,
    LABELS,
    OVERALL,
    Question,
    Span,
    parse,
)
from core.kinds.coaching.sections import review, section_text
from core.kinds.coaching.verdict import points as _points
from core.warehouse import Warehouse
from core.warehouse.base import COACHING
from core.weeks import Week

SCORE_COLUMNS = (*DIMENSIONS, OVERALL)
_PERIOD = "c.started_at >= CAST(? AS DATE) AND c.started_at < CAST(? AS DATE)"

# The rep's calls in a period, each with its session's scores (none when the call was not scored).
CALLS_SQL = f"""
SELECT c.call_id, c.title, c.customer_name, c.started_at, c.duration_seconds, s.session_id,
       s.product_knowledge, s.discovery, s.objection_handling, s.engagement, s.overall_score, s.objections
FROM {COACHING}.calls AS c
LEFT JOIN {COACHING}.coaching_sessions AS s ON s.call_id = c.call_id AND s.rep_id = ?
WHERE c.rep_id = ? AND {_PERIOD}
ORDER BY c.started_at, c.call_id
"""

# Average scores of the sessions of calls started in a period, in buckets of N days from its first day.
SCORES_SQL = f"""
SELECT FLOOR(DATEDIFF('day', CAST(? AS DATE), c.started_at) / ?) AS bucket, COUNT(s.session_id) AS sessions,
       {", ".join(f"AVG(s.{column}) AS {column}" for column in SCORE_COLUMNS)}
FROM {COACHING}.calls AS c
JOIN {COACHING}.coaching_sessions AS s ON s.call_id = c.call_id
WHERE c.rep_id = ? AND s.rep_id = ? AND {_PERIOD}
GROUP BY 1
ORDER BY 1
"""

# The calls of a period whose session lists one objection label.
OBJECTION_CALLS_SQL = f"""
SELECT DISTINCT c.call_id, c.title, c.customer_name, c.started_at, s.overall_score, s.objection_handling
FROM {COACHING}.calls AS c
JOIN {COACHING}.coaching_sessions AS s ON s.call_id = c.call_id, LATERAL FLATTEN(input => s.objections) AS o
WHERE c.rep_id = ? AND s.rep_id = ? AND LOWER(o.value::VARCHAR) = ? AND {_PERIOD}
ORDER BY c.started_at, c.call_id
"""

# Each objection label of a period and the calls that raised it, most frequent first.
OBJECTION_COUNTS_SQL = f"""
SELECT LOWER(o.value::VARCHAR) AS label, COUNT(DISTINCT c.call_id) AS calls
FROM {COACHING}.calls AS c
JOIN {COACHING}.coaching_sessions AS s ON s.call_id = c.call_id, LATERAL FLATTEN(input => s.objections) AS o
WHERE c.rep_id = ? AND s.rep_id = ? AND {_PERIOD}
GROUP BY 1
ORDER BY calls DESC, label
"""

# The highlighted lines (the customer's and the rep's) of one objection label in a period.
MOMENTS_SQL = f"""
SELECT c.call_id, c.title, c.customer_name, c.started_at,
       h.value:offset_seconds::INTEGER AS offset_seconds, h.value:speaker_id::VARCHAR AS speaker_id,
       h.value:speaker::VARCHAR AS speaker, h.value:quote::VARCHAR AS quote
FROM {COACHING}.calls AS c
JOIN {COACHING}.coaching_sessions AS s ON s.call_id = c.call_id, LATERAL FLATTEN(input => s.highlights) AS h
WHERE c.rep_id = ? AND s.rep_id = ? AND LOWER(h.value:objection::VARCHAR) = ? AND {_PERIOD}
ORDER BY c.started_at DESC, c.call_id, offset_seconds
"""

# The rep's next line of a call after a moment, when the highlights hold no answer of theirs.
REPLY_SQL = f"""
SELECT t.offset_seconds, t.text
FROM {COACHING}.transcripts AS t
WHERE t.rep_id = ? AND t.speaker_id = ? AND t.call_id = ? AND t.offset_seconds > ?
ORDER BY t.offset_seconds
LIMIT 1
"""

MAX_LISTED = 15  # calls listed in one answer
MAX_MOMENTS = 3
LOOKBACK_DAYS = 84  # where the last moment is looked for when the period has none (12 weeks)
EXAMPLES = (
    "Which calls had pricing objections?",
    "How did my discovery score move over the last month?",
    "Show me where I handled the budget objection",
    "What should I focus on?",
    "How many calls did I have?",
    "What was my best call?",
)


def answer(warehouse: Warehouse, question: str, context: AskContext) -> LocalAnswer:
    """The answer to `question` about `context.subject_id`'s coaching, from SQL bound to that rep."""
    asked = parse(question, context.week, context.subject_id, context.subject_name)
    return _Answerer(warehouse, context).answer(asked)


class _Answerer:
    """One question's answer: runs the statements, keeps their SQL, writes the text."""

    def __init__(self, warehouse: Warehouse, context: AskContext) -> None:
        self.warehouse = warehouse
        self.rep = context.subject_id
        self.name = context.subject_name
        self.week = context.week
        self.facts = context.facts
        self.sql: list[str] = []
        self.cited: list[str] = []

    def answer(self, q: Question) -> LocalAnswer:
        handlers: dict[str, Callable[[Question], str]] = {
            "objections": self.objections,
            "moments": self.moments,
            "focus": self.focus,
            "best_worst": self.best_worst,
            "calls": self.calls,
            "scores": self.scores,
            "other_rep": self.other_rep,
            "unresolved_period": _unresolved,
            "other_language": lambda q: "I answer questions in English only; ask e.g. “" + EXAMPLES[0] + "”",
        }
        text = handlers.get(q.kind, _unknown)(q)
        return LocalAnswer(text, self.sql, list(dict.fromkeys(self.cited)))

    def _query(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        self.sql.append(" ".join(sql.split()))
        return self.warehouse.query(sql, params)

    def _period(self, span: Span) -> list[Any]:
        return [span.start, span.end + dt.timedelta(days=1)]

    def _calls(self, span: Span) -> list[dict[str, Any]]:
        return self._query(CALLS_SQL, [self.rep, self.rep, *self._period(span)])

    def _scores(self, origin: dt.date, days: int, first: dt.date, last: dt.date) -> dict[int, dict[str, Any]]:
        """Average scores of the calls from `first` to `last` (inclusive), by bucket of `days`
        days counted from `origin`."""
        rows = self._query(SCORES_SQL, [origin, days, self.rep, self.rep, first, last + dt.timedelta(days=1)])
        return {int(r["bucket"]): r for r in rows}

    def _source(self, tables: str, span: Span) -> str:
        return f"_Source: SQL over {tables} for {self.rep}, {span.label()}._"

    # Objections ----------------------------------------------------------------------------

    def objections(self, q: Question) -> str:
        if not q.label:
            return self._objection_counts(q)
        rows = self._query(OBJECTION_CALLS_SQL, [self.rep, self.rep, q.label, *self._period(q.span)])
        if not rows:
            others = self._objection_counts(q, heading=False)
            return _blocks(
                f"No call of {self.name}'s had a “{q.label}” objection in {q.span.described()}.", others
            )
        self.cited += [str(r["call_id"]) for r in rows]
        head = f"**{_calls_word(len(rows))} with a “{q.label}” objection** in {q.span.described()}:"
        lines = [
            f"- {_day(r['started_at'])}: *{r['title']}* with {r['customer_name']} "
            f"(overall {_score(r['overall_score'])}, objection handling {_score(r['objection_handling'])})"
            for r in rows[:MAX_LISTED]
        ]
        if len(rows) > MAX_LISTED:
            lines.append(f"- … and {len(rows) - MAX_LISTED} more")
        return _blocks(head, "\n".join(lines), _note(q), self._source("calls and coaching_sessions", q.span))

    def _objection_counts(self, q: Question, heading: bool = True) -> str:
        rows = self._query(OBJECTION_COUNTS_SQL, [self.rep, self.rep, *self._period(q.span)])
        if not rows:
            return f"No objections were recorded in {self.name}'s coaching sessions in {q.span.described()}."
        lines = [f"- {r['label']}: {_calls_word(int(r['calls']))}" for r in rows]
        head = (
            f"**Objections in {q.span.described()}**, by the calls that raised them:"
            if heading
            else "Objections recorded in that period:"
        )
        return _blocks(head, "\n".join(lines), self._source("calls and coaching_sessions", q.span))

    # Moments: the customer's words and the rep's answer ----------------------------------------

    def moments(self, q: Question) -> str:
        label = q.label or self._top_label(q.span)
        if not label:
            return f"No objections were recorded in {self.name}'s coaching sessions in {q.span.described()}."
        found = self._moments(label, q.span)
        span, note = q.span, ""
        if not found:
            span = Span(q.span.end - dt.timedelta(days=LOOKBACK_DAYS - 1), q.span.end, "the last 12 weeks")
            found = self._moments(label, span)
            if not found:
                return f"No “{label}” objection was raised on {self.name}'s calls in {q.span.described()} or the 12 weeks before."
            note = f"_None in {q.span.described()}; the latest from {span.described()}._"
        head = f"**Where {self.name} handled the “{label}” objection** ({_moments_word(len(found))}, latest first):"
        shown = [self._moment_text(m) for m in found[:MAX_MOMENTS]]
        more = f"_… and {len(found) - MAX_MOMENTS} more._" if len(found) > MAX_MOMENTS else ""
        source = self._source("calls, coaching_sessions (highlights) and transcripts", span)
        return _blocks(head, *shown, more, note, source)

    def _top_label(self, span: Span) -> str:
        rows = self._query(OBJECTION_COUNTS_SQL, [self.rep, self.rep, *self._period(span)])
        return str(rows[0]["label"]) if rows else ""

    def _moments(self, label: str, span: Span) -> list[dict[str, Any]]:
        """One moment per customer line: the call, when, what the customer said, the rep's answer."""
        rows = self._query(MOMENTS_SQL, [self.rep, self.rep, label.lower(), *self._period(span)])
        moments: list[dict[str, Any]] = []
        for r in rows:
            if r["speaker_id"] == self.rep:
                waiting = [m for m in moments if m["call_id"] == r["call_id"] and m["reply"] is None]
                if waiting and int(r["offset_seconds"]) > waiting[-1]["offset_seconds"]:
                    waiting[-1]["reply"] = r["quote"]
                continue
            moments.append({**r, "offset_seconds": int(r["offset_seconds"]), "reply": None})
        for m in moments:
            if m["reply"] is None:  # the highlights hold only the customer's words: the transcript
                said = self._query(REPLY_SQL, [self.rep, self.rep, m["call_id"], m["offset_seconds"]])
                m["reply"] = said[0]["text"] if said else None
        return moments

    def _moment_text(self, m: dict[str, Any]) -> str:
        self.cited.append(str(m["call_id"]))
        head = (
            f"- *{m['title']}* with {m['customer_name']}, {_day(m['started_at'])}, "
            f"at {clock(m['offset_seconds'])} into the call"
        )
        lines = [head, f"  > {m['speaker'] or 'The customer'}: “{m['quote']}”"]
        lines.append(
            f"  > {self.name}: “{m['reply']}”"
            if m["reply"]
            else f"  > ({self.name} did not answer on the record)"
        )
        return "\n".join(lines)

    # Focus areas: the review's own ----------------------------------------------------------

    def focus(self, q: Question) -> str:
        """The focus areas the review writes (core.kinds.coaching.focus, from the kind's facts),
        for the review's period or the one asked about, so the two never disagree."""
        span = q.span
        own = (span.start, span.end) == (self.week.start, self.week.end)
        rep = self.facts if own and isinstance(self.facts, RepFacts) else None
        if rep is None:
            facts = load_facts(self.warehouse, Week(span.start, span.days), [self.rep])
            self.sql += facts.sql
            rep = facts.get(self.rep)
        if rep is None or rep.current.sessions == 0:
            return f"No coaching sessions for {self.name} in {span.described()}, so no focus areas from it."
        self.cited += [a.moment.call_id for a in review(rep).focus if a.moment is not None]
        head = f"**Focus areas for {self.name}**, from {span.described()}:"
        return _blocks(head, section_text("focus", rep).strip(), _note(q))

    # Calls ----------------------------------------------------------------------------------

    def calls(self, q: Question) -> str:
        rows = self._calls(q.span)
        if not rows:
            return f"{self.name} had no calls in {q.span.described()}."
        scored = [r for r in rows if r["session_id"] is not None]
        head = f"**{_calls_word(len(rows))}** in {q.span.described()}, {len(scored)} with a coaching session:"
        lines = [_call_line(r) for r in rows[:MAX_LISTED]]
        if len(rows) > MAX_LISTED:
            lines.append(f"- … and {len(rows) - MAX_LISTED} more")
        return _blocks(head, "\n".join(lines), _note(q), self._source("calls and coaching_sessions", q.span))

    def best_worst(self, q: Question) -> str:
        column = q.dimensions[0] if q.dimensions else OVERALL
        scored = [r for r in self._calls(q.span) if r["session_id"] is not None and r[column] is not None]
        if not scored:
            return f"{self.name} had no scored calls in {q.span.described()}."
        sign = 1 if q.worst else -1  # the lowest or the highest; the earliest of equals
        pick = min(scored, key=lambda r: (sign * r[column], r["started_at"]))
        self.cited.append(str(pick["call_id"]))
        word = "lowest" if q.worst else "highest"
        head = (
            f"**{'Worst' if q.worst else 'Best'} call by {LABELS[column].lower()}** in {q.span.described()}: "
            f"*{pick['title']}* with {pick['customer_name']} ({_day(pick['started_at'])}), "
            f"{pick[column]}/100, the {word} of {_calls_word(len(scored), 'scored call')}."
        )
        detail = ", ".join(f"{LABELS[c].lower()} {pick[c]}" for c in DIMENSIONS)
        objections = _labels(pick["objections"])
        lines = [f"- Scores: {detail}; overall {pick[OVERALL]}/100"]
        if objections:
            lines.append(f"- Objections raised: {', '.join(objections)}")
        return _blocks(head, "\n".join(lines), self._source("calls and coaching_sessions", q.span))

    # Scores ---------------------------------------------------------------------------------

    def scores(self, q: Question) -> str:
        columns = list(q.dimensions) or [OVERALL]
        if not q.dimensions and q.every_dimension:
            columns = [*DIMENSIONS, OVERALL]
        # Several weeks asked about: week by week; the review's own period: against the one before.
        if q.span.days > 7 and (q.span.start, q.span.end) != (self.week.start, self.week.end):
            return self._series(q, columns)
        before = q.span.before()
        buckets = self._scores(before.start, q.span.days, before.start, q.span.end)
        now, then = buckets.get(1), buckets.get(0)
        if not now:
            return f"{self.name} had no coaching sessions in {q.span.described()}, so no scores."
        lines = [_versus(column, now, then) for column in columns]
        head = (
            f"**{self.name}'s scores in {q.span.described()}** ({_sessions_word(int(now['sessions']))}), "
            f"against {before.name} ({before.label()}):"
        )
        source = self._source("calls and coaching_sessions", Span(before.start, q.span.end, ""))
        return _blocks(head, "\n".join(lines), _note(q), source)

    def _series(self, q: Question, columns: list[str]) -> str:
        span = q.span
        # Monday-to-Sunday weeks, as the reviews count them; the first and last may be cut by the span.
        monday = span.start - dt.timedelta(days=span.start.weekday())
        weeks = self._scores(monday, 7, span.start, span.end)
        whole = self._scores(span.start, span.days, span.start, span.end).get(0)
        if not whole:
            return f"{self.name} had no coaching sessions in {span.described()}, so no scores."
        count = (span.end - monday).days // 7 + 1
        blocks = []
        for column in columns:
            seen = [(k, weeks[k]) for k in range(count) if k in weeks and weeks[k][column] is not None]
            if not seen:  # sessions without this score
                blocks.append(f"**{LABELS[column]}**: no session of the period has this score.")
                continue
            first, last = points(seen[0][1][column]), points(seen[-1][1][column])
            move = _signed((last or 0) - (first or 0)) if len(seen) > 1 else "one week with sessions only"
            lines = [f"**{LABELS[column]}, week by week**: {first} → {last}/100 ({move})"]
            for k in range(count):
                start = max(monday + dt.timedelta(days=7 * k), span.start)
                end = min(monday + dt.timedelta(days=7 * k + 6), span.end)
                row = weeks.get(k)
                figure = (
                    f"{points(row[column])}/100 ({_sessions_word(int(row['sessions']))})"
                    if row
                    else "no sessions"
                )
                lines.append(f"- {start:%b %d} – {end:%b %d}: {figure}")
            lines.append(f"- Whole period: {points(whole[column])}/100")
            blocks.append("\n".join(lines))
        head = f"**{self.name} over {span.described()}** ({_sessions_word(int(whole['sessions']))}):"
        return _blocks(head, *blocks, _note(q), self._source("calls and coaching_sessions", span))

    # Refusals --------------------------------------------------------------------------------

    def other_rep(self, q: Question) -> str:
        return (
            f"This thread is {self.name}'s review ({self.rep}): I answer only about {self.name}'s own calls "
            "and scores, never another rep's or the team's individual scores."
        )


def _unresolved(q: Question) -> str:
    return (
        f"I can't tell which dates “{q.problem}” means; name the weeks or dates instead, "
        "e.g. “over the last 4 weeks” or “in October”."
    )


def _unknown(q: Question) -> str:
    opening = "Hi! " if q.greeting else ""
    return f"{opening}I can answer questions like " + ", ".join(f"“{e}”" for e in EXAMPLES) + "."


# Helpers ------------------------------------------------------------------------------------


def _versus(column: str, now: dict[str, Any], then: dict[str, Any] | None) -> str:
    current = points(now[column])
    if then is None or then[column] is None:
        return f"- {LABELS[column]}: **{current}/100** (new: no sessions the period before)"
    previous = points(then[column])
    return f"- {LABELS[column]}: **{current}/100** ({_signed((current or 0) - (previous or 0))}; was {previous}/100)"


def _signed(delta: int) -> str:
    return "no change" if delta == 0 else f"{delta:+d}"


def _call_line(r: dict[str, Any]) -> str:
    minutes = (
        f"{int(r['duration_seconds']) // 60} min" if r["duration_seconds"] is not None else "length unknown"
    )
    score = f"{r['overall_score']}/100" if r["session_id"] is not None else "not scored"
    return f"- {_day(r['started_at'])}: *{r['title']}* with {r['customer_name']}, {minutes}, {score}"


def _labels(value: Any) -> list[str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return [str(v) for v in value or []]


def points(value: Any) -> int | None:
    """A score in whole points, half up, as the review shows it (Snowflake's AVG is a Decimal)."""
    return _points(None if value is None else float(value))


def _day(value: Any) -> str:
    return day(value)


def _score(value: Any) -> str:
    return "n/a" if value is None else f"{value}/100"


def _calls_word(n: int, noun: str = "call") -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _sessions_word(n: int) -> str:
    return f"{n} coaching session{'' if n == 1 else 's'}"


def _moments_word(n: int) -> str:
    return f"{n} moment{'' if n == 1 else 's'}"


def _note(q: Question) -> str:
    return f"_{q.note[0].upper()}{q.note[1:]}._" if q.note else ""


def _blocks(*blocks: str) -> str:
    return "\n\n".join(b for b in blocks if b)
