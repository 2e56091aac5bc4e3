"""The team rollup's data: after a weekly run, each CSM's customers with their stored reports.

Per CSM, per customer: the stored headline figures (with the health verdict), the report's
status and the sections that failed, and the CSM's pause. The figures are the ones stored
with each report (the engine's own SQL); nothing is recomputed. Rendering it for a medium
(the Slack message for WEEKLY_REPORT_ROLLUP_CHANNEL) is the bot's: bot/slack/rollup.py.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from core.kinds.ebr.analytics import IN_SCOPE
from core.models import COMPLETE, FAILED, NO_DATA, PARTIAL, Headline
from core.preferences import Pause
from core.warehouse import Warehouse, variant
from core.warehouse.base import ANALYTICS
from core.weeks import Week

T = ANALYTICS
# The rollup is the EBR's (CSMs and their customers): other kinds' reports are left out.
EBR_ONLY = "COALESCE(r.report_kind, 'ebr') = 'ebr'"

_TEAM = f"""
SELECT a.csm_id, a.csm_name, a.customer_id, c.customer_name, r.status, r.metadata
FROM {T}.csm_assignments a
JOIN {T}.customers c ON c.customer_id = a.customer_id
LEFT JOIN {T}.weekly_reports r
    ON r.customer_id = a.customer_id AND r.report_week_start = ? AND {EBR_ONLY}
ORDER BY a.csm_name, a.csm_id, c.customer_name, a.customer_id
"""
_UNFINISHED_SECTIONS = f"""
SELECT r.customer_id, s.title
FROM {T}.weekly_reports r JOIN {T}.report_sections s ON s.report_id = r.report_id
WHERE r.report_week_start = ? AND s.status <> '{COMPLETE}' AND {EBR_ONLY}
ORDER BY r.customer_id, s.position
"""
_LATEST = f"""
SELECT customer_id, report_week_start, status, metadata
FROM {T}.weekly_reports r
WHERE {IN_SCOPE} AND report_week_start BETWEEN ? AND ? AND {EBR_ONLY}
ORDER BY customer_id, report_week_start DESC
"""


@dataclass(frozen=True)
class LatestReport:
    """A customer's newest stored report: its week, status and headline (with the health verdict)."""

    week: Week
    status: str
    headline: Headline | None = None


def latest_reports(
    warehouse: Warehouse, customer_ids: Sequence[str], week: Week, lookback: int
) -> dict[str, LatestReport]:
    """customer id -> its newest report among `week` and the `lookback` - 1 weeks before, in
    one statement."""
    if not customer_ids:
        return {}
    params = [json.dumps(sorted(set(customer_ids))), week.shift(1 - lookback).start, week.start]
    found: dict[str, LatestReport] = {}
    for r in warehouse.query(_LATEST, params):
        if r["customer_id"] not in found:
            headline = (variant(r["metadata"]) or {}).get("headline")
            found[r["customer_id"]] = LatestReport(
                Week(r["report_week_start"]), r["status"], Headline(**headline) if headline else None
            )
    return found


@dataclass(frozen=True)
class RollupRow:
    """One customer's line: its stored report's status (None: no report) and headline."""

    customer_id: str
    customer_name: str
    status: str | None
    headline: Headline | None
    failed_sections: tuple[str, ...] = ()


@dataclass(frozen=True)
class CsmRollup:
    """One CSM's customers, and their pause if the Monday DMs are paused."""

    csm_id: str
    csm_name: str
    rows: tuple[RollupRow, ...]
    pause: Pause | None = None


def collect_rollup(
    warehouse: Warehouse,
    week: Week,
    pauses: Mapping[str, Pause] | None = None,
    csm_ids: Collection[str] | None = None,
) -> list[CsmRollup]:
    """The team (or the CSMs in `csm_ids`) with their customers' stored reports for `week`."""
    failed: dict[str, list[str]] = {}
    for r in warehouse.query(_UNFINISHED_SECTIONS, [week.start]):
        failed.setdefault(r["customer_id"], []).append(r["title"])
    team: dict[str, tuple[str, list[RollupRow]]] = {}
    for r in warehouse.query(_TEAM, [week.start]):
        if csm_ids is not None and r["csm_id"] not in csm_ids:
            continue
        metadata = variant(r["metadata"]) or {}
        headline = metadata.get("headline")
        row = RollupRow(
            r["customer_id"], r["customer_name"], r["status"], Headline(**headline) if headline else None,
            tuple(failed.get(r["customer_id"], ())),
        )  # fmt: skip
        team.setdefault(r["csm_id"], (r["csm_name"], []))[1].append(row)
    pauses = pauses or {}
    return [CsmRollup(csm_id, name, tuple(rows), pauses.get(csm_id)) for csm_id, (name, rows) in team.items()]


def totals(team: Sequence[CsmRollup]) -> dict[str, int]:
    """Counts for the summary line: reports by status, customers by health, paused CSMs."""
    rows = [row for csm in team for row in csm.rows]
    health = [row.headline.health for row in rows if row.headline]
    return {
        "customers": len(rows),
        "complete": sum(1 for r in rows if r.status == COMPLETE),
        "partial": sum(1 for r in rows if r.status == PARTIAL),
        "failed": sum(1 for r in rows if r.status == FAILED),
        "no_data": sum(1 for r in rows if r.status == NO_DATA),
        "missing": sum(1 for r in rows if r.status is None),
        "healthy": health.count("Healthy"),
        "watch": health.count("Watch"),
        "at_risk": health.count("At risk"),
        "paused": sum(1 for csm in team if csm.pause),
    }
