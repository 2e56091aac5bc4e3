"""What a coaching run did: the seed's result, and what else is useful."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from bot.channels import Outcome
from core import Week

log = logging.getLogger("weekly_report.bot.coaching")
COMPLETED, COMPLETED_WITH_ERRORS = "completed", "completed_with_errors"


@dataclass
class CoachingResult:
    """A run's counters, updated from several threads through `add` / `problem` / `count`.

    `reports_generated` is the reports the run has for its reps (built now or reused from an
    earlier run of the same period); `emails_sent` the period's emails delivered (by this run or
    an earlier one), `emails_sent_now` those this run sent. So on a re-run nothing is sent
    (`emails_sent_now` 0) and `emails_sent` still equals `reports_generated`; `emails_sent` below
    `reports_generated` means some rep has no email: see `failures`.
    """

    week: Week
    dry_run: bool = False
    reps_processed: int = 0
    reports_generated: int = 0
    reports_reused: int = 0
    reports_failed: int = 0
    emails_sent: int = 0
    emails_sent_now: int = 0
    emails_failed: int = 0
    slack_posted: bool = False
    summary_to: str | None = None  # "webhook", a channel id, or None (not posted anywhere)
    managers_dmed: int = 0
    reps_dmed: int = 0
    dms_failed: int = 0
    not_in_slack: list[str] = field(default_factory=list)  # people the Slack DMs could not find
    failures: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was not done and why (not failures)
    reason: str | None = None  # why no rep was processed
    run_id: str | None = None  # the engine's generation run
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds per step: generating, emailing, slack
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        with self.lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)

    def problem(self, failure: str, alert: str | None = None, *, logged: bool = False) -> None:
        """A line for `failures`, and one for the alert channel if `alert` (logged here unless
        `logged`: a channel logs its own alerts)."""
        if alert and not logged:
            log.warning("alert: %s", alert)
        with self.lock:
            self.failures.append(failure)
            if alert:
                self.alerts.append(alert)

    def count(
        self, outcome: Outcome, sent: str, failed: str, now: str | None = None, *, logged: bool = False
    ) -> None:
        """A channel's outcome, counted under these counters (`logged`: the channel logged its alerts)."""
        self.add(**{sent: outcome.delivered, failed: outcome.failed})
        if now:
            self.add(**{now: outcome.messages})
        for failure, alert in outcome.problems:
            self.problem(failure, alert, logged=logged)

    @property
    def failed(self) -> bool:
        """A delivery (or a report to deliver) failed: the command exits 1."""
        return bool(self.failures) or bool(self.emails_failed or self.dms_failed or self.reports_failed)

    @property
    def status(self) -> str:
        return COMPLETED_WITH_ERRORS if self.failed else COMPLETED

    def as_dict(self) -> dict[str, Any]:
        """The seed's keys first (status, reps_processed, reports_generated, emails_sent,
        slack_posted), then the rest."""
        out: dict[str, Any] = {
            "status": self.status, "reps_processed": self.reps_processed,
            "reports_generated": self.reports_generated, "emails_sent": self.emails_sent,
            "slack_posted": self.slack_posted, "week_start": self.week.start.isoformat(),
            "week_end": self.week.end.isoformat(), "dry_run": self.dry_run,
            "reports_reused": self.reports_reused, "reports_failed": self.reports_failed,
            "emails_sent_now": self.emails_sent_now, "emails_failed": self.emails_failed,
            "summary_to": self.summary_to, "managers_dmed": self.managers_dmed,
            "reps_dmed": self.reps_dmed, "dms_failed": self.dms_failed,
            "not_in_slack": list(self.not_in_slack), "failures": list(self.failures),
            "notes": list(self.notes), "run_id": self.run_id, "seconds": round(self.seconds, 2),
            **{f"seconds_{k}": round(v, 2) for k, v in self.phases.items()},
        }  # fmt: skip
        if self.reason is not None:
            out["reason"] = self.reason
        return out
