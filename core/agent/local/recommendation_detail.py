"""A report recommendation explained in depth: finding, steps, impact arithmetic, case study.

The recommendations are the report's own (`core.kinds.ebr.recommendations.recommend` over the same
snapshot), so recommendation N here is recommendation N there. The arithmetic lines redo
each rule's expected impact from the analysis, step by step, with the rule's formula from
core/kinds/ebr/recommendations.py; a rule without a line here shows only its impact text.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from core.format import change, money, number, pct
from core.kinds.ebr.analysis import Analysis, ChannelRow
from core.kinds.ebr.recommendations import CAP_BASIS_WEEKS, MAX_IMPACT_SHARE, Recommendation, weekly_revenue

SOURCE = (
    "_Source: the report's SQL over customers, industry_benchmarks, historical_engagement, conversions "
    "and attributions, week of {label}; case study from a search over case_studies._"
)


def overview(recs: list[Recommendation], asked: int | None, label: str) -> str:
    """The list of recommendations, when none (or one that does not exist) was asked for."""
    if not recs:
        return (
            f"The week of {label} triggered no recommendations: there was too little activity to base one on."
        )
    listing = "\n".join(f"{i}. {r.title}" for i, r in enumerate(recs, 1))
    if asked is None:
        head = f"**{len(recs)} recommendations for the week of {label}:**"
    else:
        head = f"**There are {len(recs)} recommendations for the week of {label}**, so there is no number {asked}:"
    hint = "_Ask “tell me more about recommendation 2” for its data, steps, impact and case study._"
    return f"{head}\n{listing}\n\n{hint}"


def explain(rec: Recommendation, n: int, total: int, analysis: Analysis, label: str) -> str:
    """Recommendation `n` of `total` in depth."""
    impact = [f"**Expected impact:** {rec.impact}", *(f"- {line}" for line in arithmetic(rec, analysis))]
    blocks = [
        f"**Recommendation {n} of {total}: {rec.title}**",
        f"**Finding:** {rec.finding}",
        "**Action, step by step:**\n" + "\n".join(f"{i}. {s}" for i, s in enumerate(steps(rec.action), 1)),
        "\n".join(impact),
    ]
    if rec.case_study:
        study = rec.case_study.study
        blocks.append(
            f"**Case study: {study.title}** ({study.industry or 'any industry'})\n"
            f"- Challenge: {study.challenge}\n- Solution: {study.solution}\n- Results: {study.results}"
        )
    blocks.append(SOURCE.format(label=label))
    return "\n\n".join(blocks)


def steps(action: str) -> list[str]:
    """An action split into steps: its sentences, and the comma-separated items in them.

    "Do A: b, c, and d." gives "Do A", "B", "C", "D"; commas inside parentheses stay.
    """
    result: list[str] = []
    for sentence in re.split(r"(?<=[.;])\s+", action.strip()):
        sentence = sentence.strip().rstrip(".;")
        head, colon, rest = sentence.partition(": ")
        if colon and "," in rest and "," not in head:
            result.append(head)
            sentence = rest
        result.extend(_items(sentence))
    return [s[0].upper() + s[1:] for s in result if s]


def _items(sentence: str) -> list[str]:
    items, depth, current = [], 0, ""
    for ch in sentence:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            items.append(current)
            current = ""
        else:
            current += ch
    items.append(current)
    return [re.sub(r"^(?:and|then)\s+", "", item.strip()) for item in items if item.strip()]


def arithmetic(rec: Recommendation, a: Analysis) -> list[str]:
    """The expected impact's computation, one line per step; empty for an unknown rule."""
    rule = _ARITHMETIC.get(rec.key)
    if rule is None:
        return []
    try:
        lines = rule(rec, a)
    except (ArithmeticError, LookupError, StopIteration, ValueError):
        # The rules live in core/kinds/ebr/recommendations.py and may change on their own; the impact
        # text still stands without its worked arithmetic.
        return []
    return [*lines, *_cap(rec, a)]


def _cap(rec: Recommendation, a: Analysis) -> list[str]:
    """The bound's line, when it capped the estimate."""
    if rec.capped_from is None:
        return []
    basis = weekly_revenue(a)
    return [
        f"Capped at {pct(MAX_IMPACT_SHARE, 0)} × {money(basis)} average weekly revenue "
        f"(last {CAP_BASIS_WEEKS} weeks) = {money(MAX_IMPACT_SHARE * max(basis, 0.0))} a week"
    ]


def _benchmark(a: Analysis, key: str) -> float:
    b = a.data.benchmarks.get(key)
    return b.value if b else 0.0


def _ctr_gap(rec: Recommendation, a: Analysis) -> list[str]:
    cur, bench = a.current, _benchmark(a, "click_through_rate")
    ctr, rpc = cur.click_through_rate or 0.0, cur.revenue / cur.clicks
    extra = cur.sends * (bench - ctr)
    return [
        f"{number(cur.sends)} sends × ({pct(bench)} benchmark − {pct(ctr)} click-through) = {number(extra)} more clicks",
        f"{money(cur.revenue)} revenue ÷ {number(cur.clicks)} clicks = {money(rpc)} per click",
        f"{number(extra)} clicks × {money(rpc)} = {money(extra * rpc)} a week",
    ]


def _open_gap(rec: Recommendation, a: Analysis) -> list[str]:
    cur, bench = a.current, _benchmark(a, "open_rate")
    rate, per_open, rpc = cur.open_rate or 0.0, cur.clicks / cur.opens, cur.revenue / cur.clicks
    extra_opens = cur.sends * (bench - rate)
    return [
        f"{number(cur.sends)} sends × ({pct(bench)} benchmark − {pct(rate)} open rate) = {number(extra_opens)} more opens",
        f"× {pct(per_open)} click-per-open ({number(cur.clicks)} ÷ {number(cur.opens)}) = "
        f"{number(extra_opens * per_open)} more clicks",
        f"× {money(rpc)} per click ({money(cur.revenue)} ÷ {number(cur.clicks)}) = "
        f"{money(extra_opens * per_open * rpc)} a week",
    ]


