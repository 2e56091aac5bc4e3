"""Follow-up answers over exact date ranges: a calendar period, two periods compared, and
the refusals for a period that cannot be answered.

Every period is resolved to dates for the report week (`periods.resolve`), clipped to the
report week's Sunday (the data of a report never runs past it), read with spans.fetch_span
and told with the dates it covers: an answer never silently covers another period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core.agent.base import AskContext
from core.agent.local.figures import METRICS, MetricSpec, basis, fmt, signed, value
from core.agent.local.intent import Intent
from core.agent.local.periods import Calendar, DateSpan, resolve
from core.agent.local.spans import SpanFigures, fetch_span
from core.format import change, relative_change
from core.kinds.ebr.analytics import Totals
from core.warehouse import Warehouse


@dataclass(frozen=True)
class Resolved:
    """A period's dates for this report, or why it has none (`problem`, a sentence)."""

    span: DateSpan | None
    note: str = ""
    problem: str = ""


def resolve_for(calendar: Calendar, context: AskContext) -> Resolved:
    """A calendar period's dates, clipped to the report week's Sunday (the clipping stated)."""
    anchor = context.week.end
    span = resolve(calendar, anchor)
    asked = f"“{calendar.text}”"
    if span is None:
        return Resolved(None, problem=f"I can't answer for {asked}: those are not dates I can build")
    if span.start > anchor:
        return Resolved(
            None,
            problem=f"I can't answer for {asked} ({span.label()}): the data ends with the report week, on {anchor:%b %d, %Y}",
        )
    if span.end > anchor:
        clipped = span.clipped(anchor)
        note = f"{span.name or span.label()} is read up to {anchor:%b %d, %Y}, the end of the report week"
        return Resolved(clipped, note)
    return Resolved(span)


def previous_like(calendar: Calendar, span: DateSpan, context: AskContext) -> DateSpan:
    """The period a single one is compared with: the month or quarter before, else the same
    number of days just before."""
    if calendar.kind in ("month", "named_month") and span.start.day == 1:
        end = span.start - dt.timedelta(days=1)
        start = end.replace(day=1)
        days = min(span.days, end.day)
        return DateSpan(start, start + dt.timedelta(days=days - 1), f"{start:%B %Y}")
    if calendar.kind in ("quarter", "named_quarter"):
        before = resolve(Calendar("quarter", (-1,)), span.start)
        if before is not None:
            return DateSpan(before.start, before.start + dt.timedelta(days=span.days - 1), before.name)
    return span.before()


def week_span(context: AskContext, offset: int, name: str) -> DateSpan:
    week = context.week.shift(offset)
    return DateSpan(week.start, week.end, name)


def weeks_span(context: AskContext, first: int, last: int, name: str) -> DateSpan:
    return DateSpan(context.week.shift(first).start, context.week.shift(last).end, name)


def month_to_date(context: AskContext) -> tuple[DateSpan, DateSpan]:
    """This month up to the report week's Sunday, and the same days of the month before."""
    end = context.week.end
    start = end.replace(day=1)
    prior_end = start - dt.timedelta(days=1)
    prior_start = prior_end.replace(day=1)
    day = min(end.day, prior_end.day)
    return (
        DateSpan(start, end, f"{end:%B} to date"),
        DateSpan(prior_start, prior_start.replace(day=day), f"the same days of {prior_start:%B}"),
    )


