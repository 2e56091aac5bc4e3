"""How figures are written: one place, so every report and answer reads the same."""

from __future__ import annotations

import math
from typing import Any

SPARK_BLOCKS = "▁▂▃▄▅▆▇█"


def _missing(value: float | None) -> bool:
    """No figure to write: None, or a NaN/infinity that slipped through (never printed)."""
    return value is None or not math.isfinite(value)


def money(value: float | None) -> str:
    if value is None or _missing(value):
        return "n/a"
    sign = "-" if value < 0 else ""
    amount = abs(value)
    return f"{sign}${amount:,.0f}" if amount >= 100 else f"{sign}${amount:,.2f}"


def pct(value: float | None, digits: int = 2) -> str:
    """A fraction as a percentage: 0.0241 -> '2.41%'."""
    return "n/a" if value is None or _missing(value) else f"{value * 100:.{digits}f}%"


def number(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None or _missing(value) else f"{value:,.{digits}f}"


def change(value: float | None) -> str:
    """A relative change with an arrow: 0.031 -> '▲ 3.1%'."""
    if value is None or _missing(value):
        return "n/a"
    if abs(value) < 0.0005:
        return "▬ 0.0%"
    arrow = "▲" if value > 0 else "▼"
    return f"{arrow} {abs(value) * 100:.1f}%"


def measure(value: float | None, kind: str) -> str:
    """A metric's value written the way its kind reads: money, a rate, a score or a count."""
    if kind == "money":
        return money(value)
    if kind == "rate":
        return pct(value)
    if kind == "score":
        return number(value, 1)
    return number(value)


def points(value: float | None, unit: str = "pts") -> str:
    return "n/a" if value is None or _missing(value) else f"{value:+.1f} {unit}"


def relative_change(current: float | None, previous: float | None) -> float | None:
    """current / previous - 1; None without a positive base (a percentage of a zero or
    negative week means nothing: see `movement`) or without a finite figure."""
    if current is None or previous is None or _missing(current) or _missing(previous) or previous <= 0:
        return None
    return current / previous - 1


def movement(
    current: float | None,
    previous: float | None,
    kind: str,
    span: str = "week over week",
    earlier: str = "the week before",
) -> str:
    """A change written honestly: a percentage on a positive base, the absolute change on a
    zero or negative one, "new" when the earlier period had no data (`previous` None)."""
    if current is None or _missing(current):
        return " ".join(filter(None, ("n/a", span)))
    if previous is None or _missing(previous):
        return f"new: no data {earlier}"
    if previous > 0:
        moved, note = change(relative_change(current, previous)), ""
    else:
        diff = current - previous
        moved = ("▲" if diff > 0 else "▼" if diff < 0 else "▬") + f" {measure(abs(diff), kind)}"
        note = f"; no percentage on a {'negative' if previous < 0 else 'zero'} base"
    return " ".join(filter(None, (moved, span, f"(from {measure(previous, kind)}{note})")))


def sparkline(values: list[float]) -> str:
    """Weekly values as unicode blocks whose heights are in proportion to the values.

    The scale runs from zero (or the lowest value, if one is negative) to the highest value,
    never from the lowest to the highest: a 15 % rise then looks like 15 % (▇█), not like
    a climb from nothing, and a 25 % fall ends three quarters of the way up, not at the
    bottom. Each block is the value in eighths of the scale, rounded, at least the lowest.
    """
    if not values:
        return ""
    low, high = min(0.0, *values), max(0.0, *values)
    if high == low:  # all zero
        return SPARK_BLOCKS[0] * len(values)
    steps = len(SPARK_BLOCKS)
    return "".join(
        SPARK_BLOCKS[min(steps - 1, max(0, round((v - low) / (high - low) * steps) - 1))] for v in values
    )


def benchmark_comparison(m: Any, industry: str) -> str:
    """How a Performance metric `m` (core.kinds.ebr.analysis.Metric) compares with its industry benchmark."""
    if m.benchmark is None:
        return f"no {industry} benchmark on file"
    if m.benchmark_key == "weekly_revenue_growth":  # a weekly change against a weekly benchmark
        if m.benchmark_subject is None and m.wow_note:
            why = m.wow_note.split("(", 1)[-1].rstrip(")")
            return f"no growth rate this week ({why}), so no benchmark comparison"
        if m.benchmark_subject is None:
            return (
                "no growth rate this week (no positive revenue the week before), so no benchmark comparison"
            )
        return (
            f"this week's growth {change(m.benchmark_subject)} vs the {industry} average of "
            f"{pct(m.benchmark, 1)} a week ({m.vs_benchmark})"
        )
    if m.benchmark_label:
        return f"{m.benchmark_label} {pct(m.benchmark_subject)} vs {pct(m.benchmark)} benchmark ({m.vs_benchmark})"
    return f"benchmark {measure(m.benchmark, m.kind)} ({m.vs_benchmark})"


FILTERS = {
    "money": money,
    "pct": pct,
    "number": number,
    "change": change,
    "movement": movement,
    "points": points,
    "measure": measure,
    "benchmark_comparison": benchmark_comparison,
}
