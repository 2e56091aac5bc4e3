"""Follow-up questions of the local analyst, answered from SQL for one customer.

`intent.parse` reads the question; each kind of question has one answer method here that
runs the fewest statements it can (one grouped query per table it reads, see figures.py),
writes a one-line headline and a few bullets, and ends with the source it came from. A
question it does not understand gets an honest "can't answer that" and the list of what
it can answer: the analyst never guesses a figure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from core.agent.base import AskContext
from core.agent.local import figures
from core.agent.local.figures import CONVERSIONS, METRICS, MetricSpec, Window, fmt, signed, value
from core.agent.local.focus_answers import FocusAnswers
from core.agent.local.intent import Intent, Period, parse
from core.agent.local.period_answers import PeriodAnswers, health_elsewhere, refusal, unresolved
from core.agent.local.recommendation_detail import explain, overview
from core.agent.local.why import why_section, why_weeks
from core.format import change, number, pct, relative_change
from core.kinds.ebr.analysis import Metric, analyse
from core.kinds.ebr.analytics import Analytics, Totals
from core.kinds.ebr.recommendations import recommend
from core.kinds.ebr.search import SQL as CASE_STUDY_SQL
from core.kinds.ebr.search import CaseStudy, CaseStudyIndex
from core.warehouse import Warehouse
from core.weeks import Week

BENCHMARKED = (
    "open_rate",
    "click_through_rate",
    "engagement_score",
    "avg_conversion_value",
    "conversion_rate",
    "revenue",
)
# What "vs the benchmark" compares a metric on: counts by their rates, revenue by its growth.
BENCHMARK_SUBJECT = {"conversions": "conversion_rate", "opens": "open_rate", "clicks": "click_through_rate"}

CAPABILITIES = (
    ("A metric for a period", "What was revenue last week?", "Open rate over the last four weeks?"),
    (
        "A breakdown by channel or campaign",
        "What was revenue by channel last week?",
        "Conversions by campaign?",
    ),
    ("The industry benchmark", "How do we compare to the benchmark?", "Is CTR above benchmark?"),
    ("Why a metric moved", "Why did revenue drop?", "What drove the change in conversions?"),
    ("Case studies", "Any case studies about churn?", "Show me examples of improving open rates"),
    ("Account health", "Is this account at risk?", "Why is health Watch?"),
    (
        "A recommendation in depth",
        "Tell me more about the second recommendation",
        "What are the recommendations?",
    ),
    ("A calendar period", "How did we do in October?", "Revenue last quarter?"),
    (
        "Two periods compared",
        "Compare this week to the previous week",
        "How does this compare to last month?",
    ),
    ("One channel or campaign", "What happened to SMS?", "How did the Winback campaign do?"),
    ("Talking points", "Summarise in three bullets", "What should I tell the customer on the call?"),
)


@dataclass
class Reply:
    """An answer: its text, the SQL of every statement run for it, the case studies cited."""

    text: str
    sql: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


class FollowupAnswerer:
    """Answers one follow-up question about the customer of `AskContext`."""

    def __init__(self, warehouse: Warehouse, index: CaseStudyIndex) -> None:
        self.warehouse = warehouse
        self.index = index
        self.periods = PeriodAnswers(warehouse)
        self.focus = FocusAnswers(warehouse, index)

    def answer(self, question: str, context: AskContext) -> Reply:
        """Parse the question and answer it from the warehouse."""
        intent = parse(question, context.customer_id)
        handlers: dict[str, Callable[[Intent, AskContext], Reply]] = {
            "metric": self._metric,
            "breakdown": self._breakdown,
            "benchmark": self._benchmark,
            "why": self._why,
            "case_studies": self._case_studies,
            "recommendation": self._recommendation,
            "health": self._health,
            "other_customer": _other_customer,
            "calendar": self._calendar,
            "compare": self._compare,
            "unresolved_period": lambda i, c: Reply(unresolved(i, c)),
            "health_other_period": lambda i, c: Reply(health_elsewhere(i, c)),
            "other_language": _other_language,
            "channel": lambda i, c: Reply(*self.focus.channel(i, c)),
            "campaign": lambda i, c: Reply(*self.focus.campaign(i, c)),
            "talking_points": lambda i, c: Reply(*self.focus.talking_points(i, c)),
        }
        return handlers.get(intent.kind, _unknown)(intent, context)

    def _fetch(self, context: AskContext, specs: list[MetricSpec], ranges: list[tuple[int, int]]) -> Window:
        tables = [table for spec in specs for table in spec.tables]
        return figures.fetch(self.warehouse, context.customer_id, context.week, tables, ranges)

    # A metric for a period ---------------------------------------------------------------

    def _metric(self, intent: Intent, context: AskContext) -> Reply:
        specs = [METRICS[key] for key in intent.metrics]
        period = intent.period
        if period.kind == "weeks":
            window = self._fetch(context, specs, [(period.offsets[0], 0)])
            sections = [
                _trend(window, specs[0], period) if len(specs) == 1 else _trends(window, specs, period)
            ]
            extra = ""
        elif period.kind == "year_ago":
            window = self._fetch(context, specs, [(0, 0), (-52, -52)])
            sections = [_single(window, specs, -52, (0, "the report week"))]  # the one later week
            extra = " and the report week"
        else:
            k = period.offsets[0]
            window = self._fetch(context, specs, [(k - 1, k), (k - 52, k - 52)])
            sections = [_single(window, specs, k, (k - 1, "the week before"), (k - 52, "a year earlier"))]
            extra = " with the week before and a year earlier"
        source = _source(window.tables, _period_label(context, period) + extra)
        return Reply(_blocks(*sections, _note(intent), source), window.sql)

    # Calendar periods and comparisons (period_answers.py) ----------------------------------

    def _calendar(self, intent: Intent, context: AskContext) -> Reply:
        return Reply(*self.periods.calendar(intent, context))

    def _compare(self, intent: Intent, context: AskContext) -> Reply:
        return Reply(*self.periods.compare(intent, context))

    # A breakdown by channel or campaign --------------------------------------------------

    def _breakdown(self, intent: Intent, context: AskContext) -> Reply:
        specs = [METRICS[key] for key in intent.metrics]
        offsets = intent.period.offsets
        window = self._fetch(context, specs, [(offsets[0], offsets[-1])])
        weeks, label = window.over(offsets), _period_label(context, intent.period)
        sections = [_breakdown_section(weeks, spec, intent.dimension, label) for spec in specs]
        return Reply(_blocks(*sections, _note(intent), _source(window.tables, label)), window.sql)

    # The industry benchmark --------------------------------------------------------------

    def _benchmark(self, intent: Intent, context: AskContext) -> Reply:
        asked = intent.metrics or BENCHMARKED
        subjects = list(dict.fromkeys(BENCHMARK_SUBJECT.get(k, k) for k in asked if METRICS[k].benchmark))
        missing = [METRICS[k].label for k in asked if not METRICS[k].benchmark]
        if not subjects:
            text = f"There is no industry benchmark for {', '.join(missing).lower()}."
            return Reply(_blocks(text, _capability_line(2)))
        offsets = intent.period.offsets
        window = self._fetch(context, [METRICS[k] for k in subjects], [(offsets[0] - 1, offsets[-1])])
        values = figures.benchmarks(self.warehouse, context.industry)
        sql = [*window.sql, figures.collapse(figures.BENCHMARKS_SQL)]
        if not values:
            return Reply(
                f"There are no {context.industry} benchmarks in industry_benchmarks to compare with.", sql
            )
        compared = [_benchmark_metric(window, METRICS[k], offsets, values) for k in subjects]
        label = _period_label(context, intent.period)
        if len(compared) == 1:
            lines = [_benchmark_detail(*compared[0])]
        else:
            lines = [_benchmark_line(m) for m, _ in compared]
        notes = [
            f"No industry benchmark exists for {', '.join(missing).lower()}." if missing else "",
            _note(intent),
        ]
        source = _source([*window.tables, "industry_benchmarks"], label)
        head = _benchmark_head([m for m, _ in compared], context.industry, label)
        text = _blocks(head, "\n".join(lines), *notes, source)
        return Reply(text, sql)

    # Why a metric moved ------------------------------------------------------------------

    def _why(self, intent: Intent, context: AskContext) -> Reply:
        specs = [METRICS[key] for key in intent.metrics]
        if intent.calendars or intent.period.kind == "weeks":
            return self._why_spans(intent, context, specs)
        base, current = why_weeks(intent)
        window = self._fetch(context, specs, [(base, base), (current, current)])
        before, after = window.at(base), window.at(current)
        labels = (
            f"the week of {context.week.shift(base).label()}",
            f"the week of {context.week.shift(current).label()}",
        )
        sections = [why_section(before, after, labels, spec, intent.direction) for spec in specs]
        weeks = f"weeks of {context.week.shift(base).label()} and {context.week.shift(current).label()}"
        return Reply(_blocks(*sections, _note(intent), _source(window.tables, weeks)), window.sql)

    def _why_spans(self, intent: Intent, context: AskContext, specs: list[MetricSpec]) -> Reply:
        """Why a metric moved between two periods of several weeks or days: the later period
        (e.g. the last 4 weeks) against the one before it of the same length."""
        pair = self.periods.pair(intent, context)
        if isinstance(pair, str):
            return Reply(refusal(pair, intent, context))
        (now, then), note = pair
        a, b = self.periods.read(context, specs, now), self.periods.read(context, specs, then)
        labels = (f"{then.name} ({then.label()})", f"{now.name} ({now.label()})")
        sections = [why_section(b.sums, a.sums, labels, spec, intent.direction) for spec in specs]
        notes = [f"_{note}._" if note else "", _note(intent)]
        source = _source(a.tables, f"{now.label()} and {then.label()}")
        return Reply(_blocks(*sections, *notes, source), [*a.sql, *b.sql])

    # Case studies ------------------------------------------------------------------------

    def _case_studies(self, intent: Intent, context: AskContext) -> Reply:
        sql = [figures.collapse(CASE_STUDY_SQL)]
        if intent.topic:
            hits = [h.study for h in self.index.search(intent.topic, industry=context.industry, limit=3)]
            head = f"**Case studies about “{intent.topic}”**"
        else:
            hits = _same_industry(self.index, context.industry)
            head = f"**{context.industry} case studies** (name a topic to search, e.g. churn or open rates)"
        if not hits:
            text = f"No case study matches “{intent.topic}”. Try a topic such as churn, open rates or click-through."
            return Reply(_blocks(text, "_Source: search over case_studies._"), sql)
        lines = [f"- **{s.title}** ({s.industry or 'any industry'}): {s.results}" for s in hits]
        source = f"_Source: search over case_studies ({context.industry} stories rank higher)._"
        return Reply(_blocks(head, "\n".join(lines), source), sql, [s.case_study_id for s in hits])

    # A recommendation in depth -----------------------------------------------------------

    def _recommendation(self, intent: Intent, context: AskContext) -> Reply:
        snapshot = Analytics(self.warehouse).snapshot(context.week, [context.customer_id])
        sql = [*snapshot.sql, figures.collapse(CASE_STUDY_SQL)]
        data = snapshot.get(context.customer_id)
        if data is None:
            return Reply(
                f"{context.customer_id} is not in the customers table, so there are no recommendations.", sql
            )
        analysis = analyse(data)
        recs = recommend(analysis, self.index)
        label = context.week.label()
        if intent.number is None or not 1 <= intent.number <= len(recs):
            return Reply(overview(recs, intent.number, label), sql)
        rec = recs[intent.number - 1]
        sources = [rec.case_study.study.case_study_id] if rec.case_study else []
        return Reply(explain(rec, intent.number, len(recs), analysis, label), sql, sources)

    # Account health ----------------------------------------------------------------------

    def _health(self, intent: Intent, context: AskContext) -> Reply:
        """The verdict of core.kinds.ebr.health for the report week, with every reason behind it."""
        snapshot = Analytics(self.warehouse).snapshot(context.week, [context.customer_id])
        data = snapshot.get(context.customer_id)
        if data is None:
            return Reply(f"{context.customer_id} is not in the customers table, so it has no health verdict.")
        health = analyse(data).health
        label = context.week.label()
        head = f"**{context.customer_name} is {health.label}** (week of {label}): {health.because}."
        if intent.topic and intent.topic != health.label.lower():
            head = f"**{context.customer_name} is {health.label}, not {intent.topic.capitalize()}** (week of {label}): {health.because}."
        weighing = [r for r in health.reasons if r.level > 0 or r.seasonal] or list(health.reasons)
        lines = [f"- {_LEVEL_WORDS[r.level]}: {r.text}" for r in weighing]
        source = _source(
            ["conversions", "historical_engagement", "industry_benchmarks"],
            f"week of {label}, the 11 weeks before it and the same weeks a year earlier",
        )
        return Reply(_blocks(head, "\n".join(lines), HEALTH_RULE, source), snapshot.sql)


_LEVEL_WORDS = {0: "Note", 1: "Watch", 2: "At risk"}
HEALTH_RULE = (
    "_At risk when any signal reaches its At risk threshold or three reach Watch; Watch when one "
    "does; a fall the same weeks last year also showed counts one level lower. The thresholds are "
    "in the README (Account health)._"
)


# Sections -------------------------------------------------------------------------------


def _single(window: Window, specs: list[MetricSpec], k: int, *others: tuple[int, str]) -> str:
    """One week's figure(s), each compared with the `others` weeks."""
    week = window.week.shift(k)
    totals = window.at(k).total
    if len(specs) == 1:
        spec = specs[0]
        basis = figures.basis(totals, spec)
        head = f"**{spec.label} {_was(spec)} {fmt(value(totals, spec), spec.kind)}** in the week of {week.label()}"
        head += f" ({basis})." if basis else "."
        if not figures.has_data(totals, spec):
            head += f" No {' or '.join(spec.tables)} rows were recorded that week."
        return _join(head, *(f"- {_versus(window, spec, k, other, name)}" for other, name in others))
    lines = []
    for spec in specs:
        current = fmt(value(totals, spec), spec.kind)
        moves = "; ".join(_versus(window, spec, k, other, name, brief=True) for other, name in others)
        lines.append(f"- {spec.label}: **{current}** ({moves})")
    return _join(f"**Week of {week.label()}**", *lines)