class PeriodAnswers:
    """Answers about exact date ranges for one customer."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse

    def read(self, context: AskContext, specs: list[MetricSpec], span: DateSpan) -> SpanFigures:
        tables = [table for spec in specs for table in spec.tables]
        return fetch_span(self.warehouse, context.customer_id, span, tables)

    def calendar(self, intent: Intent, context: AskContext) -> tuple[str, list[str]]:
        """The metrics over one calendar period (one channel's, when the question names one)."""
        resolved = resolve_for(intent.calendars[0], context)
        if resolved.span is None:
            return refusal(resolved.problem, intent, context), []
        specs = [METRICS[k] for k in intent.metrics]
        got = self.read(context, specs, resolved.span)
        sums = got.sums.total
        channel_note = ""
        if intent.channel:
            sums, channel_note = _channel(got, intent.channel)
        title = _title(resolved.span)
        if got.first_day is None:
            body = f"**No {' or '.join(dict.fromkeys(got.tables))} rows were recorded in {title}**, so there is no figure."
        elif intent.split:
            body = _split(got, specs[0], intent.dimension, title)
        elif len(specs) == 1:
            spec = specs[0]
            label = f"{spec.label} on {intent.channel}" if intent.channel else spec.label
            verb = "were" if label.endswith("s") else "was"
            computed = f" ({basis(sums, spec)})" if spec.ratio else ""
            body = f"**{label} {verb} {fmt(value(sums, spec), spec.kind)}** in {title}{computed}."
        else:
            body = "\n".join(
                [f"**{title}**", *(f"- {s.label}: **{fmt(value(sums, s), s.kind)}**" for s in specs)]
            )
        notes = [resolved.note, got.coverage() if got.first_day else "", channel_note]
        return blocks(body, *(_italic(n) for n in notes), source(got.tables, resolved.span.label())), got.sql

    def compare(self, intent: Intent, context: AskContext) -> tuple[str, list[str]]:
        """The metrics over two periods side by side, the later one's change on the earlier."""
        pair = self.pair(intent, context)
        if isinstance(pair, str):
            return refusal(pair, intent, context), []
        (now, before), note = pair
        specs = [METRICS[k] for k in intent.metrics]
        a, b = self.read(context, specs, now), self.read(context, specs, before)
        head = f"**{_title(now)[0].upper()}{_title(now)[1:]} vs {_title(before)}**"
        lines = [_side_by_side(a, b, spec) for spec in specs]
        notes = [note, a.coverage(), b.coverage()]
        src = source(a.tables, f"{now.label()} and {before.label()}")
        return blocks("\n".join([head, *lines]), *(_italic(n) for n in notes), src), [*a.sql, *b.sql]

    def pair(self, intent: Intent, context: AskContext) -> tuple[tuple[DateSpan, DateSpan], str] | str:
        """The (later, earlier) spans a comparison or a "why" reads; a problem sentence if none."""
        named = [c for c in intent.calendars if c.kind]
        if intent.topic == "week":
            return (week_span(context, 0, "the report week"), week_span(context, -1, "the week before")), ""
        if intent.topic == "month_to_date":
            return month_to_date(context), "Months are compared on the same days, like for like"
        if intent.topic == "year":
            return (week_span(context, 0, "the report week"), week_span(context, -52, "a year earlier")), ""
        if intent.topic == "weeks" or (intent.kind == "why" and not named):
            n = intent.period.count
            now = weeks_span(context, 1 - n, 0, f"the last {n} weeks")
            return (now, weeks_span(context, 1 - 2 * n, -n, f"the {n} weeks before")), ""
        first = resolve_for(named[0], context)
        if first.span is None:
            return first.problem
        if len(named) < 2:
            return (first.span, previous_like(named[0], first.span, context)), first.note
        second = resolve_for(named[1], context)
        if second.span is None:
            return second.problem
        spans = sorted([first.span, second.span], key=lambda s: s.start, reverse=True)
        note = "; ".join(n for n in (first.note, second.note) if n)
        if spans[0].days != spans[1].days:
            note = _join_notes(
                note, f"the periods have {spans[0].days} and {spans[1].days} days, so totals differ in length"
            )
        return (spans[0], spans[1]), note


def _side_by_side(a: SpanFigures, b: SpanFigures, spec: MetricSpec) -> str:
    """ "- Revenue: **$A** vs $B (▼ x%)"; "no data" for a period without rows, and then no change."""
    now = value(a.sums.total, spec) if a.first_day else None
    then = value(b.sums.total, spec) if b.first_day else None
    shown = [fmt(v, spec.kind) if side.first_day else "no data" for v, side in ((now, a), (then, b))]
    return f"- {spec.label}: **{shown[0]}** vs {shown[1]} ({moved(now, then, spec)})"


def moved(now: float | None, then: float | None, spec: MetricSpec) -> str:
    """The later figure's change on the earlier: points for a rate, a percentage otherwise,
    an amount when the earlier figure is not positive."""
    if now is None or then is None:
        return "n/a"
    if spec.kind == "rate":
        return signed(now - then, "rate")
    rel = relative_change(now, then)
    return change(rel) if rel is not None else signed(now - then, spec.kind)


def refusal(problem: str, intent: Intent, context: AskContext) -> str:
    """A period the analyst cannot answer for: what it understood, and the closest questions
    (periods around the report week that it can answer)."""
    what = METRICS[intent.metrics[0]].label.lower() if intent.metrics else "revenue"
    week = context.week
    last_month = week.end.replace(day=1) - dt.timedelta(days=1)
    closest = [
        f"{what} in {last_month:%B}", f"{what} over the last 4 weeks", f"{what} this month",
        f"{what} from {week.start:%b} {week.start.day} to {week.end:%b} {week.end.day}",
        "compare this week to the previous week",
    ]  # fmt: skip
    asked = (
        "the headline figures"
        if not intent.metrics
        else ", ".join(METRICS[k].label.lower() for k in intent.metrics)
    )
    return (
        f"{problem}, so I have not answered for another period. I understood a question about {asked}. "
        "The closest questions I can answer: " + ", ".join(f"“{q[0].upper()}{q[1:]}”" for q in closest) + "."
    )


def health_elsewhere(intent: Intent, context: AskContext) -> str:
    """A health question about another period: the verdict is made for the report week only."""
    week = context.week
    last_month = week.end.replace(day=1) - dt.timedelta(days=1)
    closest = [
        "Is this account at risk?", f"Revenue in {last_month:%B}", "Compare this week to the previous week",
        "Why did revenue drop over the last 4 weeks?",
    ]  # fmt: skip
    return (
        f"I can't answer for “{intent.topic}”: the account health verdict is made for the report week "
        f"({week.label()}) only, so I have not given it for another period. "
        "The closest questions I can answer: " + ", ".join(f"“{q}”" for q in closest) + "."
    )


def unresolved(intent: Intent, context: AskContext) -> str:
    """A period phrase no calendar rule reads ("the holidays", "Q5", "the fiscal year")."""
    problem = f"I can't answer for “{intent.topic}”: I can't tell which dates it means"
    return refusal(problem, intent, context)


def _channel(got: SpanFigures, channel: str) -> tuple[Totals, str]:
    for name, totals in got.sums.channels.items():
        if name.lower() == channel:
            return totals, ""
    names = ", ".join(sorted(got.sums.channels)) or "none"
    return Totals(), f"No {channel} rows in this period (channels with rows: {names})"


def _split(got: SpanFigures, spec: MetricSpec, dimension: str, title: str) -> str:
    groups = got.sums.by(dimension if spec.tables == ("conversions",) else "channel")
    ordered = sorted(groups.items(), key=lambda kv: (-(value(kv[1], spec) or 0), kv[0]))
    lines = [f"- {name}: {fmt(value(t, spec), spec.kind)}" for name, t in ordered]
    total = fmt(value(got.sums.total, spec), spec.kind)
    return "\n".join([f"**{spec.label} in {title}: {total}** (largest first)", *lines])


def _title(span: DateSpan) -> str:
    return f"{span.name} ({span.label()})" if span.name else span.label()


def _italic(note: str) -> str:
    return f"_{note[0].upper()}{note[1:]}._" if note else ""


def _join_notes(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def source(tables: list[str], label: str) -> str:
    return f"_Source: SQL over {', '.join(dict.fromkeys(tables))}, {label}._"


def blocks(*parts: str) -> str:
    return "\n\n".join(p for p in parts if p)
