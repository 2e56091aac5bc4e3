"""Report generation: the heart of weekly-report, knowing nothing of Slack.

One report = one agent thread + one turn per section, each turn after the first chained to
the previous assistant message. Customers run in parallel on a bounded pool; their data is
queried up front in a handful of set-based statements; reports are stored in bulk batches.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Self, TypeVar

from core import collector
from core.agent.base import Agent, Answer, AskContext
from core.analysis import analyse
from core.analytics import Analytics, CustomerData, Snapshot
from core.directory import Directory, Requester
from core.ebr_scope import EBR_SCOPE
from core.errors import AnswerWithheld, InputError, InvalidWeek, ReportNotFound, WeeklyReportError
from core.guard import Scope, Subjects, check
from core.models import COMPLETE, FAILED, NO_DATA, PARTIAL, Headline, Report, SectionResult, report_id_for
from core.recommendations import Briefing, what_matters
from core.render import markdown
from core.runs import RunClaims
from core.sections import SECTIONS, Section
from core.settings import Settings
from core.storage import ReportStore, Saved
from core.templating import render
from core.warehouse import Warehouse
from core.weeks import Week, parse_week
from core.writer import ReportWriter

SNAPSHOT_BATCH = 10_000  # customers whose data is queried together: one pass over the tables each
SAVE_BATCH = 1_000  # reports per bulk write: bounds memory and what a crash can lose
# With a network-bound agent, reports are stored in smaller batches as they finish, so that
# storing overlaps with the agent calls still running and little is left to store at the end.
IO_SAVE_BATCH = 100
# From this many customers a run's data is kept out of the garbage collector's sight (see
# _long_lived); a few customers' worth (an on-demand report in the bot) is not worth it.
LONG_LIVED_FROM = 1_000
Progress = Callable[[int, int, str], None]
T = TypeVar("T")
# Withheld answers are security events for the admins: the report, who asked, the rule; never the data.
security_log = logging.getLogger("weekly_report.security")


@dataclass(frozen=True)
class Target:
    csm_id: str
    customer_id: str


@dataclass
class RunSummary:
    run_id: str
    trigger: str
    week: Week
    status: str = "running"
    reports_generated: int = 0
    reports_partial: int = 0
    reports_failed: int = 0
    reports_reused: int = 0
    reports_no_data: int = 0  # customers with no rows in the week: a no_data report each
    # Refreshes that ended partial or failed, whose stored complete report was kept instead.
    reports_kept: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # one line per kept report, also in failures
    report_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "trigger": self.trigger, "week_start": str(self.week), "status": self.status,
            "reports_generated": self.reports_generated, "reports_partial": self.reports_partial,
            "reports_failed": self.reports_failed, "reports_reused": self.reports_reused,
            "reports_kept": self.reports_kept, "reports_no_data": self.reports_no_data, "dms_sent": 0, "dms_failed": 0, "seconds": round(self.seconds, 2),
            "failures": self.failures,
        }  # fmt: skip


class ReportEngine:
    """Generates, stores and answers questions about weekly reports."""

    def __init__(
        self, settings: Settings, warehouse: Warehouse, agent: Agent, sections: Sequence[Section] = SECTIONS
    ) -> None:
        self.settings = settings
        self.warehouse = warehouse
        self.agent = agent
        self.sections = tuple(sections)
        self.directory = Directory(warehouse)
        self.store = ReportStore(warehouse)
        self.analytics = Analytics(warehouse)
        self._subjects: Subjects | None = None  # the guard's known customers, loaded once per run
        self._subjects_lock = threading.Lock()

    def close(self) -> None:
        """Close the agent (its connections and any session it holds), then the warehouse."""
        try:
            self.agent.close()
        finally:
            self.warehouse.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def week(self, text: str | None = None) -> Week:
        """The requested week (the latest complete one by default), checked against the data."""
        week = parse_week(text, self.settings.current_date())
        row = self.warehouse.query(
            "SELECT MIN(activity_date) AS first_day, MAX(activity_date) AS last_day "
            "FROM CUSTOMER_SUCCESS_DATA.ANALYTICS.historical_engagement"
        )[0]
        first, last = row["first_day"], row["last_day"]
        if first is None:
            raise InvalidWeek(
                "the warehouse has no engagement data yet; run `weekly-report load-demo` or load yours"
            )
        if week.end < first or week.start > last:
            raise InvalidWeek(f"no data for the week of {week.start}; the data covers {first} to {last}")
        return week

    def targets(self, csm_id: str | None = None, customer_id: str | None = None) -> list[Target]:
        """What to generate: one customer of a CSM, all of a CSM's, or every assignment."""
        if customer_id is not None:
            self.directory.authorize(Requester(csm_id=csm_id, is_admin=csm_id is None), customer_id)
        assignments = self.directory.require_csm(csm_id) if csm_id else self.directory.assignments()
        chosen: dict[str, Target] = {}
        for a in assignments:
            if customer_id in (None, a.customer_id):
                chosen.setdefault(a.customer_id, Target(a.csm_id, a.customer_id))
        return list(chosen.values())

    def generate(
        self,
        targets: Sequence[Target],
        week: Week,
        refresh: bool = False,
        trigger: str = "manual",
        progress: Progress | None = None,
    ) -> RunSummary:
        """Generate and store the reports of `targets` for `week`; reuse complete ones unless `refresh`.

        Customers are queried SNAPSHOT_BATCH at a time (one pass over the source tables each),
        built SAVE_BATCH at a time, and each built batch is stored by a writer thread while the
        next one is being built.
        """
        started = time.monotonic()
        self._subjects = None  # customers added since the last run are known to the guard
        summary = RunSummary(self.store.start_run(trigger, week), trigger, week)
        try:
            # The heartbeat tells other hosts' `runs` that this run's owner is still at it.
            with RunClaims(self.warehouse, owner=self.store.owner).keep_alive(summary.run_id):
                self._generate(targets, week, refresh, summary, progress)
            troubled = summary.reports_failed or summary.reports_kept
            summary.status = "completed_with_errors" if troubled else "completed"
        except BaseException as exc:
            summary.status = "failed"
            summary.failures.append(f"run: {exc}")
            raise
        finally:
            summary.seconds = time.monotonic() - started
            self.store.finish_run(summary.run_id, summary.as_dict())
        return summary

    def _generate(
        self,
        targets: Sequence[Target],
        week: Week,
        refresh: bool,
        summary: RunSummary,
        progress: Progress | None,
    ) -> None:
        customer_ids = [t.customer_id for t in targets]
        self.store.demote_sectionless(customer_ids, week)
        stored = {} if refresh else self.store.statuses(customer_ids, week)
        todo = [t for t in targets if stored.get(t.customer_id) != COMPLETE]
        summary.reports_reused = len(targets) - len(todo)
        with ReportWriter(self.store, refresh, partial(self._count, summary, refresh)) as writer:
            for first in range(0, len(todo), SNAPSHOT_BATCH):
                group = todo[first : first + SNAPSHOT_BATCH]
                with self._run_data(week, [t.customer_id for t in group]) as data:
                    build = self._build_concurrently if self.agent.waits_on_io else self._build_inline
                    build(group, week, data, summary.run_id, writer, Finished(progress, first, len(todo)))

    @contextmanager
    def _run_data(self, week: Week, customer_ids: Sequence[str]) -> Iterator[RunData]:
        """The data to build these customers' reports from.

        A CPU-bound agent is offered the queried snapshot before it starts. An agent that
        waits on the network starts at once with the customers' names, while the metrics
        (needed only for the headline, after the agent's turns) are queried alongside.
        """
        if not self.agent.waits_on_io:
            load = partial(self.analytics.snapshot, week, customer_ids)
            loading = _long_lived(load) if len(customer_ids) >= LONG_LIVED_FROM else nullcontext(load())
            with loading as snapshot, self.agent.prepared(snapshot):
                yield RunData(snapshot.customers, lambda: snapshot)
            return
        profiles = self.analytics.profiles(customer_ids)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="snapshot") as side:
            pending = side.submit(self.analytics.snapshot, week, customer_ids)
            yield RunData(profiles, pending.result)

    def _build_inline(
        self,
        group: Sequence[Target],
        week: Week,
        data: RunData,
        run_id: str,
        writer: ReportWriter,
        done: Finished,
    ) -> None:
        """A CPU-bound agent: one report after another, SAVE_BATCH per batch of the agent's writes."""
        for start in range(0, len(group), SAVE_BATCH):
            with self.agent.batch(writer.run):
                reports = [
                    done(self._build(t, week, data, run_id)) for t in group[start : start + SAVE_BATCH]
                ]
            writer.submit(reports)

    def _build_concurrently(
        self,
        group: Sequence[Target],
        week: Week,
        data: RunData,
        run_id: str,
        writer: ReportWriter,
        done: Finished,
    ) -> None:
        """An agent that waits on the network: the whole group on one pool, so no batch boundary
        leaves workers idle; finished reports are stored IO_SAVE_BATCH at a time as they come."""
        with ThreadPoolExecutor(max_workers=self.settings.concurrency, thread_name_prefix="report") as pool:
            futures = [pool.submit(self._build, t, week, data, run_id) for t in group]
            try:
                batch: list[Report] = []
                for future in futures:
                    batch.append(done(future.result()))
                    if len(batch) >= IO_SAVE_BATCH:
                        writer.submit(batch)
                        batch = []
                writer.submit(batch)
            finally:
                for future in futures:
                    future.cancel()  # after a failure, what has not started does not start

    def _build(self, target: Target, week: Week, run_data: RunData, run_id: str) -> Report:
        unknown = CustomerData(target.customer_id, target.customer_id, "Unknown", None, None)
        profile = run_data.profiles.get(target.customer_id, unknown)
        context = AskContext(profile.customer_id, profile.name, profile.industry, week)
        # The verdict goes into the section prompts, so an agent that waits on the network
        # waits here for the run's metrics (queried alongside since the run started).
        data = run_data.snapshot().get(target.customer_id) or profile
        if data.week(0).empty:
            return _no_data_report(target, week, data, run_id)
        sections, thread_id, last_id = self._run_sections(context, what_matters(analyse(data)))
        done = sum(1 for s in sections if s.status == COMPLETE)
        status = COMPLETE if done == len(sections) else PARTIAL if done else FAILED
        if status == COMPLETE and not data.whole(0):
            status = PARTIAL  # a week the data covers only in part is not a complete report
        report = Report(
            report_id=report_id_for(target.customer_id, week), csm_id=target.csm_id,
            customer_id=target.customer_id, customer_name=data.name, industry=data.industry, week=week,
            status=status, sections=sections, headline=headline(data), agent_thread_id=thread_id,
            last_message_id=last_id, generated_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
        )  # fmt: skip
        report.metadata = {
            "customer_name": data.name, "industry": data.industry, "agent": self.agent.name, "run_id": run_id,
            "headline": report.headline.as_dict() if report.headline else None,
            "failed_sections": [s.key for s in report.failed_sections],
        }  # fmt: skip
        if not data.whole(0):
            report.metadata["partial_data"] = {"days": data.days(0), "of": 7}
        warned = {s.key: list(s.warnings) for s in sections if s.warnings}
        if warned:
            report.metadata["section_warnings"] = warned
        report.full_report = markdown(report)
        return report

    def _run_sections(
        self, context: AskContext, briefing: Briefing
    ) -> tuple[list[SectionResult], str | None, int | None]:
        """Ask each section in order on one thread, chaining parents; a failure skips only its section.

        Every prompt carries the engine's verdict and its reasons (`briefing`), so sections an
        agent writes agree with the parent message instead of judging the account again."""
        try:
            thread_id = self.agent.start_thread()
        except WeeklyReportError as exc:
            error = f"could not start an agent thread: {exc}"
            return (
                [
                    SectionResult(s.key, s.title, i, None, None, FAILED, error)
                    for i, s in enumerate(self.sections, 1)
                ],
                None,
                None,
            )
        parent = 0
        results = []
        for position, section in enumerate(self.sections, start=1):
            prompt = render(section.prompt_template, **prompt_context(context, briefing))
            try:
                answer = self._ask_checked(thread_id, parent, prompt, _with_section(context, section.key))
            except WeeklyReportError as exc:
                results.append(
                    SectionResult(section.key, section.title, position, None, None, FAILED, str(exc))
                )
                continue
            results.append(_section_result(section, position, answer))
            # A turn without an assistant id did not persist: keep chaining from the previous one.
            parent = answer.message_id or parent
        return results, thread_id, parent or None

    def ask(
        self, requester: Requester, customer_id: str, question: str, week: Week | None = None
    ) -> FollowUp:
        """Ask a follow-up on the stored report's agent thread, after its last assistant message."""
        question = validate_question(question)
        self.directory.authorize(requester, customer_id)
        report = self.store.load(customer_id, week)
        if report.status == NO_DATA:
            raise ReportNotFound(
                f"there is no data for {customer_id} in the week of {report.week.start}, so nothing to ask about"
            )
        if not report.agent_thread_id:
            raise ReportNotFound(
                f"the stored report {report.report_id} has no agent thread; regenerate it with --refresh"
            )
        parent = report.last_message_id or 0
        context = AskContext(report.customer_id, report.customer_name, report.industry, report.week)
        asked_by = requester.email or requester.csm_id or ("admin" if requester.is_admin else None)
        try:
            answer = self._ask_checked(report.agent_thread_id, parent, question, context, asked_by)
        except AnswerWithheld as withheld:  # stored as refused: the refusal, never the answer
            reason = f"{withheld.rule}: {withheld.reason}"
            self.store.record_followup(
                report.report_id, asked_by, question, str(withheld), parent, None, reason
            )
            raise
        self.store.record_followup(
            report.report_id, asked_by, question, answer.text, parent, answer.message_id, sql=answer.sql
        )
        return FollowUp(report, answer, parent)

    def _ask_checked(
        self, thread_id: str, parent: int, prompt: str, context: AskContext, asked_by: str | None = None
    ) -> Answer:
        """The agent's answer, once the guard found it touches the context's customer only.

        Otherwise AnswerWithheld (its rule, no data), after one security log line naming the
        report, who asked (None: a report's generation) and the rule. An agent that runs only
        the project's own customer-bound SQL (`Agent.guarded` False) is not checked.
        """
        answer = self.agent.ask(thread_id, parent, prompt, context)
        if not self.agent.guarded:
            return answer
        verdict = check(answer, Scope(EBR_SCOPE, context.customer_id, self._known_subjects(context)))
        if verdict.rule is None:
            return answer
        security_log.warning(
            "answer withheld: report %s, asked by %s, rule %s (%s)",
            report_id_for(context.customer_id, context.week), asked_by or "report generation",
            verdict.rule, verdict.reason,
        )  # fmt: skip
        raise AnswerWithheld(context.customer_id, verdict.rule, verdict.reason)

    def _known_subjects(self, context: AskContext) -> Subjects:
        """Every customer's id and name, indexed once per run (again if the subject is new)."""
        with self._subjects_lock:
            if self._subjects is None or not self._subjects.knows(context.customer_id):
                rows = self.warehouse.query(
                    "SELECT customer_id, customer_name FROM CUSTOMER_SUCCESS_DATA.ANALYTICS.customers"
                )
                names = {str(r["customer_id"]): str(r["customer_name"]) for r in rows}
                self._subjects = Subjects(names, EBR_SCOPE.id_pattern)
            return self._subjects

    @staticmethod
    def _count(summary: RunSummary, refresh: bool, reports: Sequence[Report], saved: Saved) -> None:
        for r in reports:
            if r.report_id in saved.written:
                _count_written(summary, r)
            elif refresh and (kept := saved.kept_complete(r)) is not None:
                when = f"{kept.generated_at:%Y-%m-%d %H:%M} UTC" if kept.generated_at else "before"
                note = f"{r.customer_id}: kept the complete report of {when}; the refresh was {r.status}: {_why(r)}"
                summary.reports_kept += 1
                summary.kept.append(note)
                summary.failures.append(note)
            else:
                summary.reports_reused += 1


