"""How figures are written: one place, so every report and answer reads the same."""

from __future__ import annotations

from typing import Any

SPARK_BLOCKS = "▁▂▃▄▅▆▇█"


def money(value: float | None) -> str:
    if value is None:
        return "n/a"
    sign = "-" if value < 0 else ""
    amount = abs(value)
    return f"{sign}${amount:,.0f}" if amount >= 100 else f"{sign}${amount:,.2f}"


def pct(value: float | None, digits: int = 2) -> str:
    """A fraction as a percentage: 0.0241 -> '2.41%'."""
    return "n/a" if value is None else f"{value * 100:.{digits}f}%"


def number(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def change(value: float | None) -> str:
    """A relative change with an arrow: 0.031 -> '▲ 3.1%'."""
    if value is None:
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
    return "n/a" if value is None else f"{value:+.1f} {unit}"


def relative_change(current: float | None, previous: float | None) -> float | None:
    if current is None or previous is None or previous == 0:
        return None
    return current / previous - 1


def sparkline(values: list[float]) -> str:
    """Eight weekly values as unicode blocks, lowest to highest."""
    if not values:
        return ""
    low, high = min(values), max(values)
    if high == low:
        return SPARK_BLOCKS[3] * len(values)
    scale = (len(SPARK_BLOCKS) - 1) / (high - low)
    return "".join(SPARK_BLOCKS[round((v - low) * scale)] for v in values)


def benchmark_comparison(m: Any, industry: str) -> str:
    """How a Performance metric `m` (core.analysis.Metric) compares with its industry benchmark."""
    if m.benchmark is None:
        return f"no {industry} benchmark on file"
    if m.benchmark_key == "weekly_revenue_growth":
        return (
            f"growth {change(m.benchmark_subject)} vs {pct(m.benchmark, 1)} a week for {industry} "
            f"({m.vs_benchmark})"
        )
    if m.benchmark_label:
        return f"{m.benchmark_label} {pct(m.benchmark_subject)} vs {pct(m.benchmark)} benchmark ({m.vs_benchmark})"
    return f"benchmark {measure(m.benchmark, m.kind)} ({m.vs_benchmark})"


FILTERS = {
    "money": money,
    "pct": pct,
    "number": number,
    "change": change,
    "points": points,
    "measure": measure,
    "benchmark_comparison": benchmark_comparison,
}
