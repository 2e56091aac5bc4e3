"""Follow-up answers about one part of the account: one channel, one named campaign, and the
three talking points of the week.

A channel is compared with its own 8-week average (the way account health judges a channel
collapse); a campaign name is matched against the customer's own campaigns, read by a query
with the customer bound as a parameter, and its figures are read with the name bound too.
"""

from __future__ import annotations

import re

from core.agent.base import AskContext
from core.agent.local import figures
from core.agent.local.figures import METRICS, MetricSpec, fmt, value
from core.agent.local.intent import Intent
from core.agent.local.spans import CAMPAIGNS_SQL, campaign_names
from core.format import change, money, number, relative_change
from core.kinds.ebr.analysis import analyse
from core.kinds.ebr.analytics import BASELINE_WEEKS, CONVERSION_SUMS, WEEK_OFFSET, Analytics, Totals
from core.kinds.ebr.recommendations import recommend
from core.kinds.ebr.search import CaseStudyIndex
from core.warehouse import Warehouse
from core.warehouse.base import ANALYTICS

BASE = range(-1 - BASELINE_WEEKS, -1)  # a channel's own baseline, as account health reads it
CAMPAIGN_SQL = f"""
SELECT {WEEK_OFFSET.format(d="conversion_date")},
       {CONVERSION_SUMS}
FROM {ANALYTICS}.conversions
WHERE customer_id = ? AND campaign = ? AND conversion_date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
GROUP BY 1
"""


