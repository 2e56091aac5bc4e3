"""The Monday job: generate the week's reports and DM each to its CSM, exactly once.

One function for the scheduler (`WeeklyJob.__call__`), `weekly-report send-weekly` and the
tests. A run is claimed in `report_runs` (core.runs) so that of several running bots one
runs it, and is kept alive by a heartbeat while it goes on and makes progress (a report
built, a delivery done): a run stuck for longer than `run_stall` stops heartbeating, so
another copy takes its claim over once the lease has passed. Paused CSMs are skipped (and
listed). Reports are generated (complete ones reused), then each CSM's reports are posted
to their DM, several CSMs at a time, through one `Poster` and one `Pacer` per process. Each
(report, CSM's Slack user id) is a ledger row (core.deliveries), so a run killed midway
resumes where it stopped and a report is never DMed twice to the same person.

After the DMs: the team rollup (WEEKLY_REPORT_ROLLUP_CHANNEL) and the alerts
(WEEKLY_REPORT_ALERT_CHANNEL: CSMs not found in Slack, DMs that failed after retries, a
failed run) are posted once per run, recorded in the same ledger under keys of their own.
The run's summary is stored with it (`weekly-report runs`) and returned.

Without a Slack client the reports are "delivered" to the console: printed, with nothing
recorded as sent (no claim, no ledger row); the generation run is recorded by the engine.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TextIO

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.delivery import Delivery, Poster, deliver, open_dm, post_once, shared_pacer, why
from bot.pacing import Pacer
from bot.slack.identity import People
from bot.text import slack_as_text
from core import (
    Assignment,
    DeliveryStore,
    Pause,
    Preferences,
    Report,
    ReportEngine,
    RunClaims,
    RunRecord,
    RunSummary,
    Settings,
    SlackMessage,
    Target,
    Week,
    collect_rollup,
    last_complete_week,
    report_id_for,
    rollup_messages,
    slack_parent,
    slack_sections,
    split_text,
)
from core.errors import WeeklyReportError
from core.runs import Heartbeat

log = logging.getLogger("weekly_report.bot.weekly")
DELIVERY_THREADS = 32  # CSMs delivered at once: keeps the workspace budget busy (they mostly wait)
ROLLUP_EVENT, ALERT_EVENT = "weekly_report_rollup", "weekly_report_alert"
COMPLETED, COMPLETED_WITH_ERRORS, FAILED = "completed", "completed_with_errors", "failed"
# A report is one thread and one turn per section, each bounded by CORTEX_TURN_TIMEOUT: a run
# that finished no report and no delivery in twice that time (or the claim's lease, if longer)
# is stuck, not slow.
STALL_MARGIN = 2


# One run summary type for the engine and the weekly run (thread-safe counters): core.summary.
Tally = RunSummary


class WeeklyJob:
    """The weekly run for some CSMs. `client` None delivers to the console (`out`)."""

    def __init__(
        self,
        settings: Settings,
        engine: ReportEngine,
        deliveries: DeliveryStore,
        client: WebClient | None = None,
        *,
        pacer: Pacer | None = None,
        claims: RunClaims | None = None,
        people: People | None = None,
        threads: int = DELIVERY_THREADS,
        out: TextIO | None = None,
    ) -> None:
        self.settings, self.engine, self.deliveries, self.client = settings, engine, deliveries, client
        pacer = pacer or shared_pacer(settings.slack_post_interval)
        self.poster = Poster(client, pacer) if client is not None else None
        self.claims = claims or RunClaims(engine.warehouse)
        self.people = people or People(settings, engine)
        self.preferences = Preferences(engine.warehouse, settings.current_date)
        self.threads, self.out = threads, out
        self.stall = run_stall(settings, len(engine.sections), self.claims.lease)
        self._stopping = threading.Event()

    def stop(self) -> None:
        """Ask a run in progress to stop after its current delivery, leaving it to be resumed."""
        self._stopping.set()

    def __call__(
        self, csm_ids: tuple[str, ...], week_hint: Any, *, trigger: str = "schedule", scope: str
    ) -> dict[str, Any]:
        """The scheduler's entry point: the run for `csm_ids`, for the week before `week_hint`."""
        return self.run(last_complete_week(week_hint), csm_ids, trigger=trigger, scope=scope)

    def run(
        self,
        week: Week,
        csm_ids: Sequence[str] | None = None,
        *,
        trigger: str = "manual",
        scope: str = "weekly:all",
        retry_errors: bool = False,
    ) -> dict[str, Any]:
        """Claim, generate, deliver, roll up, alert, and store the summary; return it."""
        if self.poster is None:
            return self._to_console(week, csm_ids, trigger)
        claim = self.claims.claim(week, scope, trigger, retry_errors=retry_errors)
        if not claim.won:
            log.info(
                "run for %s (%s) is %s by %s; not running it",
                week,
                scope,
                claim.record.status,
                claim.record.owner,
            )
            return existing_summary(claim.record)
        run_id, started = claim.run_id, time.monotonic()
        log.info(
            "%s run %s for the week of %s (%s)",
            "resuming" if claim.resumed else "starting",
            run_id,
            week,
            scope,
        )
        tally = Tally()
        with self.claims.keep_alive(run_id, stall=self.stall) as lost:
            try:
                self._run(run_id, week, csm_ids, trigger, tally, lost)
                if self._stopping.is_set():
                    log.warning(
                        "run %s stopped before it finished; it resumes when the bot starts again", run_id
                    )
                    return tally.summary("interrupted") | {"run_id": run_id, "week_start": str(week)}
                summary = tally.summary()
            except Exception as exc:  # the run failed: say so loudly, then store it
                log.error("weekly run %s failed", run_id, exc_info=exc)
                tally.problem(f"run: {_one_line(exc)}", f"the run failed: {_one_line(exc)}")
                summary = tally.summary(FAILED)
            self._alert(run_id, week, scope, tally)
        summary |= {"run_id": run_id, "week_start": str(week), "scope": scope, "trigger": trigger}
        summary["seconds"] = round(time.monotonic() - started, 2)
        if not self.claims.finish(run_id, summary):
            log.warning("run %s was taken over before it finished; its summary is the new owner's", run_id)
        log.info("run %s: %s", run_id, {k: v for k, v in summary.items() if not isinstance(v, list)})
        return summary

    # -- the run ---------------------------------------------------------------------------

    def _run(
        self,
        run_id: str,
        week: Week,
        csm_ids: Sequence[str] | None,
        trigger: str,
        tally: Tally,
        lost: Heartbeat,
    ) -> None:
        assignments, pauses = self._scope(csm_ids, tally)
        reports = self._generate(assignments, week, trigger, tally, lost)
        by_csm: dict[str, list[Assignment]] = defaultdict(list)
        for a in assignments:
            by_csm[a.csm_id].append(a)
        with ThreadPoolExecutor(self.threads, thread_name_prefix="deliver") as pool:
            for done in [
                pool.submit(self._deliver_csm, items, reports, tally, lost) for items in by_csm.values()
            ]:
                done.result()
        if lost.is_set():
            raise WeeklyReportError(lost.why)
        if self._stopping.is_set():
            return
        self._rollup(run_id, week, pauses, csm_ids, tally)

    def _scope(
        self, csm_ids: Sequence[str] | None, tally: Tally
    ) -> tuple[list[Assignment], dict[str, Pause]]:
        """The assignments to deliver (paused CSMs left out, and listed), and the pauses."""
        pauses = self.preferences.pauses(self.settings.current_date())
        wanted = set(csm_ids) if csm_ids is not None else None
        chosen = [a for a in self.engine.directory.assignments() if wanted is None or a.csm_id in wanted]
        tally.paused = sorted({a.csm_id for a in chosen if a.csm_id in pauses})
        if tally.paused:
            log.info("paused, not sent: %s", ", ".join(tally.paused))
        return [a for a in chosen if a.csm_id not in pauses], pauses

    def _generate(
        self,
        assignments: Sequence[Assignment],
        week: Week,
        trigger: str,
        tally: Tally,
        lost: Heartbeat | None = None,
    ) -> dict[str, Report]:
        """Generate (or reuse) the assignments' reports: the engine returns them, by subject id."""
        targets = list({a.customer_id: Target(a.csm_id, a.customer_id) for a in assignments}.values())
        if not targets:
            return {}
        progress = None if lost is None else lost.on_report
        gen = self.engine.generate(targets, week, trigger=trigger, progress=progress)
        tally.add(
            reports_generated=gen.reports_generated + gen.reports_reused, reports_partial=gen.reports_partial,
            reports_failed=gen.reports_failed, reports_reused=gen.reports_reused,
        )  # fmt: skip
        for t in targets:
            if t.subject_id not in gen.reports:
                tally.problem(
                    f"{t.subject_id}: no report to send (no stored report for the week of {week.start})"
                )
        return gen.reports

    def _deliver_csm(
        self, items: Sequence[Assignment], reports: dict[str, Report], tally: Tally, lost: Heartbeat
    ) -> None:
        """One CSM's reports, in order, to their DM."""
        assert self.poster is not None and self.client is not None
        csm = items[0]
        try:
            user_id = self.people.slack_user_for(self.client, csm)
        except (SlackClientError, OSError) as exc:
            user_id, reason = None, f"looking them up in Slack failed ({why(exc)})"
        else:
            reason = "not found in Slack by their email; set csm_assignments.slack_user_id"
        if user_id is None:
            tally.add(dms_failed=len(items))
            with tally.lock:
                tally.not_in_slack.append(csm.csm_id)
            tally.problem(f"{csm.csm_id}: {reason}", f"{csm.csm_id} ({csm.csm_email}): {reason}")
            return
        channel: str | None = None
        for a in items:
            report = reports.get(a.customer_id)
            if lost.is_set() or self._stopping.is_set():
                return
            if report is None:
                tally.add(dms_failed=1)
                tally.problem(
                    f"{a.customer_id} to {csm.csm_id}: no report",
                    f"{a.customer_id} for {csm.csm_id}: no report to send",
                )
                continue
            try:
                channel = channel or open_dm(self.poster, user_id)
            except (SlackClientError, OSError) as exc:
                channel = None
                sent = Delivery(
                    report.report_id, user_id, user_id, None, None, "failed", f"opening the DM: {why(exc)}"
                )
            else:
                sent = deliver(
                    self.client, self.deliveries, report, user_id, poster=self.poster, channel=channel
                )
            lost.progress()
            self._count(sent, a, tally)

    def _count(self, sent: Delivery, a: Assignment, tally: Tally) -> None:
        tally.add(messages_posted=sent.posted)
        if sent.ok:
            tally.add(dms_sent=1)
        elif sent.status == "busy":
            tally.problem(f"{a.customer_id} to {a.csm_id}: being delivered by another run")
        else:
            tally.add(dms_failed=1)
            tally.problem(
                f"{a.customer_id} to {a.csm_id}: {sent.error}",
                f"the DM of {a.customer_name} ({a.customer_id}) to {a.csm_id} failed after retries: {sent.error}",
            )

    # -- after the DMs ---------------------------------------------------------------------

    def _rollup(
        self, run_id: str, week: Week, pauses: dict[str, Pause], csm_ids: Sequence[str] | None, tally: Tally
    ) -> None:
        channel = self.settings.rollup_channel
        if not channel:
            return
        assert self.poster is not None
        team = collect_rollup(
            self.engine.warehouse, week, pauses, set(csm_ids) if csm_ids is not None else None
        )
        for n, message in enumerate(rollup_messages(team, week), start=1):
            try:
                if post_once(
                    self.poster, self.deliveries, f"rollup:{run_id}:{n}", channel, message, ROLLUP_EVENT
                ):
                    tally.add(messages_posted=1)
            except (SlackClientError, OSError) as exc:
                tally.problem(
                    f"rollup to {channel}: {why(exc)}", f"the team rollup to {channel} failed: {why(exc)}"
                )
                return

    def _alert(self, run_id: str, week: Week, scope: str, tally: Tally) -> None:
        channel = self.settings.alert_channel
        with tally.lock:
            alerts = list(tally.alerts)
        for line in alerts:
            log.warning("alert: %s", line)
        if not channel or not alerts or self.poster is None:
            return
        message = alert_message(week, scope, run_id, alerts)
        key = f"alert:{run_id}:{hashlib.sha256(message.text.encode()).hexdigest()[:16]}"
        try:
            post_once(self.poster, self.deliveries, key, channel, message, ALERT_EVENT)
        except (SlackClientError, OSError) as exc:
            log.error(
                "could not post the alert to %s (%s); check WEEKLY_REPORT_ALERT_CHANNEL", channel, why(exc)
            )

    # -- without Slack, and without writing -------------------------------------------------

    def _to_console(self, week: Week, csm_ids: Sequence[str] | None, trigger: str) -> dict[str, Any]:
        tally = Tally()
        assignments, _ = self._scope(csm_ids, tally)
        reports = self._generate(assignments, week, trigger, tally)
        out = self.out
        for csm_id, items in _grouped(assignments).items():
            _print(
                out,
                f"\n{'=' * 78}\nMonday DMs for {items[0].csm_name} <{items[0].csm_email}> ({csm_id})\n{'=' * 78}",
            )
            for a in items:
                report = reports.get(a.customer_id)
                if report is None:
                    tally.add(dms_failed=1)
                    continue
                print_report(out, report)
                tally.add(dms_sent=1, messages_posted=1 + len(slack_sections(report)))
        return tally.summary() | {"week_start": str(week), "trigger": trigger, "delivered_to": "console"}

    def dry_run(self, week: Week, csm_ids: Sequence[str] | None) -> list[str]:
        """What a run would send, to whom, and what is already sent; reads only."""
        pauses = self.preferences.pauses(self.settings.current_date())
        wanted = set(csm_ids) if csm_ids is not None else None
        chosen = [a for a in self.engine.directory.assignments() if wanted is None or a.csm_id in wanted]
        stored = self.engine.store.statuses([a.customer_id for a in chosen], week)
        lines = [f"Week of {week}: {len(chosen)} report(s) for {len(_grouped(chosen))} CSM(s)"]
        for csm_id, items in _grouped(chosen).items():
            user_id, who = self._recipient(items[0])
            pause = pauses.get(csm_id)
            lines.append(
                f"{csm_id} {items[0].csm_email} -> {who}"
                + (f" [{pause.describe()}: skipped]" if pause else "")
            )
            for a in items:
                record = self.deliveries.get(report_id_for(a.customer_id, week), user_id) if user_id else None
                state = record.status if record else "not sent"
                lines.append(
                    f"  {a.customer_id} {a.customer_name}: report {stored.get(a.customer_id, 'to generate')}, DM {state}"
                )
        if self.settings.rollup_channel:
            lines.append(f"team rollup -> {self.settings.rollup_channel}")
        return lines

    def _recipient(self, a: Assignment) -> tuple[str | None, str]:
        """The CSM's Slack user id (if any) and how to show where their DMs go."""
        if self.client is None:
            return None, "the console"
        try:
            user_id = self.people.slack_user_for(self.client, a)
        except (SlackApiError, OSError) as exc:
            return None, f"unknown ({why(exc)})"
        return user_id, user_id or "NOT FOUND IN SLACK (set csm_assignments.slack_user_id)"