def _no_data_report(target: Target, week: Week, data: CustomerData, run_id: str) -> Report:
    """The report of a customer with no engagement or conversion rows in the week: its own
    status and a few honest lines, no agent turns, no $0 figures."""
    report = Report(
        report_id=report_id_for(target.customer_id, week), csm_id=target.csm_id,
        customer_id=target.customer_id, customer_name=data.name, industry=data.industry, week=week,
        status=NO_DATA, sections=[], headline=None, agent_thread_id=None, last_message_id=None,
        generated_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
    )  # fmt: skip
    report.metadata = {
        "customer_name": data.name, "industry": data.industry, "agent": None, "run_id": run_id,
        "headline": None, "failed_sections": [],
    }  # fmt: skip
    report.full_report = markdown(report)
    return report


def _count_written(summary: RunSummary, r: Report) -> None:
    summary.report_ids.append(r.report_id)
    if r.status == NO_DATA:
        summary.reports_no_data += 1
    elif r.status == COMPLETE:
        summary.reports_generated += 1
    elif r.status == PARTIAL:
        summary.reports_generated += 1
        summary.reports_partial += 1
        summary.failures.append(f"{r.customer_id}: partial, {_partial_why(r)}")
    else:
        summary.reports_failed += 1
        summary.failures.append(
            f"{r.customer_id}: failed ({r.sections[0].error if r.sections else 'no sections'})"
        )


