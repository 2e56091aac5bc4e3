"""The Monday job: generate the week's reports and deliver each CSM's to every channel they have.

One function for the scheduler (`WeeklyJob.__call__`), `weekly-report send-weekly` and the
tests. A run is claimed in `report_runs` (core.runs) so that of several running bots one
runs it, and is kept alive by a heartbeat while it goes on and makes progress (a report
built, a delivery done): a run stuck for longer than `run_stall` stops heartbeating, so
another copy takes its claim over once the lease has passed. Paused CSMs are skipped (and
listed). Reports are generated (complete ones reused), then each CSM's reports, as one
Parcel, go to each of their channels (bot.channels: WEEKLY_REPORT_DELIVERY, with email
added or dropped by the CSM's own choice), several CSMs at a time. Each channel delivers
through the ledger (core.deliveries), so a run killed midway resumes where it stopped and
nothing is sent twice; Slack DMs go through one `Poster` and one `Pacer` per process.

After the deliveries: the team rollup (WEEKLY_REPORT_ROLLUP_CHANNEL) and the alerts
(WEEKLY_REPORT_ALERT_CHANNEL: CSMs not found in Slack, deliveries that failed after retries,
a failed run) are posted to Slack once per run, recorded in the same ledger under keys of
their own. The run's summary is stored with it (`weekly-report runs`) and returned.

A run whose channels record nothing (the console alone) is a preview: the reports are
printed, no run is claimed and no ledger row written; the generation run is recorded by the
engine as always.
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
from dataclasses import dataclass
from typing import Any, TextIO

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from bot.channels import (
    Channel,
    ChannelServices,
    Outcome,
    Parcel,
    Preview,
    Recipient,
    close_channels,
    open_channels,
)
from bot.channels.slack_dm.delivery import Poster, post_once, shared_pacer, why
from bot.mrkdwn import SlackMessage, split_text
from bot.pacing import Pacer
from bot.slack.identity import People
from bot.slack.rollup import rollup_messages
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
    Target,
    Week,
    channels_for,
    collect_rollup,
    last_complete_week,
    report_id_for,
)
from core.errors import WeeklyReportError
from core.runs import Heartbeat
from core.summary import FAILED

log = logging.getLogger("weekly_report.bot.weekly")
DELIVERY_THREADS = 32  # CSMs delivered at once: keeps the workspace budget busy (they mostly wait)
ROLLUP_EVENT, ALERT_EVENT = "weekly_report_rollup", "weekly_report_alert"
# A report is one thread and one turn per section, each bounded by CORTEX_TURN_TIMEOUT: a run
# that finished no report and no delivery in twice that time (or the claim's lease, if longer)
# is stuck, not slow.
STALL_MARGIN = 2


@dataclass(frozen=True)
class Counters:
    """The summary's keys a channel's outcomes are counted under."""

    sent: str
    failed: str
    messages: str | None = None  # messages sent by this attempt
    unreachable: str | None = None  # people the channel could not find
    per_report: bool = True  # a unit is one report (a report missing from the run counts as failed)


# The console shows the Monday DMs, so it counts as they do (as it always has).
COUNTERS = {
    "slack": Counters("dms_sent", "dms_failed", "messages_posted", "not_in_slack"),
    "console": Counters("dms_sent", "dms_failed", "messages_posted"),
    "email": Counters("emails_sent", "emails_failed", per_report=False),
}


class WeeklyJob:
    """The weekly run for some CSMs, to each CSM's channels (`client` None: no Slack)."""

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
        # WEEKLY_REPORT_DELIVERY; for Settings built in code, Slack when given a client.
        self.channels = settings.delivery or (("slack",) if client is not None else ("console",))
        self.services = ChannelServices(settings, deliveries, client, self.poster, self.people, out)
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
        choices = self._email_choices(csm_ids)
        channels = open_channels(self.channels, self.services, self._names(choices))
        try:
            if not any(c.records for c in channels.values()):
                return self._preview(week, csm_ids, trigger, channels, choices)
            return self._claimed(week, csm_ids, trigger, scope, retry_errors, channels, choices)
        finally:
            close_channels(channels.values())

    def _claimed(
        self,
        week: Week,
        csm_ids: Sequence[str] | None,
        trigger: str,
        scope: str,
        retry_errors: bool,
        channels: dict[str, Channel],
        choices: dict[str, bool],
    ) -> dict[str, Any]:
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
        tally = RunSummary()
        with self.claims.keep_alive(run_id, stall=self.stall) as lost:
            try:
                self._run(run_id, week, csm_ids, trigger, tally, lost, channels, choices)
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
        tally: RunSummary,
        lost: Heartbeat,
        channels: dict[str, Channel],
        choices: dict[str, bool],
    ) -> None:
        assignments, pauses = self._scope(csm_ids, tally)
        reports = self._generate(assignments, week, trigger, tally, lost)
        watch = _Watch(self._stopping, lost)
        with ThreadPoolExecutor(self.threads, thread_name_prefix="deliver") as pool:
            for done in [
                pool.submit(self._deliver_csm, items, reports, week, tally, watch, channels, choices)
                for items in _grouped(assignments).values()
            ]:
                done.result()
        if lost.is_set():
            raise WeeklyReportError(lost.why)
        if self._stopping.is_set():
            return
        self._rollup(run_id, week, pauses, csm_ids, tally)

    def _email_choices(self, csm_ids: Sequence[str] | None) -> dict[str, bool]:
        """csm_id -> their own choice about email, for the CSMs in the run."""
        wanted = set(csm_ids) if csm_ids is not None else None
        return {c: on for c, on in self.preferences.email_choices().items() if wanted is None or c in wanted}

    def _names(self, choices: dict[str, bool]) -> list[str]:
        """Every channel some CSM of the run has."""
        names = list(self.channels)
        for on in set(choices.values()):
            names += channels_for(self.channels, on)
        return list(dict.fromkeys(names))

    def _scope(
        self, csm_ids: Sequence[str] | None, tally: RunSummary
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
        tally: RunSummary,
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
            reports_no_data=gen.reports_no_data,
        )  # fmt: skip
        for t in targets:
            if t.subject_id not in gen.reports:
                tally.problem(
                    f"{t.subject_id}: no report to send (no stored report for the week of {week.start})"
                )
        return gen.reports

    def _deliver_csm(
        self,
        items: Sequence[Assignment],
        reports: dict[str, Report],
        week: Week,
        tally: RunSummary,
        watch: _Watch,
        channels: dict[str, Channel],
        choices: dict[str, bool],
    ) -> None:
        """One CSM's reports, in order, as one parcel to each of their channels."""
        csm = items[0]
        names = channels_for(self.channels, choices.get(csm.csm_id))
        missing = [a for a in items if a.customer_id not in reports]
        for a in missing:
            tally.problem(
                f"{a.customer_id} to {csm.csm_id}: no report",
                f"{a.customer_id} for {csm.csm_id}: no report to send",
            )
        for key in dict.fromkeys(COUNTERS[n].failed for n in names if COUNTERS[n].per_report):
            tally.add(**{key: len(missing)})
        present = tuple(reports[a.customer_id] for a in items if a.customer_id in reports)
        parcel = Parcel(self.engine.kind.name, week, recipient_of(csm), present)
        for name in names:
            if watch():
                return
            if name not in channels:
                _unavailable(COUNTERS[name], csm.csm_id, name, len(present), tally)
                continue
            outcome = channels[name].deliver(parcel, watch)
            watch.progress()
            _count(COUNTERS[name], csm.csm_id, outcome, tally)

    # -- after the deliveries --------------------------------------------------------------

    def _rollup(
        self,
        run_id: str,
        week: Week,
        pauses: dict[str, Pause],
        csm_ids: Sequence[str] | None,
        tally: RunSummary,
    ) -> None:
        channel = self.settings.rollup_channel
        if not channel:
            return
        if self.poster is None:
            log.warning("WEEKLY_REPORT_ROLLUP_CHANNEL is set, but without SLACK_BOT_TOKEN there is no rollup")
            return
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

    def _alert(self, run_id: str, week: Week, scope: str, tally: RunSummary) -> None:
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

    # -- channels that record nothing, and dry runs -----------------------------------------

    def _preview(
        self,
        week: Week,
        csm_ids: Sequence[str] | None,
        trigger: str,
        channels: dict[str, Channel],
        choices: dict[str, bool],
    ) -> dict[str, Any]:
        """A run to channels that record nothing (the console): no claim, no ledger, in CSM order."""
        tally = RunSummary()
        assignments, _ = self._scope(csm_ids, tally)
        reports = self._generate(assignments, week, trigger, tally)
        watch = _Watch(self._stopping, None)
        for items in _grouped(assignments).values():
            self._deliver_csm(items, reports, week, tally, watch, channels, choices)
        delivered_to = ", ".join(channels)
        return tally.summary() | {"week_start": str(week), "trigger": trigger, "delivered_to": delivered_to}

    def dry_run(self, week: Week, csm_ids: Sequence[str] | None) -> list[str]:
        """What a run would send, to whom on which channel, and what is already sent; reads only."""
        pauses = self.preferences.pauses(self.settings.current_date())
        choices = self._email_choices(csm_ids)
        wanted = set(csm_ids) if csm_ids is not None else None
        chosen = [a for a in self.engine.directory.assignments() if wanted is None or a.csm_id in wanted]
        stored = self.engine.store.statuses([a.customer_id for a in chosen], week)
        lines = [f"Week of {week}: {len(chosen)} report(s) for {len(_grouped(chosen))} CSM(s)"]
        channels = open_channels(self.channels, self.services, self._names(choices))
        try:
            for csm_id, items in _grouped(chosen).items():
                names = channels_for(self.channels, choices.get(csm_id))
                ids = tuple(report_id_for(a.customer_id, week) for a in items)
                previews = [(n, self._preview_of(channels.get(n), items[0], week, ids)) for n in names]
                if not previews:
                    who = "nowhere (every channel of theirs is off)"
                elif len(previews) == 1:
                    who = previews[0][1].to
                else:
                    who = ", ".join(f"{n}: {p.to}" for n, p in previews)
                pause = pauses.get(csm_id)
                lines.append(
                    f"{csm_id} {items[0].csm_email} -> {who}"
                    + (f" [{pause.describe()}: skipped]" if pause else "")
                )
                for a, report_id in zip(items, ids, strict=True):
                    states = [p.states[report_id] for _, p in previews if report_id in p.states]
                    state = stored.get(a.customer_id, "to generate")
                    lines.append(
                        f"  {a.customer_id} {a.customer_name}: " + ", ".join([f"report {state}", *states])
                    )
                lines += [f"  {n}: {p.note}" for n, p in previews if p.note]
        finally:
            close_channels(channels.values())
        if self.settings.rollup_channel:
            lines.append(f"team rollup -> {self.settings.rollup_channel}")
        return lines

    def _preview_of(
        self, channel: Channel | None, a: Assignment, week: Week, ids: tuple[str, ...]
    ) -> Preview:
        if channel is None:
            return Preview("not available (not configured here)")
        return channel.preview(recipient_of(a), self.engine.kind.name, week, ids)