def _was(spec: MetricSpec) -> str:
    return "were" if spec.label.endswith("s") else "was"


def _versus(window: Window, spec: MetricSpec, k: int, other: int, name: str, brief: bool = False) -> str:
    """Week `k` against week `other`, always told as the later week's change on the earlier.

    Only the year-ago answer compares its week with a later one (the report week).
    """
    then = fmt(value(window.at(other).total, spec), spec.kind)
    if other < k:
        move = _movement(window, spec, k, other)
        return (
            f"{move} vs {name}" if brief else f"{move} vs {name} ({window.week.shift(other).label()}: {then})"
        )
    move = _movement(window, spec, other, k)
    if brief:
        return f"{name}: {then}, {move}"
    return f"{name.capitalize()} ({window.week.shift(other).label()}): {then}, {move} on a year earlier"


def _movement(window: Window, spec: MetricSpec, k: int, other: int) -> str:
    now, then = value(window.at(k).total, spec), value(window.at(other).total, spec)
    if now is None or then is None:
        return "n/a"
    return signed(now - then, "rate") if spec.kind == "rate" else change(relative_change(now, then))


def _trend(window: Window, spec: MetricSpec, period: Period) -> str:
    offsets = period.offsets
    overall = window.over(offsets).total
    word = "in total" if spec.additive else "overall"
    span = _span(window.week, period)
    head = f"**{spec.label} over the last {period.count} weeks ({span}): {fmt(value(overall, spec), spec.kind)} {word}**"
    lines = [f"- {window.week.shift(k).label()}: {_week_figure(window.at(k).total, spec)}" for k in offsets]
    if spec.additive:
        lines.append(f"- Weekly average: {fmt((value(overall, spec) or 0) / period.count, spec.kind)}")
    lines.append(f"- First week to last: {_movement(window, spec, 0, offsets[0])}")
    return _join(head, *lines)


