"""Per-customer profiles: the few numbers from which DuckDB expands two years of daily rows.

A customer's profile is its industry's benchmarks bent by its story (growing, declining,
low click-through...), scaled to its size. Levels describe the last complete week W;
earlier weeks are derived from the growth rates, so every story lands on W exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from core.demo.benchmarks import benchmark
from core.demo.campaigns import evergreen_campaigns, seasonal_campaigns, spike_campaign
from core.demo.noise import pick, unit
from core.demo.roster import DemoCustomer

CHANNELS = ("email", "sms", "push", "social")
CHANNEL_CODES = ("E", "S", "P", "O")
# How each channel's rates compare with the customer's blended rate, before normalising.
_OPEN_SHAPE = (1.0, 1.35, 0.6, 0.8)
_CLICK_SHAPE = (1.0, 1.1, 0.7, 1.2)
_CONVERT_SHAPE = (1.0, 1.2, 0.7, 0.9)
_SCORE_SHAPE = (2.0, 1.0, -4.0, 1.0)
_DEFAULT_MIX = (0.55, 0.15, 0.20, 0.10)
_DEFAULT_FIRST_TOUCH = (0.40, 0.12, 0.16, 0.32)
# Industry seasonality: amplitude of the yearly cycle and the day of the year it peaks.
_SEASONS = {
    "Retail": (0.12, 335),
    "Travel & Hospitality": (0.30, 190),
    "Education": (0.15, 237),
    "Food & Beverage": (0.10, 350),
}
_DEFAULT_SEASON = (0.05, 60)


@dataclass(frozen=True)
class Story:
    """How one kind of account behaves relative to its industry; rates are factors on benchmarks."""

    growth_early: float = 0.003  # weekly volume growth before the last 12 weeks
    growth_recent: float = 0.003  # weekly volume growth over the last 12 weeks
    open_factor: float = 1.0
    ctr_factor: float = 1.0
    conv_factor: float = 1.0
    value_factor: float = 1.0
    score_offset: float = 0.0  # engagement score against the benchmark, in week W
    score_slope: float = 0.0  # score points lost per week over the last 12 weeks
    rate_slope: float = 0.0  # share of open and click rates lost per week over the last 12 weeks
    season_amp: float | None = None  # None: the industry's usual seasonality
    collapse: tuple[str, ...] = ()  # channels whose volume falls away in W-1 and W
    spike_boost: float = 0.0  # extra conversions in W, all from one campaign
    mix: tuple[float, float, float, float] = _DEFAULT_MIX
    first_touch: tuple[float, float, float, float] = _DEFAULT_FIRST_TOUCH


STORIES = {
    "steady": Story(),
    "growing": Story(
        growth_early=0.006,
        growth_recent=0.017,
        open_factor=1.12,
        ctr_factor=1.18,
        conv_factor=1.05,
        score_offset=8,
        season_amp=0.0,
    ),
    "low_ctr": Story(
        growth_early=0.002, growth_recent=0.001, open_factor=1.03, ctr_factor=0.47, score_offset=-3
    ),
    "channel_collapse": Story(growth_recent=0.004, collapse=("sms",), mix=(0.45, 0.28, 0.17, 0.10)),
    "declining": Story(
        growth_early=0.001,
        growth_recent=-0.033,
        open_factor=0.93,
        ctr_factor=0.9,
        score_offset=-9,
        score_slope=1.1,
        rate_slope=0.012,
        season_amp=0.02,
    ),
    "seasonal": Story(
        growth_recent=0.004, open_factor=1.1, ctr_factor=1.12, conv_factor=1.08, score_offset=6
    ),
    "low_open": Story(
        open_factor=0.55, ctr_factor=0.9, conv_factor=1.15, score_offset=-2, growth_recent=0.004
    ),
    "small_stable": Story(
        growth_early=0.0,
        growth_recent=0.0,
        open_factor=0.95,
        ctr_factor=0.92,
        score_offset=-11,
        season_amp=0.02,
    ),
    "spike": Story(spike_boost=0.48, growth_recent=0.004, open_factor=1.02),
    "attribution": Story(mix=(0.68, 0.08, 0.09, 0.15), first_touch=(0.18, 0.05, 0.09, 0.68)),
}
# The seasonal story exaggerates its industry's cycle, whatever the industry.
_SEASONAL_AMP = 0.30

CUSTOMER_SCHEMA = pa.schema(
    [
        ("cidx", pa.int32()),
        ("customer_id", pa.string()),
        ("ft1", pa.float64()),
        ("ft2", pa.float64()),
        ("ft3", pa.float64()),
    ]
)
CHANNEL_SCHEMA = pa.schema(
    [
        ("cidx", pa.int32()),
        ("customer_id", pa.string()),
        ("cnum", pa.string()),
        ("ch", pa.int8()),
        ("channel", pa.string()),
        ("ch_code", pa.string()),
        ("sends0", pa.float64()),
        ("open_rate", pa.float64()),
        ("ctr", pa.float64()),
        ("conv_rate", pa.float64()),
        ("avg_value", pa.float64()),
        ("score0", pa.float64()),
        ("score_slope", pa.float64()),
        ("rate_slope", pa.float64()),
        ("g_early", pa.float64()),
        ("g_recent", pa.float64()),
        ("season_amp", pa.float64()),
        ("season_peak", pa.float64()),
        ("collapse", pa.float64()),
        ("spike_boost", pa.float64()),
        ("spike_campaign", pa.string()),
        ("evergreen", pa.list_(pa.string())),
        ("seasonal", pa.list_(pa.string())),
    ]
)
COLLAPSED_LEVEL = 0.2


def customer_table(customers: list[DemoCustomer]) -> pa.Table:
    """One row per customer: its index and its first-touch distribution as cumulative thresholds."""
    rows = []
    for cidx, customer in enumerate(customers):
        weights = _story(customer).first_touch
        cumulative = [sum(weights[: k + 1]) / sum(weights) for k in range(3)]
        rows.append((cidx, customer.customer_id, *cumulative))
    return _table(CUSTOMER_SCHEMA, rows)


def channel_table(customers: list[DemoCustomer]) -> pa.Table:
    """One row per customer and channel: the levels of week W and how they move over time."""
    rows = [row for cidx, customer in enumerate(customers) for row in _channel_rows(cidx, customer)]
    return _table(CHANNEL_SCHEMA, rows)


def _channel_rows(cidx: int, customer: DemoCustomer) -> list[tuple[object, ...]]:
    story, industry, key = _story(customer), customer.industry, customer.customer_id
    mix = _normalise([w * _wobble(customer, "mix", ch) for ch, w in enumerate(story.mix)])
    opens = _per_channel(
        mix, _OPEN_SHAPE, benchmark(industry, "open_rate") * _factor(customer, story.open_factor, "o")
    )
    clicks = _per_channel(
        mix,
        _CLICK_SHAPE,
        benchmark(industry, "click_through_rate") * _factor(customer, story.ctr_factor, "c"),
    )
    conv_rate = benchmark(industry, "conversion_rate") * _factor(customer, story.conv_factor, "v")
    converts = _per_channel(mix, _CONVERT_SHAPE, conv_rate)
    total_sends = customer.daily_conversions / conv_rate
    value = benchmark(industry, "avg_conversion_value") * _factor(customer, story.value_factor, "a")
    score = (
        benchmark(industry, "engagement_score")
        + story.score_offset
        + customer.jitter * 8 * (unit(key, "s") - 0.5)
    )
    amp, peak = _season(customer, story)
    g_early = story.growth_early + customer.jitter * 0.004 * (unit(key, "ge") - 0.5)
    g_recent = story.growth_recent + customer.jitter * 0.004 * (unit(key, "gr") - 0.5)
    collapsed = _collapsed_channels(customer, story)
    campaigns = (spike_campaign(industry), evergreen_campaigns(industry, key), seasonal_campaigns(industry))
    return [
        (
            cidx,
            key,
            key.removeprefix("CUST_"),
            ch,
            channel,
            CHANNEL_CODES[ch],
            total_sends * mix[ch],
            opens[ch],
            clicks[ch],
            converts[ch],
            value,
            score + _SCORE_SHAPE[ch],
            story.score_slope,
            story.rate_slope,
            g_early,
            g_recent,
            amp,
            peak,
            COLLAPSED_LEVEL if channel in collapsed else 1.0,
            story.spike_boost,
            *campaigns,
        )
        for ch, channel in enumerate(CHANNELS)
    ]


def _story(customer: DemoCustomer) -> Story:
    return STORIES[customer.story]


def _factor(customer: DemoCustomer, base: float, what: str) -> float:
    """The story's factor, varied by up to ±10 % for generated customers."""
    return base * (1 + customer.jitter * 0.2 * (unit(customer.customer_id, what) - 0.5))