def _channel_collapse(rec: Recommendation, a: Analysis) -> list[str]:
    worst = _channels_named(rec.title, a)[0]
    base = worst.baseline_revenue or 0.0
    return [
        f"Baseline: {money(base * 8)} over the 8 weeks before last week ÷ 8 = {money(base)} a week",
        f"This week {money(worst.revenue)}, {change(worst.revenue / base - 1)} on the baseline",
        f"{money(base)} − {money(worst.revenue)} = {money(base - worst.revenue)} a week to recover",
    ]


def _revenue_decline(rec: Recommendation, a: Analysis) -> list[str]:
    earlier, recent = a.revenue_trend[-8:-4], a.revenue_trend[-4:]
    return [
        f"The 4 weeks before: {', '.join(money(v) for v in earlier)}; average {money(sum(earlier) / 4)}",
        f"The last 4 weeks: {', '.join(money(v) for v in recent)}; average {money(sum(recent) / 4)}",
        f"{money(sum(earlier) / 4)} − {money(sum(recent) / 4)} = {money((sum(earlier) - sum(recent)) / 4)} a week",
    ]


def _engagement_low(rec: Recommendation, a: Analysis) -> list[str]:
    score, bench = a.health.score or 0.0, a.health.benchmark or 0.0
    return [f"{bench:.1f} benchmark − {score:.1f} score = {bench - score:.1f} points"]


def _attribution(rec: Recommendation, a: Analysis) -> list[str]:
    models = {row.model: row for row in a.attribution}
    first, last = models["first_touch"], models["last_touch"]
    kept = last.shares.get(first.leader, 0)
    return [
        f"{first.leader}: {pct(first.leader_share, 0)} of first-touch credit − {pct(kept, 0)} of last-touch "
        f"credit = {pct(first.leader_share - kept, 0)} of conversions"
    ]


def _growth_expansion(rec: Recommendation, a: Analysis) -> list[str]:
    recent = a.revenue_trend[-4:]
    average = sum(recent) / 4
    return [
        f"The last 4 weeks: {', '.join(money(v) for v in recent)}; average {money(average)} a week",
        f"Next 4 weeks at that average, no further growth: 4 × {money(average)} = {money(4 * average)}",
    ]


def _new_campaign(rec: Recommendation, a: Analysis) -> list[str]:
    name, revenue, _ = _campaign_named(rec.title, a)
    return [
        f"'{name}': {money(revenue)} ÷ {money(a.current.revenue)} revenue = {pct(revenue / a.current.revenue, 0)}"
    ]


def _campaign_spike(rec: Recommendation, a: Analysis) -> list[str]:
    name, revenue, wow = _campaign_named(rec.title, a)
    previous = revenue / (1 + (wow or 0))
    return [
        f"'{name}': {money(revenue)} this week − {money(previous)} last week = {money(revenue - previous)}",
        f"Half of that lift: {money((revenue - previous) / 2)}",
    ]


def _scale_best_channel(rec: Recommendation, a: Analysis) -> list[str]:
    best, worst = _channels_named(rec.finding, a)[:2]  # the finding names the best one first
    best_rps, worst_rps = best.revenue_per_send or 0.0, worst.revenue_per_send or 0.0
    return [
        f"{best.channel}: {money(best.revenue)} ÷ {number(best.sends)} sends = {money(best_rps)} per send",
        f"{worst.channel}: {money(worst.revenue)} ÷ {number(worst.sends)} sends = {money(worst_rps)} per send",
        f"10% × {number(worst.sends)} sends × ({money(best_rps)} − {money(worst_rps)}) = "
        f"{money(0.1 * worst.sends * (best_rps - worst_rps))} a week",
    ]


def _best_campaign(rec: Recommendation, a: Analysis) -> list[str]:
    name, revenue, _ = _campaign_named(rec.title, a)
    return [
        f"'{name}': {money(revenue)} ÷ {money(a.current.revenue)} revenue = {pct(revenue / a.current.revenue, 0)}",
        f"10% × {money(revenue)} = {money(revenue * 0.1)} a week",
    ]


# A rule picks its channel or campaign by criteria that may change; its text names the one
# it picked, so the arithmetic follows the text instead of re-running the choice.


def _channels_named(text: str, a: Analysis) -> list[ChannelRow]:
    """The analysis' channels that `text` names, in the order it names them."""
    found = [(m.start(), c) for c in a.channels if (m := re.search(rf"\b{re.escape(c.channel)}\b", text))]
    return [c for _, c in sorted(found, key=lambda pair: pair[0])]


def _campaign_named(text: str, a: Analysis) -> tuple[str, float, float | None]:
    """The campaign that `text` names in quotes."""
    return next(c for c in a.campaigns if f"'{c[0]}'" in text)


_ARITHMETIC: dict[str, Callable[[Recommendation, Analysis], list[str]]] = {
    "ctr_gap": _ctr_gap,
    "open_gap": _open_gap,
    "channel_collapse": _channel_collapse,
    "revenue_decline": _revenue_decline,
    "engagement_low": _engagement_low,
    "attribution": _attribution,
    "growth_expansion": _growth_expansion,
    "campaign_spike": _campaign_spike,
    "new_campaign": _new_campaign,
    "scale_best_channel": _scale_best_channel,
    "best_campaign": _best_campaign,
}