def _partial_why(report: Report) -> str:
    """Why a report is partial: its failed sections, or the days of data its week has."""
    if report.failed_sections:
        return f"failed {', '.join(s.key for s in report.failed_sections)}"
    days = report.metadata.get("partial_data", {}).get("days")
    return f"the week has {days} of 7 days of data"


def _why(report: Report) -> str:
    """What went wrong in a report that is not complete: its failed sections and the first error."""
    if report.status == NO_DATA:
        return "no engagement or conversions were recorded in the week"
    failed = report.failed_sections
    error = next((s.error for s in failed if s.error), "no sections")
    if report.status == PARTIAL:
        if not failed:
            return _partial_why(report)
        return f"{', '.join(s.key for s in failed)} failed ({error})"
    return error


class Finished:
    """Counts finished reports for the progress callback."""

    def __init__(self, progress: Progress | None, done: int, total: int) -> None:
        self.progress, self.done, self.total = progress, done, total

    def __call__(self, report: Report) -> Report:
        self.done += 1
        if self.progress:
            self.progress(self.done, self.total, report.customer_id)
        return report


@dataclass(frozen=True)
class RunData:
    """A group of customers' data: their profiles at once, every metric when queried."""

    profiles: Mapping[str, CustomerData]
    snapshot: Callable[[], Snapshot]