def _trends(window: Window, specs: list[MetricSpec], period: Period) -> str:
    """Several metrics over several weeks, one line per week."""

    def figures_of(totals: Totals) -> str:
        return ", ".join(f"{spec.label.lower()} {fmt(value(totals, spec), spec.kind)}" for spec in specs)

    head = f"**The last {period.count} weeks ({_span(window.week, period)}), week by week**"
    lines = [f"- {window.week.shift(k).label()}: {figures_of(window.at(k).total)}" for k in period.offsets]
    lines.append(f"- **All {period.count} weeks: {figures_of(window.over(period.offsets).total)}**")
    return _join(head, *lines)


def _breakdown_section(weeks: figures.WeekTotals, spec: MetricSpec, dimension: str, label: str) -> str:
    note = ""
    if dimension == "campaign" and spec.tables != (CONVERSIONS,):
        note = f"_Campaigns are recorded only on conversions, so {spec.label.lower()} is shown by channel._"
        dimension = "channel"
    total = value(weeks.total, spec)
    figure = {name: value(t, spec) for name, t in weeks.by(dimension).items()}
    parts = sorted(
        weeks.by(dimension).items(), key=lambda kv: (figure[kv[0]] is None, -(figure[kv[0]] or 0), kv[0])
    )
    lines = [
        f"- {name}: {fmt(value(t, spec), spec.kind)} ({_share(t, weeks.total, spec)})" for name, t in parts
    ]
    word = "total" if spec.additive else "overall"
    lines.append(f"- **{word.capitalize()}: {fmt(total, spec.kind)}**")
    head = f"**{spec.label} by {dimension}, {label}: {fmt(total, spec.kind)} {word}** (largest first)"
    return _join(
        head, note, "\n".join(lines) if parts else f"No {' or '.join(spec.tables)} rows in this period."
    )


