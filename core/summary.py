"""What a run did: one summary type for the engine's generation and the weekly delivery run.

The counters are updated from several threads (the report writer, the delivery pool) through
`add` and `problem`, under one lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from core.models import Report
from core.weeks import Week

COMPLETED, COMPLETED_WITH_ERRORS, FAILED = "completed", "completed_with_errors", "failed"


@dataclass
class RunSummary:
    """A run's counters and problems; `reports` are the run's reports by subject id, for delivery."""

    run_id: str = ""
    trigger: str = "manual"
    week: Week | None = None
    status: str = "running"
    reports_generated: int = 0
    reports_partial: int = 0
    reports_failed: int = 0
    reports_reused: int = 0
    # Refreshes that ended partial or failed, whose stored complete report was kept instead.
    reports_kept: int = 0
    reports_no_data: int = 0  # subjects with no rows in the week: a no_data report each
    dms_sent: int = 0
    dms_failed: int = 0
    messages_posted: int = 0
    emails_sent: int = 0
    emails_failed: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)  # lines for the admins' alert channel
    kept: list[str] = field(default_factory=list)  # one line per kept report, also in failures
    report_ids: list[str] = field(default_factory=list)  # the reports this run wrote
    paused: list[str] = field(default_factory=list)  # recipients paused, not sent to
    not_in_slack: list[str] = field(default_factory=list)  # recipients the DM channel could not find
    reports: dict[str, Report] = field(default_factory=dict, repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        """Add to counters by name, e.g. `add(dms_sent=1, messages_posted=4)`."""
        with self.lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)

    def problem(self, failure: str, alert: str | None = None) -> None:
        """A line for the summary's failures, and one for the alert channel if `alert`."""
        with self.lock:
            self.failures.append(failure)
            if alert:
                self.alerts.append(alert)

    def as_dict(self) -> dict[str, Any]:
        """The generation run's record (report_runs.details)."""
        with self.lock:
            return {
                "run_id": self.run_id, "trigger": self.trigger, "week_start": str(self.week), "status": self.status,
                "reports_generated": self.reports_generated, "reports_partial": self.reports_partial,
                "reports_failed": self.reports_failed, "reports_reused": self.reports_reused,
                "reports_kept": self.reports_kept, "reports_no_data": self.reports_no_data, "dms_sent": self.dms_sent, "dms_failed": self.dms_failed,
                "seconds": round(self.seconds, 2), "failures": list(self.failures),
            }  # fmt: skip

    def summary(self, status: str | None = None) -> dict[str, Any]:
        """The weekly run's summary: `status` by default from its failures."""
        with self.lock:
            if status is None:
                failed = self.reports_failed or self.dms_failed or self.emails_failed
                status = COMPLETED_WITH_ERRORS if failed else COMPLETED
            return {
                "status": status,
                "reports_generated": self.reports_generated, "reports_partial": self.reports_partial,
                "reports_failed": self.reports_failed, "reports_reused": self.reports_reused,
                "reports_no_data": self.reports_no_data, "dms_sent": self.dms_sent, "dms_failed": self.dms_failed,
                "messages_posted": self.messages_posted, "emails_sent": self.emails_sent,
                "emails_failed": self.emails_failed, "paused": sorted(self.paused),
                "not_in_slack": sorted(self.not_in_slack), "failures": list(self.failures),
            }  # fmt: skip
