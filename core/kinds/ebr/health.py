"""Account health: one verdict (Healthy / Watch / At risk) from every signal, with its reasons.

`account_health` is the only place a verdict is made; the parent message, the sections, the
App Home, the rollup and the follow-up answers all show what it returns. Every reason is
tied to a figure computed from the queried weekly totals (core.kinds.ebr.analytics), and the
thresholds live in `Thresholds` below (documented in the README, "Account health").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from core.format import change, pct, relative_change
from core.kinds.ebr.analytics import BASELINE_WEEKS, CustomerData, Totals
from core.kinds.ebr.compare import BELOW, versus

HEALTHY, WATCH, AT_RISK = "Healthy", "Watch", "At risk"
NOTE, WATCH_LEVEL, RISK_LEVEL = 0, 1, 2  # a reason's severity
EPSILON = 1e-9  # a change exactly at a threshold counts as reaching it, whatever the float rounding


@dataclass(frozen=True)
class Thresholds:
    """Where each signal turns Watch or At risk. Changes are fractions (-0.10 is a 10 % fall);
    a value at the threshold counts as reaching it."""

    revenue_wow_watch: float = -0.10  # revenue this week against the week before
    revenue_wow_risk: float = -0.25
    revenue_4w_watch: float = -0.05  # revenue of the last 4 weeks against the 4 before them
    revenue_4w_risk: float = -0.10
    revenue_yoy_watch: float = -0.10  # revenue this week against the same week a year earlier
    revenue_yoy_risk: float = -0.25
    conversions_wow_watch: float = -0.10  # conversions this week against the week before
    conversions_wow_risk: float = -0.25
    # A channel earning under half its own 8-week average has collapsed: At risk when it held at
    # least 10 % of the customer's revenue over those 8 weeks, Watch when it is a smaller channel.
    channel_collapse_ratio: float = 0.5
    channel_material_share: float = 0.10
    # Engagement is a leading signal: it makes Watch, never At risk on its own.
    # The score is judged by core.kinds.ebr.compare.versus ("below" = more than 5 % under the benchmark).
    engagement_4w_watch: float = -0.05  # engagement score, last 4 weeks against the 4 before
    rate_gap_watch: float = -0.25  # open or click-through rate this far under its benchmark
    # Seasonality: when the same weeks last year moved the same way by at least half as much,
    # a revenue or conversions fall counts one level lower (a seasonal dip alone is not At risk).
    seasonal_share: float = 0.5
    watch_reasons_for_risk: int = 3  # this many Watch reasons together make At risk
    reasons_shown: int = 3  # reasons in the one-line verdict


THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class Reason:
    """One signal that weighs on the verdict, written with its figure."""

    level: int  # NOTE, WATCH_LEVEL or RISK_LEVEL
    text: str  # "revenue ▼ 28.7% WoW"
    size: float = 0.0  # how far past its threshold family it is; orders reasons of one level
    seasonal: bool = False
    shown: bool = False  # a note the one-line verdict shows whatever the label (a partial week)
    topic: str = ""  # what it is about: revenue_wow, revenue_4w, revenue_yoy, conversions_wow,
    # channel:<name>, engagement or coverage (the talking points say one thing per topic)
    last_year: float | None = None  # the same weeks' change a year earlier, for a seasonal reason


@dataclass(frozen=True)
class Health:
    """The verdict, its reasons (most severe first) and the engagement component's figures."""

    label: str  # Healthy | Watch | At risk
    reasons: tuple[Reason, ...]
    score: float | None  # engagement score this week
    benchmark: float | None  # the industry's engagement score benchmark
    four_week_change: float | None  # engagement score, last 4 weeks vs the 4 before

    @property
    def top(self) -> list[str]:
        """The reasons the one-line verdict shows: the most severe, or for Healthy the figures
        behind it."""
        shown = [r for r in self.reasons if r.level > NOTE or self.label == HEALTHY or r.seasonal or r.shown]
        return [r.text for r in shown[: THRESHOLDS.reasons_shown]]

    @property
    def because(self) -> str:
        """The reasons of the one-line verdict, comma-separated."""
        return ", ".join(self.top) or "no signal to judge on this week"

    @property
    def line(self) -> str:
        """The verdict in one line: "At risk: revenue ▼ 28.7% WoW, SMS ▼ 83.7% vs its 8-week average"."""
        return f"{self.label}: {self.because}"