def _share(part: Totals, whole: Totals, spec: MetricSpec) -> str:
    """The share of the total, or for a ratio, the share of its denominator it rests on."""
    if spec.key == "engagement_score":
        return f"{number(part.score_n)} daily scores"
    field_name = spec.key if spec.ratio is None else spec.ratio[1]
    size, total = getattr(part, field_name), getattr(whole, field_name)
    label = "of the total" if spec.ratio is None else f"of {figures.DENOMINATOR_LABELS[field_name]}"
    return f"{pct(size / total if total else None, 1)} {label}"


def _benchmark_metric(
    window: Window, spec: MetricSpec, offsets: list[int], values: dict[str, tuple[float, float | None]]
) -> tuple[Metric, str]:
    """The metric against its benchmark (as the report's `Metric` judges it), and the
    benchmark's typical range when the industry has a spread."""
    target, spread = values.get(spec.benchmark or "", (None, None))
    if spec.key == "revenue":
        current = _weekly_growth(window, offsets)
        label, kind = "Revenue growth, week over week" + (" (average)" if len(offsets) > 1 else ""), "rate"
    else:
        current = value(window.over(offsets).total, spec)
        label = spec.label + (" (conversions per send)" if spec.key == "conversion_rate" else "")
        kind = spec.kind
    metric = Metric(spec.key, label, kind, current, None, None, spec.benchmark, target, current)
    typical = (
        ""
        if target is None or spread is None
        else f"{fmt(target - spread, kind)}–{fmt(target + spread, kind)}"
    )
    return metric, typical


