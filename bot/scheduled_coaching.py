"""The coaching schedule's job: the week's sales-coaching run, claimed so that of several
running bots one runs it, and stored with its result (`weekly-report runs`).

The run itself is the coaching flow (`bot.coaching.flow.run_coaching`: reviews generated,
emailed and DMed to each rep, the team summaries), called with emails and Slack on. This
module only claims the run in `report_runs` (core.runs, as the EBR's weekly runs are: scope
`coaching`), keeps the claim alive while the flow runs, and stores what it returned. A run
whose owner died goes stale and is taken over by the schedule's periodic check (same day);
the flow's own ledger keys make the rerun send nothing twice. The bot's runner passes
`bot.coaching.flow.run_coaching`; tests pass a recording stand-in.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from slack_sdk import WebClient

from bot.channels.slack_dm.delivery import Poster
from bot.schedule import COACHING_JOB
from bot.weekly import existing_summary
from core import DeliveryStore, ReportEngine, RunClaims, Settings, Week, last_complete_week
from core.runs import COMPLETED, COMPLETED_WITH_ERRORS, FAILED

if TYPE_CHECKING:
    from bot.slack.identity import People

log = logging.getLogger("weekly_report.bot.coaching")


class FlowResult(Protocol):
    def as_dict(self) -> dict[str, Any]: ...


class CoachingFlow(Protocol):
    """`bot.coaching.flow.run_coaching`'s signature."""

    def __call__(
        self,
        settings: Settings,
        engine: ReportEngine,
        deliveries: DeliveryStore,
        *,
        week: Week,
        send_emails: bool,
        send_slack: bool,
        dry_run: bool,
        resend: bool,
        client: WebClient | None = None,
        poster: Poster | None = None,
        people: People | None = None,
        out: TextIO | None = None,
        trigger: str = "manual",
    ) -> FlowResult: ...


class ScheduledCoaching:
    """The `CoachingJob` the schedule calls: claim, run the flow, store the result."""

    def __init__(
        self,
        settings: Settings,
        engine: ReportEngine,
        deliveries: DeliveryStore,
        flow: CoachingFlow,
        *,
        claims: RunClaims | None = None,
        client: WebClient | None = None,
        poster: Poster | None = None,
        people: People | None = None,
    ) -> None:
        self.settings, self.engine, self.deliveries, self.flow = settings, engine, deliveries, flow
        self.claims = claims or RunClaims(engine.warehouse)
        self.client, self.poster, self.people = client, poster, people

    def __call__(
        self, week_hint: dt.date, *, trigger: str = "schedule", scope: str = COACHING_JOB
    ) -> dict[str, Any]:
        """The run for the week before `week_hint` (its last complete Monday–Sunday week)."""
        week = last_complete_week(week_hint)
        claim = self.claims.claim(week, scope, trigger)
        if not claim.won:
            log.info(
                "coaching run for %s is %s by %s; not running it",
                week,
                claim.record.status,
                claim.record.owner,
            )
            return existing_summary(claim.record)
        run_id, started = claim.run_id, time.monotonic()
        log.info(
            "%s coaching run %s for the week of %s", "resuming" if claim.resumed else "starting", run_id, week
        )
        with self.claims.keep_alive(run_id):
            result = self._run(week, trigger)
        summary = result | {"status": run_status(result), "run_id": run_id, "week_start": str(week),
                            "scope": scope, "trigger": trigger, "seconds": round(time.monotonic() - started, 2)}  # fmt: skip
        if not self.claims.finish(run_id, summary):
            log.warning("coaching run %s was taken over before it finished", run_id)
        log.info("coaching run %s: %s", run_id, {k: v for k, v in summary.items() if not isinstance(v, list)})
        return summary

    def _run(self, week: Week, trigger: str) -> dict[str, Any]:
        try:
            result = self.flow(
                self.settings, self.engine, self.deliveries, week=week, send_emails=True, send_slack=True,
                dry_run=False, resend=False, client=self.client, poster=self.poster, people=self.people,
                trigger=trigger,
            )  # fmt: skip
        except Exception as exc:  # the run failed: say so loudly, then store it
            log.error("coaching run for the week of %s failed", week, exc_info=exc)
            return {"flow_status": FAILED, "failures": [f"run: {' '.join(str(exc).split())[:300]}"]}
        done = result.as_dict()
        # The flow's own run id is its generation's; the claim's run id names this run.
        out = {**done, "flow_status": done.get("status")}
        if "run_id" in done:
            out["generation_run_id"] = done["run_id"]
        # `weekly-report runs` counts DMs: the reps' reviews and the managers' summaries.
        out.setdefault("dms_sent", int(done.get("reps_dmed") or 0) + int(done.get("managers_dmed") or 0))
        return out


def run_status(result: dict[str, Any]) -> str:
    """The claim's status for a flow's result: the flow's own when it is one of the runs'
    (completed, completed_with_errors, failed: `flow_status`), else completed with errors when
    a report or a delivery failed, and completed otherwise."""
    if result.get("flow_status") in (COMPLETED, COMPLETED_WITH_ERRORS, FAILED):
        return str(result["flow_status"])
    if result.get("failures") or result.get("emails_failed") or result.get("reports_failed"):
        return COMPLETED_WITH_ERRORS
    return COMPLETED