def account_health(d: CustomerData, t: Thresholds = THRESHOLDS) -> Health:
    """The account's verdict from its revenue (week over week, 4 weeks, year over year),
    conversions, channels against their own baselines and engagement against the benchmark."""
    reasons = [
        *_coverage_reasons(d),
        *_revenue_reasons(d, t),
        *_conversion_reasons(d, t),
        *_channel_reasons(d, t),
        *_engagement_reasons(d, t),
    ]
    if d.week(0).empty:
        reasons.insert(0, Reason(WATCH_LEVEL, "no activity recorded this week", 1.0, topic="coverage"))
    ordered = tuple(
        sorted(reasons, key=lambda r: (-r.level, not r.shown, not r.seasonal, -r.size if r.level else 0))
    )
    score = d.week(0).engagement_score
    bench = d.benchmarks.get("engagement_score")
    return Health(_verdict(ordered, t), ordered, score, bench.value if bench else None, _engagement_4w(d))


def _verdict(reasons: Iterable[Reason], t: Thresholds) -> str:
    levels = [r.level for r in reasons]
    if RISK_LEVEL in levels or levels.count(WATCH_LEVEL) >= t.watch_reasons_for_risk:
        return AT_RISK
    return WATCH if WATCH_LEVEL in levels else HEALTHY


# Revenue and conversions ------------------------------------------------------------------


def _revenue_reasons(d: CustomerData, t: Thresholds) -> list[Reason]:
    wow = _growth_of(d, "revenue", (0,), (-1,))
    last_year_wow = _growth_of(d, "revenue", (-52,), (-53,))
    four = _growth_of(d, "revenue", range(-3, 1), range(-7, -3))
    last_year_four = _growth_of(d, "revenue", range(-55, -51), range(-59, -55))
    yoy = _growth_of(d, "revenue", (0,), (-52,))
    found = [
        _fall("revenue {} WoW", wow, t.revenue_wow_watch, t.revenue_wow_risk, last_year_wow, t, "revenue_wow"),
        _fall(
            "revenue {} over the last 4 weeks vs the 4 before",
            four, t.revenue_4w_watch, t.revenue_4w_risk, last_year_four, t, "revenue_4w",
        ),
        _fall("revenue {} YoY", yoy, t.revenue_yoy_watch, t.revenue_yoy_risk, None, t, "revenue_yoy"),
    ]  # fmt: skip
    return [r for r in found if r]


def _conversion_reasons(d: CustomerData, t: Thresholds) -> list[Reason]:
    wow = _growth_of(d, "conversions", (0,), (-1,))
    last_year = _growth_of(d, "conversions", (-52,), (-53,))
    found = _fall(
        "conversions {} WoW",
        wow,
        t.conversions_wow_watch,
        t.conversions_wow_risk,
        last_year,
        t,
        "conversions_wow",
    )
    return [found] if found and found.level > NOTE else []


def _coverage_reasons(d: CustomerData) -> list[Reason]:
    """A report week or the week before that the data covers only in part: said, never judged."""
    if not d.whole(0):
        return [
            Reason(NOTE, f"this week has {d.days(0)} of 7 days of data, so it is not compared", shown=True)
        ]
    if not d.whole(-1):
        return [
            Reason(
                NOTE,
                f"no week-over-week comparison: the week before has {d.days(-1)} of 7 days of data",
                shown=True,
            )
        ]
    return []


def _growth_of(d: CustomerData, name: str, now: Iterable[int], before: Iterable[int]) -> float | None:
    """The change of a sum between two sets of weeks; None when any of them is partial."""
    now, before = tuple(now), tuple(before)
    if not d.whole(*now, *before):
        return None
    return _growth(_sum(d, now[0], now[-1], name), _sum(d, before[0], before[-1], name))


def _fall(
    text: str,
    value: float | None,
    watch: float,
    risk: float,
    last_year: float | None,
    t: Thresholds,
    topic: str = "",
) -> Reason | None:
    """A change as a reason: Watch or At risk by its thresholds, one level lower when the same
    weeks last year fell at least `seasonal_share` as much (and said so)."""
    if value is None:
        return None
    level = RISK_LEVEL if _reaches(value, risk) else WATCH_LEVEL if _reaches(value, watch) else NOTE
    written = text.format(change(value))
    seasonal = level > NOTE and last_year is not None and _reaches(last_year, value * t.seasonal_share)
    if seasonal:
        level -= 1
        written += f" (the same weeks last year: {change(last_year)}, seasonal)"
    return Reason(
        level, written, abs(value), seasonal, topic=topic, last_year=last_year if seasonal else None
    )


# Channels ---------------------------------------------------------------------------------