@dataclass(frozen=True)
class FollowUp:
    report: Report
    answer: Answer
    parent_message_id: int


MAX_QUESTION = 2000


def validate_question(text: str | None) -> str:
    question = " ".join((text or "").split())
    if not question:
        raise InputError('the question is empty; ask e.g. "What was revenue by channel last week?"')
    if len(question) > MAX_QUESTION:
        raise InputError(f"the question is {len(question)} characters long; keep it under {MAX_QUESTION}")
    return question


@contextmanager
def _long_lived(load: Callable[[], T]) -> Iterator[T]:
    """Load a run's data with the cyclic garbage collector kept off it, until the block ends.

    The data of 10,000 customers is millions of objects that live for the whole run and hold
    no reference cycles. Collected as usual, loading them set off a dozen full collections
    and building reports from them more, each walking the whole heap (about 3 s in all).
    Frozen objects are still freed by reference counting when the block ends. The collector
    is process-wide: runs in other threads meanwhile are only spared some collections, and
    objects frozen by others (the bot's start-up) stay frozen after this run (`core.collector`).
    """
    with collector.paused():
        data = load()
        collector.freeze()
    try:
        yield data
    finally:
        collector.thaw()


def headline(data: CustomerData) -> Headline:
    """The parent message's figures, from the engine's own queries."""
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
    )  # fmt: skip


