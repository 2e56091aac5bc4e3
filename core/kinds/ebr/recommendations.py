"""Recommendations: each one triggered by a gap or opportunity in the data.

A rule looks at an `Analysis` and either stays silent or returns a `Recommendation` with
the figure that triggered it, an expected impact computed from this customer's own
figures (the arithmetic is stated in the text, and capped by `MAX_IMPACT_SHARE` of the
customer's weekly revenue), and a search query for a case study. Risks (severity >= 50)
come before opportunities; a report shows three to five, never two about the same campaign
or channel (the stronger is kept).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace

from core.format import change, money, number, pct
from core.kinds.ebr.analysis import CHANNEL_COLLAPSE_RATIO, Analysis, ChannelRow
from core.kinds.ebr.health import NOTE, Reason, channel_name
from core.kinds.ebr.search import CaseStudyIndex, Hit

MIN_RECOMMENDATIONS, MAX_RECOMMENDATIONS = 3, 5
# The plausible bound of any impact estimate: no single action is credited with more than a
# quarter of what the customer earns in a normal week (the average of the last 4 weeks).
MAX_IMPACT_SHARE = 0.25
CAP_BASIS_WEEKS = 4
# Revenue growth over the last 4 weeks against the 4 before that counts as growth; it must
# hold without the report week too, so one spike week is never read as momentum.
GROWTH_TRIGGER = 0.05
# A campaign with no revenue last week is new; one earning this share of the week's revenue
# is worth a recommendation of its own (judge it later, not on its launch week).
NEW_CAMPAIGN_SHARE = 0.10
# Case studies: the best few matches are candidates; when none is from the customer's
# industry, those within this share of the best score fit as well, and the customer's id
# picks one (deterministically), so a CSM's portfolio is not shown one study everywhere.
CASE_CANDIDATES = 3
CASE_FIT_MARGIN = 0.6


@dataclass(frozen=True)
class Recommendation:
    key: str
    title: str
    finding: str  # the data behind it
    action: str
    impact: str  # expected impact, derived from the customer's figures
    severity: int
    query: str  # what to search the case studies for
    case_study: Hit | None = None
    subjects: tuple[str, ...] = ()  # "campaign:<name>" / "channel:<name>" it is about
    capped_from: float | None = None  # the uncapped estimate, when the bound applied


Rule = Callable[[Analysis], Recommendation | None]


def recommend(analysis: Analysis, index: CaseStudyIndex | None) -> list[Recommendation]:
    """Three to five recommendations (fewer only when the week has too little data)."""
    found = [r for rule in RULES if (r := rule(analysis)) is not None]
    found.sort(key=lambda r: -r.severity)
    chosen = _distinct(found)[:MAX_RECOMMENDATIONS]
    if index is None:
        return chosen
    used: set[str] = set()
    with_cases = []
    for rec in chosen:
        # Searched without this report's exclusions, so a run asks a few (query, industry)
        # pairs and the index's memo answers the rest; the exclusions are filtered here.
        hits = index.search(rec.query, analysis.data.industry, limit=CASE_CANDIDATES + MAX_RECOMMENDATIONS)
        hit = _pick(
            [h for h in hits if h.study.case_study_id not in used][:CASE_CANDIDATES], analysis, rec.query
        )
        if hit:
            used.add(hit.study.case_study_id)
        with_cases.append(replace(rec, case_study=hit))
    return with_cases


def _distinct(ranked: list[Recommendation]) -> list[Recommendation]:
    """The recommendations, strongest first, without a second one about a campaign or channel."""
    seen: set[str] = set()
    kept = []
    for rec in ranked:
        if seen.isdisjoint(rec.subjects):
            kept.append(rec)
            seen.update(rec.subjects)
    return kept


def _pick(hits: list[Hit], a: Analysis, query: str) -> Hit | None:
    """The same-industry match when there is one, else one of the equally fitting others."""
    if not hits:
        return None
    industry = a.data.industry.lower()
    if (hits[0].study.industry or "").lower() == industry:
        return hits[0]
    fitting = [h for h in hits if h.score >= CASE_FIT_MARGIN * hits[0].score]
    return fitting[zlib.crc32(f"{a.data.customer_id}|{query}".encode()) % len(fitting)]


def weekly_revenue(a: Analysis) -> float:
    """The basis of the impact bound: average weekly revenue of the last `CAP_BASIS_WEEKS` weeks."""
    return sum(a.revenue_trend[-CAP_BASIS_WEEKS:]) / CAP_BASIS_WEEKS


def impact_bound(a: Analysis) -> float:
    return MAX_IMPACT_SHARE * max(weekly_revenue(a), 0.0)


def _about(a: Analysis, amount: float) -> tuple[str, float | None]:
    """'about $X a week', capped at the bound (and saying so); the uncapped amount if capped."""
    bound = impact_bound(a)
    if amount <= bound:
        return f"about {money(amount)} a week", None
    return (
        f"about {money(bound)} a week (capped at {pct(MAX_IMPACT_SHARE, 0)} of the {money(weekly_revenue(a))} "
        f"average weekly revenue of the last {CAP_BASIS_WEEKS} weeks; the arithmetic alone gives {money(amount)})"
    ), amount


def _benchmark(a: Analysis, key: str) -> float | None:
    b = a.data.benchmarks.get(key)
    return b.value if b else None


def _revenue_per_click(a: Analysis) -> float | None:
    cur = a.current
    return cur.revenue / cur.clicks if cur.clicks else None


def ctr_gap(a: Analysis) -> Recommendation | None:
    cur, bench = a.current, _benchmark(a, "click_through_rate")
    ctr, rpc = cur.click_through_rate, _revenue_per_click(a)
    if ctr is None or bench is None or rpc is None or ctr >= bench * 0.95:
        return None
    extra_clicks = cur.sends * (bench - ctr)
    about, capped = _about(a, extra_clicks * rpc)
    return Recommendation(
        "ctr_gap", "Lift click-through to the industry benchmark",
        f"Click-through was {pct(ctr)} against the {a.data.industry} benchmark of {pct(bench)} "
        f"on {number(cur.sends)} sends.",
        "Rework email content and calls to action: personalise offers by segment, one clear CTA, "
        "and A/B test layouts on the largest send.",
        f"Reaching {pct(bench)} on this week's sends is {number(extra_clicks)} more clicks; at this "
        f"week's {money(rpc)} revenue per click that is {about}.",
        80, "click-through rate email content personalization call to action", capped_from=capped,
    )  # fmt: skip


def open_gap(a: Analysis) -> Recommendation | None:
    cur, bench = a.current, _benchmark(a, "open_rate")
    rate, rpc = cur.open_rate, _revenue_per_click(a)
    if rate is None or bench is None or rpc is None or not cur.opens or rate >= bench * 0.95:
        return None
    extra_opens = cur.sends * (bench - rate)
    extra_clicks = extra_opens * cur.clicks / cur.opens
    about, capped = _about(a, extra_clicks * rpc)
    return Recommendation(
        "open_gap", "Raise open rate with subject lines and send times",
        f"Open rate was {pct(rate)} against the {a.data.industry} benchmark of {pct(bench)}.",
        "Test subject lines and preview text, move sends to each segment's best hour, and prune "
        "inactive addresses that drag deliverability.",
        f"Reaching {pct(bench)} means {number(extra_opens)} more opens; at this week's "
        f"{pct(cur.clicks / cur.opens)} click-per-open and {money(rpc)} per click, {about}.",
        75, "subject line open rate send time optimization deliverability", capped_from=capped,
    )  # fmt: skip


def _collapsed(c: ChannelRow) -> bool:
    return bool(c.baseline_revenue) and c.revenue < CHANNEL_COLLAPSE_RATIO * (c.baseline_revenue or 0)


def channel_collapse(a: Analysis) -> Recommendation | None:
    collapsed = [c for c in a.channels if _collapsed(c)]
    if not collapsed:
        return None
    worst = max(collapsed, key=lambda c: c.baseline_revenue or 0)
    base = worst.baseline_revenue or 0
    about, capped = _about(a, base - worst.revenue)
    return Recommendation(
        "channel_collapse", f"Recover the {worst.channel} channel",
        f"{worst.channel} earned {money(worst.revenue)} this week against a baseline of "
        f"{money(base)} a week (the 8 weeks before last week), {change(worst.revenue / base - 1)}.",
        f"Audit {worst.channel} delivery end to end (sender registration, opt-outs, audience sync, "
        "recent template or integration changes) and restore the journeys that stopped.",
        f"Returning {worst.channel} to its baseline recovers {about}.",
        90, f"{worst.channel} channel recovery collapse deliverability opt-out",
        subjects=(f"channel:{worst.channel}",), capped_from=capped,
    )  # fmt: skip


def revenue_decline(a: Analysis) -> Recommendation | None:
    growth = a.four_week_growth
    if growth is None or growth > -0.08:
        return None
    recent = sum(a.revenue_trend[-4:]) / 4
    earlier = sum(a.revenue_trend[-8:-4]) / 4
    seasonal = next((r for r in a.health.reasons if r.topic == "revenue_4w" and r.seasonal), None)
    if seasonal is not None and seasonal.last_year is not None:
        return _seasonal_dip(a, growth, recent, earlier, seasonal.last_year)
    about, capped = _about(a, earlier - recent)
    return Recommendation(
        "revenue_decline", "Run a churn-prevention review with the account",
        f"Revenue over the last 4 weeks is {change(growth)} against the 4 weeks before "
        f"({money(recent)} vs {money(earlier)} a week).",
        "Schedule an executive business review, confirm goals and stakeholders, and agree on a "
        "30-day recovery plan for the campaigns that declined most.",
        f"Restoring the earlier 4-week average adds {about}.",
        85, "churn prevention declining revenue executive business review at-risk account",
        capped_from=capped,
    )  # fmt: skip


def _seasonal_dip(
    a: Analysis, growth: float, recent: float, earlier: float, last_year: float
) -> Recommendation:
    """A 4-week fall the same weeks last year also had (core.health weighs it as seasonal):
    plan the season with the account rather than treat it as churn."""
    expected = earlier * (1 + last_year)  # this year's earlier weeks, moved as last year's did
    about, capped = _about(a, max(expected - recent, 0.0))
    beyond = recent < expected
    return Recommendation(
        "seasonal_dip", "Plan the seasonal low with the account, as last year's pattern shows",
        f"Revenue over the last 4 weeks is {change(growth)} against the 4 weeks before "
        f"({money(recent)} vs {money(earlier)} a week); the same weeks last year moved {change(last_year)}.",
        "Review last year's season with the account: confirm the off-peak offers and the send "
        "calendar for the quiet weeks, and set the date the peak campaigns start.",
        (f"Holding the fall to last year's {change(last_year)} is {about}." if beyond else
         f"The fall is within last year's {change(last_year)}: no loss to recover is estimated."),
        60, "seasonal peak shoulder season off-season planning resort",
        capped_from=capped,
    )  # fmt: skip


def engagement_low(a: Analysis) -> Recommendation | None:
    score, bench = a.health.score, a.health.benchmark
    if score is None or bench is None or a.metrics["engagement_score"].vs_benchmark != "below":
        return None  # "in line" (core.kinds.ebr.compare) is not a gap to close
    return Recommendation(
        "engagement_low", "Re-engage the audience",
        f"Engagement score was {score:.1f} against the {a.data.industry} benchmark of {bench:.1f} "
        f"(health: {a.health.label}).",
        "Launch a re-engagement series for contacts inactive 60+ days, refresh content cadence, "
        "and suppress chronically unengaged contacts.",
        f"Closing the gap lifts the engagement score by {bench - score:.1f} points to the benchmark.",
        70, "re-engagement declining engagement win-back inactive audience",
    )  # fmt: skip


def attribution_disagreement(a: Analysis) -> Recommendation | None:
    models = {row.model: row for row in a.attribution}
    first, last = models.get("first_touch"), models.get("last_touch")
    if not first or not last or first.leader == last.leader:
        return None
    at_stake = first.shares.get(first.leader, 0) - last.shares.get(first.leader, 0)
    return Recommendation(
        "attribution", "Judge channels on multi-touch attribution",
        f"First-touch credits {first.leader} with {pct(first.leader_share, 0)} of conversions, "
        f"last-touch credits {last.leader} with {pct(last.leader_share, 0)}.",
        f"Report on the linear model, and keep {first.leader} funded: it opens journeys that "
        f"{last.leader} closes.",
        f"{pct(at_stake, 0)} of conversions move between models: that is the share of credit "
        f"{first.leader} would lose if judged on last touch alone.",
        55, "multi-touch attribution first touch last touch channel credit",
    )  # fmt: skip


def _growth_before_this_week(a: Analysis) -> float | None:
    """The 3 weeks before the report week against the 4 before them: growth without this week."""
    earlier = sum(a.revenue_trend[-8:-4]) / 4
    return (sum(a.revenue_trend[-4:-1]) / 3) / earlier - 1 if earlier > 0 else None


def growth_expansion(a: Analysis) -> Recommendation | None:
    growth, without = a.four_week_growth, _growth_before_this_week(a)
    if growth is None or without is None or min(growth, without) < GROWTH_TRIGGER:
        return None  # no growth, or one week's jump: nothing to project
    average = sum(a.revenue_trend[-4:]) / 4
    return Recommendation(
        "growth_expansion", "Turn sustained growth into an expansion conversation",
        f"Revenue grew {change(growth)} over the last 4 weeks against the 4 before, and "
        f"{change(without)} without this week: the growth is not one week's jump.",
        "Bring the growth story to the sponsor, propose the next tier or additional use cases, "
        "and document the wins as a reference.",
        f"If the average of the last 4 weeks ({money(average)} a week) holds, the next 4 weeks bring "
        f"about {money(4 * average)} in revenue; no further growth is assumed.",
        45, "upsell expansion growing account momentum",
    )  # fmt: skip


def campaign_spike(a: Analysis) -> Recommendation | None:
    spikes = [
        (name, revenue, wow) for name, revenue, wow in a.campaigns
        if wow is not None and wow > 1.0 and not _is_new(a, name) and a.current.revenue and revenue > 0.25 * a.current.revenue
    ]  # fmt: skip
    if not spikes:
        return None
    name, revenue, wow = spikes[0]
    previous = revenue / (1 + wow)
    about, capped = _about(a, (revenue - previous) / 2)
    return Recommendation(
        "campaign_spike", f"Replicate what made '{name}' work",
        f"'{name}' earned {money(revenue)} this week, {change(wow)} on last week.",
        f"Break down '{name}' (audience, offer, timing) and schedule a follow-up wave; plan for the "
        "drop-off after the spike.",
        f"The spike added {money(revenue - previous)} over last week; a second wave at half that "
        f"lift is {about}.",
        50, "campaign spike seasonality replicate successful campaign",
        subjects=(f"campaign:{name}",), capped_from=capped,
    )  # fmt: skip


def scale_best_channel(a: Analysis) -> Recommendation | None:
    # A collapsed channel's return per send is not a basis for moving volume to it.
    ranked = [c for c in a.channels if c.revenue_per_send is not None and c.sends > 0 and not _collapsed(c)]
    if len(ranked) < 2:
        return None
    ranked.sort(key=lambda c: -(c.revenue_per_send or 0))
    best, worst = ranked[0], ranked[-1]
    gain = 0.1 * worst.sends * ((best.revenue_per_send or 0) - (worst.revenue_per_send or 0))
    about, capped = _about(a, gain)
    return Recommendation(
        "scale_best_channel", f"Shift volume toward {best.channel}",
        f"{best.channel} returns {money(best.revenue_per_send)} per send, {worst.channel} "
        f"{money(worst.revenue_per_send)}.",
        f"Move a tenth of {worst.channel} volume to {best.channel} for two weeks and compare.",
        f"At this week's returns per send, moving 10% of {worst.channel}'s {number(worst.sends)} "
        f"sends adds {about}.",
        30, "budget reallocation scale best performing channel",
        subjects=(f"channel:{best.channel}", f"channel:{worst.channel}"), capped_from=capped,
    )  # fmt: skip


def _is_new(a: Analysis, name: str) -> bool:
    """A campaign with no revenue or conversions last week: it has no previous week to grow from."""
    before = a.data.campaigns.get("previous", {}).get(name)
    return before is None or not (before.revenue or before.conversions)


def new_campaign(a: Analysis) -> Recommendation | None:
    total = a.current.revenue
    new = [(name, revenue) for name, revenue, _ in a.campaigns if _is_new(a, name)]
    if not new or total <= 0 or new[0][1] < NEW_CAMPAIGN_SHARE * total:
        return None
    name, revenue = new[0]
    return Recommendation(
        "new_campaign", f"Judge the new campaign '{name}' on more than its launch week",
        f"'{name}' is new this week (no revenue last week): {money(revenue)}, "
        f"{pct(revenue / total, 0)} of this week's revenue.",
        "Record who it reached, its offer and its timing now; compare its next two weeks with the "
        "launch before planning another wave, and expect the drop-off after a launch.",
        f"Not estimated: one launch week ({pct(revenue / total, 0)} of revenue) says nothing yet about the next.",
        40, "campaign spike seasonality new campaign launch",
        subjects=(f"campaign:{name}",),
    )  # fmt: skip


def best_campaign(a: Analysis) -> Recommendation | None:
    established = [c for c in a.campaigns if not _is_new(a, c[0])]
    if not established or not a.current.revenue:
        return None
    name, revenue, _ = established[0]
    share = revenue / a.current.revenue
    about, capped = _about(a, revenue * 0.1)
    return Recommendation(
        "best_campaign", f"Double down on '{name}'",
        f"'{name}' earned {money(revenue)}, {pct(share, 0)} of this week's revenue.",
        f"Extend '{name}' to the segments it has not reached yet and reuse its creative.",
        f"Each 10% more reach at the same return adds {about}.",
        20, "campaign optimization best practices scale winning campaign",
        subjects=(f"campaign:{name}",), capped_from=capped,
    )  # fmt: skip


# "What matters this week" -------------------------------------------------------------------

TALKING_POINTS = 3  # at most, for the next customer call
# What to raise on the call about each kind of health reason (core.health's Reason.topic).
_ASK = {
    "revenue_wow": "ask what changed on their side this week (offers, budget, timing)",
    "revenue_4w": "agree a recovery target and the campaigns that lead it",
    "revenue_yoy": "ask what changed since last year and agree a recovery target",
    "conversions_wow": "walk the path from click to purchase with them",
    "engagement": "review content and targeting with them",
}
# The health topic a recommendation speaks to, when it names no campaign or channel.
_REC_TOPIC = {
    "revenue_decline": "revenue", "seasonal_dip": "revenue", "growth_expansion": "revenue",
    "ctr_gap": "engagement", "open_gap": "engagement", "engagement_low": "engagement",
}  # fmt: skip


@dataclass(frozen=True)
class Briefing:
    """What matters this week: the verdict with its reasons, and the talking points for the call."""

    verdict: str  # "At risk: revenue ▼ 28.7% WoW, SMS ▼ 83.7% vs its 8-week average"
    points: tuple[str, ...]  # at most TALKING_POINTS, each stating the figure it rests on


def what_matters(a: Analysis) -> Briefing:
    """The one place the top of a report and the parent message come from.

    Talking points, at most three, each resting on a figure the engine queried: the verdict's
    own reasons first (one per topic, what to raise about it), then the strongest
    recommendations about anything else. A Healthy account opens with its good figures.
    A week the data covers only in part, or not at all, gets no talking points.
    """
    health = a.health
    if not a.data.whole(0) or a.current.empty:
        return Briefing(health.line, ())
    points: list[str] = []
    covered: set[str] = set()
    weighing = [r for r in health.reasons if (r.level > NOTE or r.seasonal) and r.topic != "coverage"]
    standing = [r.text for r in health.reasons if r.level == NOTE and r.topic != "coverage"]
    if not weighing and standing:
        points.append(f"Where the account stands: {', '.join(standing[:2])}.")
    by_family: dict[str, list[Reason]] = {}
    for reason in weighing:  # most severe first: a family's point opens with its worst figure
        by_family.setdefault(_family(reason.topic), []).append(reason)
    for family, reasons in by_family.items():
        covered.update([family, *(r.topic for r in reasons)])
        points.append(_raise(reasons))
    for rec in recommend(a, None):
        topics = set(rec.subjects) or {_REC_TOPIC.get(rec.key, rec.key)}
        if topics & covered or {_family(t) for t in topics} & covered:
            continue
        covered |= topics
        points.append(f"{rec.title}: {_lower_first(rec.finding)}")
    return Briefing(health.line, tuple(points[:TALKING_POINTS]))


def _family(topic: str) -> str:
    """revenue_wow, revenue_4w and revenue_yoy are one thing to talk about: revenue."""
    return topic if topic.startswith("channel:") else topic.split("_", 1)[0]


def _raise(reasons: list[Reason]) -> str:
    """A family's health reasons as one talking point: the figures, then what to raise."""
    first = reasons[0]
    if first.seasonal:
        ask = "the same weeks last year moved the same way, so confirm the seasonal plan"
    elif first.topic.startswith("channel:"):
        channel = channel_name(first.topic.split(":", 1)[1])
        ask = f"ask what changed in {channel} (sending, opt-outs, integrations) and agree a fix date"
    else:
        ask = _ASK.get(first.topic, "ask what is behind it")
    text = ", ".join(r.text.split(" (the same weeks last year")[0] for r in reasons[:2])
    return f"{text[:1].upper()}{text[1:]}: {ask}."


def _lower_first(text: str) -> str:
    """A sentence continued after a colon; names (a quoted campaign, SMS) keep their case."""
    first = text.split(" ", 1)[0]
    return text if first.isupper() or first.startswith("'") else text[:1].lower() + text[1:]


RULES: tuple[Rule, ...] = (
    channel_collapse,
    revenue_decline,
    ctr_gap,
    open_gap,
    engagement_low,
    attribution_disagreement,
    campaign_spike,
    new_campaign,
    growth_expansion,
    scale_best_channel,
    best_campaign,
)
