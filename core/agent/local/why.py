"""Why a metric moved: the change between two periods, decomposed by channel and campaign.

The parts of a sum are each group's own change; the parts of a ratio are each group's excess
over the earlier overall ratio, weighted by its share of the denominator, so the parts always
add up to the change (see `contributions`).
"""

from __future__ import annotations

from core.agent.local import figures
from core.agent.local.figures import CONVERSIONS, MetricSpec, fmt, signed, value
from core.agent.local.intent import Intent
from core.format import change, relative_change
from core.kinds.ebr.analytics import Totals

TOP_CAMPAIGNS = 3  # campaigns listed under "why"


def why_weeks(intent: Intent) -> tuple[int, int]:
    """The (earlier, later) week offsets a "why" compares."""
    if intent.baseline == "year_ago" or intent.period.kind == "year_ago":
        return -52, 0
    if intent.period.kind in ("previous", "ago"):
        k = intent.period.offsets[0]
        return k - 1, k
    if intent.period.kind == "weeks":
        return intent.period.offsets[0], 0
    return -1, 0


def why_section(
    before: figures.WeekTotals,
    after: figures.WeekTotals,
    labels: tuple[str, str],
    spec: MetricSpec,
    direction: str | None,
) -> str:
    """A metric's move from the `before` period to the `after` one, decomposed by channel
    (and by campaign for conversions)."""
    v0, v1 = value(before.total, spec), value(after.total, spec)
    if (
        v0 is None
        or v1 is None
        or not (figures.has_data(before.total, spec) or figures.has_data(after.total, spec))
    ):
        return f"**{spec.label} can't be compared**: at least one of the two periods has no {' or '.join(spec.tables)} rows."
    delta = v1 - v0
    verb = "rose" if delta > 0 else "fell" if delta < 0 else "did not change"
    if (direction == "down" and delta > 0) or (direction == "up" and delta < 0):
        verb = "actually " + verb
    moved = f"{signed(delta, spec.kind)}, {change(relative_change(v1, v0))}" if delta else "flat"
    head = f"**{spec.label} {verb} ({moved})**: {fmt(v0, spec.kind)} in {labels[0]}, {fmt(v1, spec.kind)} in {labels[1]}."
    parts = [head, "By channel, largest contribution first:", _contributions(before, after, spec, "channel")]
    if spec.tables == (CONVERSIONS,):
        parts += [
            "Campaigns with the largest contributions:",
            _contributions(before, after, spec, "campaign", TOP_CAMPAIGNS),
        ]
    parts.append(_method(spec, delta))
    return "\n".join(part for part in parts if part)


def contributions(
    before: figures.WeekTotals, after: figures.WeekTotals, spec: MetricSpec, dimension: str
) -> dict[str, float]:
    """Each channel's (or campaign's) part of the change; the parts add up to the change.

    For a sum, a part is its own change. For a ratio R = N / D, a part is its excess over
    the earlier overall ratio R0, weighted by its share of D, later week minus earlier:
    (N1 - R0 D1) / D1 - (N0 - R0 D0) / D0, which sums to R1 - R0 over all parts.
    """
    names = set(before.by(dimension)) | set(after.by(dimension))
    if spec.ratio is None:
        return {
            n: _sum(after.by(dimension), n, spec.key) - _sum(before.by(dimension), n, spec.key) for n in names
        }
    numerator, denominator = spec.ratio
    r0 = value(before.total, spec) or 0.0
    d0, d1 = getattr(before.total, denominator), getattr(after.total, denominator)

    def excess(weeks: figures.WeekTotals, name: str, total: float) -> float:
        n, d = _sum(weeks.by(dimension), name, numerator), _sum(weeks.by(dimension), name, denominator)
        return (n - r0 * d) / total if total else 0.0

    return {n: excess(after, n, d1) - excess(before, n, d0) for n in names}


def _sum(groups: dict[str, Totals], name: str, field_name: str) -> float:
    return float(getattr(groups[name], field_name)) if name in groups else 0.0


def _contributions(
    before: figures.WeekTotals, after: figures.WeekTotals, spec: MetricSpec, dimension: str, limit: int = 0
) -> str:
    parts = sorted(contributions(before, after, spec, dimension).items(), key=lambda kv: (-abs(kv[1]), kv[0]))
    lines = []
    for name, part in parts[: limit or None]:
        then = value(before.by(dimension).get(name, Totals()), spec)
        now = value(after.by(dimension).get(name, Totals()), spec)
        lines.append(f"- {name}: {signed(part, spec.kind)} ({fmt(then, spec.kind)} → {fmt(now, spec.kind)})")
    return "\n".join(lines) or "- no rows in either week"


def _method(spec: MetricSpec, delta: float) -> str:
    if spec.ratio is None:
        return f"_The channel contributions add up to the total change of {signed(delta, spec.kind)}._"
    denominator = figures.DENOMINATOR_LABELS[spec.ratio[1]]
    return (
        f"_A channel's contribution is its share of {denominator} × (its {spec.label.lower()} − the earlier "
        f"overall figure), later week minus earlier; they add up to {signed(delta, spec.kind)}._"
    )
