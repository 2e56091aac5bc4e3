"""Report generation: the heart of weekly-report, knowing nothing of Slack nor of any one kind.

One report = one agent thread + one turn per section, each turn after the first chained to
the previous assistant message. What a report is about, its facts, headline, sections and
guard scope come from its kind (core/kinds). Subjects run on a bounded pool when the agent
waits on the network; their facts are queried up front in a handful of set-based
statements; reports are stored in bulk batches and returned with the run's summary.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Self, TypeVar

from core import collector
from core.agent import workers as agent_workers
from core.agent.base import Agent, Answer, AnswerListener, AskContext
from core.charts import ChartWords
from core.directory import Directory, Requester
from core.errors import AnswerWithheld, InputError, ReportNotFound, WeeklyReportError
from core.guard import Scope, Subjects, check, check_drawn
from core.guard.stream import GuardGate
from core.kinds import EBR, ReportKind, Section, Subject, Target
from core.kinds.base import Facts, get_kind
from core.models import COMPLETE, FAILED, NO_DATA, PARTIAL, Report, SectionResult
from core.render import markdown
from core.runs import RunClaims
from core.settings import Settings
from core.storage import ReportStore, Saved
from core.summary import RunSummary
from core.templating import render
from core.warehouse import Warehouse
from core.weeks import Week, parse_week
from core.writer import ReportWriter

__all__ = ["FollowUp", "ReportEngine", "RunSummary", "Target", "validate_question"]

SNAPSHOT_BATCH = 10_000  # subjects whose facts are queried together: one pass over the tables each
SAVE_BATCH = 1_000  # reports per bulk write: bounds memory and what a crash can lose
# With a network-bound agent, reports are stored in smaller batches as they finish, so that
# storing overlaps with the agent calls still running and little is left to store at the end.
IO_SAVE_BATCH = 100
# From this many subjects a run's facts are kept out of the garbage collector's sight (see
# _long_lived); a few subjects' worth (an on-demand report in the bot) is not worth it.
LONG_LIVED_FROM = 1_000
Progress = Callable[[int, int, str], None]
T = TypeVar("T")
# Withheld answers are security events for the admins: the report, who asked, the rule; never the data.
security_log = logging.getLogger("weekly_report.security")


class ReportEngine:
    """Generates, stores and answers questions about one kind of weekly report (the EBR by default).

    `workers`: reports built at once (core.agent.workers: by the configured agent by default).
    `chart_words`: what an agent's chart shows once drawn (core.charts.ChartWords), given by a
    program that shows answers' charts (the bot); without it, an answer's charts are left out,
    since the guard cannot read what they would show.
    """

    def __init__(
        self,
        settings: Settings,
        warehouse: Warehouse,
        agent: Agent,
        sections: Sequence[Section] | None = None,
        *,
        kind: ReportKind = EBR,
        workers: int | None = None,
        chart_words: ChartWords | None = None,
    ) -> None:
        self.settings = settings
        self.warehouse = warehouse
        self.agent = agent
        self.kind = kind
        self.sections = tuple(sections if sections is not None else kind.sections)
        self.workers = workers if workers is not None else agent_workers(settings)
        self.chart_words = chart_words
        self.directory = Directory(warehouse)
        self.store = ReportStore(warehouse)
        self._subjects: Subjects | None = None  # the guard's known subjects, loaded once per run
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
        self.kind.coverage(self.warehouse, week)
        return week

    def authorize(self, requester: Requester, subject_id: str) -> None:
        """NotAuthorized unless `requester` may see the subject's reports: the one decision
        for the CLI, the bot and the weekly job (the kind's, e.g. Directory.authorize)."""
        self.kind.authorize(self.warehouse, requester, subject_id)

    def targets(self, csm_id: str | None = None, customer_id: str | None = None) -> list[Target]:
        """What to generate: one subject of a recipient, all of a recipient's, or every subject
        (an EBR's: one customer of a CSM, all of a CSM's, or every assignment)."""
        if customer_id is not None:
            self.authorize(Requester(csm_id=csm_id, is_admin=csm_id is None), customer_id)
        return self.kind.targets(self.warehouse, csm_id, customer_id)

    def generate(
        self,
        targets: Sequence[Target],
        week: Week,
        refresh: bool = False,
        trigger: str = "manual",
        progress: Progress | None = None,
        collect: bool = True,
    ) -> RunSummary:
        """Generate and store the reports of `targets` for `week`; reuse complete ones unless `refresh`.

        Returns the run's summary with its reports by subject id (`RunSummary.reports`): those
        built here, and the stored ones reused or kept, loaded in one bulk read. A run that
        only stores its reports (`generate --mode all`) passes `collect=False`: 10,000 reports
        held to the end cost about 200 MB and the garbage collector's walks over them.
        Subjects' facts are queried SNAPSHOT_BATCH at a time (one pass over the source tables
        each), reports built SAVE_BATCH at a time, and each built batch is stored by a writer
        thread while the next one is being built.
        """
        started = time.monotonic()
        self._subjects = None  # subjects added since the last run are known to the guard
        summary = RunSummary(self.store.start_run(trigger, week), trigger, week)
        try:
            # The heartbeat tells other hosts' `runs` that this run's owner is still at it.
            with RunClaims(self.warehouse, owner=self.store.owner).keep_alive(summary.run_id):
                self._generate(targets, week, refresh, summary, progress, collect)
            troubled = summary.reports_failed or summary.reports_kept
            summary.status = "completed_with_errors" if troubled else "completed"
        except BaseException as exc:
            summary.status = "failed"
            summary.failures.append(f"run: {exc}")
            raise
        finally:
            summary.seconds = time.monotonic() - started
            self.store.finish_run(summary.run_id, summary.as_dict())
        if collect:
            missing = [t.subject_id for t in targets if t.subject_id not in summary.reports]
            summary.reports.update(self.store.load_many(missing, week, self.kind.name))
        return summary

    def _generate(
        self,
        targets: Sequence[Target],
        week: Week,
        refresh: bool,
        summary: RunSummary,
        progress: Progress | None,
        collect: bool,
    ) -> None:
        subject_ids = [t.subject_id for t in targets]
        kind = self.kind.name
        self.store.demote_sectionless(subject_ids, week, kind)
        stored = {} if refresh else self.store.statuses(subject_ids, week, kind)
        todo = [t for t in targets if stored.get(t.subject_id) != COMPLETE]
        summary.reports_reused = len(targets) - len(todo)
        with ReportWriter(self.store, refresh, partial(self._count, summary, refresh, collect)) as writer:
            for first in range(0, len(todo), SNAPSHOT_BATCH):
                group = todo[first : first + SNAPSHOT_BATCH]
                with self._run_data(week, [t.subject_id for t in group]) as data:
                    build = self._build_concurrently if self.workers > 1 else self._build_inline
                    build(group, week, data, summary.run_id, writer, Finished(progress, first, len(todo)))

    @contextmanager
    def _run_data(self, week: Week, subject_ids: Sequence[str]) -> Iterator[RunData]:
        """The facts to build these subjects' reports from.

        Built one at a time, the reports start from the queried facts, which the agent is
        given in each AskContext. Built concurrently (an agent that waits on the network),
        they start at once with the subjects' names, while the facts (needed only for the
        headline, after the agent's turns) are queried alongside.
        """
        if self.workers <= 1:
            load = partial(self.kind.facts, self.warehouse, week, subject_ids)
            loading = _long_lived(load) if len(subject_ids) >= LONG_LIVED_FROM else nullcontext(load())
            with loading as facts:
                yield RunData(self.kind.subjects_of(facts, subject_ids), lambda: facts, facts)
            return
        subjects = self.kind.subjects(self.warehouse, subject_ids)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="facts") as side:
            pending = side.submit(self.kind.facts, self.warehouse, week, subject_ids)
            yield RunData(subjects, pending.result, None)

    def _build_inline(
        self,
        group: Sequence[Target],
        week: Week,
        data: RunData,
        run_id: str,
        writer: ReportWriter,
        done: Finished,
    ) -> None:
        """One report after another, SAVE_BATCH per batch of the agent's writes."""
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
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="report") as pool:
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
        sid = target.subject_id
        subject = run_data.subjects.get(sid) or Subject(sid, sid, "Unknown")
        known = run_data.ready.get(sid) if run_data.ready is not None else None
        context = AskContext(
            sid, subject.name, subject.group, week, kind=self.kind.name, facts=known,
            facts_sql=tuple(run_data.ready.sql) if run_data.ready is not None and known is not None else (),
        )  # fmt: skip
        # The kind's verdict goes into the section prompts, so a report built concurrently
        # waits here for the run's facts (queried alongside since the run started); its agent
        # thread is created meanwhile, a network call the wait would otherwise add.
        thread = self._start_thread() if run_data.ready is None else None
        facts = run_data.facts().get(sid)
        if facts is not None:
            subject = self.kind.subject_of(facts)
        coverage = self.kind.week_status(facts) if facts is not None else None
        if coverage == NO_DATA:
            return self._no_data_report(target, subject, week, run_id)
        judgement = self.kind.judgement(facts) if facts is not None else {}
        sections, thread_id, last_id = self._run_sections(context, subject, judgement, thread)
        done = sum(1 for s in sections if s.status == COMPLETE)
        status = COMPLETE if done == len(sections) else PARTIAL if done else FAILED
        if status == COMPLETE and coverage == PARTIAL:
            status = PARTIAL  # a week the data covers only in part is not a complete report
        report = Report(
            report_id=self.kind.report_id(sid, week), csm_id=target.recipient_id,
            customer_id=sid, customer_name=subject.name, industry=subject.group, week=week,
            status=status, sections=sections, headline=self.kind.headline(facts) if facts is not None else None,
            agent_thread_id=thread_id, last_message_id=last_id,
            generated_at=dt.datetime.now(dt.UTC).replace(tzinfo=None), kind=self.kind.name, subject_id=sid,
        )  # fmt: skip
        report.metadata = {
            **self.kind.metadata(subject), "agent": self.agent.name, "run_id": run_id,
            "headline": report.headline.as_dict() if report.headline else None,
            "failed_sections": [s.key for s in report.failed_sections],
        }  # fmt: skip
        if coverage == PARTIAL:
            report.metadata["partial_data"] = self.kind.partial_data(facts)
        warned = {s.key: list(s.warnings) for s in sections if s.warnings}
        if warned:
            report.metadata["section_warnings"] = warned
        report.full_report = markdown(report)
        return report

    def _no_data_report(self, target: Target, subject: Subject, week: Week, run_id: str) -> Report:
        """The report of a subject with no rows in the week: its own status and a few honest
        lines, no agent turns, no zero figures."""
        sid = target.subject_id
        report = Report(
            report_id=self.kind.report_id(sid, week), csm_id=target.recipient_id,
            customer_id=sid, customer_name=subject.name, industry=subject.group, week=week,
            status=NO_DATA, sections=[], headline=None, agent_thread_id=None, last_message_id=None,
            generated_at=dt.datetime.now(dt.UTC).replace(tzinfo=None), kind=self.kind.name, subject_id=sid,
        )  # fmt: skip
        report.metadata = {
            **self.kind.metadata(subject), "agent": None, "run_id": run_id, "headline": None,
            "failed_sections": [],
        }  # fmt: skip
        report.full_report = markdown(report)
        return report

    def _start_thread(self) -> str | WeeklyReportError:
        """A new agent thread's id, or why none could be started."""
        try:
            return self.agent.start_thread()
        except WeeklyReportError as exc:
            return exc

    def _run_sections(
        self,
        context: AskContext,
        subject: Subject,
        judgement: Mapping[str, Any],
        thread: str | WeeklyReportError | None = None,
    ) -> tuple[list[SectionResult], str | None, int | None]:
        """Ask each section in order on one thread (`thread`, or a new one), chaining parents; a
        failure skips only its section.

        Every prompt carries the kind's verdict (`judgement`), so sections an agent writes agree
        with the parent message instead of judging the subject again."""
        thread_id = thread if thread is not None else self._start_thread()
        if isinstance(thread_id, WeeklyReportError):
            error = f"could not start an agent thread: {thread_id}"
            return (
                [
                    SectionResult(s.key, s.title, i, None, None, FAILED, error)
                    for i, s in enumerate(self.sections, 1)
                ],
                None,
                None,
            )
        variables = {**self.kind.prompt_context(subject, context.week), **judgement}
        parent = 0
        results = []
        for position, section in enumerate(self.sections, start=1):
            prompt = render(section.prompt_template, **variables)
            try:
                answer = self._ask_checked(
                    thread_id, parent, prompt, replace(context, section_key=section.key)
                )
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
        self,
        requester: Requester,
        subject_id: str,
        question: str,
        week: Week | None = None,
        listener: AnswerListener | None = None,
    ) -> FollowUp:
        """Ask a follow-up on the stored report's agent thread, after its last assistant message
        (`subject_id`: the report's subject, e.g. an EBR's customer id).

        `listener` hears the answer while the agent makes it: statuses, and text the guard has
        cleared (core/guard/stream.py), in pieces that add up to the returned answer's text.
        It is called on the thread that reads the agent's stream: what it does there delays
        the rest of the answer. If the guard withholds the answer, AnswerWithheld is raised,
        possibly after some text went out (cleared then, e.g. before a later sentence named
        another customer): the caller replaces what it showed with the refusal; any other
        error after some text (the agent failing mid-answer) leaves what went out unfinished.
        Should the agent's final text not continue what it streamed (Cortex may rewrite it in
        its aggregate), the listener has heard less than the answer: the returned answer's
        text is the one to keep. A listener that raises hears no more; the answer goes on."""
        question = validate_question(question)
        self.authorize(requester, subject_id)
        report = self.store.load(subject_id, week, self.kind.name)
        if report.status == NO_DATA:
            raise ReportNotFound(
                f"there is no data for {subject_id} in the week of {report.week.start}, so nothing to ask about"
            )
        if not report.agent_thread_id:
            raise ReportNotFound(
                f"the stored report {report.report_id} has no agent thread; regenerate it with --refresh"
            )
        parent = report.last_message_id or 0
        context = AskContext(
            report.subject_id, report.customer_name, report.industry, report.week, kind=self.kind.name
        )
        asked_by = requester.email or requester.csm_id or ("admin" if requester.is_admin else None)
        try:
            answer = self._ask_checked(report.agent_thread_id, parent, question, context, asked_by, listener)
        except AnswerWithheld as withheld:  # stored as refused: the refusal, never the answer
            reason = f"{withheld.rule}: {withheld.reason}"
            self.store.record_followup(
                report.report_id, asked_by, question, str(withheld), parent, None, reason
            )
            raise
        followup_id = self.store.record_followup(
            report.report_id, asked_by, question, answer.text, parent, answer.message_id, sql=answer.sql
        )
        return FollowUp(report, answer, parent, followup_id)

    def _ask_checked(
        self,
        thread_id: str,
        parent: int,
        prompt: str,
        context: AskContext,
        asked_by: str | None = None,
        listener: AnswerListener | None = None,
    ) -> Answer:
        """The agent's answer, once the guard found it touches the context's subject only.

        Otherwise AnswerWithheld (its rule, no data), after one security log line naming the
        report, who asked (None: a report's generation) and the rule. An agent that runs only
        the project's own subject-bound SQL (`Agent.guarded` False) is not checked, and its
        listener hears it directly; a checked agent's hears it through a GuardGate.
        """
        if not self.agent.guarded:
            return self.agent.ask(thread_id, parent, prompt, context, listener)
        gate = GuardGate(listener, self._scope(context)) if listener is not None else None
        answer = self.agent.ask(thread_id, parent, prompt, context, gate)
        scope = gate.scope if gate is not None else self._scope(context)
        verdict = check(answer, scope)
        if verdict.ok and answer.charts:
            # A follow-up's charts are drawn and read before it goes on; a section shows none.
            words = self.chart_words if context.section_key is None else None
            verdict, shown = check_drawn(answer.charts, scope, words or _unread)
            answer = replace(answer, charts=shown)
        if verdict.rule is None:
            if gate is not None:
                gate.finish(answer.text)
            return answer
        security_log.warning(
            "answer withheld: report %s, asked by %s, rule %s (%s)",
            self.kind.report_id(context.subject_id, context.week), asked_by or "report generation",
            verdict.rule, verdict.reason,
        )  # fmt: skip
        raise AnswerWithheld(context.subject_id, verdict.rule, verdict.reason)

    def naming_no_other(self, subject_id: str, texts: Sequence[str]) -> list[str]:
        """`texts` shown with an answer about `subject_id` that the guard did not read (the
        titles of the case studies it cited, read from the warehouse), less any naming
        another known subject by id or name: the mentions check of the answer's scope. Each
        left out is logged, without its words."""
        subjects = self._known_subjects(subject_id)
        kept = [t for t in texts if not subjects.names_other(t, subject_id)]
        if len(kept) < len(texts):
            security_log.warning(
                "left out %d of %d cited title(s) naming another subject, shown with an answer on %s",
                len(texts) - len(kept), len(texts), subject_id,
            )  # fmt: skip
        return kept

    def _scope(self, context: AskContext) -> Scope:
        return Scope(self.kind.scope, context.subject_id, self._known_subjects(context.subject_id))

    def _known_subjects(self, subject_id: str) -> Subjects:
        """Every subject's id and name, indexed once per run (again if the subject is new)."""
        with self._subjects_lock:
            if self._subjects is None or not self._subjects.knows(subject_id):
                names = self.kind.known_subjects(self.warehouse)
                self._subjects = Subjects(dict(names), self.kind.scope.id_pattern)
            return self._subjects

    @staticmethod
    def _count(
        summary: RunSummary, refresh: bool, collect: bool, reports: Sequence[Report], saved: Saved
    ) -> None:
        for r in reports:
            if r.report_id in saved.written:
                _count_written(summary, r, collect)
            elif refresh and (kept := saved.kept_complete(r)) is not None:
                when = f"{kept.generated_at:%Y-%m-%d %H:%M} UTC" if kept.generated_at else "before"
                note = f"{r.subject_id}: kept the complete report of {when}; the refresh was {r.status}: {_why(r)}"
                with summary.lock:
                    summary.reports_kept += 1
                    summary.kept.append(note)
                    summary.failures.append(note)
            else:
                summary.add(reports_reused=1)