class FocusAnswers:
    """Answers about one channel, one campaign, or the week's talking points."""

    def __init__(self, warehouse: Warehouse, index: CaseStudyIndex) -> None:
        self.warehouse = warehouse
        self.index = index

    def channel(self, intent: Intent, context: AskContext) -> tuple[str, list[str]]:
        """The channel's metric in the report week against its own 8-week average."""
        spec = METRICS[intent.metrics[0]]
        window = figures.fetch(self.warehouse, context.customer_id, context.week, spec.tables, [(BASE[0], 0)])
        names = {name for k in range(BASE[0], 1) for name in window.at(k).channels}
        name = next((n for n in names if n.lower() == intent.channel), None)
        label = f"week of {context.week.label()} and the {BASELINE_WEEKS + 1} weeks before it"
        src = _source(window.tables, label)
        if name is None:
            listed = ", ".join(sorted(names)) or "none"
            text = f"{context.customer_name} has no {intent.channel} rows in the {label} (channels with rows: {listed})."
            return _blocks(text, src), window.sql
        now = window.at(0).channels.get(name, Totals())
        base = window.over(BASE).channels.get(name, Totals())
        current, average = value(now, spec), _average(base, spec)
        head = f"**{name} {spec.label.lower()} was {fmt(current, spec.kind)}** in the week of {context.week.label()}"
        lines = [
            f"- {_move(current, average, spec)} vs its {BASELINE_WEEKS}-week average of {fmt(average, spec.kind)} "
            f"(the {BASELINE_WEEKS} weeks before the previous week, {context.week.shift(BASE[0]).start:%b %d} – "
            f"{context.week.shift(BASE[-1]).end:%b %d, %Y}, as account health reads a channel)",
            f"- The week before: {fmt(value(window.at(-1).channels.get(name, Totals()), spec), spec.kind)}",
        ]
        if spec.additive:
            lines.append(f"- Share of the account's {spec.label.lower()}: {_share(now, window.at(0).total, spec)} this week, "
                         f"{_share(base, window.over(BASE).total, spec)} over its baseline weeks")  # fmt: skip
        return _blocks(f"{head}.", "\n".join(lines), src), window.sql

    def campaign(self, intent: Intent, context: AskContext) -> tuple[str, list[str]]:
        """A campaign named in the question, matched against the customer's own campaigns."""
        known = campaign_names(self.warehouse, context.customer_id, context.week.end)
        sql = [figures.collapse(CAMPAIGNS_SQL)]
        name = match_campaign(intent.topic, list(known))
        if name is None:
            listed = ", ".join(sorted(known)) or "none"
            text = (
                f"{context.customer_name} has no campaign named “{intent.topic}” in its conversions up to "
                f"{context.week.end:%b %d, %Y}. Its campaigns: {listed}."
            )
            return text, sql
        weeks = self._campaign_weeks(context, name)
        sql.append(figures.collapse(CAMPAIGN_SQL))
        now, before = weeks.get(0, Totals()), weeks.get(-1, Totals())
        eight = Totals()
        for k in range(-BASELINE_WEEKS + 1, 1):
            eight.add_totals(weeks.get(k, Totals()))
        first, last = known[name]
        head = (
            f"**{name} earned {money(now.revenue)}** from {number(now.conversions)} conversions in the week of "
            f"{context.week.label()}"
        )
        lines = [
            f"- The week before: {money(before.revenue)} from {number(before.conversions)} conversions "
            f"({_move(now.revenue, before.revenue, METRICS['revenue'])})",
            f"- The last {BASELINE_WEEKS} weeks: {money(eight.revenue)} from {number(eight.conversions)} conversions",
            f"- Converting from {first:%b %d, %Y} to {last:%b %d, %Y}"
            + (" (new this week)" if first >= context.week.start else ""),
        ]
        src = _source(["conversions"], f"week of {context.week.label()} and the {BASELINE_WEEKS} weeks to it")
        return _blocks(f"{head}.", "\n".join(lines), src), sql

    def _campaign_weeks(self, context: AskContext, name: str) -> dict[int, Totals]:
        start, end = context.week.shift(-BASELINE_WEEKS).start, context.week.end
        rows = self.warehouse.query(CAMPAIGN_SQL, [context.week.start, context.customer_id, name, start, end])
        weeks: dict[int, Totals] = {}
        for row in rows:
            weeks.setdefault(int(row["week_offset"]), Totals()).add(row)
        return weeks

    def talking_points(self, intent: Intent, context: AskContext) -> tuple[str, list[str]]:
        """Three points for the next customer call, each tied to a figure of the report week."""
        snapshot = Analytics(self.warehouse).snapshot(context.week, [context.customer_id])
        data = snapshot.get(context.customer_id)
        if data is None:
            return (
                f"{context.customer_id} is not in the customers table, so there is nothing to say.",
                snapshot.sql,
            )
        analysis = analyse(data)
        revenue = analysis.metrics["revenue"]
        points = [
            f"Account health is {analysis.health.label}: {analysis.health.because}.",
            f"Revenue was {money(revenue.current)} in the week, {change(revenue.wow)} week over week and "
            f"{change(revenue.yoy)} on the same week a year earlier.",
        ]
        recs = recommend(analysis, self.index)
        if recs:
            points.append(f"Proposed next step: {recs[0].title}. {recs[0].finding}")
        else:
            gaps = [m for m in analysis.metrics.values() if m.vs_benchmark in ("below", "above")]
            points.append(
                f"{gaps[0].label} is {gaps[0].vs_benchmark} the benchmark: {fmt(gaps[0].benchmark_subject, gaps[0].kind)} "
                f"vs {fmt(gaps[0].benchmark, gaps[0].kind)}."
                if gaps else f"Conversions: {number(analysis.metrics['conversions'].current)} in the week."
            )  # fmt: skip
        head = f"**Three talking points for {context.customer_name}** (week of {context.week.label()}):"
        body = "\n".join(f"{i}. {p}" for i, p in enumerate(points, 1))
        src = _source(
            ["customers", "conversions", "historical_engagement", "industry_benchmarks"],
            f"week of {context.week.label()}",
        )
        return _blocks(head + "\n" + body, src), snapshot.sql


def match_campaign(asked: str, names: list[str]) -> str | None:
    """The customer's campaign the question names: equal once case and punctuation are set
    aside, or the only one whose name is contained in what was asked (or contains it)."""
    wanted = _words(asked)
    exact = [n for n in names if _words(n) == wanted]
    if exact:
        return exact[0]
    near = [n for n in names if _words(n) and (_words(n) in wanted or wanted in _words(n))]
    return near[0] if len(near) == 1 else None


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _average(base: Totals, spec: MetricSpec) -> float | None:
    figure = value(base, spec)
    if figure is None:
        return None
    return figure / BASELINE_WEEKS if spec.additive else figure


def _move(now: float | None, then: float | None, spec: MetricSpec) -> str:
    if now is None or then is None:
        return "n/a"
    if spec.kind == "rate":
        return figures.signed(now - then, "rate")
    rel = relative_change(now, then)
    return change(rel) if rel is not None else figures.signed(now - then, spec.kind)


def _share(part: Totals, whole: Totals, spec: MetricSpec) -> str:
    total = value(whole, spec)
    return f"{(value(part, spec) or 0) / total * 100:.1f}%" if total else "n/a"


def _source(tables: list[str], label: str) -> str:
    return f"_Source: SQL over {', '.join(dict.fromkeys(tables))}, {label}._"


def _blocks(*parts: str) -> str:
    return "\n\n".join(p for p in parts if p)
