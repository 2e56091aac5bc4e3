"""The executive business review as a report kind: one report per customer, to its CSM.

Its facts are core/kinds/ebr/analytics.py's snapshot (eight set-based statements per run),
its verdict core/kinds/ebr/health.py's, its sections core/kinds/ebr/sections.py's, its guard
scope core/kinds/ebr/scope.py's; its templates live in templates/ebr/.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from core.charts import Chart
from core.directory import Directory, Requester, validate_customer_id
from core.errors import InvalidWeek
from core.kinds.base import ReportKind, Subject, Target
from core.kinds.ebr.analysis import SPARK_WEEKS, Analysis, analyse
from core.kinds.ebr.analytics import COVERAGE_SQL, Analytics, CustomerData, Snapshot
from core.kinds.ebr.charts import ebr_charts
from core.kinds.ebr.recommendations import what_matters
from core.kinds.ebr.scope import EBR_SCOPE
from core.kinds.ebr.sections import SECTIONS
from core.kinds.ebr.suggestions import ebr_questions
from core.models import NO_DATA, PARTIAL, Headline, Report
from core.settings import DEFAULT_AGENT, Settings
from core.warehouse.base import ANALYTICS
from core.weeks import Week

if TYPE_CHECKING:
    from core.warehouse import Warehouse

SUBJECTS_SQL = f"SELECT customer_id, customer_name FROM {ANALYTICS}.customers"


class ExecutiveReview(ReportKind):
    """The EBR (design §1): Performance vs Benchmarks, Business Value, Recommendations."""

    name = "ebr"
    title = "executive business review"
    sections = SECTIONS
    scope = EBR_SCOPE
    cortex_agent = DEFAULT_AGENT

    def agent_name(self, settings: Settings) -> str:
        # CORTEX_AGENT names the EBR's agent (by default the one sql/agent.sql creates).
        return settings.cortex_agent

    def scope_note(self, subject_id: str, subject_name: str) -> str:
        customer = f"{subject_id} ({subject_name})"
        return (
            f"[Scope: this thread is the weekly report on customer {customer}. Answer only about "
            f"{subject_id}: filter every query on customer_id = '{subject_id}', do not "
            "read or name any other customer, and if the question asks for anything else, say you can "
            f"only answer about {subject_id}.]"
        )

    def report_id(self, subject_id: str, week: Week) -> str:
        # The id every stored EBR already has (CUST_X-YYYYMMDD): the Slack threads and the
        # delivery ledger point at it.
        return f"{subject_id}-{week.start:%Y%m%d}"

    def validate_subject(self, text: str | None) -> str:
        return validate_customer_id(text)

    def targets(
        self, warehouse: Warehouse, recipient_id: str | None = None, subject_id: str | None = None
    ) -> list[Target]:
        directory = Directory(warehouse)
        assignments = directory.require_csm(recipient_id) if recipient_id else directory.assignments()
        chosen: dict[str, Target] = {}
        for a in assignments:
            if subject_id in (None, a.customer_id):
                chosen.setdefault(a.customer_id, Target(a.csm_id, a.customer_id))
        return list(chosen.values())

    def authorize(self, warehouse: Warehouse, requester: Requester, subject_id: str) -> None:
        Directory(warehouse).authorize(requester, subject_id)

    def subjects(self, warehouse: Warehouse, subject_ids: Sequence[str]) -> Mapping[str, Subject]:
        return {k: self.subject_of(v) for k, v in Analytics(warehouse).profiles(subject_ids).items()}

    def facts(self, warehouse: Warehouse, week: Week, subject_ids: Sequence[str]) -> Snapshot:
        return Analytics(warehouse).snapshot(week, subject_ids)

    def subject_of(self, facts: Any) -> Subject:
        data: CustomerData = facts
        return Subject(data.customer_id, data.name, data.industry)

    def headline(self, facts: Any) -> Headline:
        return headline(facts)

    def prompt_context(self, subject: Subject, week: Week) -> dict[str, Any]:
        # The prompts (and the Snowflake task's copies of them) name the customer.
        return {
            "customer_id": subject.subject_id, "customer_name": subject.name, "industry": subject.group,
            **{k: v for k, v in super().prompt_context(subject, week).items() if k.endswith(("_start", "_end"))},
        }  # fmt: skip

    def metadata(self, subject: Subject) -> dict[str, Any]:
        return {"customer_name": subject.name, "industry": subject.group}

    def subject_from_metadata(self, subject_id: str, metadata: Mapping[str, Any]) -> Subject:
        return Subject(subject_id, metadata.get("customer_name", subject_id), metadata.get("industry", ""))

    no_data_note = "no engagement or conversions were recorded in the week"

    def week_status(self, facts: Any) -> str | None:
        data: CustomerData = facts
        if data.week(0).empty:
            return NO_DATA
        return None if data.whole(0) else PARTIAL

    def partial_data(self, facts: Any) -> dict[str, Any]:
        data: CustomerData = facts
        return {"days": data.days(0), "of": 7}

    def judgement(self, facts: Any) -> dict[str, Any]:
        briefing = what_matters(analyse(facts))
        return {"verdict": briefing.verdict, "talking_points": briefing.points}

    def suggested_questions(self, report: Report) -> Sequence[str]:
        return ebr_questions(report.headline if isinstance(report.headline, Headline) else None)

    def charts(self, report: Report) -> Sequence[Chart]:
        return ebr_charts(report)

    def coverage(self, warehouse: Warehouse, week: Week) -> None:
        row = warehouse.query(COVERAGE_SQL)[0]
        first, last = row["first_day"], row["last_day"]
        if first is None:
            raise InvalidWeek(
                "the warehouse has no engagement data yet; run `weekly-report load-demo` or load yours"
            )
        if week.end < first or week.start > last:
            raise InvalidWeek(f"no data for the week of {week.start}; the data covers {first} to {last}")

    def known_subjects(self, warehouse: Warehouse) -> Mapping[str, str]:
        return {str(r["customer_id"]): str(r["customer_name"]) for r in warehouse.query(SUBJECTS_SQL)}


def headline(data: CustomerData) -> Headline:
    """The parent message's figures, from the engine's own queries (the verdict: core.kinds.ebr.health)."""
    analysis = analyse(data)
    m = analysis.metrics
    briefing = what_matters(analysis)
    return Headline(
        revenue=data.week(0).revenue, revenue_wow=m["revenue"].wow,
        conversions=data.week(0).conversions, conversions_wow=m["conversions"].wow,
        click_through_rate=m["click_through_rate"].current, click_through_rate_wow=m["click_through_rate"].wow,
        engagement_score=m["engagement_score"].current, engagement_score_wow=m["engagement_score"].wow,
        sparkline=analysis.sparkline, health=analysis.health.label, health_reasons=analysis.health.because,
        revenue_previous=m["revenue"].previous, excluded_values=analysis.excluded_values,
        partial_note=analysis.partial_note or "", talking_points=list(briefing.points),
        **chart_figures(data, analysis),
    )  # fmt: skip


def chart_figures(data: CustomerData, analysis: Analysis) -> dict[str, Any]:
    """The queried figures the report's charts show (core.kinds.ebr.charts), for its Headline."""
    weeks = range(1 - SPARK_WEEKS, 1)
    growth = data.benchmarks.get("weekly_revenue_growth")
    # The benchmark is a weekly growth rate: set against the trend only when the trend is a
    # run of whole weeks from a positive first week (the report's own compounded growth is
    # computed under the same condition), and the customer was active the whole span.
    comparable = data.whole(*weeks) and analysis.new_since is None and analysis.revenue_trend[0] > 0
    baseline_total = sum(ch.baseline_revenue or 0.0 for ch in analysis.channels)
    mix = [
        {
            "channel": ch.channel,
            "revenue": ch.revenue,
            "share": ch.revenue_share,
            "baseline_share": (ch.baseline_revenue or 0.0) / baseline_total if baseline_total > 0 else None,
        }
        for ch in analysis.channels
    ]
    return {
        "trend_revenue": list(analysis.revenue_trend),
        "trend_days": [data.days(k) for k in weeks],
        "benchmark_growth": growth.value if growth is not None and comparable else None,
        "channel_mix": mix,
    }


EBR = ExecutiveReview()
