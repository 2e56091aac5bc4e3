"""What "in line with the benchmark" means: defined once, used by every section and answer."""

from __future__ import annotations

# A level (a rate, a score, a value) within ±5 % of its benchmark is "in line".
IN_LINE_TOLERANCE = 0.05
# A growth rate (a fraction a week) within ±1 percentage point of its benchmark is "in line":
# growth rates are compared by their difference, as a ratio of two small rates means little.
GROWTH_IN_LINE_POINTS = 0.01

ABOVE, IN_LINE, BELOW, NO_BENCHMARK = "above", "in line", "below", "no benchmark"


def versus(subject: float | None, benchmark: float | None, growth: bool = False) -> str:
    """ "above", "in line", "below" or "no benchmark" (nothing to compare with).

    `growth`: both are growth rates, compared by their difference rather than their ratio.
    """
    if subject is None or benchmark is None:
        return NO_BENCHMARK
    if growth:
        gap = subject - benchmark
        limit = GROWTH_IN_LINE_POINTS
    else:
        if benchmark <= 0:
            return NO_BENCHMARK
        gap = subject / benchmark - 1
        limit = IN_LINE_TOLERANCE
    if abs(gap) <= limit + 1e-12:
        return IN_LINE
    return ABOVE if gap > 0 else BELOW