def _wobble(customer: DemoCustomer, *what: object) -> float:
    return 1 + customer.jitter * 0.4 * (unit(customer.customer_id, *what) - 0.5)


def _per_channel(mix: list[float], shape: tuple[float, ...], blended: float) -> list[float]:
    """Per-channel rates with the given shape whose send-weighted mean is `blended`."""
    mean = sum(m * s for m, s in zip(mix, shape, strict=True))
    return [blended * s / mean for s in shape]


def _normalise(weights: list[float]) -> list[float]:
    total = sum(weights)
    return [w / total for w in weights]


def _season(customer: DemoCustomer, story: Story) -> tuple[float, float]:
    amp, peak = _SEASONS.get(customer.industry, _DEFAULT_SEASON)
    if customer.story == "seasonal":
        amp = _SEASONAL_AMP
    elif story.season_amp is not None:
        amp = story.season_amp
    return amp, peak


def _collapsed_channels(customer: DemoCustomer, story: Story) -> tuple[str, ...]:
    if story.collapse and customer.jitter:
        return (pick(("sms", "push"), unit(customer.customer_id, "collapse")),)
    return story.collapse


def _table(schema: pa.Schema, rows: list[tuple[object, ...]]) -> pa.Table:
    return pa.table({field.name: [row[i] for row in rows] for i, field in enumerate(schema)}, schema=schema)