def _weekly_growth(window: Window, offsets: list[int]) -> float | None:
    """Compound weekly growth from the week before the period to its last week."""
    before, last = window.at(offsets[0] - 1).total.revenue, window.at(offsets[-1]).total.revenue
    if before <= 0 or last <= 0:
        return None
    return float((last / before) ** (1 / len(offsets)) - 1)


def _benchmark_head(metrics: list[Metric], industry: str, label: str) -> str:
    if len(metrics) == 1:
        m = metrics[0]
        if m.vs_benchmark == "no benchmark":
            return f"**There is no {industry} benchmark to compare {m.label.lower()} with**, {label}."
        where = "in line with" if m.vs_benchmark == "in line" else m.vs_benchmark
        return (
            f"**{m.label} was {where} the {industry} benchmark: {fmt(m.current, m.kind)} vs "
            f"{fmt(m.benchmark, m.kind)}**, {label}."
        )
    counts = {s: sum(m.vs_benchmark == s for m in metrics) for s in ("above", "in line", "below")}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items())
    return f"**Against the {industry} benchmarks, {label}: {summary}.**"


def _benchmark_line(m: Metric) -> str:
    if m.vs_benchmark == "no benchmark":
        return f"- {m.label}: {fmt(m.current, m.kind)} (no benchmark, or no data to compare)"
    return f"- {m.label}: {fmt(m.current, m.kind)} vs {fmt(m.benchmark, m.kind)}, **{m.vs_benchmark}** ({_gap(m)})"


