"""The report and its parts, as the engine builds them and storage keeps them."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, Protocol

from core.weeks import Week

COMPLETE, PARTIAL, FAILED = "complete", "partial", "failed"
# No engagement or conversion rows at all for the customer in the week: no sections are
# written, and the report says so in a few lines instead of a $0 review.
NO_DATA = "no_data"


def report_id_for(subject_id: str, week: Week, kind: str = "ebr") -> str:
    """One report per (kind, subject, week): the id is derived from them (an EBR's: CUST_X-YYYYMMDD)."""
    from core.kinds import get_kind  # the kinds' modules build reports: imported when first asked

    return get_kind(kind).report_id(subject_id, week)


@dataclass
class SectionResult:
    key: str
    title: str
    position: int
    content: str | None
    agent_message_id: int | None
    status: str  # complete | failed
    error: str | None = None  # why it failed; for a complete section, "warning: ..." if any
    warnings: tuple[str, ...] = ()  # the agent service's non-fatal warnings (not stored per section)


class KindHeadline(Protocol):
    """What generic code asks of a report's headline: each kind has its own type (the EBR's
    `Headline`, the coaching review's core.kinds.coaching.headline.CoachingHeadline), read
    by the kind's own templates; the engine and storage only store and rebuild it."""

    def as_dict(self) -> dict[str, Any]: ...


@dataclass
class Headline:
    """The EBR's parent message figures, from the engine's own SQL."""

    revenue: float
    revenue_wow: float | None
    conversions: float
    conversions_wow: float | None
    click_through_rate: float | None
    click_through_rate_wow: float | None
    engagement_score: float | None
    engagement_score_wow: float | None
    sparkline: str
    health: str  # the account-health verdict: Healthy | Watch | At risk (core.kinds.ebr.health)
    health_reasons: str = ""  # its top reasons, each with its figure ("" in reports stored before)
    revenue_previous: float | None = None  # the week before's revenue (a negative or zero base has no %)
    excluded_values: int = 0  # source values (NULL or NaN engagement scores) left out of the figures
    partial_note: str = ""  # the week or the week before covered only in part ("" when both are whole)
    # "What matters this week": at most three talking points for the next call, each with its
    # figure (core.recommendations.what_matters; empty in reports stored before)
    talking_points: list[str] = field(default_factory=list)
    # What the report's charts show (core.kinds.ebr.charts), all from the run's queries; empty
    # in reports stored before charts, which then have none. The revenue of the 8 trend weeks,
    # oldest first (the last is the report week), and the days of data each covers;
    trend_revenue: list[float] = field(default_factory=list)
    trend_days: list[int] = field(default_factory=list)
    # the industry's weekly revenue growth benchmark, when the trend can be set against it;
    benchmark_growth: float | None = None
    # per channel, largest first: {"channel", "revenue" (this week), "share" (of this week's
    # revenue), "baseline_share" (of the baseline window's revenue; None without one)}.
    channel_mix: list[dict[str, Any]] = field(default_factory=list)

    @property
    def health_line(self) -> str:
        """The verdict with its reasons in one line, as every surface shows it."""
        return f"{self.health}: {self.health_reasons}" if self.health_reasons else self.health

    def as_dict(self) -> dict[str, Any]:
        """The fields for the report's JSON metadata: a non-finite number is stored as None."""
        return {
            k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in self.__dict__.items()
        }


@dataclass
class Report:
    """One stored weekly report of one kind about one subject.

    `subject_id` is what the report is about (an EBR's: the customer, so == customer_id);
    `customer_id`, `customer_name` and `industry` are the EBR's names for the subject, its
    name and its group, filled for every kind.
    """

    report_id: str
    csm_id: str | None
    customer_id: str
    customer_name: str
    industry: str
    week: Week
    status: str
    sections: list[SectionResult]
    headline: KindHeadline | None  # the kind's own (an EBR's: Headline)
    agent_thread_id: str | None
    last_message_id: int | None
    generated_at: dt.datetime
    full_report: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    kind: str = "ebr"  # the registered report kind (core.kinds)
    subject_id: str = ""  # "" on construction: the customer_id

    def __post_init__(self) -> None:
        if not self.subject_id:
            self.subject_id = self.customer_id

    @property
    def failed_sections(self) -> list[SectionResult]:
        return [s for s in self.sections if s.status != COMPLETE]