class _Watch:
    """A run's `stopping()` for its channels: True once the run should stop; each ask (a channel
    moving on to its next unit) is progress, which keeps the run's claim alive."""

    def __init__(self, stopping: threading.Event, lost: Heartbeat | None) -> None:
        self._stopping, self._lost = stopping, lost

    def __call__(self) -> bool:
        self.progress()
        return self._stopping.is_set() or (self._lost is not None and self._lost.is_set())

    def progress(self) -> None:
        if self._lost is not None:
            self._lost.progress()


def recipient_of(a: Assignment) -> Recipient:
    """A CSM as a channel's recipient (with the Slack user id the directory has, if any)."""
    return Recipient(a.csm_id, a.csm_name, a.csm_email, {"slack": a.slack_user_id} if a.slack_user_id else {})


def _unavailable(counters: Counters, person_id: str, name: str, reports: int, tally: RunSummary) -> None:
    """A channel the person chose that this installation cannot deliver to."""
    tally.add(**{counters.failed: reports if counters.per_report else 1})
    problem = f"{person_id}: their {name} delivery is not available (not configured here)"
    tally.problem(problem, problem)


def _count(counters: Counters, person_id: str, outcome: Outcome, tally: RunSummary) -> None:
    tally.add(**{counters.sent: outcome.delivered, counters.failed: outcome.failed})
    if counters.messages:
        tally.add(**{counters.messages: outcome.messages})
    if outcome.unreachable and counters.unreachable:
        with tally.lock:
            getattr(tally, counters.unreachable).append(person_id)
    for failure, alert in outcome.problems:
        tally.problem(failure, alert)


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


def _grouped(assignments: Iterable[Assignment]) -> dict[str, list[Assignment]]:
    by_csm: dict[str, list[Assignment]] = defaultdict(list)
    for a in assignments:
        by_csm[a.csm_id].append(a)
    return dict(by_csm)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__