def _channel_reasons(d: CustomerData, t: Thresholds) -> list[Reason]:
    """Channels earning under `channel_collapse_ratio` of their own 8-week average week."""
    if not d.whole(*range(-1 - BASELINE_WEEKS, 1)):
        return []  # a partial week is no channel's usual week, nor a fall from it
    baseline_total = sum(p["baseline"].revenue for p in d.channels.values())
    reasons = []
    for channel, periods in d.channels.items():
        usual = periods["baseline"].revenue / BASELINE_WEEKS
        if usual <= 0 or baseline_total <= 0:
            continue
        now = periods["current"].revenue
        if now >= t.channel_collapse_ratio * usual - EPSILON:
            continue
        material = periods["baseline"].revenue / baseline_total >= t.channel_material_share - EPSILON
        fall = now / usual - 1
        text = f"{channel_name(channel)} {change(fall)} vs its 8-week average"
        level = RISK_LEVEL if material else WATCH_LEVEL
        reasons.append(Reason(level, text, abs(fall), topic=f"channel:{channel}"))
    return reasons


def channel_name(channel: str) -> str:
    """A channel as a sentence names it: "SMS", "Email"."""
    return channel.upper() if len(channel) <= 3 else channel[:1].upper() + channel[1:]


# Engagement -------------------------------------------------------------------------------


def _engagement_reasons(d: CustomerData, t: Thresholds) -> list[Reason]:
    found = [
        _score_reason(d),
        _score_trend_reason(d, t),
        _rate_reason(d, t, "open_rate", "open rate"),
        _rate_reason(d, t, "click_through_rate", "click-through"),
    ]
    return [r for r in found if r]


def _score_reason(d: CustomerData) -> Reason | None:
    """The engagement score under its benchmark (not "in line", as core.kinds.ebr.compare judges it)."""
    bench, score = d.benchmarks.get("engagement_score"), d.week(0).engagement_score
    if bench is None or score is None or versus(score, bench.value) != BELOW:
        return None
    gap = score / bench.value - 1
    text = f"engagement score {score:.1f} vs the benchmark {bench.value:.1f} ({change(gap)})"
    return Reason(WATCH_LEVEL, text, abs(gap), topic="engagement")


def _score_trend_reason(d: CustomerData, t: Thresholds) -> Reason | None:
    trend = _engagement_4w(d)
    if trend is None or not _reaches(trend, t.engagement_4w_watch):
        return None
    return Reason(
        WATCH_LEVEL, f"engagement score {change(trend)} over 4 weeks", abs(trend), topic="engagement"
    )


def _rate_reason(d: CustomerData, t: Thresholds, key: str, label: str) -> Reason | None:
    """An open or click-through rate `rate_gap_watch` or more under its benchmark."""
    rate, bench = getattr(d.week(0), key), d.benchmarks.get(key)
    if rate is None or bench is None or bench.value <= 0:
        return None
    gap = rate / bench.value - 1
    if not _reaches(gap, t.rate_gap_watch):
        return None
    return Reason(
        WATCH_LEVEL,
        f"{label} {pct(rate)} vs the benchmark {pct(bench.value)} ({change(gap)})",
        abs(gap),
        topic="engagement",
    )


def _engagement_4w(d: CustomerData) -> float | None:
    """The engagement score of the last 4 weeks against the 4 before (scores pooled per window)."""
    recent_n, before_n = _sum(d, -3, 0, "score_n"), _sum(d, -7, -4, "score_n")
    if not recent_n or not before_n:
        return None
    return relative_change(_sum(d, -3, 0, "score_sum") / recent_n, _sum(d, -7, -4, "score_sum") / before_n)


# Helpers ----------------------------------------------------------------------------------


def window(d: CustomerData, first: int, last: int) -> Totals:
    """The sums of the weeks `first` to `last` (offsets from the report week)."""
    total = Totals()
    for offset in range(first, last + 1):
        if offset in d.weekly:
            total.add_totals(d.weekly[offset])
    return total


def _sum(d: CustomerData, first: int, last: int, name: str) -> float:
    """One sum over the weeks `first` to `last`, without building a window (run per report)."""
    weekly = d.weekly
    return sum(getattr(weekly[k], name) for k in range(first, last + 1) if k in weekly)


def _growth(current: float, previous: float) -> float | None:
    """A relative change, only on a positive base (no percentage of a zero or negative week)."""
    return relative_change(current, previous) if previous > 0 else None


def _reaches(value: float, limit: float) -> bool:
    """`value` is at or below `limit` (a fall at least as deep)."""
    return value <= limit + EPSILON
