"""The local analyst: the embedded agent. Every figure it writes comes from SQL it ran.

A report section is the analysis of the customer's week rendered through
`templates/ebr/sections/<section_key>.md.j2`; a follow-up question is parsed and answered by
`followup.py` with queries of its own. Threads live in the warehouse (see threads.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

from core.agent.base import QUERYING, Agent, Answer, AnswerListener, AskContext, Relay, Store, run_now
from core.agent.local.followup import FollowupAnswerer
from core.agent.local.threads import ThreadStore
from core.errors import AgentRequestError, UnknownCustomer
from core.kinds import EBR, get_kind
from core.kinds.base import Section
from core.kinds.ebr.analysis import Analysis, analyse
from core.kinds.ebr.analytics import Analytics, CustomerData
from core.kinds.ebr.recommendations import Recommendation, recommend
from core.kinds.ebr.search import SQL as CASE_STUDY_SQL
from core.kinds.ebr.search import CaseStudyIndex
from core.templating import exists, render
from core.warehouse import Warehouse


class Findings(NamedTuple):
    analysis: Analysis
    recommendations: list[Recommendation]
    sql: list[str]


class LocalAnalyst(Agent):
    """Answers from the warehouse with SQL; persists its threads there too."""

    name = "local"
    # Every statement it runs is the project's own, bound to the context's customer_id (its
    # Answer.sql shows the `?` placeholders): there is no agent-written SQL to check.
    guarded = False

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        self.analytics = Analytics(warehouse)
        self.threads = ThreadStore(warehouse)
        # (week, customer) -> findings from the facts the engine passed, within a batch: a
        # report's sections share one analysis and one case-study search instead of one each.
        self._findings: dict[tuple[str, str], Findings] = {}
        self._index: CaseStudyIndex | None = None
        self._lock = threading.Lock()

    def start_thread(self) -> str:
        return self.threads.create()

    @contextmanager
    def batch(self, store: Store = run_now) -> Iterator[None]:
        with self.threads.deferred(store):
            yield
        with self._lock:
            # A report's sections are built within one batch: its findings are no longer needed.
            self._findings.clear()

    def ask(
        self,
        thread_id: str,
        parent_message_id: int,
        prompt: str,
        context: AskContext,
        listener: AnswerListener | None = None,
    ) -> Answer:
        """The answer, from the project's own SQL; a listener hears QUERYING while it runs,
        then the whole text in one go (there is nothing to stream before it is written)."""
        relay = Relay(listener)
        relay.status(QUERYING)
        answer = self._answer(thread_id, parent_message_id, prompt, context)
        for statement in answer.sql:
            relay.sql(statement)
        relay.text(answer.text)
        return answer

    def _answer(self, thread_id: str, parent_message_id: int, prompt: str, context: AskContext) -> Answer:
        if context.kind != EBR.name:  # another kind answers with its own SQL (ReportKind.answer_locally)
            text, sql, sources = get_kind(context.kind).answer_locally(self.warehouse, prompt, context)
        elif context.section_key is not None:
            text, sql, sources = self._section(context)
        else:
            reply = FollowupAnswerer(self.warehouse, self.case_studies()).answer(prompt, context)
            text, sql, sources = reply.text, reply.sql, reply.sources
        message_id = self.threads.append_turn(
            thread_id, parent_message_id, prompt, text, "\n;\n".join(sql) or None
        )
        return Answer(text, message_id, tuple(sql), tuple(sources))

    def case_studies(self) -> CaseStudyIndex:
        with self._lock:
            if self._index is None:
                self._index = CaseStudyIndex.load(self.warehouse)
            return self._index

    def analysis(self, context: AskContext) -> tuple[Analysis, list[str]]:
        """The customer's analysis for the week, from the facts the engine passed or a fresh query."""
        if isinstance(context.facts, CustomerData):
            return analyse(context.facts), list(context.facts_sql)
        snapshot = self.analytics.snapshot(context.week, [context.customer_id])
        data = snapshot.get(context.customer_id)
        if data is None:
            raise UnknownCustomer(f"unknown customer {context.customer_id}")
        return analyse(data), snapshot.sql

    def _findings_for(self, context: AskContext) -> Findings:
        key = (str(context.week), context.customer_id)
        with self._lock:
            cached = self._findings.get(key)
        if cached is not None:
            return cached
        analysis, sql = self.analysis(context)
        findings = Findings(analysis, recommend(analysis, self.case_studies()), sql)
        if context.facts is not None:  # a run's report: its other sections follow
            with self._lock:
                self._findings[key] = findings
        return findings

    def _section(self, context: AskContext) -> tuple[str, list[str], list[str]]:
        template = Section(context.section_key or "", "", context.kind).text_template
        if not exists(template):
            raise AgentRequestError(f"the local analyst has no template for section '{context.section_key}'")
        analysis, recs, sql = self._findings_for(context)
        text = render(template, a=analysis, recs=recs, week=context.week, c=analysis.data)
        # Cite (and show the query of) only the case studies the rendered text mentions.
        sources = [
            r.case_study.study.case_study_id
            for r in recs
            if r.case_study and r.case_study.study.title in text
        ]
        return text, [*sql, CASE_STUDY_SQL] if sources else sql, sources