def _benchmark_detail(m: Metric, typical: str) -> str:
    if m.vs_benchmark == "no benchmark":
        return ""
    lines = [f"- Gap to the benchmark: {_gap(m)}"]
    if typical:
        lines.append(f"- Typical range in the industry (one spread either side): {typical}")
    return _join(*lines)


def _gap(m: Metric) -> str:
    if m.key == "revenue":
        return signed((m.current or 0) - (m.benchmark or 0), "rate")
    return change(relative_change(m.current, m.benchmark))


# Replies without figures ------------------------------------------------------------------


def _unknown(intent: Intent, context: AskContext) -> Reply:
    opening = {"hello": "Hi!", "thanks": "You're welcome!"}.get(
        intent.greeting, "I can't answer that from the data."
    )
    lines = [
        f"{opening} I answer questions about {context.customer_name} from SQL over its warehouse data, such as:",
        *(_capability_line(i) for i in range(len(CAPABILITIES))),
    ]
    return Reply("\n".join(lines))


def _other_customer(intent: Intent, context: AskContext) -> Reply:
    text = (
        f"This thread is about {context.customer_name} ({context.customer_id}), so I answer only for that "
        "customer here. Ask in the other customer's report thread, or run `/weekly-report` with its id."
    )
    return Reply(text)


def _other_language(intent: Intent, context: AskContext) -> Reply:
    examples = ", ".join(f"“{CAPABILITIES[i][1]}”" for i in (0, 1, 3))
    text = (
        "I answer questions in English only, so I have not guessed at this one. "
        f"Ask in English about {context.customer_name}, for example: {examples}"
    )
    return Reply(text)


def _same_industry(index: CaseStudyIndex, industry: str, limit: int = 3) -> list[CaseStudy]:
    return [s for s in index.studies if (s.industry or "").lower() == industry.lower()][:limit]


def _capability_line(i: int) -> str:
    name, example, other = CAPABILITIES[i]
    return f"- **{name}**: “{example}” or “{other}”"


# Helpers ----------------------------------------------------------------------------------


def _period_label(context: AskContext, period: Period) -> str:
    if period.kind == "weeks":
        return f"the last {period.count} weeks ({_span(context.week, period)})"
    return f"week of {context.week.shift(period.offsets[0]).label()}"


def _span(week: Week, period: Period) -> str:
    """The dates of the `period.count` weeks ending with `week`."""
    first = week.shift(1 - period.count).start
    start = f"{first:%b %d, %Y}" if first.year != week.end.year else f"{first:%b %d}"
    return f"{start} – {week.end:%b %d, %Y}"


def _week_figure(totals: Totals, spec: MetricSpec) -> str:
    return fmt(value(totals, spec), spec.kind) if figures.has_data(totals, spec) else "no data"


def _source(tables: list[str], label: str) -> str:
    return f"_Source: SQL over {', '.join(dict.fromkeys(tables))}, {label}._"


def _note(intent: Intent) -> str:
    return f"_{intent.note[0].upper()}{intent.note[1:]}._" if intent.note else ""


def _join(*lines: str) -> str:
    """Lines of one block."""
    return "\n".join(line for line in lines if line)


def _blocks(*blocks: str) -> str:
    """Blocks of an answer, a blank line apart."""
    return "\n\n".join(block for block in blocks if block)