def prompt_context(context: AskContext, briefing: Briefing | None = None) -> dict[str, Any]:
    """What a section prompt is rendered with: the customer, the weeks and the engine's verdict."""
    week = context.week
    return {
        "customer_id": context.customer_id, "customer_name": context.customer_name, "industry": context.industry,
        "week_start": week.start, "week_end": week.end,
        "previous_start": week.previous.start, "previous_end": week.previous.end,
        "year_ago_start": week.year_ago.start, "year_ago_end": week.year_ago.end,
        "verdict": briefing.verdict if briefing else None,
        "talking_points": briefing.points if briefing else (),
    }  # fmt: skip


ELICITATION = "the agent asked a clarifying question instead of writing the section: "


def _section_result(section: Section, position: int, answer: Answer) -> SectionResult:
    """A report section from the agent's answer.

    A clarifying question back to the asker (`answer.elicitation`) is not a section: the
    section fails with the question in its error, and the report ends partial. An answer
    that came with the service's warnings (e.g. 399569, a tool not accessible, so the agent
    answered without it) stays complete; its `error` reads "warning: ..." and its `warnings`
    go to the report's metadata as `section_warnings` {section key: [warning, ...]}.
    """
    if answer.elicitation:
        question = " ".join(answer.text.split())
        error = ELICITATION + (question if len(question) <= 300 else question[:299] + "…")
        return SectionResult(section.key, section.title, position, None, answer.message_id, FAILED, error)
    warning = "warning: " + "; ".join(answer.warnings) if answer.warnings else None
    return SectionResult(
        section.key,
        section.title,
        position,
        answer.text,
        answer.message_id,
        COMPLETE,
        warning,
        answer.warnings,
    )


def _with_section(context: AskContext, key: str) -> AskContext:
    return AskContext(context.customer_id, context.customer_name, context.industry, context.week, key)