def _count_written(summary: RunSummary, r: Report, collect: bool) -> None:
    with summary.lock:
        summary.report_ids.append(r.report_id)
        if collect:
            summary.reports[r.subject_id] = r
        if r.status == NO_DATA:
            summary.reports_no_data += 1
        elif r.status == COMPLETE:
            summary.reports_generated += 1
        elif r.status == PARTIAL:
            summary.reports_generated += 1
            summary.reports_partial += 1
            summary.failures.append(f"{r.subject_id}: partial, {_partial_why(r)}")
        else:
            summary.reports_failed += 1
            summary.failures.append(
                f"{r.subject_id}: failed ({r.sections[0].error if r.sections else 'no sections'})"
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
        return get_kind(report.kind).no_data_note
    failed = report.failed_sections
    if not failed:
        return _partial_why(report)
    error = next((s.error for s in failed if s.error), "no sections")
    if report.status == PARTIAL:
        return f"{', '.join(s.key for s in failed)} failed ({error})"
    return error


class Finished:
    """Counts finished reports for the progress callback."""

    def __init__(self, progress: Progress | None, done: int, total: int) -> None:
        self.progress, self.done, self.total = progress, done, total

    def __call__(self, report: Report) -> Report:
        self.done += 1
        if self.progress:
            self.progress(self.done, self.total, report.subject_id)
        return report


@dataclass(frozen=True)
class RunData:
    """A group of subjects' facts: their names at once, every figure when queried (`facts`),
    and the facts themselves when they were loaded before the reports start (`ready`)."""

    subjects: Mapping[str, Subject]
    facts: Callable[[], Facts]
    ready: Facts | None


@dataclass(frozen=True)
class FollowUp:
    report: Report
    answer: Answer
    parent_message_id: int
    followup_id: str = ""  # the stored exchange (Store.followup, Store.record_feedback)


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


def _unread(_chart: object) -> None:
    """No words: a chart the engine cannot have drawn is not shown (ChartWords, when none is given)."""
    return None