def run_stall(settings: Settings, sections: int, lease: dt.timedelta) -> dt.timedelta:
    """How long a weekly run may go without finishing a report or a delivery before it gives
    up its claim: twice a report's worst case on Cortex (1 + sections calls, each ending by
    CORTEX_TURN_TIMEOUT), and never less than the claim's lease."""
    worst_report = dt.timedelta(seconds=(1 + sections) * settings.cortex_turn_timeout)
    return max(lease, STALL_MARGIN * worst_report)


def existing_summary(record: RunRecord) -> dict[str, Any]:
    """A run someone else holds or finished, as a summary."""
    return {
        "status": record.status, **record.counts, "run_id": record.run_id, "week_start": str(record.week),
        "scope": record.scope, "trigger": record.trigger, "owner": record.owner, "already_claimed": True,
    }  # fmt: skip


def alert_message(week: Week, scope: str, run_id: str, alerts: Iterable[str]) -> SlackMessage:
    lines = [f":rotating_light: *Weekly reports, week of {week.label()}* ({_escape(scope)}, run {run_id}):"]
    lines += [f"• {_escape(line)}" for line in alerts]
    text = "\n".join(lines)
    pieces = split_text(text)[:49]
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": p}} for p in pieces]
    return SlackMessage(text[:3900], blocks)


def print_report(out: TextIO | None, report: Report) -> None:
    _print(out, "\n" + slack_as_text(slack_parent(report)))
    for message in slack_sections(report):
        _print(out, "\n  ↳ in thread:")
        _print(out, slack_as_text(message, indent="    "))


def _print(out: TextIO | None, text: str) -> None:
    print(text, file=out)


def _grouped(assignments: Iterable[Assignment]) -> dict[str, list[Assignment]]:
    by_csm: dict[str, list[Assignment]] = defaultdict(list)
    for a in assignments:
        by_csm[a.csm_id].append(a)
    return dict(by_csm)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__
