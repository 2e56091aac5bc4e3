"""The weekly sales-coaching run: `weekly-report coaching` and the bot's Monday 06:00 UTC job.

validate → the reps with calls in the period (none: reps_processed 0 and the reason) →
generate their reviews (the engine, kind coaching; complete ones stored earlier are reused) →
each rep's review by email (bot/coaching/emails.py) → the team summary to Slack, each manager
their team's summary and each rep their review by DM (bot/coaching/slack.py) → alerts →
the result (bot/coaching/result.py).

The team summary and the managers' DMs are posted once per period, so only by a run that has
every rep's review: not by a run of some reps (--rep-id: a note says so), nor while a review
failed (a note, and the run exits 1; the rerun that completes the reviews posts them), nor for
0 reps. A partial review (a section failed) does not hold them back: their figures are the
headline's, from queries.

Every delivery goes through the ledger (core.deliveries), so a re-run of a period sends
nothing twice and a run killed midway resumes. A dry run only reads: it stores no report,
writes no ledger row and sends nothing, and prints who would get what and the summary text.
Several copies of the bot each running the schedule are kept apart by the scheduler's claim
(bot/schedule.py); two manual runs of one period at once send nothing twice either, but one
may report an email the other is sending as "may or may not have been sent".
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, TextIO

from bot.channels import Parcel, Recipient
from bot.channels.email.channel import EmailChannel, ledger_key
from bot.channels.email.providers import make_provider
from bot.channels.slack_dm import SlackDm
from bot.channels.slack_dm.delivery import Poster, shared_pacer
from bot.coaching import slack
from bot.coaching.emails import resend_number
from bot.coaching.emails import send_emails as email_parcels
from bot.coaching.result import CoachingResult
from bot.coaching.summary import team_summary
from bot.progress import ProgressBar
from bot.slack.identity import People
from core import DeliveryStore, Report, ReportEngine, Requester, Settings, Target, Week
from core.deliveries import DELIVERED
from core.errors import ConfigError
from core.kinds import Subject
from core.kinds.coaching.headline import CoachingHeadline
from core.kinds.coaching.kind import CoachingReview
from core.models import COMPLETE, PARTIAL

if TYPE_CHECKING:
    from slack_sdk import WebClient

log = logging.getLogger("weekly_report.bot.coaching")
KIND = "coaching"
DELIVERABLE = (COMPLETE, PARTIAL)  # a failed report has nothing to send


def run_coaching(
    settings: Settings,
    engine: ReportEngine,
    deliveries: DeliveryStore,
    *,
    week: Week,
    send_emails: bool,
    send_slack: bool,
    dry_run: bool = False,
    resend: bool = False,
    rep_ids: Sequence[str] | None = None,
    client: WebClient | None = None,
    poster: Poster | None = None,
    people: People | None = None,
    out: TextIO | None = None,
    email: EmailChannel | None = None,
    progress: TextIO | None = None,
    trigger: str = "manual",
    sleep: Callable[[float], None] = time.sleep,
) -> CoachingResult:
    """Run the coaching review of `week` (any period) for every rep with calls, or `rep_ids`.

    `client`: Slack's Web API (SLACK_BOT_TOKEN) for the bot-posted summary and the DMs;
    `email`: the email channel (default: the configured provider's, opened and closed here);
    `out`: where a dry run and the console email provider print (stdout); `progress`: where
    progress lines go on long runs (None: nowhere); `resend`: send the period's emails again
    (bot/coaching/emails.py says how that stays at most once per resend).
    Raises UnknownSubject (an InputError) for an unknown rep id, before anything is read or written.
    """
    started = time.monotonic()
    kind = coaching_kind(engine)
    result = CoachingResult(week, dry_run=dry_run)
    reps = check_reps(engine, rep_ids)
    targets = kind.active_targets(engine.warehouse, week, reps)
    result.reps_processed = len(targets)
    if not targets:
        result.reason = no_reps_reason(kind, engine, week, reps)
        log.info("coaching review of %s: no reps to review (%s)", week.label(), result.reason)
        return result
    if client is not None:
        poster = poster or Poster(client, shared_pacer(settings.slack_post_interval))
        people = people or People(settings, engine)
    run = _Run(
        settings, engine, deliveries, kind, week, result, poster, people, out or sys.stdout, progress, sleep
    )
    run.some_reps = reps is not None
    emailing = send_emails or resend
    opened = email is None and emailing
    if opened:
        email = EmailChannel(deliveries, make_provider(settings, run.out), settings.email_from)
    try:
        if dry_run:
            run.preview(targets, email if emailing else None, send_slack, resend)
        else:
            run.deliver(targets, email if emailing else None, send_slack, resend, trigger)
    finally:
        if opened and email is not None:
            email.close()
        result.seconds = time.monotonic() - started
    return result


def coaching_kind(engine: ReportEngine) -> CoachingReview:
    """The engine's kind, which must be the coaching review (its extra methods are used here)."""
    if not isinstance(engine.kind, CoachingReview):
        raise ConfigError(f"the coaching run needs an engine of the coaching kind, not {engine.kind.name}")
    return engine.kind


def check_reps(engine: ReportEngine, rep_ids: Sequence[str] | None) -> list[str] | None:
    """The rep ids as given, each checked: UnknownSubject (one line) for one the warehouse lacks."""
    if rep_ids is None:
        return None
    checked = [engine.kind.validate_subject(r) for r in rep_ids]
    for rep_id in checked:
        engine.authorize(Requester(is_admin=True), rep_id)  # the operator sees every rep; unknown ones fail
    return checked


def no_reps_reason(kind: CoachingReview, engine: ReportEngine, week: Week, reps: Sequence[str] | None) -> str:
    if reps:
        return f"{', '.join(reps)}: no calls between {week.start} and {week.end}"
    return kind.no_reps_reason(engine.warehouse, week)


def recipient(subject: Subject) -> Recipient:
    """A rep (a kind Subject with detail email and slack_user_id) as a channel's recipient."""
    detail = subject.detail
    slack_user = detail.get("slack_user_id")
    return Recipient(
        subject.subject_id,
        subject.name,
        detail.get("email") or "",
        {"slack": slack_user} if slack_user else {},
    )


class _Run:
    """One run's state, shared by its steps."""

    def __init__(
        self,
        settings: Settings,
        engine: ReportEngine,
        deliveries: DeliveryStore,
        kind: CoachingReview,
        week: Week,
        result: CoachingResult,
        poster: Poster | None,
        people: People | None,
        out: TextIO,
        progress: TextIO | None,
        sleep: Callable[[float], None],
    ) -> None:
        self.settings, self.engine, self.deliveries, self.kind = settings, engine, deliveries, kind
        self.week, self.result, self.poster, self.people = week, result, poster, people
        self.out, self.progress, self.sleep = out, progress, sleep
        self.some_reps = False  # --rep-id: the team summary and the managers' DMs are the full run's

    def _bar(self, label: str) -> ProgressBar | None:
        return ProgressBar(label, self.progress) if self.progress is not None else None

    # -- the run ---------------------------------------------------------------------------

    def deliver(
        self, targets: list[Target], email: EmailChannel | None, send_slack: bool, resend: bool, trigger: str
    ) -> None:
        started = time.monotonic()
        reports = self._generate(targets, trigger)
        self.result.phases["generating"] = time.monotonic() - started
        subjects = self.kind.subjects(self.engine.warehouse, [t.subject_id for t in targets])
        parcels = [
            Parcel(KIND, self.week, recipient(subjects[t.subject_id]), (reports[t.subject_id],))
            for t in targets
            if t.subject_id in reports
        ]
        if email is not None:
            started = time.monotonic()
            email_parcels(
                email, self.deliveries, parcels, self.result, resend=resend, progress=self._bar("Emailing")
            )
            self.result.phases["emailing"] = time.monotonic() - started
        if send_slack:
            started = time.monotonic()
            self._slack(parcels, emailed=self._emailed([p.recipient for p in parcels]))
            self.result.phases["slack"] = time.monotonic() - started
        slack.alert(
            self.settings,
            self.poster,
            self.deliveries,
            self.week,
            self.result.run_id or "",
            self.result.alerts,
        )
        r = self.result
        log.info(
            "coaching review of %s: %d reps, %d reports, %d emails (%d now, %d failed), summary %s",
            self.week.label(), r.reps_processed, r.reports_generated, r.emails_sent, r.emails_sent_now,
            r.emails_failed, "posted" if r.slack_posted else "not posted",
        )  # fmt: skip

    def _emailed(self, reps: Sequence[Recipient]) -> bool:
        """Whether one of `reps` has the period's email delivered through a provider, by this
        run or an earlier one: the email ledger's word. Emails printed by the console provider
        (none configured) write no ledger row: they were not sent anywhere."""
        for rep in reps:
            record = self.deliveries.get(*ledger_key(Parcel(KIND, self.week, rep, ())))
            if record is not None and record.status == DELIVERED:
                return True
        return False

    def _generate(self, targets: list[Target], trigger: str) -> dict[str, Report]:
        """The reviews to deliver, by rep id (generated, or reused when stored complete)."""
        gen = self.engine.generate(targets, self.week, trigger=trigger, progress=self._bar("Generating"))
        r = self.result
        r.run_id = gen.run_id
        deliverable = {sid: rep for sid, rep in gen.reports.items() if rep.status in DELIVERABLE}
        r.reports_generated, r.reports_reused = len(deliverable), gen.reports_reused
        for t in targets:
            report = gen.reports.get(t.subject_id)
            if report is None or report.status not in DELIVERABLE:
                r.add(reports_failed=1)
                why = f"report {report.status}" if report is not None else "no report"
                r.problem(
                    f"{t.subject_id}: no review to send ({why})",
                    f"the coaching review of {t.subject_id} for {self.week.label()} could not be generated ({why})",
                )
        return deliverable

    def _slack(self, parcels: list[Parcel], emailed: bool) -> None:
        headlines = [h for p in parcels if isinstance(h := p.reports[0].headline, CoachingHeadline)]
        withheld = self._withheld(headlines)
        if withheld:
            self.result.notes.append(withheld)
        else:
            text = team_summary(self.week, headlines, emailed=emailed)
            slack.post_summary(
                self.settings, self.deliveries, self.poster, self.week, text, self.result, self.sleep
            )
        if self.poster is None or self.people is None:
            self.result.notes.append("no manager or rep DMs: SLACK_BOT_TOKEN is not set")
            return
        if not withheld:
            managers = self.kind.managers(self.engine.warehouse)
            texts = self._team_texts(managers, headlines, emailed)
            slack.dm_managers(
                self.people, self.poster, self.deliveries, self.week, managers, texts, self.result
            )
        dm = SlackDm(self.poster.client, self.poster, self.deliveries, self.people)
        slack.dm_reps(dm, parcels, self.result)

    def _withheld(self, headlines: Sequence[CoachingHeadline]) -> str | None:
        """Why the team summary and the managers' DMs are not posted by this run, or None.

        Each is posted once per period (its ledger key has no run in it), so only a run with
        every rep's review may post them: a run of some reps (--rep-id) leaves them to the full
        run, and a run where a review failed leaves them to the rerun that completes it. A partial
        review (a section failed) does not hold them back: the summary's figures are the
        headline's, from queries, not from the failed section.
        """
        if self.some_reps:
            return "team summary and managers' DMs not posted: a run with --rep-id leaves them to the run of every rep"
        failed = self.result.reports_failed
        if failed:
            return (
                f"team summary and managers' DMs not posted: {failed} review(s) could not be generated; "
                "a rerun that completes them posts them"
            )
        if not headlines:
            return "team summary and managers' DMs not posted: no rep has a review"
        return None

    def _team_texts(
        self,
        managers: Mapping[str, tuple[str, str | None, str | None]],
        headlines: Sequence[CoachingHeadline],
        emailed: bool,
    ) -> dict[str, str]:
        """manager_id -> their team's summary, for the managers with a rep in the run."""
        texts = {}
        for manager_id, (name, _email, _slack) in managers.items():
            team = [h for h in headlines if h.manager_id == manager_id]
            if team:
                texts[manager_id] = team_summary(self.week, team, emailed=emailed, team=name)
        return texts

    # -- the dry run: reads only ------------------------------------------------------------

    def preview(
        self, targets: list[Target], email: EmailChannel | None, send_slack: bool, resend: bool = False
    ) -> None:
        """Who would get what, and the summary text: from the facts, nothing stored or sent."""
        ids = [t.subject_id for t in targets]
        facts = self.kind.facts(self.engine.warehouse, self.week, ids)
        headlines = [
            h for sid in ids if (f := facts.get(sid)) is not None and (h := self.kind.headline(f)) is not None
        ]
        subjects = self.kind.subjects(self.engine.warehouse, ids)
        stored = self.engine.store.statuses(ids, self.week, KIND)
        lines = [f"Coaching review, {self.week.label()}: {len(ids)} rep(s) with calls"]
        dm = self._dm()
        for sid in ids:
            rep = recipient(subjects[sid])
            where = [f"report {stored.get(sid, 'to generate')}"]
            if email is not None:
                note = email.preview(rep, KIND, self.week, (sid,))
                said = self._resend_note(rep) if resend and email.records else note.note
                where.append(f"email -> {note.to}: {said or ''}".rstrip(": "))
            if send_slack and dm is not None:
                where.append(f"Slack DM -> {self._slack_user(dm, rep)}")
            lines.append(f"  {sid} {rep.name}: " + "; ".join(where))
        if email is None:
            lines.append("emails: not sent (use --send-emails)")
        emailed = (email is not None and email.records) or self._emailed(
            [recipient(subjects[i]) for i in ids]
        )
        text = team_summary(self.week, headlines, emailed=emailed)
        if send_slack and self.some_reps:
            lines.append(
                "team summary and managers' DMs: not posted with --rep-id (the run of every rep posts them)"
            )
        elif send_slack:
            lines.append(f"team summary -> {self._summary_target()}")
            if dm is not None:
                managers = self.kind.managers(self.engine.warehouse)
                for manager_id, team_text in self._team_texts(managers, headlines, emailed).items():
                    reps = team_text.count("\n• ")
                    lines.append(
                        f"manager DM -> {manager_id} {managers[manager_id][0]}: their team's summary ({reps} reps)"
                    )
        else:
            lines.append("team summary: not posted (use --send-slack)")
        lines += ["", text, "", "(dry run: nothing generated, stored, sent or recorded)"]
        self.out.write("\n".join(lines) + "\n")
        self.out.flush()
        self.result.notes.append("dry run: nothing generated, stored, sent or recorded")

    def _resend_note(self, rep: Recipient) -> str:
        """What --resend would send `rep` (the ledger's word; reads only)."""
        n = resend_number(self.deliveries, Parcel(KIND, self.week, rep, ()))
        return f"would be resent (resend {n})" if n else "never sent: the first email would be sent"

    def _dm(self) -> SlackDm | None:
        if self.poster is None or self.people is None:
            return None
        return SlackDm(self.poster.client, self.poster, self.deliveries, self.people)

    def _slack_user(self, dm: SlackDm, rep: Recipient) -> str:
        try:
            return dm.user_of(rep) or "not in Slack (no DM)"
        except Exception as exc:  # a preview says what it could not find out, and goes on
            return f"unknown ({type(exc).__name__})"

    def _summary_target(self) -> str:
        if self.settings.slack_webhook_url:
            return "the incoming webhook (SLACK_WEBHOOK_URL)"
        if self.settings.coaching_channel and self.poster is not None:
            return f"{self.settings.coaching_channel} (WEEKLY_REPORT_COACHING_CHANNEL)"
        return "nowhere: set SLACK_WEBHOOK_URL, or WEEKLY_REPORT_COACHING_CHANNEL with SLACK_BOT_TOKEN"
